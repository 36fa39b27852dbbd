//! racing_xsi_shm --trace: the promises all three racing programs keep
//! (`testkit::trace`), each run with names of its own.

use testkit::Lab;
use testkit::trace::{assert_a_traced_run_is_not_joined, assert_the_trace_keeps_its_promises};

const BIN: &str = env!("CARGO_BIN_EXE_racing_xsi_shm");

fn own(lab: &Lab) -> Vec<String> {
    lab.key().with(&[])
}

#[test]
fn the_trace_adds_up_shows_no_shared_read_under_a_lock_and_leaves_stdout_alone() {
    let lab = Lab::new();
    assert_the_trace_keeps_its_promises(&lab, BIN, &own(&lab));
    lab.assert_clean();
}

#[test]
fn a_traced_run_is_not_joined() {
    let lab = Lab::new();
    assert_a_traced_run_is_not_joined(&lab, BIN, &own(&lab));
    lab.assert_clean();
}
