//! Generated flags (see `testkit::generated`): 80 runs of xsi_shm_mem_huge with
//! values from the edge classes and a fixed seed. Each exits 0, 1 or 2
//! (a run still holding or zeroing after half a second is sent SIGTERM and must
//! exit 0 or 143), never panics or aborts, and leaves nothing.

use std::time::Duration;

use testkit::Lab;
use testkit::generated::{Flag, Random, assert_generated_flags_never_crash, number_edges};

const BIN: &str = env!("CARGO_BIN_EXE_xsi_shm_mem_huge");
const SEED: u64 = 0x5eed_0006;

#[test]
fn generated_flags_never_crash() {
    let lab = Lab::machine();
    let mut random = Random::new(SEED);
    let sizes = [
        "0",
        "1.5G",
        "-1",
        "-5M",
        "1T",
        "99999999999G",
        "abc",
        "",
        "1 M",
        "🦀",
        "12X",
        "M",
    ];
    let plausible = ["1", "4K", "4096", "64M", "64m", "64MiB", "2M", "3M"].map(String::from);
    let holds = ["1", "forever", "18446744073709551615", "-1", "soon", ""];
    let flags = [
        Flag::new("--size", &sizes)
            .and(number_edges())
            .or(plausible)
            .or(random.numbers(30, 1, 64 << 20)),
        Flag::new("--hold", &holds).or([String::from("0")]),
        Flag::switch("--no-touch"),
        Flag::switch("--rmid-early"),
        Flag::switch("--reserve"),
    ];
    // A small size and no hold, unless a drawn value says otherwise.
    let defaults = [("--size", "4K"), ("--hold", "0")];
    let ended = assert_generated_flags_never_crash(
        &lab,
        BIN,
        &defaults,
        &flags,
        80,
        SEED,
        Duration::from_millis(500),
    );
    // Without root there are no huge pages: every valid run is refused
    // (exit 1, the shortage explained); as root, --reserve lets some run.
    let ran = if testkit::is_root() {
        ended[0]
    } else {
        ended[1]
    };
    assert!(
        ran > 0 && ended[2] > 0,
        "some runs, some usage errors: {ended:?}"
    );
    lab.assert_clean();
}
