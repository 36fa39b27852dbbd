//! scripts/compare-with-c.sh says what it needs before it builds or
//! downloads anything, so that from a plain clone it fails in one clear
//! message, not half-way; and its --help is its whole header, which names
//! every flag it takes.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/compare-with-c.sh")
}

fn run(args: &[&str]) -> Output {
    let out = Command::new(script()).args(args).output();
    out.expect("bash runs the script")
}

/// A usage error (exit 2) whose stderr holds `says`.
fn assert_refused(args: &[&str], says: &str) -> String {
    let out = run(args);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains(says), "{stderr}");
    stderr
}

#[test]
fn an_unreadable_article_is_named_with_the_flag_that_fixes_it() {
    let args = ["--article", "/nonexistent/article.md", "racing_mmap"];
    let says = "/nonexistent/article.md cannot be read (pass --article PATH or URL)";
    let stderr = assert_refused(&args, says);
    assert!(stderr.starts_with("compare-with-c.sh needs:\n"), "{stderr}");
}

#[test]
fn an_unknown_program_is_a_usage_error_listing_the_six() {
    let six = "racing_mmap racing_xsi_shm racing_posix_shm mmap_mem xsi_shm_mem xsi_shm_mem_huge";
    assert_refused(&["racing_nothing"], &format!("pick from: {six}"));
}

#[test]
fn paired_times_the_racing_programs_only() {
    let says = "--paired times the racing programs only, not mmap_mem; pick from: racing_mmap racing_xsi_shm racing_posix_shm";
    assert_refused(&["--paired", "mmap_mem"], says);
}

#[test]
fn help_prints_the_whole_header_and_names_every_flag_the_script_takes() {
    let source = std::fs::read_to_string(script()).unwrap();
    let out = run(&["--help"]);
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    // The header comment, whole: from its first line to its last.
    assert!(help.starts_with("Build the article's C programs"), "{help}");
    assert!(help.contains("Run it on a quiet machine"), "{help}");
    assert!(!help.contains("set -euo pipefail"), "{help}");
    // Every `--flag)` arm of the argument loop is in the usage lines.
    let arms = source
        .lines()
        .filter_map(|l| l.trim_start().strip_prefix("--"));
    let flags = arms.filter_map(|l| l.split_once(')').map(|(f, _)| f));
    let flags: Vec<&str> = flags
        .filter(|f| f.chars().all(|c| c.is_ascii_lowercase() || c == '-'))
        .collect();
    assert!(flags.contains(&"paired"), "{flags:?}");
    let usage = help
        .lines()
        .filter(|l| l.trim_start().starts_with("scripts/compare-with-c.sh"));
    let usage: String = usage.collect();
    for flag in flags {
        let flag = format!("--{flag}");
        assert!(usage.contains(&flag), "{flag} not in:\n{usage}");
    }
}
