//! Trust nothing found by a key (docs/reliability.md, "Found by name"):
//! when the key leads somewhere else than a run, its children or a joiner
//! expect, each refuses in one line and leaves it as it was. The cases
//! both families share are in testkit's racing module.

use common::race::SharedCounter;
use common::system::sysvipc;
use common::xsi::Segment;
use testkit::racing::{keeping, release, start_as_someone_else};
use testkit::{Lab, Signal, child_pids};
use testkit::{exits, never_says, says, says_once};

const BIN: &str = env!("CARGO_BIN_EXE_racing_xsi_shm");

testkit::racing_trust!(BIN);

fn int_of(segment: &Segment) -> i32 {
    let attachment = segment.attach().unwrap();
    SharedCounter::at_start_of(&attachment).get()
}

/// One try of [`a_segment_found_by_the_key_that_is_not_the_runs_is_left_alone`]:
/// `None` if the fork loop ended before the stop, else the creator's
/// stderr with the line it must say once.
fn swap_under_a_stopped_creator(lab: &Lab, swap_file: bool) -> Option<(String, String)> {
    let own = lab.key();
    let mut creator = lab.start(BIN, &own.with(&["--count", "200", "--sleep-us", "300000"]));
    let pid = creator.pid();
    creator.stop_when("2 children forked", || child_pids(pid).len() >= 2);
    let ours = sysvipc::segment_with_key(own.key.raw()).expect("the run's segment");
    let new_key = if swap_file {
        // Replace the key file: same name, new inode, new key.
        let fresh = lab.path("key.new");
        std::fs::write(&fresh, "another file, same name\n").unwrap();
        let mode = std::os::unix::fs::PermissionsExt::from_mode(0o644);
        std::fs::set_permissions(&fresh, mode).unwrap();
        std::fs::rename(&fresh, &own.path).unwrap();
        let key = common::xsi::Key::ftok(&own.path, own.proj_id).unwrap();
        assert_ne!(key, own.key, "a new inode gives a new key");
        lab.claim_every_key_of(&own);
        key
    } else {
        let mut command = std::process::Command::new("ipcrm");
        let ipcrm = command.args(["-m", &ours.id.to_string()]).status();
        assert!(ipcrm.unwrap().success());
        own.key.clone()
    };
    let args = own.with(&["--count", "1", "--lock", "atomic", "--linger", "forever"]);
    let impostor = start_as_someone_else(lab, BIN, &args);
    let made = || sysvipc::segment_with_key(new_key.raw()).is_some();
    let impostor = keeping(impostor, made);
    let theirs = sysvipc::segment_with_key(new_key.raw()).unwrap();
    assert_ne!(theirs.id, ours.id);
    creator.signal(Signal::SIGCONT);
    let out = creator.finish();
    // The impostor's int is untouched: only its own child added to it.
    let untouched = "shm_p is still 1: nobody added to it meanwhile.";
    says(&release(impostor), &[untouched]);
    if !out.stdout.is_empty() {
        return None;
    }
    let stderr = exits(&out, 1);
    let owner = match testkit::is_root() {
        true => String::from("uid 65534 (nobody)"),
        false => testkit::me(),
    };
    let once = match swap_file {
        true => format!(
            "ftok now gives key {new_key}, not key {}, the one this run's segment has: ",
            own.key
        ),
        false => format!(
            "key {new_key} names shmid {} (owner {owner}, created by pid ",
            theirs.id
        ),
    };
    Some((stderr, once))
}

/// The run's segment replaced under its key, or the file behind `--path`
/// (a new key): the later children find someone else's segment.
#[test]
fn a_segment_found_by_the_key_that_is_not_the_runs_is_left_alone() {
    for swap_file in [false, true] {
        let lab = Lab::new();
        // The stop must come before the fork loop ends: on a loaded machine
        // it may not, and then the try says nothing; five tries.
        let (stderr, once) = (0..5)
            .find_map(|_| swap_under_a_stopped_creator(&lab, swap_file))
            .expect("the test stopped the fork loop before its end in one of 5 tries");
        says_once(&stderr, &once);
        says(&stderr, &["this child left "]);
        lab.assert_clean();
    }
}

/// 64 bytes: another program's segment.
#[test]
fn a_segment_that_is_not_a_counter_is_not_joined() {
    let lab = Lab::new();
    let own = lab.key();
    let segment = Segment::create_exclusive(own.key.clone(), 64, 0o600).unwrap();
    let attachment = segment.attach().unwrap();
    SharedCounter::at_start_of(&attachment).set(77);
    attachment.detach().unwrap();
    let stderr = exits(&lab.run(BIN, &own.with(&["--attach", "--count", "5"])), 1);
    let (key, id) = (&own.key, segment.id());
    let names = format!("\nracing_xsi_shm: key {key} names shmid {id} of 64 bytes (owner ");
    let not =
        "): not a racing_xsi_shm counter, which is one int of 4 bytes; nothing was written to it\n";
    says(&stderr, &[names.as_str(), not]);
    // And a run that would create its segment there is told it is not
    // this program's leftover: no ipcrm offered.
    let stderr = exits(&lab.run(BIN, &own.with(&["--count", "5"])), 1);
    let not_left = ":\n      not something this program left (its segments are one int, 4 bytes), so it is\n      left alone. Use another key: --proj-id ";
    says(&stderr, &[not_left]);
    never_says(&stderr, &["ipcrm"]);
    assert_eq!(int_of(&segment), 77, "untouched");
    drop(segment);
    lab.assert_clean();
}
