//! The fault matrix (docs/reliability.md) for xsi_shm_mem: the cells the
//! other test files do not cover. An IPC_PRIVATE segment has no key, so no
//! run can meet a stale or foreign one; what can go wrong is leaking it.
//! The cases all demos share are in testkit's demos module.

use testkit::cases::segment_of;
use testkit::{Lab, exits, says};

const BIN: &str = env!("CARGO_BIN_EXE_xsi_shm_mem");

testkit::demo_faults!(BIN, small_pages);

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

/// `ulimit -v 20000`: shmat has no room for 64 MiB in the address space:
/// ENOMEM, with `ulimit -v` in the hint; the segment is removed.
#[test]
fn an_address_space_limit_is_enomem_explained() {
    let lab = Lab::machine();
    let mut command = lab.command_with_limits(BIN, &["--as=20480000"]);
    command.args(["--size", "64M", "--hold", "0", "--no-touch"]);
    let stderr = exits(&lab.spawn(command).finish(), 1);
    let enomem = "NULL, 0) failed: ENOMEM (Cannot allocate memory)";
    says(&stderr, &[enomem, "ulimit -v"]);
    lab.assert_clean();
}
