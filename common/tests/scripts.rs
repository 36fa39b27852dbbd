//! scripts/compare-with-c.sh says what it needs before it builds or
//! downloads anything, so that from a plain clone it fails in one clear
//! message, not half-way.

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
