//! The fault matrix (docs/reliability.md) for racing_mmap: the cells the
//! other test files do not cover. The anonymous mapping has no name, so
//! stale objects, other users' objects and leaks cannot happen to it;
//! what must hold is the exit status, the message, and that children are
//! always reaped.

use testkit::{Machine, shm_p, text};

const BIN: &str = env!("CARGO_BIN_EXE_racing_mmap");

/// Cell 2: an error after the mapping exists and the children ran:
/// stdout is a closed pipe, so the result cannot be written.
#[test]
fn a_closed_stdout_is_an_error_after_the_run_not_a_panic() {
    let machine = Machine::lock();
    testkit::assert_a_closed_stdout_fails_cleanly(BIN, "racing_mmap", &["--count", "10"]);
    machine.assert_unchanged();
}

/// Cell 5: a child killed by SIGKILL (no lock) is reported.
#[test]
fn a_child_killed_by_sigkill_is_reported() {
    let machine = Machine::lock();
    testkit::assert_a_killed_child_is_reported(BIN, "racing_mmap");
    machine.assert_unchanged();
}

/// Cell 9: two runs at once each have their own anonymous mapping, so
/// neither disturbs the other; with a lock, both are exact.
#[test]
fn two_runs_at_once_do_not_disturb_each_other() {
    let machine = Machine::lock();
    let args = ["--count", "50", "--lock", "atomic", "--sleep-us", "100"];
    let first = testkit::start(BIN, &args);
    let second = testkit::run(BIN, &args);
    let first = first.wait_with_output().unwrap();
    for out in [first, second] {
        assert!(out.status.success(), "{}", text(&out.stderr));
        assert_eq!(shm_p(&text(&out.stdout)), 50);
    }
    machine.assert_unchanged();
}

/// Stdout to a file: the one line, once (no stdio buffer copied by fork).
#[test]
fn stdout_to_a_file_holds_each_line_once() {
    let machine = Machine::lock();
    testkit::assert_race_to_a_file_prints_once(BIN);
    machine.assert_unchanged();
}
