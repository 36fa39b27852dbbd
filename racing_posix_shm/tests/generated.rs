//! Generated flags (see `testkit::generated`): 100 runs of
//! racing_posix_shm with values from the edge classes and a fixed seed;
//! every name that could create an object is this test's own. Each exits
//! 0, 1 or 2, never panics or aborts, and leaves nothing.

use std::time::Duration;

use testkit::Lab;
use testkit::generated::{
    Flag, Random, assert_generated_flags_never_crash, linger_flag, racing_flags,
};

const BIN: &str = env!("CARGO_BIN_EXE_racing_posix_shm");
const SEED: u64 = 0x5eed_0003;

#[test]
fn generated_flags_never_crash() {
    let lab = Lab::new();
    let mut random = Random::new(SEED);
    let own = lab.name();
    let plausible = [
        own.clone(),
        own.trim_start_matches('/').to_owned(),
        format!("/{own}"),
        lab.name_with("🦀"),
        lab.name_with("-ünï"),
        lab.long_name(251),
    ];
    let edges = [
        lab.long_name(252),
        String::from("x").repeat(400),
        String::new(),
        String::from("/"),
        String::from("a/b"),
        String::from(".."),
        String::from("."),
        format!("{own}/x"),
    ];
    let edges: Vec<&str> = edges.iter().map(String::as_str).collect();
    let mut flags = racing_flags(&mut random);
    flags.extend([Flag::new("--name", &edges).or(plausible), linger_flag()]);
    let ended = assert_generated_flags_never_crash(
        &lab,
        BIN,
        &[("--name", &own)],
        &flags,
        100,
        SEED,
        Duration::from_millis(500),
    );
    assert!(
        ended[0] > 0 && ended[2] > 0,
        "some runs, some usage errors: {ended:?}"
    );
    lab.assert_clean();
}
