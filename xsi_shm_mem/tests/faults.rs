//! The fault matrix (docs/reliability.md) for xsi_shm_mem: the cells the
//! other test files do not cover. An IPC_PRIVATE segment has no key, so no
//! run can meet a stale or foreign one; what can go wrong is leaking it.

use common::system::sysvipc;
use testkit::{Lab, Pid};

const BIN: &str = env!("CARGO_BIN_EXE_xsi_shm_mem");

fn segment_of(pid: Pid) -> Option<sysvipc::SegmentInfo> {
    sysvipc::segments()
        .into_iter()
        .find(|s| s.creator_pid == pid.as_raw())
}

/// Cell 2: an error after the memory was created and zeroed: the report
/// meets a closed pipe. Exit 1; the memory is released (the snapshot
/// checks no segment is left).
#[test]
fn a_closed_stdout_is_an_error_that_still_releases() {
    let lab = Lab::machine();
    testkit::assert_a_closed_stdout_fails_cleanly(
        &lab,
        BIN,
        "xsi_shm_mem",
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

/// The segment is created 0600, whatever the umask (System V modes do
/// not go through the umask).
#[test]
fn the_segment_is_mode_0600_whatever_the_umask() {
    let lab = Lab::machine();
    let mut command = lab.command_with_umask(BIN, 0o277);
    command.args(["--size", "16M", "--hold", "1"]);
    let mut run = lab.spawn(command);
    let pid = run.pid();
    let seen = run.wait_for("the segment", || segment_of(pid));
    assert_eq!(seen.mode & 0o777, 0o600);
    assert!(run.finish().status.success());
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

/// `ulimit -v 20000`: shmat has no room for 64 MiB in the address space:
/// ENOMEM, with `ulimit -v` in the hint; the segment is removed.
#[test]
fn an_address_space_limit_is_enomem_explained() {
    let lab = Lab::machine();
    let mut command = lab.command_with_limits(BIN, &["--as=20480000"]);
    command.args(["--size", "64M", "--hold", "0", "--no-touch"]);
    let out = lab.spawn(command).finish();
    let stderr = testkit::text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("NULL, 0) failed: ENOMEM (Cannot allocate memory)"),
        "{stderr}"
    );
    assert!(stderr.contains("ulimit -v"), "{stderr}");
    lab.assert_clean();
}

/// Cell 10 in a container: more than the memory cgroup has room for is
/// refused before shmget (OOM-killed while zeroing, the run would leave
/// its segment behind); what the hint offers, and 64 MiB, run.
#[test]
fn more_than_the_memory_cgroup_has_room_for_is_refused_before_anything_is_created() {
    let lab = Lab::machine();
    testkit::assert_a_cgroup_limit_is_refused_before_anything_is_created(
        &lab,
        BIN,
        "xsi_shm_mem",
        &[],
    );
    lab.assert_clean();
}
