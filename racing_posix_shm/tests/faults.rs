//! The fault matrix (docs/reliability.md) for racing_posix_shm: the cells
//! the other test files do not cover. The cases all racing programs share
//! are in testkit's racing table. Every test runs with a name of its own
//! (`Lab::name`) and ends with what it created gone.

use std::path::Path;
use testkit::{exits, never_says, says};

use testkit::{Lab, child_pids, shm_p, text};

const BIN: &str = env!("CARGO_BIN_EXE_racing_posix_shm");

testkit::racing_faults!(BIN, named);

/// `--name NAME`
fn named(name: &str) -> Vec<String> {
    vec![String::from("--name"), name.to_owned()]
}

/// The object's file and its named semaphore's file in /dev/shm.
fn files_of(name: &str) -> (String, String) {
    (
        format!("/dev/shm{name}"),
        format!("/dev/shm/sem.{}", &name[1..]),
    )
}

/// Cells 2 and 7: A stale /dev/shm/sem.NAME: `--lock semaphore` fails at
/// sem_open *after* the memory object exists. The object is unlinked; the
/// stale semaphore is named with its rm command and left alone.
#[test]
fn a_stale_named_semaphore_fails_after_the_object_and_the_object_goes() {
    let lab = Lab::new();
    let name = lab.name();
    let (object, semaphore) = files_of(&name);
    std::fs::write(&semaphore, [0u8; 32]).unwrap();
    let out = lab.run(BIN, &testkit::with(&named(&name), &["--lock", "semaphore"]));
    let stderr = text(&out.stderr);
    let stale_left = Path::new(&semaphore).exists();
    let _ = std::fs::remove_file(&semaphore);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    says(
        &stderr,
        &[&format!(
            "racing_posix_shm: sem_open(\"{name}\", O_CREAT|O_EXCL, 0600, 1) failed: EEXIST"
        )],
    );
    says(&stderr, &[&format!("Remove it with: rm {semaphore}")]);
    assert!(stale_left, "the stale semaphore is not touched");
    assert!(
        !Path::new(&object).exists(),
        "the object made before the failure is unlinked"
    );
    lab.assert_clean();
}

/// Cell 8 for the semaphore: root's /dev/shm/sem.NAME, the program run as
/// nobody with `--lock semaphore`: the owner named, no `rm` suggested.
#[test]
fn another_users_named_semaphore_names_the_owner_and_no_command_that_fails() {
    let lab = Lab::new();
    let name = lab.name();
    let (object, semaphore) = files_of(&name);
    let Some(mut nobody) = lab.as_nobody(BIN, None) else {
        testkit::skip(
            "needs root to create a semaphore as one user and run the program as another",
        );
        return;
    };
    std::fs::write(&semaphore, [0u8; 32]).unwrap();
    nobody.args(testkit::with(&named(&name), &["--lock", "semaphore"]));
    let out = lab.spawn(nobody).finish();
    let stderr = text(&out.stderr);
    let stale_left = Path::new(&semaphore).exists();
    let _ = std::fs::remove_file(&semaphore);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    says(
        &stderr,
        &[&format!(
            "{semaphore} already exists (owner uid 0 (root), mode 0644, 32 bytes, last written "
        )],
    );
    never_says(&stderr, &["rm /dev/shm"]);
    assert!(stale_left, "root's semaphore is not touched");
    assert!(!Path::new(&object).exists(), "nobody's object was unlinked");
    lab.assert_clean();
}

/// A run on the object `name` whose three children have all read the int
/// and sleep `sleep_us` before writing it back.
fn three_children_asleep(lab: &Lab, name: &str, sleep_us: &str) -> testkit::Running {
    let mut run = lab.start(
        BIN,
        &testkit::with(&named(name), &["--count", "3", "--sleep-us", sleep_us]),
    );
    let pid = run.pid();
    run.wait_until("3 children asleep in the critical section", || {
        let children = child_pids(pid);
        children.len() >= 3 && children.into_iter().all(testkit::in_nanosleep)
    });
    run
}

/// Cell 2: Someone removes /dev/shm/NAME while the children run: they finish
/// (they have it mapped), and the parent's shm_unlink explains ENOENT.
#[test]
fn an_object_removed_from_outside_is_explained() {
    let lab = Lab::new();
    let name = lab.name();
    let (object, _) = files_of(&name);
    let run = three_children_asleep(&lab, &name, "1000000");
    std::fs::remove_file(&object).unwrap();
    let out = run.finish();
    let stderr = exits(&out, 1);
    assert!((1..=3).contains(&shm_p(&text(&out.stdout))));
    says(
        &stderr,
        &[&format!(
            "racing_posix_shm: shm_unlink(\"{name}\") failed: ENOENT"
        )],
    );
    says(
        &stderr,
        &["was removed by someone else while the run went on"],
    );
    lab.assert_clean();
}

