//! The fault matrix (docs/reliability.md) for racing_posix_shm: the cells
//! the other test files do not cover. Every test holds `testkit::Machine`
//! and ends with /dev/shm exactly as before.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::Duration;

use testkit::{Machine, child_pids, shm_p, text};

const BIN: &str = env!("CARGO_BIN_EXE_racing_posix_shm");
const OBJECT: &str = "/dev/shm/shm";
const SEMAPHORE: &str = "/dev/shm/sem.shm";

fn mode(path: &str) -> Option<u32> {
    std::fs::metadata(path)
        .ok()
        .map(|m| m.permissions().mode() & 0o777)
}

/// Cell 2: an error after the object was created: stdout is a closed pipe.
#[test]
fn a_closed_stdout_still_unlinks_the_object() {
    let machine = Machine::lock();
    testkit::assert_a_closed_stdout_fails_cleanly(BIN, "racing_posix_shm", &["--count", "10"]);
    assert!(!Path::new(OBJECT).exists());
    machine.assert_unchanged();
}

/// Cells 2 and 7: A stale /dev/shm/sem.shm: `--lock semaphore` fails at
/// sem_open *after* the memory object exists. The object is unlinked; the
/// stale semaphore is named with its rm command and left alone.
#[test]
fn a_stale_named_semaphore_fails_after_the_object_and_the_object_goes() {
    let machine = Machine::lock();
    std::fs::write(SEMAPHORE, [0u8; 32]).unwrap();
    let out = testkit::run(BIN, &["--lock", "semaphore"]);
    let stderr = text(&out.stderr);
    let stale_left = Path::new(SEMAPHORE).exists();
    let _ = std::fs::remove_file(SEMAPHORE);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(
            "racing_posix_shm: sem_open(\"/shm\", O_CREAT|O_EXCL, 0600, 1) failed: EEXIST"
        ),
        "{stderr}"
    );
    assert!(
        stderr.contains("Remove it with: rm /dev/shm/sem.shm"),
        "{stderr}"
    );
    assert!(stale_left, "the stale semaphore is not touched");
    assert!(
        !Path::new(OBJECT).exists(),
        "the object made before the failure is unlinked"
    );
    machine.assert_unchanged();
}

/// Cell 2: Someone removes /dev/shm/shm while the children run: they finish
/// (they have it mapped), and the parent's shm_unlink explains ENOENT.
#[test]
fn an_object_removed_from_outside_is_explained() {
    let machine = Machine::lock();
    let mut run = testkit::start(BIN, &["--count", "3", "--sleep-us", "1000000"]);
    let pid = testkit::Pid::from_raw(run.id() as i32);
    while child_pids(pid).len() < 3 || !Path::new(OBJECT).exists() {
        assert!(run.try_wait().unwrap().is_none(), "ended too early");
        std::thread::sleep(Duration::from_millis(5));
    }
    std::thread::sleep(Duration::from_millis(100));
    std::fs::remove_file(OBJECT).unwrap();
    let out = run.wait_with_output().unwrap();
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!((1..=3).contains(&shm_p(&text(&out.stdout))));
    assert!(
        stderr.contains("racing_posix_shm: shm_unlink(\"/shm\") failed: ENOENT"),
        "{stderr}"
    );
    assert!(
        stderr.contains("was removed by someone else while the run went on"),
        "{stderr}"
    );
    machine.assert_unchanged();
}

/// Cell 5: a child killed by SIGKILL is reported; the object is unlinked.
#[test]
fn a_child_killed_by_sigkill_is_reported_and_the_object_unlinked() {
    let machine = Machine::lock();
    testkit::assert_a_killed_child_is_reported(BIN, "racing_posix_shm");
    assert!(!Path::new(OBJECT).exists());
    machine.assert_unchanged();
}

/// Cell 6: fork fails part-way (as nobody, at most 8 processes): the
/// children that started are reaped, the object is unlinked, exit 1.
#[test]
fn a_fork_that_fails_part_way_unlinks_the_object() {
    let machine = Machine::lock();
    testkit::assert_fork_fails_part_way(BIN, "racing_posix_shm");
    assert!(!Path::new(OBJECT).exists(), "nobody's object was unlinked");
    machine.assert_unchanged();
}

/// Cell 9: two runs at once with the same name: the second fails
/// clearly, the first is untouched and exact.
#[test]
fn two_runs_at_once_one_fails_clearly_the_other_is_untouched() {
    let machine = Machine::lock();
    testkit::assert_a_second_run_fails_clearly(
        BIN,
        || Path::new(SEMAPHORE).exists(),
        "or another run is still going on",
    );
    machine.assert_unchanged();
}

/// Objects are created 0600: the memory object, the named semaphore, and
/// the flock lock file.
#[test]
fn the_object_the_semaphore_and_the_lock_file_are_mode_0600() {
    let machine = Machine::lock();
    let lock_file = std::env::temp_dir().join("racing_posix_shm.lock");
    let lock_file = lock_file.to_str().unwrap();
    for (args, files) in [
        (["--lock", "semaphore"], [OBJECT, SEMAPHORE]),
        (["--lock", "flock"], [OBJECT, lock_file]),
    ] {
        let run = testkit::start(
            BIN,
            &[&args[..], &["--count", "2", "--sleep-us", "300000"]].concat(),
        );
        for file in files {
            let mut seen = mode(file);
            while seen.is_none() {
                std::thread::sleep(Duration::from_millis(2));
                seen = mode(file);
            }
            assert_eq!(seen, Some(0o600), "{file}");
        }
        assert!(run.wait_with_output().unwrap().status.success());
    }
    machine.assert_unchanged();
}

/// Stdout to a file: the one line, once.
#[test]
fn stdout_to_a_file_holds_each_line_once() {
    let machine = Machine::lock();
    testkit::assert_race_to_a_file_prints_once(BIN);
    machine.assert_unchanged();
}
