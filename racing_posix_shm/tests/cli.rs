//! racing_posix_shm as a user runs it, with real objects in /dev/shm.
//!
//! Every test holds `testkit::Machine` — one at a time, machine-wide — so
//! runs with the default name never collide, and each ends by checking that
//! /dev/shm (and the System V objects, nr_hugepages) hold exactly what they
//! held before.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Output;

use testkit::{AsNobody, Machine, text};

const BIN: &str = env!("CARGO_BIN_EXE_racing_posix_shm");
const DEFAULT: &str = "/dev/shm/shm";

fn run(args: &[&str]) -> Output {
    testkit::run(BIN, args)
}

/// A file in /dev/shm with `content`, as a crashed earlier run (or another
/// program) would leave it; removed when dropped, even if the test fails.
struct StaleFile(&'static str);

impl StaleFile {
    fn new(path: &'static str, content: &str) -> StaleFile {
        std::fs::write(path, content).unwrap();
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).unwrap();
        StaleFile(path)
    }
}

impl Drop for StaleFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(self.0);
    }
}

#[test]
fn with_no_arguments_it_runs_the_articles_experiment_and_unlinks_the_object() {
    let machine = Machine::lock();
    let (_, stderr) = testkit::race(BIN, &[], 100);
    assert!(
        stderr.starts_with("created /shm as /dev/shm/shm\n"),
        "{stderr}"
    );
    assert!(!Path::new(DEFAULT).exists());
    machine.assert_unchanged();
}

#[test]
fn one_child_gives_exactly_one_and_the_articles_bare_name_works() {
    let machine = Machine::lock();
    let (n, stderr) = testkit::race(BIN, &["--count", "1", "--name", "shm-lessons-bare"], 1);
    assert_eq!(n, 1);
    assert!(
        stderr.starts_with("created /shm-lessons-bare as /dev/shm/shm-lessons-bare\n"),
        "{stderr}"
    );
    machine.assert_unchanged();
}

#[test]
fn an_existing_object_is_reported_and_left_untouched() {
    let machine = Machine::lock();
    let stale = StaleFile::new(DEFAULT, "marker: do not truncate");
    let out = run(&[]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(out.stdout.is_empty());
    assert!(
        stderr.starts_with(
            "racing_posix_shm: shm_open(\"/shm\", O_CREAT|O_EXCL|O_RDWR, 0600) failed: EEXIST (File exists)\n"
        ),
        "{stderr}"
    );
    assert!(
        stderr.contains("/dev/shm/shm already exists (owner uid 0 (root), mode 0600, 23 bytes"),
        "{stderr}"
    );
    assert!(
        stderr.contains("Remove it with: rm /dev/shm/shm"),
        "{stderr}"
    );
    assert!(stderr.contains("--name /shm-2"), "{stderr}");
    // The article's O_TRUNC would have emptied it; O_EXCL leaves it be.
    assert_eq!(
        std::fs::read_to_string(DEFAULT).unwrap(),
        "marker: do not truncate"
    );
    drop(stale);
    machine.assert_unchanged();
}

#[test]
fn another_users_object_names_the_owner() {
    let Some(nobody) = AsNobody::new(BIN) else {
        eprintln!("skipped: needs root, setpriv and prlimit to run as nobody");
        return;
    };
    let machine = Machine::lock();
    let stale = StaleFile::new(DEFAULT, "root's");
    let out = nobody.command(None).output().unwrap();
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("EEXIST"), "{stderr}");
    assert!(
        stderr.contains("(owner uid 0 (root), mode 0600, 6 bytes"),
        "{stderr}"
    );
    assert_eq!(std::fs::read_to_string(DEFAULT).unwrap(), "root's");
    drop(stale);
    machine.assert_unchanged();
}

#[test]
fn bad_names_are_usage_errors_that_state_the_rule() {
    let machine = Machine::lock();
    let long = "x".repeat(256);
    for (name, says) in [
        ("", "the name is empty"),
        ("/", "the name is empty"),
        ("/a/b", "'/a/b' has a '/' inside"),
        (long.as_str(), "the name is 256 bytes long"),
        ("..", "is not a file name"),
    ] {
        let args = ["--name", name];
        let out = run(&args);
        testkit::assert_usage_error(&args, &out, says);
        assert!(text(&out.stderr).contains("'/' then 1 to 255 bytes with no other '/'"));
    }
    machine.assert_unchanged();
}

/// Ctrl-C / SIGTERM while the children run: every child reaped, the name
/// unlinked, exit 130 / 143.
#[test]
fn sigint_and_sigterm_while_children_run_unlink_the_object() {
    let machine = Machine::lock();
    testkit::assert_signals_end_the_run_cleanly(
        BIN,
        &["--count", "20", "--sleep-us", "5000000"],
        |pid| testkit::children_of(pid) >= 20,
        "while 20 children ran; all were waited for",
        || !Path::new(DEFAULT).exists(),
    );
    machine.assert_unchanged();
}

/// --lock atomic, flock and semaphore each make the result exact.
#[test]
fn every_lock_mode_gives_exactly_count() {
    let machine = testkit::Machine::lock();
    testkit::assert_every_lock_is_exact(BIN, "racing_posix_shm");
    machine.assert_unchanged();
}

/// A named POSIX semaphore stays taken when its holder dies: the other
/// children are stuck, and the parent gives up on them instead of hanging.
#[test]
fn a_killed_semaphore_holder_leaves_the_others_stuck_but_not_the_parent() {
    let machine = Machine::lock();
    let stderr = testkit::assert_a_killed_holder_does_not_hang(BIN);
    assert!(
        stderr.contains("was stuck (no child finished for"),
        "{stderr}"
    );
    assert!(
        !Path::new("/dev/shm/sem.shm").exists(),
        "the semaphore was unlinked"
    );
    machine.assert_unchanged();
}
