//! racing_mmap --trace: the promises all three racing programs keep
//! (`testkit::trace`), each run with names of its own.

use testkit::Lab;
use testkit::trace::assert_the_trace_keeps_its_promises;

const BIN: &str = env!("CARGO_BIN_EXE_racing_mmap");

fn own(_: &Lab) -> Vec<String> {
    Vec::new()
}

#[test]
fn the_trace_adds_up_shows_no_shared_read_under_a_lock_and_leaves_stdout_alone() {
    let lab = Lab::new();
    assert_the_trace_keeps_its_promises(&lab, BIN, &own(&lab));
    lab.assert_clean();
}
