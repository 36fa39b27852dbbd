//! Reading what a program printed.

use std::process::Output;

/// Bytes as text, for messages and matching.
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The value of the one `shm_p: N` line that must be all of stdout.
pub fn shm_p(stdout: &str) -> i64 {
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
    let n = lines[0]
        .strip_prefix("shm_p: ")
        .and_then(|n| n.parse().ok());
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
    let n = line.and_then(|l| {
        l.split(": ")
            .nth(1)?
            .split_whitespace()
            .next()?
            .parse()
            .ok()
    });
    n.unwrap_or_else(|| panic!("no `zeroed ...: N minor page faults` line in:\n{stdout}"))
}

/// A usage error, as every program must give one: exit status 2, nothing
/// on stdout, clap's `error:` line on stderr saying `says`, no panic.
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

/// `text` holds each of `needles`; the first it lacks fails, showing `text`.
pub fn assert_says(text: &str, needles: &[&str]) {
    for needle in needles {
        assert!(text.contains(needle), "lacks {needle:?}:\n{text}");
    }
}

/// `uid 1000 (alice)`: how the programs name the user running this test.
pub fn me() -> String {
    common::system::users::user_name(nix::unistd::Uid::effective().as_raw())
}
