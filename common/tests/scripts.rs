//! scripts/compare-with-c.sh says what it needs before it builds or
//! downloads anything, so that from a plain clone it fails in one clear
//! message, not half-way; and its --help is its whole header, which names
//! every flag it takes.

use std::path::Path;
use std::process::Command;

fn compare(args: &[&str]) -> (i32, String) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let out = Command::new(root.join("scripts/compare-with-c.sh"))
        .args(args)
        .output()
        .expect("bash runs the script");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn an_unreadable_article_is_named_with_the_flag_that_fixes_it() {
    let (code, stderr) = compare(&["--article", "/nonexistent/article.md", "racing_mmap"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.starts_with("compare-with-c.sh needs:\n"), "{stderr}");
    assert!(
        stderr.contains("/nonexistent/article.md cannot be read (pass --article PATH or URL)"),
        "{stderr}"
    );
}

#[test]
fn an_unknown_program_is_a_usage_error_listing_the_six() {
    let (code, stderr) = compare(&["racing_nothing"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("pick from: racing_mmap racing_xsi_shm racing_posix_shm mmap_mem xsi_shm_mem xsi_shm_mem_huge"),
        "{stderr}"
    );
}

#[test]
fn paired_times_the_racing_programs_only() {
    let (code, stderr) = compare(&["--paired", "mmap_mem"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("--paired times the racing programs only, not mmap_mem; pick from: racing_mmap racing_xsi_shm racing_posix_shm"),
        "{stderr}"
    );
}

#[test]
fn help_prints_the_whole_header_and_names_every_flag_the_script_takes() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let script = std::fs::read_to_string(root.join("scripts/compare-with-c.sh")).unwrap();
    let out = Command::new(root.join("scripts/compare-with-c.sh"))
        .arg("--help")
        .output()
        .expect("bash runs the script");
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    // The header comment, whole: from its first line to its last.
    assert!(help.starts_with("Build the article's C programs"), "{help}");
    assert!(help.contains("Run it on a quiet machine"), "{help}");
    assert!(!help.contains("set -euo pipefail"), "{help}");
    // Every `--flag)` arm of the argument loop is in the usage lines.
    let flags: Vec<&str> = script
        .lines()
        .filter_map(|l| l.trim_start().strip_prefix("--"))
        .filter_map(|l| l.split_once(')').map(|(f, _)| f))
        .filter(|f| f.chars().all(|c| c.is_ascii_lowercase() || c == '-'))
        .collect();
    assert!(flags.contains(&"paired"), "{flags:?}");
    let usage: String = help
        .lines()
        .filter(|l| l.trim_start().starts_with("scripts/compare-with-c.sh"))
        .collect();
    for flag in flags {
        assert!(
            usage.contains(&format!("--{flag}")),
            "--{flag} is not in the usage lines:\n{usage}"
        );
    }
}
