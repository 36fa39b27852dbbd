//! The fault matrix (docs/reliability.md) for racing_xsi_shm: the cells the
//! other test files do not cover. Every test runs with a key of its own
//! (`Lab::key`) and ends with what it created gone.

use common::system::sysvipc::{self, semaphore_sets};
use common::xsi::{Key, XsiSemaphore};
use testkit::{Lab, child_pids, me, shm_p, text};

const BIN: &str = env!("CARGO_BIN_EXE_racing_xsi_shm");

/// The permission bits of the System V semaphore set with this key.
fn semaphore_perms(key: &Key) -> Option<u32> {
    semaphore_sets()
        .into_iter()
        .find(|set| set.key == key.raw())
        .map(|set| set.mode)
}

/// Cell 2: an error after the segment was created: stdout is a closed
/// pipe. The segment is removed all the same.
#[test]
fn a_closed_stdout_still_removes_the_segment() {
    let lab = Lab::new();
    let own = lab.key();
    testkit::assert_a_closed_stdout_fails_cleanly(
        &lab,
        BIN,
        "racing_xsi_shm",
        &own.with(&["--count", "10"]),
    );
    assert_eq!(sysvipc::segment_with_key(own.key.raw()), None);
    lab.assert_clean();
}

/// Cells 2 and 7: A stale semaphore set under the key: `--lock semaphore` fails
/// at semget *after* the segment exists. The segment is removed; the stale
/// set is named with its ipcrm command and left alone.
#[test]
fn a_stale_semaphore_set_fails_after_the_segment_and_the_segment_goes() {
    let lab = Lab::new();
    let own = lab.key();
    let key = own.key.clone();
    let stale = XsiSemaphore::create(&key).expect("the test's stale set");
    let out = lab.run(BIN, &own.with(&["--lock", "semaphore"]));
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "racing_xsi_shm: semget(key={key}, 1, IPC_CREAT|IPC_EXCL|0600) failed: EEXIST"
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!(
            "(semid {}, owner {}, mode 0600, 1 semaphores),\n      left by an earlier run",
            stale.id(),
            me()
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!("Remove it with: ipcrm -S {key}")),
        "{stderr}"
    );
    assert_eq!(
        sysvipc::segment_with_key(key.raw()),
        None,
        "the segment made before the failure is removed"
    );
    assert_eq!(
        semaphore_perms(&key),
        Some(0o600),
        "the stale set is still there"
    );
    drop(stale);
    lab.assert_clean();
}

/// Cell 8 for the semaphore: root's set under the key, the program run as
/// nobody with `--lock semaphore`: the owner named, no `ipcrm` suggested.
#[test]
fn another_users_semaphore_set_names_the_owner_and_no_command_that_fails() {
    let lab = Lab::new();
    let own = lab.key();
    let Some(mut nobody) = lab.as_nobody(BIN, None) else {
        testkit::skip(
            "needs root to create a semaphore set as one user and run the program as another",
        );
        return;
    };
    let roots = XsiSemaphore::create(&own.key).expect("root's set");
    nobody.args(own.with(&["--lock", "semaphore"]));
    let out = lab.spawn(nobody).finish();
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "semid {}, owner uid 0 (root), mode 0600, 1 semaphores):\n      uid 0 (root)'s, not yours; it is left alone. Use another key: --proj-id ",
            roots.id()
        )),
        "{stderr}"
    );
    assert!(!stderr.contains("ipcrm"), "{stderr}");
    assert_eq!(
        sysvipc::segment_with_key(own.key.raw()),
        None,
        "nobody's segment was removed"
    );
    drop(roots);
    lab.assert_clean();
}

/// Cell 2: Someone removes the segment (ipcrm -M) while the children run: the
/// children still finish (they are attached), and the parent's final
/// IPC_RMID fails with a hint that explains it. Nothing is left.
#[test]
fn a_segment_removed_from_outside_is_explained() {
    let lab = Lab::new();
    let own = lab.key();
    let key = own.key.clone();
    let mut run = lab.start(BIN, &own.with(&["--count", "3", "--sleep-us", "1000000"]));
    let pid = run.pid();
    run.wait_until("all 3 children attached", || {
        sysvipc::segment_with_key(key.raw()).is_some_and(|s| s.attached >= 7)
    });
    // What `ipcs -m` shows meanwhile (docs/racing_xsi_shm.md): one
    // attachment of the parent's, and two of each child's (the one fork
    // copied, and its own shmat).
    assert_eq!(
        sysvipc::segment_with_key(key.raw()).map(|s| s.attached),
        Some(7)
    );
    let ipcrm = std::process::Command::new("ipcrm")
        .args(["-M", &key.to_string()])
        .status()
        .unwrap();
    assert!(ipcrm.success());
    let out = run.finish();
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        (1..=3).contains(&shm_p(&text(&out.stdout))),
        "the children were attached and finished"
    );
    assert!(
        stderr.contains("IPC_RMID, NULL) failed: EINVAL (Invalid argument)"),
        "{stderr}"
    );
    assert!(stderr.contains("the segment is already gone"), "{stderr}");
    assert!(child_pids(pid).is_empty());
    lab.assert_clean();
}

