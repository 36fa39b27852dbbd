//! xsi_shm_mem and a stopping signal during `--hold forever`: acted on within
//! 100 ms, sent to the program alone or to its whole process group. The
//! cases, the measure and why it was chosen: `testkit::react`. The
//! machine lab: the demo moves Shmem by 16 MiB, which another user's
//! memory test must not see.

use testkit::Lab;
use testkit::react::assert_stopping_signals_are_acted_on_promptly;

const BIN: &str = env!("CARGO_BIN_EXE_xsi_shm_mem");

#[test]
fn a_stopping_signal_ends_the_hold_within_100_ms() {
    let lab = Lab::machine();
    assert_stopping_signals_are_acted_on_promptly(&lab, "xsi_shm_mem", BIN, &[]);
    lab.assert_clean();
}
