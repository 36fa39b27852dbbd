//! The untouched starters: the check grades every one of them as failing
//! or not started, never as passing, exits 1, and leaves nothing behind
//! (release_on_ctrl_c's starter leaks its segment on SIGINT: the check
//! removes it). The reference solutions passing is CI's part (.ci/run):
//! they are built only with `--features solutions`.
//!
//! A student's own copy runs their code only when they ask for it: once a
//! starter is edited (git says so), this test says it skips and passes, so
//! that `cargo test --workspace` stays green while they work.

use std::path::Path;
use std::process::Command;

use testkit::{Lab, text};

/// Whether the starters are as the repository has them (`None`: git cannot tell).
fn starters_untouched() -> Option<bool> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/bin");
    let mut git = Command::new("git");
    git.args(["diff", "--quiet", "HEAD", "--"]).arg(&dir);
    let status = git.current_dir(env!("CARGO_MANIFEST_DIR")).status().ok()?;
    match status.code() {
        Some(0) => Some(true),
        Some(1) => Some(false),
        _ => None,
    }
}

#[test]
fn untouched_starters_fail_or_are_not_started_and_nothing_is_left() {
    if starters_untouched() != Some(true) {
        eprintln!(
            "test untouched_starters_fail_or_are_not_started_and_nothing_is_left: skipped: \
             the starters were edited (or git cannot tell); grade them with: \
             cargo run -p exercises -- check"
        );
        return;
    }
    let lab = Lab::new();
    // Not run by cargo (no CARGO): the check grades the starters built for
    // this test, without building anything itself.
    let mut check = Command::new(env!("CARGO_BIN_EXE_exercises"));
    let out = check.arg("check").env_remove("CARGO").output().unwrap();
    let table = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{table}{}", text(&out.stderr));
    for name in [
        "fix_the_race",
        "huge_pages",
        "xsi_joiner",
        "release_on_ctrl_c",
        "posix_name",
    ] {
        let row = table.lines().find(|l| l.starts_with(&format!("{name} ")));
        let row = row.unwrap_or_else(|| panic!("no row for {name} in:\n{table}"));
        let failed = row.contains(" fail ") || row.contains(" not started ");
        assert!(failed, "{row}");
    }
    let left = "release_on_ctrl_c   fail         SIGINT left shmid ";
    assert!(table.contains(left), "{table}");
    assert!(table.contains("(the check removed it)"), "{table}");
    lab.assert_clean();
}
