//! Generated flags (see `testkit::generated`): 100 runs of racing_mmap
//! with values from the edge classes and a fixed seed. Each exits 0, 1 or
//! 2, never panics or aborts, and leaves nothing.

use std::time::Duration;

use testkit::Lab;
use testkit::generated::{
    Flag, Random, assert_generated_flags_never_crash, file_flag, racing_flags,
};

const BIN: &str = env!("CARGO_BIN_EXE_racing_mmap");
const SEED: u64 = 0x5eed_0001;

#[test]
fn generated_flags_never_crash() {
    let lab = Lab::new();
    let mut random = Random::new(SEED);
    let mut flags = racing_flags(&mut random);
    flags.push(Flag::switch("--private"));
    flags.push(file_flag(&lab));
    let ended = assert_generated_flags_never_crash(
        &lab,
        BIN,
        &[],
        &flags,
        100,
        SEED,
        Duration::from_millis(500),
    );
    assert!(
        ended[0] > 0 && ended[2] > 0,
        "some runs, some usage errors: {ended:?}"
    );
    // --file keeps its file by design (the int stays readable with od):
    // those are the runs' results, not leftovers.
    for name in ["a", "b", "🦀"] {
        let _ = std::fs::remove_file(lab.tmpdir().join(name));
    }
    lab.assert_clean();
}