/// docs/racing_posix_shm.md, exercise 5: the object truncated to 0 while
/// the children sleep between their read and their write. Their store
/// lands past the end of the file: SIGBUS, which each child survives on a
/// zero page of its own and reports, once for all three; no result,
/// exit 1, and the object still unlinked.
#[test]
fn a_truncated_object_stops_the_children_with_one_line() {
    let lab = Lab::new();
    let name = lab.name();
    let (object, _) = files_of(&name);
    let run = three_children_asleep(&lab, &name, "2000000");
    std::fs::OpenOptions::new()
        .write(true)
        .open(&object)
        .and_then(|f| f.set_len(0))
        .unwrap();
    let out = run.finish();
    let stderr = exits(&out, 1);
    assert!(out.stdout.is_empty(), "no shm_p: {}", text(&out.stdout));
    says(&stderr, &["3 of 3 children failed: child 1 (pid "]);
    assert_eq!(
        stderr
            .matches(": the shared memory went away under this child's mapping (SIGBUS: its file or /dev/shm object was truncated by another process); what it wrote reached nobody\n")
            .count(),
        1,
        "{stderr}"
    );
    assert_eq!(
        stderr.matches("exited with status 1").count(),
        3,
        "{stderr}"
    );
    never_says(&stderr, &["killed by SIGBUS"]);
    assert!(!Path::new(&object).exists(), "unlinked");
    lab.assert_clean();
}

/// The longest name the rule allows, 251 bytes, works with every lock:
/// its semaphore, /dev/shm/sem.NAME, is 255 bytes, the most a file name
/// may have. (252 to 255 bytes passed the old check and failed at
/// sem_open with ENAMETOOLONG; now they are usage errors, see cli.rs.)
#[test]
fn the_longest_name_allowed_works_with_every_lock() {
    let lab = Lab::new();
    let name = lab.long_name(251);
    assert_eq!(name.len(), 252, "'/' and 251 bytes");
    for lock in ["none", "flock", "semaphore"] {
        let args = testkit::with(&named(&name), &["--count", "5", "--lock", lock]);
        testkit::race(&lab, BIN, &args, 5);
    }
    lab.assert_clean();
}

/// A full /dev/shm: a 64 KiB tmpfs mounted on it in a private mount
/// namespace, and filled. `ftruncate` alone reserves nothing there, and the
/// first store through the mapping used to kill the program with SIGBUS,
/// leaving the object. The pages are allocated up front now: ENOSPC, with
/// `df -h /dev/shm` in the hint, and the object unlinked.
#[test]
fn a_full_dev_shm_is_enospc_not_sigbus_and_the_object_is_unlinked() {
    let lab = Lab::new();
    let script = format!(
        "mount -t tmpfs -o size=64k tmpfs /dev/shm || exit 99
         cat /dev/zero > /dev/shm/fill 2>/dev/null
         '{}' --name /x --count 3
         echo status=$?
         ls -A /dev/shm",
        lab.program(BIN).display()
    );
    let Some((stdout, stderr)) = testkit::in_private_mounts(&lab, &script) else {
        lab.assert_clean();
        return;
    };
    assert_eq!(
        stdout, "status=1\nfill\n",
        "exit 1, and only the filler is left:\n{stderr}"
    );
    says(
        &stderr,
        &["racing_posix_shm: fallocate(3, 0, 0, 4) failed: ENOSPC (No space left on device)"],
    );
    says(&stderr, &["df -h /dev/shm"]);
    never_says(&stderr, &["SIGBUS"]);
    lab.assert_clean();
}

/// Under the resource limit `limit` (prlimit), a run with `flags` fails
/// with exit 1 saying each of `said`, and its object is unlinked.
fn a_limit_is_explained(limit: &str, flags: &[&str], said: &[&str]) {
    let lab = Lab::new();
    let name = lab.name();
    let mut command = lab.command_with_limits(BIN, &[limit]);
    command.args(testkit::with(&named(&name), flags));
    says(&exits(&lab.spawn(command).finish(), 1), said);
    assert!(!Path::new(&files_of(&name).0).exists());
    lab.assert_clean();
}

/// `ulimit -f 0`: growing the object past the file-size limit used to kill
/// the program with SIGXFSZ, leaving the object. Now it is EFBIG, with
/// `ulimit -f` in the hint.
#[test]
fn a_file_size_limit_is_efbig_not_a_kill() {
    a_limit_is_explained(
        "--fsize=0",
        &[],
        &[
            "racing_posix_shm: ftruncate(3, 4) failed: EFBIG (File too large)",
            "ulimit -f unlimited",
        ],
    );
}

/// `ulimit -n 4`: the lock file cannot be opened: EMFILE, with `ulimit -n`
/// in the hint.
#[test]
fn too_few_file_descriptors_is_emfile_explained() {
    a_limit_is_explained(
        "--nofile=4:4",
        &["--lock", "flock"],
        &[
            "failed: EMFILE (Too many open files)",
            "raise it: ulimit -n",
        ],
    );
}
