//! The fault matrix (docs/reliability.md) for racing_xsi_shm: the cells the
//! other test files do not cover. Every test holds `testkit::Machine` and
//! ends with `ipcs -m`/`ipcs -s` exactly as before.

use std::path::Path;

use common::semaphore::XsiSemaphore;
use common::xsi::{self, Key};
use testkit::{Machine, child_pids, shm_p, text};

const BIN: &str = env!("CARGO_BIN_EXE_racing_xsi_shm");

fn default_key() -> Key {
    Key::ftok(Path::new("/etc/passwd"), 1234).unwrap()
}

/// The permission bits of the System V semaphore set with this key.
fn semaphore_perms(key: &Key) -> Option<u32> {
    common::semaphore::semaphore_sets()
        .into_iter()
        .find(|set| set.key == key.raw())
        .map(|set| set.mode)
}

/// Cell 2: an error after the segment was created: stdout is a closed
/// pipe. The segment is removed all the same.
#[test]
fn a_closed_stdout_still_removes_the_segment() {
    let machine = Machine::lock();
    testkit::assert_a_closed_stdout_fails_cleanly(BIN, "racing_xsi_shm", &["--count", "10"]);
    assert_eq!(xsi::find(&default_key()), None);
    machine.assert_unchanged();
}

/// Cells 2 and 7: A stale semaphore set under the key: `--lock semaphore` fails
/// at semget *after* the segment exists. The segment is removed; the stale
/// set is named with its ipcrm command and left alone.
#[test]
fn a_stale_semaphore_set_fails_after_the_segment_and_the_segment_goes() {
    let machine = Machine::lock();
    let key = default_key();
    let stale = XsiSemaphore::create(&key).expect("the test's stale set");
    let out = testkit::run(BIN, &["--lock", "semaphore"]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "racing_xsi_shm: semget(key={key}, 1, IPC_CREAT|IPC_EXCL|0600) failed: EEXIST"
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!("(semid {}, owner uid 0 (root))", stale.id())),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!("Remove it with: ipcrm -S {key}")),
        "{stderr}"
    );
    assert_eq!(
        xsi::find(&key),
        None,
        "the segment made before the failure is removed"
    );
    assert_eq!(
        semaphore_perms(&key),
        Some(0o600),
        "the stale set is still there"
    );
    drop(stale);
    machine.assert_unchanged();
}

/// Cell 2: Someone removes the segment (ipcrm -M) while the children run: the
/// children still finish (they are attached), and the parent's final
/// IPC_RMID fails with a hint that explains it. Nothing is left.
#[test]
fn a_segment_removed_from_outside_is_explained() {
    let machine = Machine::lock();
    let key = default_key();
    let mut run = testkit::start(BIN, &["--count", "3", "--sleep-us", "1000000"]);
    let pid = testkit::Pid::from_raw(run.id() as i32);
    while xsi::find(&key).is_none_or(|s| s.attached < 7) {
        assert!(
            run.try_wait().unwrap().is_none(),
            "ended before the test could remove the key"
        );
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    let ipcrm = std::process::Command::new("ipcrm")
        .args(["-M", &key.to_string()])
        .status()
        .unwrap();
    assert!(ipcrm.success());
    let out = run.wait_with_output().unwrap();
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        (1..=3).contains(&shm_p(&text(&out.stdout))),
        "the children were attached and finished"
    );
    assert!(
        stderr.contains("IPC_RMID, NULL) failed: EINVAL (Invalid argument)"),
        "{stderr}"
    );
    assert!(stderr.contains("the segment is already gone"), "{stderr}");
    assert!(child_pids(pid).is_empty());
    machine.assert_unchanged();
}

/// Cell 5: a child killed by SIGKILL is reported; the segment is removed.
#[test]
fn a_child_killed_by_sigkill_is_reported_and_the_segment_removed() {
    let machine = Machine::lock();
    testkit::assert_a_killed_child_is_reported(BIN, "racing_xsi_shm");
    assert_eq!(xsi::find(&default_key()), None);
    machine.assert_unchanged();
}

/// Cell 6: fork fails part-way (as nobody, at most 8 processes): the
/// children that started are reaped, the segment is removed, exit 1.
#[test]
fn a_fork_that_fails_part_way_removes_the_segment() {
    let machine = Machine::lock();
    testkit::assert_fork_fails_part_way(BIN, "racing_xsi_shm");
    assert_eq!(
        xsi::find(&default_key()),
        None,
        "nobody's segment was removed"
    );
    machine.assert_unchanged();
}

/// Cell 9: two runs at once with the same key: the second fails clearly
/// (EEXIST, "still attached"), and the first, untouched, is exact.
#[test]
fn two_runs_at_once_one_fails_clearly_the_other_is_untouched() {
    let machine = Machine::lock();
    let key = default_key();
    testkit::assert_a_second_run_fails_clearly(
        BIN,
        || xsi::find(&key).is_some_and(|s| s.attached >= 2),
        "and still attached: another run may be going on",
    );
    machine.assert_unchanged();
}

/// Objects are created 0600: the segment and the semaphore set.
#[test]
fn the_segment_and_the_semaphore_set_are_mode_0600() {
    let machine = Machine::lock();
    let key = default_key();
    let run = testkit::start(
        BIN,
        &[
            "--count",
            "2",
            "--lock",
            "semaphore",
            "--sleep-us",
            "300000",
        ],
    );
    let mut seen = None;
    while seen.is_none() {
        seen = xsi::find(&key).zip(semaphore_perms(&key));
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    let (segment, semaphore) = seen.unwrap();
    assert_eq!(segment.mode & 0o777, 0o600);
    assert_eq!(semaphore & 0o777, 0o600);
    assert!(run.wait_with_output().unwrap().status.success());
    machine.assert_unchanged();
}

/// Stdout to a file: the one line, once.
#[test]
fn stdout_to_a_file_holds_each_line_once() {
    let machine = Machine::lock();
    testkit::assert_race_to_a_file_prints_once(BIN);
    machine.assert_unchanged();
}
