//! Processes that are not related meeting at one segment by its key
//! (`--linger`, `--attach`): what System V keys are for. The creator and
//! the joiner are started separately by the test, so neither is the
//! other's child. What both families share is in testkit's racing table.

use common::system::sysvipc;
use testkit::racing::{Own, keeping};
use testkit::{Lab, Signal, child_pids, shm_p, text};
use testkit::{exits, says};

const BIN: &str = env!("CARGO_BIN_EXE_racing_xsi_shm");

testkit::racing_meet!(BIN);

/// Two unrelated runs racing at the same moment on one int, both under the
/// creator's semaphore set: every update of both counts.
#[test]
fn both_counts_add_up_under_a_lock_while_both_race() {
    let lab = Lab::new();
    let own = Own::Key(lab.key());
    let race = "--count 40 --sleep-us 20000 --lock semaphore";
    let mut creator = lab.start(BIN, &own.with(&format!("{race} --linger forever")));
    let pid = creator.pid();
    creator.wait_until("the creator's children race", || {
        child_pids(pid).len() >= 10
    });
    exits(&lab.run(BIN, &own.with(&format!("--attach {race}"))), 0);
    let creator = keeping(creator, || true);
    creator.signal(Signal::SIGTERM);
    let stderr = exits(&creator.finish(), 0);
    let added = stderr.contains("shm_p is 80 now") || stderr.contains("shm_p is still 80");
    assert!(added, "40 + 40 under one semaphore: {stderr}");
    lab.assert_clean();
}

/// The creator's side as docs/three-names.md shows it: what it keeps and
/// how to join it, the time running out, and what others added.
#[test]
fn a_linger_that_runs_out_says_what_others_added_and_removes_the_segment() {
    let lab = Lab::new();
    let own = lab.key();
    let key = own.key.raw();
    let args = own.with(&["--linger", "3", "--count", "20", "--lock", "semaphore"]);
    let kept = || sysvipc::segment_with_key(key).is_some_and(|s| s.attached == 1);
    let creator = keeping(lab.start(BIN, &args), kept);
    let shmid = sysvipc::segment_with_key(key).unwrap().id;
    let out = lab.run(
        BIN,
        &own.with(&["--attach", "--count", "30", "--lock", "semaphore"]),
    );
    assert_eq!(shm_p(&text(&out.stdout)), 50, "{}", text(&out.stderr));
    let stderr = exits(&creator.finish(), 0);
    let (path, proj_id, own_key) = (own.path.display(), own.proj_id, &own.key);
    let kept = format!(
        "Keeping key {own_key} (shmid {shmid}) for 3 s (Ctrl-C ends it sooner). Join it from another terminal, as a process that is not this one's child:\n  racing_xsi_shm --attach --path {path} --proj-id {proj_id}\nTime is up: releasing.\nshm_p is 50 now: other processes added 30 while it was kept.\n"
    );
    says(&stderr, &[kept]);
    assert_eq!(sysvipc::segment_with_key(key), None);
    lab.assert_clean();
}
