//! Generated flags (see `testkit::generated`): 80 runs of xsi_shm_mem with
//! values from the edge classes and a fixed seed. Each exits 0, 1 or 2
//! (a run still holding or zeroing after half a second is sent SIGTERM and
//! must exit 0 or 143), never panics or aborts, and leaves nothing.

use std::time::Duration;

use testkit::Lab;
use testkit::generated::{
    MEMORY_DEFAULTS, Random, assert_generated_flags_never_crash, memory_demo_flags,
};

const BIN: &str = env!("CARGO_BIN_EXE_xsi_shm_mem");
const SEED: u64 = 0x5eed_0005;

#[test]
fn generated_flags_never_crash() {
    let lab = Lab::machine();
    let flags = memory_demo_flags(&mut Random::new(SEED), &["--rmid-early"]);
    let patience = Duration::from_millis(500);
    let ended =
        assert_generated_flags_never_crash(&lab, BIN, &MEMORY_DEFAULTS, &flags, 80, SEED, patience);
    assert!(
        ended[0] > 0 && ended[2] > 0,
        "some runs, some usage errors: {ended:?}"
    );
    lab.assert_clean();
}
