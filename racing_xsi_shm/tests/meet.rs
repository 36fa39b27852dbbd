//! Processes that are not related meeting at one segment by its key
//! (`--linger`, `--attach`): what System V keys are for. The creator and
//! the joiner are started separately by the test, so neither is the
//! other's child.

use common::system::sysvipc;
use testkit::{Lab, LabKey, Running, Signal, child_pids, shm_p, sleeping, text};

const BIN: &str = env!("CARGO_BIN_EXE_racing_xsi_shm");

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

#[test]
fn a_joiner_started_on_its_own_reads_adds_and_leaves_the_segment_to_its_creator() {
    let lab = Lab::new();
    let own = lab.key();
    let creator = lingering(
        &lab,
        &own,
        "forever",
        &["--count", "20", "--lock", "semaphore"],
    );
    let creator_pid = creator.pid();
    // In /proc/PID/maps the segment is the deleted file /SYSV<key>.
    let maps = std::fs::read_to_string(format!("/proc/{creator_pid}/maps")).unwrap();
    let name = format!("/SYSV{:08x} (deleted)", own.key.raw() as u32);
    assert!(
        maps.lines()
            .any(|l| l.contains(" rw-s ") && l.ends_with(&name)),
        "{name} in:\n{maps}"
    );

    // Only read: the creator's 20, found by the key alone.
    let out = lab.run(BIN, &own.with(&["--attach", "--count", "0"]));
    let stderr = text(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert_eq!(shm_p(&text(&out.stdout)), 20, "{stderr}");
    assert!(
        stderr.contains(&format!(
            "(shmid {}): created by pid {creator_pid} (racing_xsi_shm); 2 attachments (nattch), this process's included",
            sysvipc::segment_with_key(own.key.raw()).unwrap().id
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!(
            ": not a child of pid {creator_pid}. It found the memory by its name alone."
        )),
        "{stderr}"
    );
    assert!(
        !stderr.contains(&format!("child of pid {creator_pid}:")),
        "{stderr}"
    );
    assert!(
        stderr.contains("--count 0: only read; nothing added."),
        "{stderr}"
    );

    // Add 30 under the creator's semaphore set: 50, and the segment stays.
    let out = lab.run(
        BIN,
        &own.with(&["--attach", "--count", "30", "--lock", "semaphore"]),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(shm_p(&text(&out.stdout)), 50);
    assert!(text(&out.stderr).contains("30 children of this process each added 1: 20 → 50."));
    assert!(
        sysvipc::segment_with_key(own.key.raw()).is_some(),
        "the joiner left it"
    );

    // A flock cannot be joined: one clear error, and nothing touched.
    let out = lab.run(BIN, &own.with(&["--attach", "--lock", "flock"]));
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("--lock flock cannot join the run: its lock file is its own"),
        "{}",
        text(&out.stderr)
    );
    assert!(sysvipc::segment_with_key(own.key.raw()).is_some());

    // The creator's end removes the segment and its semaphore set.
    creator.signal(Signal::SIGINT);
    let out = creator.finish();
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert_eq!(shm_p(&text(&out.stdout)), 20);
    assert!(stderr.contains("SIGINT: releasing."), "{stderr}");
    assert!(
        stderr.contains("shm_p is 50 now: other processes added 30 while it was kept."),
        "{stderr}"
    );
    assert_eq!(sysvipc::segment_with_key(own.key.raw()), None);
    lab.assert_clean();
}

/// Two unrelated runs racing at the same moment on one int, both under the
/// creator's semaphore set: every update of both counts.
#[test]
fn both_counts_add_up_under_a_lock_while_both_race() {
    let lab = Lab::new();
    let own = lab.key();
    let mut creator = lab.start(
        BIN,
        &own.with(&[
            "--count",
            "40",
            "--sleep-us",
            "20000",
            "--lock",
            "semaphore",
            "--linger",
            "forever",
        ]),
    );
    let pid = creator.pid();
    creator.wait_until("the creator's children race", || {
        child_pids(pid).len() >= 10
    });
    let out = lab.run(
        BIN,
        &own.with(&[
            "--attach",
            "--count",
            "40",
            "--sleep-us",
            "20000",
            "--lock",
            "semaphore",
        ]),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    creator.wait_until("the creator keeps its segment", || {
        child_pids(pid).is_empty() && sleeping(pid)
    });
    creator.signal(Signal::SIGTERM);
    let out = creator.finish();
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("shm_p is 80 now") || stderr.contains("shm_p is still 80"),
        "40 + 40 under one semaphore: {stderr}"
    );
    lab.assert_clean();
}

#[test]
fn with_nothing_to_join_it_says_which_program_to_start() {
    let lab = Lab::new();
    let own = lab.key();
    let out = lab.run(BIN, &own.with(&["--attach"]));
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(out.stdout.is_empty());
    assert!(
        stderr.contains(&format!(
            "racing_xsi_shm: nothing to join: no segment has key {}\nhint: start the run to join first, in another terminal:\n      racing_xsi_shm --linger 60 --path {} --proj-id {}\n",
            own.key,
            own.path.display(),
            own.proj_id
        )),
        "{stderr}"
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
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "Keeping key {} (shmid {shmid}) for 3 s (Ctrl-C ends it sooner). Join it from another terminal, as a process that is not this one's child:\n  racing_xsi_shm --attach --path {} --proj-id {}\nTime is up: releasing.\nshm_p is 50 now: other processes added 30 while it was kept.\n",
            own.key,
            own.path.display(),
            own.proj_id
        )),
        "{stderr}"
    );
    assert_eq!(sysvipc::segment_with_key(key), None);
    lab.assert_clean();
}
