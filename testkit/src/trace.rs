//! `--trace`, the same promises in all three racing programs: the lost
//! updates it counts add up to `--count` minus `shm_p`, run after run; no
//! lock lets two children read the same value; its lines fit 80 columns
//! when stderr is not a terminal; stdout is what it is without it; and the
//! flags it cannot go with are usage errors.

use std::process::Output;

use crate::lab::Lab;
use crate::output::{assert_usage_error, shm_p, text};
use crate::probe::children_of;

/// All of them, one after the other: what each racing program's
/// tests/trace.rs runs.
pub fn assert_the_trace_keeps_its_promises(lab: &Lab, bin: &str, own: &[String]) {
    assert_the_trace_accounts_for_every_lost_update(lab, bin, own);
    assert_no_lock_lets_two_children_read_the_same_value(lab, bin, own);
    assert_the_trace_leaves_stdout_alone(lab, bin, own);
    assert_trace_usage_errors(lab, bin, own);
}

/// `bin own args...`, as a vector of strings.
fn with(own: &[String], args: &[&str]) -> Vec<String> {
    own.iter()
        .cloned()
        .chain(args.iter().map(|a| String::from(*a)))
        .collect()
}

/// The trace's lines: from `--trace:` to the end of stderr.
fn trace_of(stderr: &str) -> &str {
    let at = stderr
        .find("--trace: ")
        .unwrap_or_else(|| panic!("no --trace report in:\n{stderr}"));
    &stderr[at..]
}

/// The number in the line `N update(s) lost: …`, or 0 for `no update was lost`.
fn lost_in(trace: &str) -> i64 {
    if trace.contains("No update was lost") {
        return 0;
    }
    trace
        .lines()
        .find_map(|l| {
            let l = l.trim_start();
            let (n, rest) = l.split_once(' ')?;
            (rest.starts_with("updates lost:") || rest.starts_with("update lost:"))
                .then(|| n.parse().ok())
                .flatten()
        })
        .unwrap_or_else(|| panic!("no 'N updates lost' line in:\n{trace}"))
}

fn run_ok(lab: &Lab, bin: &str, args: &[String]) -> (i64, String) {
    let out: Output = lab.run(bin, args);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{args:?}: {stderr}");
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
        assert_eq!(lost_in(trace), count - got, "{trace}");
        assert!(
            trace.contains(&format!(
                "{count} children − {} lost = {got}: the shm_p printed.",
                count - got
            )),
            "{trace}"
        );
        assert!(
            trace.contains("--trace: 30 of 30 children recorded"),
            "{trace}"
        );
        if got < count {
            assert!(
                trace.contains(" all read ")
                    || trace.contains(" both read ")
                    || trace.contains("a late write"),
                "{trace}"
            );
        }
        for line in trace.lines() {
            assert!(line.chars().count() <= 80, "wider than 80: {line:?}");
        }
        assert_eq!(
            trace.lines().filter(|l| l.starts_with("child ")).count(),
            30,
            "one timeline row per child: {trace}"
        );
    }
}

/// Under every `--lock`, the trace shows no two children reading the same
/// value, and nothing lost.
pub fn assert_no_lock_lets_two_children_read_the_same_value(lab: &Lab, bin: &str, own: &[String]) {
    for lock in ["atomic", "flock", "semaphore"] {
        let args = with(
            own,
            &[
                "--trace",
                "--count",
                "8",
                "--sleep-us",
                "2000",
                "--lock",
                lock,
            ],
        );
        let (got, stderr) = run_ok(lab, bin, &args);
        assert_eq!(got, 8, "--lock {lock}: {stderr}");
        let trace = trace_of(&stderr);
        assert_eq!(lost_in(trace), 0, "--lock {lock}: {trace}");
        assert!(
            !trace.contains(" read 0 and wrote"),
            "--lock {lock}: {trace}"
        );
        // Every child read a different value: 0 to 7, each once.
        let mut reads: Vec<i64> = trace
            .lines()
            .filter_map(|l| l.strip_prefix("child "))
            .filter_map(|l| l.split_whitespace().nth(1))
            .filter_map(|pair| pair.split('→').next()?.parse().ok())
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
    let a = lab.run(bin, &plain);
    let b = lab.run(bin, &traced);
    assert_eq!(a.status.code(), Some(0), "{}", text(&a.stderr));
    assert_eq!(b.status.code(), Some(0), "{}", text(&b.stderr));
    assert_eq!(
        a.stdout,
        b.stdout,
        "{} / {}",
        text(&a.stdout),
        text(&b.stdout)
    );
    assert_eq!(text(&b.stdout), "shm_p: 1\n");
    assert!(
        text(&b.stderr).contains("children 1–3 all read 0 and wrote 1: 2 updates lost"),
        "{}",
        text(&b.stderr)
    );
}

/// A joiner (`--attach`) that finds a traced run's memory leaves it alone,
/// and is told why: its memory holds the run's own children's records.
/// (racing_xsi_shm and racing_posix_shm: racing_mmap joins files only.)
pub fn assert_a_traced_run_is_not_joined(lab: &Lab, bin: &str, own: &[String]) {
    let mut creator = lab.start(
        bin,
        &with(own, &["--trace", "--count", "2", "--sleep-us", "3000000"]),
    );
    let pid = creator.pid();
    creator.wait_until("both children", || children_of(pid) == 2);
    let out = lab.run(bin, &with(own, &["--attach", "--count", "1"]));
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("a traced run cannot be joined"), "{stderr}");
    assert!(stderr.contains("nothing was written to it"), "{stderr}");
    let done = creator.finish();
    let told = text(&done.stderr);
    assert_eq!(done.status.code(), Some(0), "{told}");
    // Nobody but its own two children wrote: the trace adds up.
    assert!(
        told.contains("2 children − 1 lost = 1: the shm_p printed."),
        "{told}"
    );
}

/// `--trace` with `--runs`, or with more children than it records: usage
/// errors that name the rule, before anything is created.
pub fn assert_trace_usage_errors(lab: &Lab, bin: &str, own: &[String]) {
    let args = with(own, &["--trace", "--runs", "2"]);
    let out = lab.run(bin, &args);
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    assert_usage_error(&refs, &out, "'--trace' cannot be used with '--runs <N>'");
    let args = with(own, &["--trace", "--count", "10001"]);
    let out = lab.run(bin, &args);
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    assert_usage_error(&refs, &out, "records at most 10000");
}
