//! The fault matrix (docs/reliability.md) for racing_mmap: the cells the
//! other test files do not cover. The anonymous mapping has no name, so
//! stale objects, other users' objects and leaks cannot happen to it;
//! what must hold is the exit status, the message, that children are
//! always reaped, and that `--lock flock`'s lock file never gets in anyone's
//! way.

use testkit::{Lab, shm_p, text};

const BIN: &str = env!("CARGO_BIN_EXE_racing_mmap");

/// Cell 2: an error after the mapping exists and the children ran:
/// stdout is a closed pipe, so the result cannot be written.
#[test]
fn a_closed_stdout_is_an_error_after_the_run_not_a_panic() {
    let lab = Lab::new();
    testkit::assert_a_closed_stdout_fails_cleanly(&lab, BIN, "racing_mmap", &["--count", "10"]);
    lab.assert_clean();
}

/// Cell 5: a child killed by SIGKILL (no lock) is reported.
#[test]
fn a_child_killed_by_sigkill_is_reported() {
    let lab = Lab::new();
    testkit::assert_a_killed_child_is_reported(&lab, BIN, "racing_mmap", &[]);
    lab.assert_clean();
}

/// Cell 9: two runs at once each have their own anonymous mapping, so
/// neither disturbs the other; with a lock, both are exact.
#[test]
fn two_runs_at_once_do_not_disturb_each_other() {
    let lab = Lab::new();
    let args = ["--count", "50", "--lock", "atomic", "--sleep-us", "100"];
    let first = lab.start(BIN, &args);
    let second = lab.run(BIN, &args);
    let first = first.finish();
    for out in [first, second] {
        assert!(out.status.success(), "{}", text(&out.stderr));
        assert_eq!(shm_p(&text(&out.stdout)), 50);
    }
    lab.assert_clean();
}

/// Ten `--lock flock` runs at once, 20 ms apart: each has its own lock
/// file, so none deletes another's, and all ten are exact.
#[test]
fn concurrent_flock_runs_do_not_break_each_other() {
    let lab = Lab::new();
    let owns = vec![Vec::new(); 10];
    testkit::assert_concurrent_flock_runs_do_not_disturb_each_other(&lab, BIN, &owns);
    lab.assert_clean();
}

/// `--lock flock` with a TMPDIR this user may not write: one error line
/// naming the directory, its owner and the TMPDIR= fix, not one per child.
#[test]
fn an_unwritable_lock_directory_is_one_clear_error() {
    let lab = Lab::new();
    testkit::assert_an_unwritable_lock_dir_is_one_clear_error(&lab, BIN, "racing_mmap", &[]);
    lab.assert_clean();
}

/// Umask 0277: the lock file is still 0600 and the run exact.
#[test]
fn a_restrictive_umask_changes_nothing() {
    let lab = Lab::new();
    testkit::assert_a_restrictive_umask_changes_nothing(&lab, BIN, &[], |_| Some(Vec::new()));
    lab.assert_clean();
}

/// Stdout to a file: the one line, once (no stdio buffer copied by fork).
#[test]
fn stdout_to_a_file_holds_each_line_once() {
    let lab = Lab::new();
    testkit::assert_race_to_a_file_prints_once(&lab, BIN, &[]);
    lab.assert_clean();
}

/// A huge `--count` is a usage error naming the bound, never an abort
/// (and nothing is created).
#[test]
fn a_huge_count_is_a_usage_error_not_an_abort() {
    let lab = Lab::new();
    testkit::assert_a_huge_count_is_a_usage_error(&lab, BIN, &[]);
    lab.assert_clean();
}

/// "Released" is said only when it is true: a lock file that cannot be
/// removed at the end (its directory made read-only meanwhile) is named
/// in the line instead, with why.
#[test]
fn a_lock_file_that_cannot_be_removed_is_named_not_called_released() {
    use std::os::unix::fs::PermissionsExt;
    let lab = Lab::new();
    let dir = lab.path("locks");
    std::fs::create_dir(&dir).unwrap();
    let mut command = match lab.as_nobody(BIN, None) {
        Some(command) => {
            std::os::unix::fs::chown(&dir, Some(65534), Some(65534)).unwrap();
            command
        }
        None => lab.command(BIN),
    };
    command
        .args(["--lock", "flock", "--count", "2", "--sleep-us", "5000000"])
        .env("TMPDIR", &dir);
    let mut run = lab.spawn(command);
    let pid = run.pid();
    run.wait_until("a child asleep holding the lock", || {
        let children = testkit::child_pids(pid);
        children.len() == 2 && children.into_iter().any(testkit::in_nanosleep)
    });
    let lock = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .next()
        .unwrap()
        .path();
    /// Gives the directory back its write bit, even if the test fails, so
    /// that the lab can remove it.
    struct Writable<'a>(&'a std::path::Path);
    impl Drop for Writable<'_> {
        fn drop(&mut self) {
            let _ = std::fs::set_permissions(self.0, std::fs::Permissions::from_mode(0o700));
        }
    }
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o500)).unwrap();
    let writable = Writable(&dir);
    run.signal(testkit::Signal::SIGINT);
    let out = run.finish();
    drop(writable);
    let left = lock.exists();
    let _ = std::fs::remove_file(&lock);
    let _ = std::fs::remove_dir(&dir);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    assert!(left, "the directory kept it");
    assert!(
        stderr.contains(&format!(
            "; everything this run created has been released except {} (Permission denied (os error 13))\n",
            lock.display()
        )),
        "{stderr}"
    );
    lab.assert_clean();
}