/// Cell 5: a child killed by SIGKILL is reported; the segment is removed.
#[test]
fn a_child_killed_by_sigkill_is_reported_and_the_segment_removed() {
    let lab = Lab::new();
    let own = lab.key();
    testkit::assert_a_killed_child_is_reported(&lab, BIN, "racing_xsi_shm", &own.with(&[]));
    assert_eq!(sysvipc::segment_with_key(own.key.raw()), None);
    lab.assert_clean();
}

/// Cell 6: fork fails part-way: the children that started are reaped, the
/// segment is removed, exit 1.
#[test]
fn a_fork_that_fails_part_way_removes_the_segment() {
    let lab = Lab::new();
    let own = lab.key();
    testkit::assert_fork_fails_part_way(&lab, BIN, "racing_xsi_shm", &own.with(&[]));
    assert_eq!(
        sysvipc::segment_with_key(own.key.raw()),
        None,
        "the segment was removed"
    );
    lab.assert_clean();
}

/// Cell 9: two runs at once with the same key: the second fails clearly
/// (EEXIST, "still attached"), and the first, untouched, is exact.
#[test]
fn two_runs_at_once_one_fails_clearly_the_other_is_untouched() {
    let lab = Lab::new();
    let own = lab.key();
    let key = own.key.clone();
    testkit::assert_a_second_run_fails_clearly(
        &lab,
        BIN,
        &own.with(&[]),
        || sysvipc::segment_with_key(key.raw()).is_some_and(|s| s.attached >= 2),
        ",\n      and in use right now: ",
    );
    lab.assert_clean();
}

/// Ten `--lock flock` runs at once (each with its own key): each has its
/// own lock file, none breaks another, all exact.
#[test]
fn concurrent_flock_runs_do_not_break_each_other() {
    let lab = Lab::new();
    let owns: Vec<Vec<String>> = (0..10).map(|_| lab.key().with(&[])).collect();
    testkit::assert_concurrent_flock_runs_do_not_disturb_each_other(&lab, BIN, &owns);
    lab.assert_clean();
}

/// `--lock flock` where the lock file cannot be created: one clear error,
/// and the segment made before it is removed.
#[test]
fn an_unwritable_lock_directory_is_one_clear_error() {
    let lab = Lab::new();
    let own = lab.key();
    testkit::assert_an_unwritable_lock_dir_is_one_clear_error(
        &lab,
        BIN,
        "racing_xsi_shm",
        &own.with(&[]),
    );
    assert_eq!(sysvipc::segment_with_key(own.key.raw()), None);
    lab.assert_clean();
}

/// Objects are created 0600 — the segment, the semaphore set, the lock
/// file — and the run is exact, even with umask 0277. (System V modes
/// ignore the umask; the lock file is set with fchmod.)
#[test]
fn the_segment_the_semaphore_set_and_the_lock_file_are_0600_whatever_the_umask() {
    let lab = Lab::new();
    let own = lab.key();
    let key = own.key.clone();
    testkit::assert_a_restrictive_umask_changes_nothing(&lab, BIN, &own.with(&[]), |lock| {
        let mut modes = vec![(
            String::from("segment"),
            sysvipc::segment_with_key(key.raw())?.mode & 0o777,
        )];
        if lock == "semaphore" {
            modes.push((
                String::from("semaphore set"),
                semaphore_perms(&key)? & 0o777,
            ));
        }
        Some(modes)
    });
    lab.assert_clean();
}

/// Stdout to a file: the one line, once.
#[test]
fn stdout_to_a_file_holds_each_line_once() {
    let lab = Lab::new();
    testkit::assert_race_to_a_file_prints_once(&lab, BIN, &lab.key().with(&[]));
    lab.assert_clean();
}

/// A huge `--count` is a usage error naming the bound, never an abort
/// (and nothing is created).
#[test]
fn a_huge_count_is_a_usage_error_not_an_abort() {
    let lab = Lab::new();
    let own = lab.key();
    testkit::assert_a_huge_count_is_a_usage_error(&lab, BIN, &own.with(&[]));
    lab.assert_clean();
}
