//! The fault matrix (docs/reliability.md) for mmap_mem: the cells the
//! other test files do not cover. An anonymous mapping has no name: no
//! stale or foreign objects, and no leak possible; the process's exit
//! frees it whatever happens.

use testkit::Lab;

const BIN: &str = env!("CARGO_BIN_EXE_mmap_mem");

/// Cell 2: an error after the memory was created and zeroed: the report
/// meets a closed pipe. Exit 1; the memory is released (the snapshot
/// checks no segment is left).
#[test]
fn a_closed_stdout_is_an_error_that_still_releases() {
    let lab = Lab::machine();
    testkit::assert_a_closed_stdout_fails_cleanly(
        &lab,
        BIN,
        "mmap_mem",
        &["--size", "64M", "--hold", "0"],
    );
    lab.assert_clean();
}

/// Cell 9: two runs at once have separate memory; both succeed.
#[test]
fn two_runs_at_once_both_succeed() {
    let lab = Lab::machine();
    testkit::assert_two_memory_runs_both_succeed(&lab, BIN);
    lab.assert_clean();
}

/// Stdout to a file: every report line once.
#[test]
fn stdout_to_a_file_holds_each_line_once() {
    let lab = Lab::machine();
    let (status, written) = testkit::run_to_file(&lab, BIN, &["--size", "16M", "--hold", "0"]);
    assert!(status.success());
    assert_eq!(written.lines().count(), 6, "{written}");
    lab.assert_clean();
}

/// Cell 10 in a container: more than the memory cgroup has room for is
/// refused before the /dev/shm object is made (OOM-killed while zeroing,
/// the run would leave it behind); what the hint offers, and 64 MiB, run.
#[test]
fn more_than_the_memory_cgroup_has_room_for_is_refused_before_anything_is_created() {
    let lab = Lab::machine();
    let own = [String::from("--posix"), lab.name()];
    testkit::assert_a_cgroup_limit_is_refused_before_anything_is_created(
        &lab, BIN, "mmap_mem", &own,
    );
    lab.assert_clean();
}
