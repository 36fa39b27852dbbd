//! Generated flags (see `testkit::generated`): 100 runs of racing_xsi_shm
//! with values from the edge classes and a fixed seed, on this test's own
//! key file unless a drawn --path says otherwise. Each exits 0, 1 or 2,
//! never panics or aborts, and leaves nothing.

use std::time::Duration;

use testkit::Lab;
use testkit::generated::{
    Flag, Random, assert_generated_flags_never_crash, linger_flag, number_edges, racing_flags,
};

const BIN: &str = env!("CARGO_BIN_EXE_racing_xsi_shm");
const SEED: u64 = 0x5eed_0002;

#[test]
fn generated_flags_never_crash() {
    let lab = Lab::new();
    let own = lab.key();
    // Every key the random proj_ids can give on the lab's file is ours.
    lab.claim_every_key_of(&own);
    let key_file = own.path.display().to_string();
    let mut random = Random::new(SEED);
    let mut flags = racing_flags(&mut random);
    flags.extend([
        Flag::new("--proj-id", &[])
            .and(number_edges())
            .or(random.numbers(20, 1, 255)),
        Flag::new(
            "--path",
            &["/nonexistent", "/proc/self/status", "", "/", "🦀"],
        )
        .or([key_file.clone()]),
        linger_flag(),
    ]);
    let ended = assert_generated_flags_never_crash(
        &lab,
        BIN,
        &[
            ("--path", &key_file),
            ("--proj-id", &own.proj_id.to_string()),
        ],
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
