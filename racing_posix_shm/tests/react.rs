//! racing_posix_shm and a stopping signal: acted on within 100 ms while the
//! children sleep and during `--linger`, sent to the parent alone or to the
//! whole process group; and the parent waits in the article's blocking
//! `wait(NULL)`. The cases, the measure and why it was chosen:
//! `testkit::react`. Each run has a name of its own (`Lab::name`).

use testkit::Lab;
use testkit::react::{
    assert_stopping_signals_are_acted_on_promptly, assert_the_parent_blocks_in_wait4,
};

const BIN: &str = env!("CARGO_BIN_EXE_racing_posix_shm");

/// `--name NAME`, a name of the lab's own.
fn own(lab: &Lab) -> Vec<String> {
    vec![String::from("--name"), lab.name()]
}

#[test]
fn a_stopping_signal_is_acted_on_within_100_ms_in_every_phase() {
    let lab = Lab::new();
    let own = own(&lab);
    assert_stopping_signals_are_acted_on_promptly(&lab, "racing_posix_shm", BIN, &own);
    lab.assert_clean();
}

#[test]
fn the_parent_waits_for_its_children_in_a_blocking_wait4() {
    let lab = Lab::new();
    let own = own(&lab);
    assert_the_parent_blocks_in_wait4(&lab, "racing_posix_shm", BIN, &own);
    lab.assert_clean();
}
