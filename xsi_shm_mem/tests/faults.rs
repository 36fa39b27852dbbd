//! The fault matrix (docs/reliability.md) for xsi_shm_mem: the cells the
//! other test files do not cover. An IPC_PRIVATE segment has no key, so no
//! run can meet a stale or foreign one; what can go wrong is leaking it.

use common::xsi;
use testkit::{Machine, Pid};

const BIN: &str = env!("CARGO_BIN_EXE_xsi_shm_mem");

fn segment_of(pid: Pid) -> Option<xsi::SegmentInfo> {
    xsi::segments()
        .into_iter()
        .find(|s| s.creator_pid == pid.as_raw())
}

/// Cell 2: an error after the memory was created and zeroed: the report
/// meets a closed pipe. Exit 1; the memory is released (the snapshot
/// checks no segment is left).
#[test]
fn a_closed_stdout_is_an_error_that_still_releases() {
    let machine = Machine::lock();
    testkit::assert_a_closed_stdout_fails_cleanly(
        BIN,
        "xsi_shm_mem",
        &["--size", "64M", "--hold", "0"],
    );
    machine.assert_unchanged();
}

/// Cell 9: two runs at once have separate memory; both succeed.
#[test]
fn two_runs_at_once_both_succeed() {
    let machine = Machine::lock();
    testkit::assert_two_memory_runs_both_succeed(BIN);
    machine.assert_unchanged();
}

/// The segment is created 0600.
#[test]
fn the_segment_is_mode_0600() {
    let machine = Machine::lock();
    let run = testkit::start(BIN, &["--size", "16M", "--hold", "1"]);
    let pid = Pid::from_raw(run.id() as i32);
    let mut seen = None;
    while seen.is_none() {
        seen = segment_of(pid);
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    assert_eq!(seen.unwrap().mode & 0o777, 0o600);
    assert!(run.wait_with_output().unwrap().status.success());
    machine.assert_unchanged();
}

/// Stdout to a file: every report line once.
#[test]
fn stdout_to_a_file_holds_each_line_once() {
    let machine = Machine::lock();
    let (status, written) = testkit::run_to_file(BIN, &["--size", "16M", "--hold", "0"]);
    assert!(status.success());
    assert_eq!(written.lines().count(), 6, "{written}");
    machine.assert_unchanged();
}
