//! racing_mmap as a user runs it: the binary, real fork, real shared memory.
//!
//! The race is nondeterministic, so results are checked as ranges: with N
//! children the int ends between 1 (every child read 0) and N (no update lost).

use std::fs::File;
use std::io::Read;
use std::process::{Command, Output, Stdio};

use testkit::{shm_p, text};

const BIN: &str = env!("CARGO_BIN_EXE_racing_mmap");

fn run(args: &[&str]) -> Output {
    testkit::run(BIN, args)
}

#[test]
fn with_no_arguments_it_runs_the_articles_experiment() {
    let machine = testkit::Machine::lock();
    let (n, stderr) = testkit::race(BIN, &[], 100);
    assert!(
        stderr.contains(&format!("got {n}, so {} ", 100 - n)),
        "lost updates counted: {stderr}"
    );
    machine.assert_unchanged();
}

#[test]
fn one_child_cannot_race_so_the_result_is_exactly_one() {
    let machine = testkit::Machine::lock();
    assert_eq!(testkit::race(BIN, &["--count", "1"], 1).0, 1);
    machine.assert_unchanged();
}

#[test]
fn five_hundred_children_without_a_pause_stay_in_range() {
    let machine = testkit::Machine::lock();
    testkit::race(BIN, &["--count", "500", "--sleep-us", "0"], 500);
    machine.assert_unchanged();
}

#[test]
fn stdout_redirected_to_a_file_holds_the_line_once() {
    let machine = testkit::Machine::lock();
    // A buffered line inherited by 100 children and flushed by each would
    // show up many times; in a file nothing hides that.
    let path = std::env::temp_dir().join(format!("racing_mmap-stdout-{}.txt", std::process::id()));
    let file = File::create(&path).unwrap();
    let status = Command::new(BIN)
        .stdout(Stdio::from(file))
        .stderr(Stdio::null())
        .status()
        .unwrap();
    let mut written = String::new();
    File::open(&path)
        .unwrap()
        .read_to_string(&mut written)
        .unwrap();
    std::fs::remove_file(&path).unwrap();
    assert!(status.success());
    let n = shm_p(&written);
    assert!((1..=100).contains(&n));
    machine.assert_unchanged();
}

#[test]
fn stdout_into_a_pipe_holds_the_line_once() {
    let machine = testkit::Machine::lock();
    // testkit::run pipes stdout; `race` asserts the one line.
    testkit::race(BIN, &["--count", "50"], 50);
    machine.assert_unchanged();
}

#[test]
fn bad_counts_and_unknown_flags_are_usage_errors() {
    let machine = testkit::Machine::lock();
    for (args, says) in [
        (&["--count", "0"][..], "use 1 or more"),
        (&["--count", "-3"][..], "use 1 or more"),
        (&["--count", "abc"][..], "'abc' is not a whole number"),
        (
            &["--count", "2147483648"][..],
            "at most 2147483647 children",
        ),
        (
            &["--sleep-us", "-1"][..],
            "'-1' is not a whole number of microseconds",
        ),
        (&["--bogus"][..], "unexpected argument '--bogus'"),
    ] {
        testkit::assert_usage_error(args, &run(args), says);
    }
    machine.assert_unchanged();
}

#[test]
fn help_names_the_article_section_and_the_flags() {
    let out = run(&["--help"]);
    assert!(out.status.success());
    let help = text(&out.stdout);
    for needle in [
        "mmap内存共享映射",
        "--count <N>",
        "--sleep-us <MICROSECONDS>",
        "[default: 100]",
    ] {
        assert!(help.contains(needle), "--help lacks {needle:?}:\n{help}");
    }
}

/// A fork that fails part-way: stop, reap the children already started,
/// say how many ran, exit 1. Root is exempt from RLIMIT_NPROC, so the
/// program runs as `nobody` with a process limit of 8 (setpriv, prlimit).
#[test]
fn a_fork_that_fails_part_way_reports_how_many_children_ran() {
    let machine = testkit::Machine::lock();
    testkit::assert_fork_fails_part_way(BIN, "racing_mmap");
    machine.assert_unchanged();
}
#[test]
fn a_private_mapping_is_not_shared_so_the_parent_reads_zero() {
    let machine = testkit::Machine::lock();
    // MAP_PRIVATE gives each child a copy-on-write copy: the article's point
    // that MAP_SHARED is what makes the children's writes visible.
    let out = run(&["--private", "--count", "20"]);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(shm_p(&text(&out.stdout)), 0);
    assert!(text(&out.stderr).contains("MAP_PRIVATE"));
    machine.assert_unchanged();
}

/// Ctrl-C (SIGINT) or SIGTERM while the children run: the parent passes
/// the signal on, waits for every child, prints no result, and exits with
/// 128 + the signal number, promptly even though each child would sleep 5 s.
#[test]
fn sigint_and_sigterm_while_children_run_exit_130_and_143() {
    let machine = testkit::Machine::lock();
    testkit::assert_signals_end_the_run_cleanly(
        BIN,
        &["--count", "20", "--sleep-us", "5000000"],
        |pid| testkit::children_of(pid) >= 20,
        "while 20 children ran; all were waited for",
        || true,
    );
    machine.assert_unchanged();
}

/// --lock atomic, flock and semaphore each make the result exact.
#[test]
fn every_lock_mode_gives_exactly_count() {
    let machine = testkit::Machine::lock();
    testkit::assert_every_lock_is_exact(BIN, "racing_mmap");
    machine.assert_unchanged();
}

/// An unnamed POSIX semaphore stays taken when its holder dies: the other
/// children are stuck, and the parent gives up on them instead of hanging.
#[test]
fn a_killed_semaphore_holder_leaves_the_others_stuck_but_not_the_parent() {
    let machine = testkit::Machine::lock();
    let stderr = testkit::assert_a_killed_holder_does_not_hang(BIN);
    assert!(
        stderr.contains("was stuck (no child finished for"),
        "{stderr}"
    );
    assert!(
        stderr.contains("A POSIX semaphore stays taken when its holder dies"),
        "{stderr}"
    );
    machine.assert_unchanged();
}
