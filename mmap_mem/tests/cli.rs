//! mmap_mem as a user runs it. Each test holds `testkit::Lab`, so no
//! two memory-measuring runs overlap (they read the one /proc/meminfo) and
//! each ends with the machine's IPC state as it was.

use testkit::{Lab, change, faults, shmem_mib, sleeping, text};

const BIN: &str = env!("CARGO_BIN_EXE_mmap_mem");

/// Shmem must rise by the size give or take this many MiB (other tmpfs
/// users); Cached, which all file activity moves, gets twice the slack.
const SLACK_MIB: i64 = 4;

#[test]
fn a_touched_mapping_shows_up_as_shmem_and_cached() {
    let lab = Lab::machine();
    let out = testkit::run_until_cached_moves(
        &lab,
        BIN,
        &["--size", "64M", "--hold", "0"],
        64,
        2 * SLACK_MIB,
    );
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(stdout.starts_with(
        "mmap(NULL, 67108864, PROT_READ|PROT_WRITE, MAP_SHARED|MAP_ANONYMOUS, -1, 0): 64 MiB mapped\n"
    ));
    let shmem = change(&stdout, "Shmem");
    let cached = change(&stdout, "Cached");
    assert!(
        (64 - shmem).abs() <= SLACK_MIB,
        "Shmem changed by {shmem} MiB:\n{stdout}"
    );
    assert!(
        testkit::cached_rose_by(&stdout, 64, 2 * SLACK_MIB),
        "Cached changed by {cached} MiB:\n{stdout}"
    );
    // One fault per 4 KiB page touched (give or take a few of the program's own).
    let f = faults(&stdout);
    assert!((16384..16384 + 256).contains(&f), "{f} faults:\n{stdout}");
    assert!(
        text(&out.stderr).starts_with("released (munmap): Shmem is "),
        "{}",
        text(&out.stderr)
    );
    lab.assert_clean();
}

/// `--no-touch`: the table shows no change, and the reader is told so
/// (held for a second, so that the "look at it" lines are printed).
#[test]
fn untouched_memory_costs_nothing() {
    let lab = Lab::machine();
    let out = lab.run(BIN, &["--size", "64M", "--hold", "1", "--no-touch"]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(stdout.contains("not zeroed (--no-touch)"), "{stdout}");
    let shmem = change(&stdout, "Shmem");
    assert!(
        shmem.abs() <= SLACK_MIB,
        "Shmem changed by {shmem} MiB without a touch:\n{stdout}"
    );
    // What it tells the reader to look at matches the table: nothing moved.
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("\"buff/cache\" have not moved: no page was written (--no-touch)")
            && !stderr.contains("are up by"),
        "{stderr}"
    );
    lab.assert_clean();
}

/// The article's size, 1024*1024*1023*2 bytes, once, for real.
#[test]
fn the_articles_2046_mib() {
    let lab = Lab::machine();
    let out = lab.run(BIN, &["--hold", "0"]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(stdout.starts_with("mmap(NULL, 2145386496, "), "{stdout}");
    let shmem = change(&stdout, "Shmem");
    assert!(
        (2046 - shmem).abs() <= SLACK_MIB,
        "Shmem changed by {shmem} MiB:\n{stdout}"
    );
    assert!(faults(&stdout) >= 523_776, "{stdout}");
    lab.assert_clean();
}

/// Ctrl-C, SIGTERM, a closed terminal (SIGHUP) or Ctrl-\ (SIGQUIT) ends
/// `--hold forever` the way it is meant to end: release, exit 0. While it
/// held, Shmem was up by the size.
#[test]
fn every_stopping_signal_ends_the_hold_with_exit_0() {
    use testkit::{STOPPING, interrupt_when};
    let lab = Lab::machine();
    for (signal, _) in STOPPING {
        let base = shmem_mib();
        let (out, _) = interrupt_when(
            &lab,
            BIN,
            &["--size", "64M"],
            |pid| shmem_mib() - base >= 64 - SLACK_MIB && sleeping(pid),
            signal,
        );
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{signal}: {stderr}");
        assert!(
            stderr.contains("Holding 64 MiB until Ctrl-C (or SIGTERM, or the terminal closing)."),
            "{stderr}"
        );
        assert!(
            stderr.contains(&format!("{signal}: releasing.\nreleased (munmap)")),
            "{stderr}"
        );
        assert!(
            (shmem_mib() - base).abs() <= SLACK_MIB,
            "{signal}: Shmem did not come back"
        );
    }
    lab.assert_clean();
}

/// A stopping signal while zeroing: stop, release, exit 128 + signal.
#[test]
fn every_stopping_signal_while_zeroing_exits_128_plus_the_signal() {
    let lab = Lab::machine();
    testkit::assert_signals_stop_the_zeroing(&lab, BIN);
    lab.assert_clean();
}

#[test]
fn more_than_the_machine_has_is_refused_before_anything_is_mapped() {
    let lab = Lab::machine();
    let out = lab.run(BIN, &["--size", "100000G"]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        out.stdout.is_empty(),
        "nothing was mapped, nothing reported"
    );
    // The tighter of the machine's MemAvailable and this process's memory
    // cgroup (a container) is named.
    assert!(
        stderr.starts_with(
            "mmap_mem: 100000 GiB is more than this machine has available (MemAvailable "
        ) || stderr.starts_with(
            "mmap_mem: 100000 GiB is more than this process's memory cgroup has room for ("
        ),
        "{stderr}"
    );
    assert!(
        stderr.contains("Ask for less,\n      e.g. --size "),
        "{stderr}"
    );
    lab.assert_clean();
}

#[test]
fn bad_sizes_and_holds_are_usage_errors() {
    let lab = Lab::machine();
    for (args, says) in [
        (&["--size", "0"][..], "use at least 1"),
        (&["--size", "lots"][..], "'lots' is not a size"),
        (&["--size", "-5M"][..], "'-5M' is not a size"),
        (&["--size", "1.5G"][..], "is not a size"),
        (
            &["--hold", "soon"][..],
            "neither 'forever' nor a whole number",
        ),
        (
            &["--hold", "-1"][..],
            "neither 'forever' nor a whole number",
        ),
    ] {
        testkit::assert_usage_error(args, &lab.run(BIN, args), says);
    }
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
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "--hold {hold}: {stderr}");
        assert!(stderr.contains("SIGTERM: releasing."), "{stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
    lab.assert_clean();
}

/// `-h` is one line per flag; `--help` explains each flag in full, on its
/// own, wrapped, with no literal backticks.
#[test]
fn help_is_short_with_h_and_complete_with_help() {
    let lab = Lab::new();
    testkit::assert_help_is_short_and_long(
        &lab,
        BIN,
        &[
            "mmap内存共享映射",
            "1024*1024*1023*2",
            "sleeps 3000 s",
            "first written",
        ],
    );
    lab.assert_clean();
}
