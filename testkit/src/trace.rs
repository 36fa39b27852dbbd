//! `--trace`, the same promises in all three racing programs: the lost
//! updates it counts add up to `--count` minus `shm_p`, run after run; no
//! lock lets two children read the same value; its lines fit 80 columns
//! when stderr is not a terminal; stdout is what it is without it; and the
//! flags it cannot go with are usage errors.

use crate::checks::{with, with_flags};
use crate::lab::Lab;
use crate::output::{assert_says, assert_usage_error, exits, never_says, shm_p, text};
use crate::probe::children_of;

/// All of them, one after the other: what each racing program's
/// tests/trace.rs runs.
pub fn assert_the_trace_keeps_its_promises(lab: &Lab, bin: &str, own: &[String]) {
    assert_the_trace_accounts_for_every_lost_update(lab, bin, own);
    assert_no_lock_lets_two_children_read_the_same_value(lab, bin, own);
    assert_the_trace_leaves_stdout_alone(lab, bin, own);
    assert_trace_usage_errors(lab, bin, own);
}

/// The trace's lines: from `--trace:` to the end of stderr.
fn trace_of(stderr: &str) -> &str {
    let at = stderr.find("--trace: ");
    &stderr[at.unwrap_or_else(|| panic!("no --trace report in:\n{stderr}"))..]
}

/// The number in the line `N update(s) lost: …`, or 0 for `No update was lost`.
fn lost_in(trace: &str) -> i64 {
    if trace.contains("No update was lost") {
        return 0;
    }
    let lost = |line: &str| {
        let (n, rest) = line.trim_start().split_once(' ')?;
        let says = rest.starts_with("updates lost:") || rest.starts_with("update lost:");
        says.then(|| n.parse().ok()).flatten()
    };
    let n = trace.lines().find_map(lost);
    n.unwrap_or_else(|| panic!("no 'N updates lost' line in:\n{trace}"))
}

/// A run that must succeed: its `shm_p`, and its stderr.
fn run_ok(lab: &Lab, bin: &str, args: &[String]) -> (i64, String) {
    let out = lab.run(bin, args);
    let stderr = exits(&out, 0);
    (shm_p(&text(&out.stdout)), stderr)
}

/// Twelve racy runs (30 children, a 200 µs pause: every run loses some):
/// the trace's total always equals `count - shm_p`, says so, names at
/// least one group of children that read the same value, and no line of
/// it is wider than 80 columns (stderr is a pipe here, not a terminal).
pub fn assert_the_trace_accounts_for_every_lost_update(lab: &Lab, bin: &str, own: &[String]) {
    let count = 30;
    let args = with(own, &["--trace", "--count", "30", "--sleep-us", "200"]);
    for _ in 0..12 {
        let (got, stderr) = run_ok(lab, bin, &args);
        let trace = trace_of(&stderr);
        let lost = count - got;
        assert_eq!(lost_in(trace), lost, "{trace}");
        let adds_up = format!("{count} children − {lost} lost = {got}: the shm_p printed.");
        assert_says(trace, &[&adds_up, "--trace: 30 of 30 children recorded"]);
        if got < count {
            let read = [" all read ", " both read ", "a late write"];
            assert!(read.iter().any(|r| trace.contains(r)), "{trace}");
        }
        for line in trace.lines() {
            assert!(line.chars().count() <= 80, "wider than 80: {line:?}");
        }
        let rows = trace.lines().filter(|l| l.starts_with("child ")).count();
        assert_eq!(rows, 30, "one timeline row per child: {trace}");
    }
}

/// Under every `--lock`, the trace shows nothing lost and every child
/// reading a different value: 0 to 7, each once.
pub fn assert_no_lock_lets_two_children_read_the_same_value(lab: &Lab, bin: &str, own: &[String]) {
    for lock in ["atomic", "flock", "semaphore"] {
        let flags = format!("--trace --count 8 --sleep-us 2000 --lock {lock}");
        let (got, stderr) = run_ok(lab, bin, &with_flags(own, &flags));
        assert_eq!(got, 8, "--lock {lock}: {stderr}");
        let trace = trace_of(&stderr);
        assert_eq!(lost_in(trace), 0, "--lock {lock}: {trace}");
        never_says(trace, &[" read 0 and wrote"]);
        let rows = trace.lines().filter_map(|l| l.strip_prefix("child "));
        let pairs = rows.filter_map(|l| l.split_whitespace().nth(1));
        let mut reads: Vec<i64> = pairs
            .filter_map(|p| p.split('→').next()?.parse().ok())
            .collect();
        reads.sort_unstable();
        assert_eq!(reads, (0..8).collect::<Vec<_>>(), "--lock {lock}: {trace}");
    }
}

/// stdout with `--trace` is byte for byte what it is without: three
/// children that all sleep 200 ms after reading 0 print `shm_p: 1` either
/// way.
pub fn assert_the_trace_leaves_stdout_alone(lab: &Lab, bin: &str, own: &[String]) {
    let plain = with(own, &["--count", "3", "--sleep-us", "200000"]);
    let traced = with(own, &["--count", "3", "--sleep-us", "200000", "--trace"]);
    let (a, b) = (lab.run(bin, &plain), lab.run(bin, &traced));
    let (_, stderr) = (exits(&a, 0), exits(&b, 0));
    let (stdout, traced_stdout) = (text(&a.stdout), text(&b.stdout));
    assert_eq!(a.stdout, b.stdout, "{stdout} / {traced_stdout}");
    assert_eq!(traced_stdout, "shm_p: 1\n");
    let lost = "children 1–3 all read 0 and wrote 1: 2 updates lost";
    assert_says(&stderr, &[lost]);
}

/// A joiner (`--attach`) that finds a traced run's memory leaves it alone,
/// and is told why: its memory holds the run's own children's records.
/// (racing_xsi_shm and racing_posix_shm: racing_mmap joins files only.)
pub fn assert_a_traced_run_is_not_joined(lab: &Lab, bin: &str, own: &[String]) {
    let creator = with(own, &["--trace", "--count", "2", "--sleep-us", "3000000"]);
    let mut creator = lab.start(bin, &creator);
    let pid = creator.pid();
    creator.wait_until("both children", || children_of(pid) == 2);
    let out = lab.run(bin, &with(own, &["--attach", "--count", "1"]));
    let stderr = exits(&out, 1);
    let refused = "a traced run cannot be joined";
    assert_says(&stderr, &[refused, "nothing was written to it"]);
    let told = exits(&creator.finish(), 0);
    // Nobody but its own two children wrote: the trace adds up.
    assert_says(&told, &["2 children − 1 lost = 1: the shm_p printed."]);
}

/// `--trace` with `--runs`, or with more children than it records: usage
/// errors that name the rule, before anything is created.
pub fn assert_trace_usage_errors(lab: &Lab, bin: &str, own: &[String]) {
    let runs = "'--trace' cannot be used with '--runs <N>'";
    for (args, says) in [
        (["--trace", "--runs", "2"], runs),
        (["--trace", "--count", "10001"], "records at most 10000"),
    ] {
        let args = with(own, &args);
        let out = lab.run(bin, &args);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        assert_usage_error(&args, &out, says);
    }
}
