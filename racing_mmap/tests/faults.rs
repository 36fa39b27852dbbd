//! The fault matrix (docs/reliability.md) for racing_mmap: the cells the
//! other test files do not cover. The cases all racing programs share are
//! in testkit's racing table; here are the anonymous mapping's own.

use testkit::{Lab, shm_p, text};
use testkit::{exits, says};

const BIN: &str = env!("CARGO_BIN_EXE_racing_mmap");

testkit::racing_faults!(BIN);

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
    command.args(["--lock", "flock", "--count", "2", "--sleep-us", "5000000"]);
    command.env("TMPDIR", &dir);
    let mut run = lab.spawn(command);
    let pid = run.pid();
    run.wait_until("a child asleep holding the lock", || {
        let children = testkit::child_pids(pid);
        children.len() == 2 && children.into_iter().any(testkit::in_nanosleep)
    });
    let lock = std::fs::read_dir(&dir).unwrap().flatten().next();
    let lock = lock.unwrap().path();
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
    let stderr = exits(&out, 130);
    assert!(left, "the directory kept it");
    let lock = lock.display();
    let except = format!(
        "; everything this run created has been released except {lock} (Permission denied (os error 13))\n"
    );
    says(&stderr, &[except]);
    lab.assert_clean();
}
