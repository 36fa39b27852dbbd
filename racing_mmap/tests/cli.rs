//! racing_mmap as a user runs it: the binary, real fork, real shared memory.
//!
//! The race is nondeterministic, so results are checked as ranges: with N
//! children the int ends between 1 (every child read 0) and N (no update lost).

use std::fs::File;
use std::io::Read;
use std::process::{Command, Output, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_racing_mmap");

fn run(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("racing_mmap runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The value of the one `shm_p: N` line that must be all of stdout.
fn shm_p(stdout: &str) -> i64 {
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(
        lines.len(),
        1,
        "stdout must be exactly one line, got {stdout:?}"
    );
    assert!(
        stdout.ends_with('\n'),
        "the line ends with a newline: {stdout:?}"
    );
    lines[0]
        .strip_prefix("shm_p: ")
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("not a `shm_p: N` line: {stdout:?}"))
}

#[test]
fn with_no_arguments_it_runs_the_articles_experiment() {
    let out = run(&[]);
    assert!(out.status.success(), "{out:?}");
    let n = shm_p(&text(&out.stdout));
    assert!((1..=100).contains(&n), "shm_p {n} outside 1..=100");
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains(&format!("expected 100, got {n}, so {} ", 100 - n)),
        "stderr explains expected vs got: {stderr}"
    );
}

#[test]
fn one_child_cannot_race_so_the_result_is_exactly_one() {
    let out = run(&["--count", "1"]);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(shm_p(&text(&out.stdout)), 1);
}

#[test]
fn five_hundred_children_without_a_pause_stay_in_range() {
    let out = run(&["--count", "500", "--sleep-us", "0"]);
    assert!(out.status.success(), "{out:?}");
    let n = shm_p(&text(&out.stdout));
    assert!((1..=500).contains(&n), "shm_p {n} outside 1..=500");
}

#[test]
fn stdout_redirected_to_a_file_holds_the_line_once() {
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
}

#[test]
fn stdout_into_a_pipe_holds_the_line_once() {
    let out = run(&["--count", "50"]);
    assert!(out.status.success(), "{out:?}");
    let n = shm_p(&text(&out.stdout));
    assert!((1..=50).contains(&n));
}

#[test]
fn bad_counts_and_unknown_flags_are_usage_errors() {
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
        let out = run(args);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(out.stdout.is_empty(), "{args:?} printed to stdout");
        assert!(stderr.starts_with("error: "), "{args:?}: {stderr}");
        assert!(
            stderr.contains(says),
            "{args:?} should say {says:?}: {stderr}"
        );
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
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
    if !nix_is_root() || !has("setpriv") || !has("prlimit") {
        eprintln!(
            "skipped: needs root, setpriv and prlimit to run as nobody with a low RLIMIT_NPROC"
        );
        return;
    }
    // `nobody` must be able to reach the binary; target/ may sit under a
    // private home. A world-readable copy in a fresh temp dir always works.
    let dir = std::env::temp_dir().join(format!("racing_mmap-nproc-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let copy = dir.join("racing_mmap");
    std::fs::copy(BIN, &copy).unwrap();
    set_mode(&dir, 0o755);
    set_mode(&copy, 0o755);
    let out = Command::new("prlimit")
        .args([
            "--nproc=8:8",
            "--",
            "setpriv",
            "--reuid=nobody",
            "--regid=nogroup",
            "--clear-groups",
            "--",
        ])
        .arg(&copy)
        .args(["--count", "100", "--sleep-us", "100000"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        out.stdout.is_empty(),
        "no result without all children: {:?}",
        text(&out.stdout)
    );
    let first = stderr.lines().next().unwrap_or_default();
    let started: usize = first
        .strip_prefix("racing_mmap: fork() failed after ")
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("first line names fork() and how many started: {stderr}"));
    assert!((1..100).contains(&started), "{first}");
    assert!(
        first.ends_with(" of 100 children had started: EAGAIN (Resource temporarily unavailable)"),
        "{first}"
    );
    assert!(
        stderr.contains(&format!(
            "The {started} children that did start were waited for."
        )),
        "{stderr}"
    );
    assert!(stderr.contains("ulimit -u"), "{stderr}");
}

fn nix_is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| text(&o.stdout).trim() == "0")
}

fn has(tool: &str) -> bool {
    Command::new(tool)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok()
}

fn set_mode(path: &std::path::Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

#[test]
fn a_private_mapping_is_not_shared_so_the_parent_reads_zero() {
    // MAP_PRIVATE gives each child a copy-on-write copy: the article's point
    // that MAP_SHARED is what makes the children's writes visible.
    let out = run(&["--private", "--count", "20"]);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(shm_p(&text(&out.stdout)), 0);
    assert!(text(&out.stderr).contains("MAP_PRIVATE"));
}
