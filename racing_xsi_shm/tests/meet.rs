//! Processes that are not related meeting at one segment by its key
//! (`--linger`, `--attach`): what System V keys are for. The creator and
//! the joiner are started separately by the test, so neither is the
//! other's child. What both families share is in testkit's racing table.

use common::system::sysvipc;
use testkit::{Lab, LabKey, Running, Signal, child_pids, shm_p, sleeping, text};
use testkit::{exits, says};

const BIN: &str = env!("CARGO_BIN_EXE_racing_xsi_shm");

testkit::racing_meet!(BIN);

/// Start a creator that keeps its segment for `linger` (seconds or
/// forever), and wait until its race is over and it is keeping it.
fn lingering(lab: &Lab, own: &LabKey, linger: &str, rest: &[&str]) -> Running {
    let mut args = vec!["--linger", linger];
    args.extend_from_slice(rest);
    let mut creator = lab.start(BIN, &own.with(&args));
    let pid = creator.pid();
    let key = own.key.raw();
    creator.wait_until("the creator keeps its segment", || {
        sysvipc::segment_with_key(key).is_some_and(|s| s.attached == 1)
            && child_pids(pid).is_empty()
            && sleeping(pid)
    });
    creator
}

/// Two unrelated runs racing at the same moment on one int, both under the
/// creator's semaphore set: every update of both counts.
#[test]
fn both_counts_add_up_under_a_lock_while_both_race() {
    let lab = Lab::new();
    let own = lab.key();
    let race = [
        "--count",
        "40",
        "--sleep-us",
        "20000",
        "--lock",
        "semaphore",
    ];
    let mut creator = lab.start(
        BIN,
        &own.with(&[&race[..], &["--linger", "forever"]].concat()),
    );
    let pid = creator.pid();
    creator.wait_until("the creator's children race", || {
        child_pids(pid).len() >= 10
    });
    let out = lab.run(BIN, &own.with(&[&["--attach"], &race[..]].concat()));
    assert!(out.status.success(), "{}", text(&out.stderr));
    creator.wait_until("the creator keeps its segment", || {
        child_pids(pid).is_empty() && sleeping(pid)
    });
    creator.signal(Signal::SIGTERM);
    let out = creator.finish();
    let stderr = exits(&out, 0);
    assert!(
        stderr.contains("shm_p is 80 now") || stderr.contains("shm_p is still 80"),
        "40 + 40 under one semaphore: {stderr}"
    );
    lab.assert_clean();
}

/// The creator's side as docs/three-names.md shows it: what it keeps and
/// how to join it, the time running out, and what others added.
#[test]
fn a_linger_that_runs_out_says_what_others_added_and_removes_the_segment() {
    let lab = Lab::new();
    let own = lab.key();
    let creator = lingering(&lab, &own, "3", &["--count", "20", "--lock", "semaphore"]);
    let key = own.key.raw();
    let shmid = sysvipc::segment_with_key(key).unwrap().id;
    let out = lab.run(
        BIN,
        &own.with(&["--attach", "--count", "30", "--lock", "semaphore"]),
    );
    assert_eq!(shm_p(&text(&out.stdout)), 50, "{}", text(&out.stderr));
    let out = creator.finish();
    let stderr = exits(&out, 0);
    says(
        &stderr,
        &[&format!(
            "Keeping key {} (shmid {shmid}) for 3 s (Ctrl-C ends it sooner). Join it from another terminal, as a process that is not this one's child:\n  racing_xsi_shm --attach --path {} --proj-id {}\nTime is up: releasing.\nshm_p is 50 now: other processes added 30 while it was kept.\n",
            own.key,
            own.path.display(),
            own.proj_id
        )],
    );
    assert_eq!(sysvipc::segment_with_key(key), None);
    lab.assert_clean();
}
