//! Trust nothing found by a key (docs/reliability.md, "Found by name"):
//! what a run, its children and a joiner do when the key leads somewhere
//! else than they expect — a segment made again under the key while the
//! children start, a file behind `--path` replaced, a semaphore set that
//! another user planted, a segment that is not a counter. Each is refused
//! in one line and left as it was. The cases both families share are in
//! testkit's racing table.

use common::race::SharedCounter;
use common::system::sysvipc;
use common::xsi::Segment;
use testkit::racing::{keeping, release, start_as_someone_else};
use testkit::{Lab, LabKey, Running, Signal, child_pids};
use testkit::{exits, never_says, says};

const BIN: &str = env!("CARGO_BIN_EXE_racing_xsi_shm");

testkit::racing_trust!(BIN);

/// The first int of `segment`.
fn int_of(segment: &Segment) -> i32 {
    let attachment = segment.attach().unwrap();
    SharedCounter::at_start_of(&attachment).get()
}

/// Start the creator of `own` with 200 slow children, and stop it
/// (SIGSTOP) once 2 have been forked: its fork loop is frozen while the
/// test changes what the key leads to.
fn creator_stopped_mid_fork(lab: &Lab, own: &LabKey) -> Running {
    let mut run = lab.start(BIN, &own.with(&["--count", "200", "--sleep-us", "300000"]));
    let pid = run.pid();
    run.stop_when("2 children forked", || child_pids(pid).len() >= 2);
    run
}

/// One try of [`a_segment_found_by_the_key_that_is_not_the_runs_is_left_alone`]:
/// `None` if the creator's fork loop ended before the test could stop it
/// (then no child was left to look the key up after the swap; the other
/// segment is still checked untouched), else the creator's stderr with the
/// line it must say once.
fn swap_under_a_stopped_creator(lab: &Lab, swap_file: bool) -> Option<(String, String)> {
    let own = lab.key();
    let creator = creator_stopped_mid_fork(lab, &own);
    let ours = sysvipc::segment_with_key(own.key.raw()).expect("the run's segment");
    let new_key = if swap_file {
        // Replace the key file: same name, new inode, new key.
        let fresh = lab.path("key.new");
        std::fs::write(&fresh, "another file, same name\n").unwrap();
        std::fs::set_permissions(&fresh, std::os::unix::fs::PermissionsExt::from_mode(0o644))
            .unwrap();
        std::fs::rename(&fresh, &own.path).unwrap();
        let key = common::xsi::Key::ftok(&own.path, own.proj_id).unwrap();
        assert_ne!(key, own.key, "a new inode gives a new key");
        lab.claim_every_key_of(&own);
        key
    } else {
        let ipcrm = std::process::Command::new("ipcrm")
            .args(["-m", &ours.id.to_string()])
            .status()
            .unwrap();
        assert!(ipcrm.success());
        own.key.clone()
    };
    let impostor = start_as_someone_else(
        lab,
        BIN,
        &own.with(&["--count", "1", "--lock", "atomic", "--linger", "forever"]),
    );
    let impostor = keeping(impostor, || {
        sysvipc::segment_with_key(new_key.raw()).is_some()
    });
    let theirs = sysvipc::segment_with_key(new_key.raw()).unwrap();
    assert_ne!(theirs.id, ours.id);
    creator.signal(Signal::SIGCONT);
    let out = creator.finish();
    // The impostor's int is untouched: only its own child added to it.
    let their_err = release(impostor);
    assert!(
        their_err.contains("shm_p is still 1: nobody added to it meanwhile."),
        "{their_err}"
    );
    if !out.stdout.is_empty() {
        return None;
    }
    let stderr = exits(&out, 1);
    let says = if swap_file {
        format!(
            "ftok now gives key {new_key}, not key {}, the one this run's segment has: ",
            own.key
        )
    } else {
        format!(
            "key {new_key} names shmid {} (owner {}, created by pid ",
            theirs.id,
            if testkit::is_root() {
                String::from("uid 65534 (nobody)")
            } else {
                testkit::me()
            }
        )
    };
    Some((stderr, says))
}

/// The parent's segment removed and another made under its key while the
/// children start; or the file behind `--path` replaced (a new inode, a
/// new key) and a segment made under the new key. Either way the children
/// forked afterwards find someone else's segment by the article's lookup:
/// they leave it alone, say so once, and the run exits 1.
#[test]
fn a_segment_found_by_the_key_that_is_not_the_runs_is_left_alone() {
    for swap_file in [false, true] {
        let lab = Lab::new();
        // The stop must come before the fork loop ends: on a loaded machine
        // it may not, and then the try says nothing; five tries.
        let (stderr, once) = (0..5)
            .find_map(|_| swap_under_a_stopped_creator(&lab, swap_file))
            .expect("the test stopped the fork loop before its end in one of 5 tries");
        assert_eq!(stderr.matches(&once).count(), 1, "said once:\n{stderr}");
        says(&stderr, &["this child left "]);
        lab.assert_clean();
    }
}

/// A segment under the key that is not a counter (64 bytes: another
/// program's): `--attach` does not write to it, and a creator is not
/// offered to remove it.
#[test]
fn a_segment_that_is_not_a_counter_is_not_joined() {
    let lab = Lab::new();
    let own = lab.key();
    let segment = Segment::create_exclusive(own.key.clone(), 64, 0o600).unwrap();
    let attachment = segment.attach().unwrap();
    SharedCounter::at_start_of(&attachment).set(77);
    attachment.detach().unwrap();
    let out = lab.run(BIN, &own.with(&["--attach", "--count", "5"]));
    let stderr = exits(&out, 1);
    says(
        &stderr,
        &[&format!(
            "\nracing_xsi_shm: key {} names shmid {} of 64 bytes (owner ",
            own.key,
            segment.id()
        )],
    );
    assert!(
        stderr.contains("): not a racing_xsi_shm counter, which is one int of 4 bytes; nothing was written to it\n"),
        "{stderr}"
    );
    // And a run that would create its segment there is told it is not
    // this program's leftover: no ipcrm offered.
    let out = lab.run(BIN, &own.with(&["--count", "5"]));
    let stderr = exits(&out, 1);
    says(
        &stderr,
        &[
            ":\n      not something this program left (its segments are one int, 4 bytes), so it is\n      left alone. Use another key: --proj-id ",
        ],
    );
    never_says(&stderr, &["ipcrm"]);
    assert_eq!(int_of(&segment), 77, "untouched");
    drop(segment);
    lab.assert_clean();
}
