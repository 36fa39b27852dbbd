//! Generated flags (see `testkit::generated`): 80 runs of mmap_mem (its
//! three backings: anonymous, --posix NAME, --file PATH) with
//! values from the edge classes and a fixed seed. Each exits 0, 1 or 2
//! (a run still holding or zeroing after half a second is sent SIGTERM and
//! must exit 0 or 143), never panics or aborts, and leaves nothing.

use std::time::Duration;

use testkit::Lab;
use testkit::generated::{
    Flag, MEMORY_DEFAULTS, Random, assert_generated_flags_never_crash, file_flag, memory_demo_flags,
};

const BIN: &str = env!("CARGO_BIN_EXE_mmap_mem");
const SEED: u64 = 0x5eed_0004;

#[test]
fn generated_flags_never_crash() {
    let lab = Lab::machine();
    let mut flags = memory_demo_flags(&mut Random::new(SEED), &[]);
    // The two other backings (one or the other: both is a usage error).
    let names = [lab.name(), lab.name()];
    flags.extend([
        Flag::new("--posix", &["", "/", "a/b", ".."]).or(names),
        file_flag(&lab),
    ]);
    let patience = Duration::from_millis(500);
    let ended =
        assert_generated_flags_never_crash(&lab, BIN, &MEMORY_DEFAULTS, &flags, 80, SEED, patience);
    assert!(
        ended[0] > 0 && ended[2] > 0,
        "some runs, some usage errors: {ended:?}"
    );
    lab.assert_clean();
}
