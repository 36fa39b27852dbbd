//! The fault matrix (docs/reliability.md) for racing_posix_shm: the cells
//! the other test files do not cover (the shared ones are in testkit's
//! racing module). Every test runs with a name of its own (`Lab::name`).

use std::path::Path;

use testkit::{Lab, shm_p, start_asleep, text, truncate};
use testkit::{exits, never_says, says};

const BIN: &str = env!("CARGO_BIN_EXE_racing_posix_shm");

testkit::racing_faults!(BIN, named);

/// `--name NAME`, then `flags` (split at spaces).
fn named(name: &str, flags: &str) -> Vec<String> {
    testkit::racing::Own::Name(name.to_owned()).with(flags)
}

/// The object's file and its named semaphore's file in /dev/shm.
fn files_of(name: &str) -> (String, String) {
    (
        format!("/dev/shm{name}"),
        format!("/dev/shm/sem.{}", &name[1..]),
    )
}

/// Cells 2 and 7: sem_open fails *after* the memory object exists.
#[test]
fn a_stale_named_semaphore_fails_after_the_object_and_the_object_goes() {
    let lab = Lab::new();
    let name = lab.name();
    let (object, semaphore) = files_of(&name);
    std::fs::write(&semaphore, [0u8; 32]).unwrap();
    let out = lab.run(BIN, &named(&name, "--lock semaphore"));
    let stale_left = Path::new(&semaphore).exists();
    let _ = std::fs::remove_file(&semaphore);
    let stderr = exits(&out, 1);
    let eexist =
        format!("racing_posix_shm: sem_open(\"{name}\", O_CREAT|O_EXCL, 0600, 1) failed: EEXIST");
    says(&stderr, &[eexist]);
    says(&stderr, &[format!("Remove it with: rm {semaphore}")]);
    assert!(stale_left, "the stale semaphore is not touched");
    let unlinked = !Path::new(&object).exists();
    assert!(unlinked, "the object made before is unlinked");
    lab.assert_clean();
}

/// Cell 8 for the semaphore: root's, the program run as nobody.
#[test]
fn another_users_named_semaphore_names_the_owner_and_no_command_that_fails() {
    let lab = Lab::new();
    let name = lab.name();
    let (object, semaphore) = files_of(&name);
    let Some(mut nobody) = lab.as_nobody(BIN, None) else {
        testkit::skip("needs root to make a semaphore as one user and run as another");
        return;
    };
    std::fs::write(&semaphore, [0u8; 32]).unwrap();
    nobody.args(named(&name, "--lock semaphore"));
    let out = lab.spawn(nobody).finish();
    let stale_left = Path::new(&semaphore).exists();
    let _ = std::fs::remove_file(&semaphore);
    let stderr = exits(&out, 1);
    let owner = "already exists (owner uid 0 (root), mode 0644, 32 bytes, last written ";
    says(&stderr, &[format!("{semaphore} {owner}")]);
    never_says(&stderr, &["rm /dev/shm"]);
    assert!(stale_left, "root's semaphore is not touched");
    assert!(!Path::new(&object).exists(), "nobody's object was unlinked");
    lab.assert_clean();
}

/// Cell 2: the children finish (they have it mapped).
#[test]
fn an_object_removed_from_outside_is_explained() {
    let lab = Lab::new();
    let name = lab.name();
    let run = start_asleep(&lab, BIN, &named(&name, "--count 3 --sleep-us 1000000"), 3);
    std::fs::remove_file(files_of(&name).0).unwrap();
    let out = run.finish();
    let stderr = exits(&out, 1);
    assert!((1..=3).contains(&shm_p(&text(&out.stdout))));
    let enoent = format!("racing_posix_shm: shm_unlink(\"{name}\") failed: ENOENT");
    let removed = "was removed by someone else while the run went on";
    says(&stderr, &[enoent.as_str(), removed]);
    lab.assert_clean();
}

/// docs/racing_posix_shm.md, exercise 5: the store lands past the end.
#[test]
fn a_truncated_object_stops_the_children_with_one_line() {
    let lab = Lab::new();
    let name = lab.name();
    let (object, _) = files_of(&name);
    let run = start_asleep(&lab, BIN, &named(&name, "--count 3 --sleep-us 2000000"), 3);
    truncate(&object);
    let went_away = ": the shared memory went away under this child's mapping (SIGBUS: its file or /dev/shm object was truncated by another process); what it wrote reached nobody\n";
    let stderr = testkit::assert_sigbus_said_once(&run.finish(), went_away, 3);
    says(&stderr, &["3 of 3 children failed: child 1 (pid "]);
    never_says(&stderr, &["killed by SIGBUS"]);
    assert!(!Path::new(&object).exists(), "unlinked");
    lab.assert_clean();
}

/// Its semaphore, /dev/shm/sem.NAME, is 255 bytes: the most a file name
/// may have.
#[test]
fn the_longest_name_allowed_works_with_every_lock() {
    let lab = Lab::new();
    let name = lab.long_name(251);
    assert_eq!(name.len(), 252, "'/' and 251 bytes");
    for lock in ["none", "flock", "semaphore"] {
        let args = named(&name, &format!("--count 5 --lock {lock}"));
        testkit::race(&lab, BIN, &args, 5);
    }
    lab.assert_clean();
}

/// `ftruncate` alone reserves nothing: the first store used to be SIGBUS.
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
    let only_the_filler = "exit 1, and only the filler is left";
    assert_eq!(stdout, "status=1\nfill\n", "{only_the_filler}:\n{stderr}");
    let enospc = "racing_posix_shm: fallocate(3, 0, 0, 4) failed: ENOSPC (No space left on device)";
    says(&stderr, &[enospc, "df -h /dev/shm"]);
    never_says(&stderr, &["SIGBUS"]);
    lab.assert_clean();
}

/// Under the resource limit `limit` (prlimit), a run with `flags` fails
/// with exit 1 saying each of `said`, and its object is unlinked.
fn a_limit_is_explained(limit: &str, flags: &str, said: &[&str]) {
    let lab = Lab::new();
    let name = lab.name();
    let mut command = lab.command_with_limits(BIN, &[limit]);
    command.args(named(&name, flags));
    says(&exits(&lab.spawn(command).finish(), 1), said);
    assert!(!Path::new(&files_of(&name).0).exists());
    lab.assert_clean();
}

/// `ulimit -f 0` used to kill the program with SIGXFSZ.
#[test]
fn a_file_size_limit_is_efbig_not_a_kill() {
    let efbig = "racing_posix_shm: ftruncate(3, 4) failed: EFBIG (File too large)";
    a_limit_is_explained("--fsize=0", "", &[efbig, "ulimit -f unlimited"]);
}

/// `ulimit -n 4`: the lock file cannot be opened.
#[test]
fn too_few_file_descriptors_is_emfile_explained() {
    let emfile = [
        "failed: EMFILE (Too many open files)",
        "raise it: ulimit -n",
    ];
    a_limit_is_explained("--nofile=4:4", "--lock flock", &emfile);
}
