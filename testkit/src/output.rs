//! What a program printed: read, and asserted on. Each assertion fails
//! showing all of the text, at the test line that called it.

use std::process::Output;

/// Bytes as text, for messages and matching.
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Assert that the run exited with `code`; its stderr.
#[track_caller]
pub fn exits(out: &Output, code: i32) -> String {
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(code), "{stderr}");
    stderr
}

/// Assert that the run failed with no result: exit 1, nothing on stdout;
/// its stderr.
#[track_caller]
pub fn fails_without_result(out: &Output) -> String {
    let stderr = exits(out, 1);
    assert!(out.stdout.is_empty(), "no result: {}", text(&out.stdout));
    stderr
}

/// Assert that `said` holds every one of `parts`.
#[track_caller]
pub fn says<S: AsRef<str>>(said: &str, parts: &[S]) {
    for part in parts {
        let part = part.as_ref();
        assert!(said.contains(part), "{part:?} is not said in:\n{said}");
    }
}

/// [`says`] for a list that mixes `&str` and `&String`, which coerce to
/// `&str` here but do not agree on `says`'s type parameter.
#[track_caller]
pub fn assert_says(said: &str, parts: &[&str]) {
    says(said, parts);
}

/// Assert that `said` holds none of `parts`.
#[track_caller]
pub fn never_says(said: &str, parts: &[&str]) {
    for part in parts {
        assert!(!said.contains(part), "{part:?} is said in:\n{said}");
    }
}

/// Assert that `said` holds `part` exactly once.
#[track_caller]
pub fn says_once(said: &str, part: &str) {
    assert_eq!(said.matches(part).count(), 1, "{part:?} once in:\n{said}");
}

/// A usage error, as every program must give one: exit status 2, nothing
/// on stdout, clap's `error:` line on stderr saying `says`, no panic.
#[track_caller]
pub fn assert_usage_error(args: &[&str], out: &Output, says: &str) {
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
    assert!(stdout.is_empty(), "{args:?} printed to stdout: {stdout}");
    assert!(stderr.starts_with("error: "), "{args:?}: {stderr}");
    assert!(
        stderr.contains(says),
        "{args:?} should say {says:?}: {stderr}"
    );
    assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
}

/// The value of the one `shm_p: N` line that must be all of stdout.
pub fn shm_p(stdout: &str) -> i64 {
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 1, "stdout must be one line: {stdout:?}");
    says_last(stdout, "\n");
    let n = lines[0].strip_prefix("shm_p: ");
    let n = n.and_then(|n| n.parse().ok());
    n.unwrap_or_else(|| panic!("not a `shm_p: N` line: {stdout:?}"))
}

/// The "change" column of a memory demo's before/after table: `Shmem`,
/// `Cached`, `MemFree` (MiB) or `HugePages_Free` (pages).
pub fn change(stdout: &str, row: &str) -> i64 {
    let mut rows = stdout.lines().map(|line| line.split_whitespace());
    let row_of = rows.find_map(|mut cells| (cells.next() == Some(row)).then_some(cells));
    let n = row_of.and_then(|mut cells| cells.nth(4)?.parse().ok());
    n.unwrap_or_else(|| panic!("no {row} row with a change in:\n{stdout}"))
}

/// The minor page faults on the report's `zeroed ...` line.
pub fn faults(stdout: &str) -> u64 {
    let line = stdout.lines().find(|line| line.starts_with("zeroed "));
    let count = line.and_then(|l| l.split(": ").nth(1)?.split_whitespace().next());
    let n = count.and_then(|n| n.parse().ok());
    n.unwrap_or_else(|| panic!("no `zeroed ...: N minor page faults` line in:\n{stdout}"))
}

/// `uid 1000 (alice)`: how the programs name the user running this test.
pub fn me() -> String {
    common::system::users::user_name(nix::unistd::Uid::effective().as_raw())
}

/// Assert that `said` begins with `part`.
#[track_caller]
pub fn says_first(said: &str, part: &str) {
    assert!(said.starts_with(part), "{part:?} does not begin:\n{said}");
}

/// Assert that `said` ends with `part`.
#[track_caller]
pub fn says_last(said: &str, part: &str) {
    assert!(said.ends_with(part), "{part:?} does not end:\n{said}");
}
