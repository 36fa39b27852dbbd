//! Short assertions on what a program said. Each one fails showing all of
//! it, and points at the test line that called it.

use std::process::Output;

use crate::output::text;

/// Assert that the run exited with `code`; its stderr.
#[track_caller]
pub fn exits(out: &Output, code: i32) -> String {
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(code), "{stderr}");
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
