//! The fault matrix (docs/reliability.md) for mmap_mem: the cells the
//! other test files do not cover. An anonymous mapping has no name: no
//! stale or foreign objects, and no leak possible; the process's exit
//! frees it whatever happens.

use testkit::Machine;

const BIN: &str = env!("CARGO_BIN_EXE_mmap_mem");

/// Cell 2: an error after the memory was created and zeroed: the report
/// meets a closed pipe. Exit 1; the memory is released (the snapshot
/// checks no segment is left).
#[test]
fn a_closed_stdout_is_an_error_that_still_releases() {
    let machine = Machine::lock();
    testkit::assert_a_closed_stdout_fails_cleanly(
        BIN,
        "mmap_mem",
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

/// Stdout to a file: every report line once.
#[test]
fn stdout_to_a_file_holds_each_line_once() {
    let machine = Machine::lock();
    let (status, written) = testkit::run_to_file(BIN, &["--size", "16M", "--hold", "0"]);
    assert!(status.success());
    assert_eq!(written.lines().count(), 6, "{written}");
    machine.assert_unchanged();
}
