//! mmap_mem as a user runs it. Each test holds `testkit::Lab`, so no
//! two memory-measuring runs overlap (they read the one /proc/meminfo) and
//! each ends with the machine's IPC state as it was.

use testkit::{Lab, change, exits, faults, never_says, says, sleeping, text};

use testkit::cases::SLACK_MIB;

const BIN: &str = env!("CARGO_BIN_EXE_mmap_mem");

testkit::cases! { mmap_mem = BIN;
    refusals all, memory;
    fn help_is_short_with_h_and_complete_with_help();
    fn a_touched_mapping_shows_up_as_shmem_and_cached();
    fn untouched_memory_costs_nothing();
    fn every_stopping_signal_ends_the_hold_with_exit_0() = every_stopping_signal_ends_the_hold;
    fn every_stopping_signal_while_zeroing_exits_128_plus_the_signal() =
        every_stopping_signal_while_zeroing;
    fn more_than_the_machine_has_is_refused_before_anything_is_mapped() =
        more_than_the_machine_has_is_refused;
}

/// The article's size, 1024*1024*1023*2 bytes, once, for real.
#[test]
fn the_articles_2046_mib() {
    let lab = Lab::machine();
    let out = lab.run(BIN, &["--hold", "0"]);
    exits(&out, 0);
    let stdout = text(&out.stdout);
    assert!(stdout.starts_with("mmap(NULL, 2145386496, "), "{stdout}");
    let shmem = change(&stdout, "Shmem");
    let near = (2046 - shmem).abs() <= SLACK_MIB;
    assert!(near, "Shmem: {shmem} MiB:\n{stdout}");
    assert!(faults(&stdout) >= 523_776, "{stdout}");
    lab.assert_clean();
}

/// A `--hold` longer than the clock can count (anything from 2^63 s up) is
/// forever, not a panic: the program holds, and SIGTERM ends it with exit 0.
#[test]
fn a_hold_longer_than_the_clock_can_count_holds_until_a_signal() {
    use testkit::{Signal, interrupt_when};
    let lab = Lab::machine();
    for hold in ["9223372036854775808", "18446744073709551615"] {
        let (out, _) = interrupt_when(
            &lab,
            BIN,
            &["--size", "4K", "--hold", hold],
            |pid| testkit::runs(pid, "mmap_mem") && sleeping(pid),
            Signal::SIGTERM,
        );
        let stderr = exits(&out, 0);
        says(&stderr, &["SIGTERM: releasing."]);
        never_says(&stderr, &["panicked"]);
    }
    lab.assert_clean();
}
