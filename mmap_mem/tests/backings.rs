//! One memory, three names (docs/three-names.md): the same 64 MiB mapped
//! MAP_SHARED and zeroed, behind anonymous memory, a POSIX object in
//! /dev/shm, or a file on disk, and where /proc/meminfo books each.

use std::path::Path;

use testkit::said::{says_first, says_last};
use testkit::{Lab, change, text};
use testkit::{exits, fails_without_result, never_says, says};

const BIN: &str = env!("CARGO_BIN_EXE_mmap_mem");

/// Shmem and /dev/shm's use move by the size give or take this many MiB;
/// Cached, which all file activity moves, gets twice the slack.
const SLACK_MIB: i64 = 4;

/// `mmap_mem --size SIZE --hold 0` and then `rest`.
fn sized<'a>(size: &'a str, rest: &[&'a str]) -> Vec<&'a str> {
    [&["--size", size, "--hold", "0"][..], rest].concat()
}

/// `mmap_mem` with `args`, once Cached has risen by the 64 MiB it maps.
fn sixty_four_mib(lab: &Lab, args: &[&str]) -> (String, String) {
    let out = testkit::run_until_cached_moves(lab, BIN, args, 64, 2 * SLACK_MIB);
    let (stderr, stdout) = (exits(&out, 0), text(&out.stdout));
    let rose = testkit::cached_rose_by(&stdout, 64, 2 * SLACK_MIB);
    assert!(rose, "{stdout}");
    (stderr, stdout)
}

#[test]
fn a_posix_object_is_shmem_like_anonymous_memory_and_counts_in_df() {
    let lab = Lab::machine();
    let name = lab.name();
    let (stderr, stdout) = sixty_four_mib(&lab, &sized("64M", &["--posix", &name]));
    let mapped = format!(
        "shm_open(\"{name}\"), ftruncate, mmap(NULL, 67108864, PROT_READ|PROT_WRITE, MAP_SHARED, fd, 0): 64 MiB of /dev/shm{name} mapped\n"
    );
    says_first(&stdout, &mapped);
    let near_64 = |row| (change(&stdout, row) - 64).abs() <= SLACK_MIB;
    assert!(near_64("Shmem") && near_64("/dev/shm"), "{stdout}");
    says_first(&stderr, "released (munmap, shm_unlink): ");
    assert!(!Path::new(&format!("/dev/shm{name}")).exists());
    lab.assert_clean();
}

#[test]
fn a_disk_file_is_page_cache_but_not_shmem() {
    let lab = Lab::machine();
    let dir = lab.tmpdir();
    if testkit::on_tmpfs(&dir) {
        testkit::skip("needs a TMPDIR on a disk, not a tmpfs, to show a disk file's pages");
        lab.assert_clean();
        return;
    }
    let file = dir.join("memory");
    let path = file.to_str().unwrap();
    let (stderr, stdout) = sixty_four_mib(&lab, &sized("64M", &["--file", path]));
    let mapped = format!(
        "open(\"{path}\", O_CREAT|O_EXCL), ftruncate, mmap(NULL, 67108864, PROT_READ|PROT_WRITE, MAP_SHARED, fd, 0): 64 MiB mapped\n"
    );
    says_first(&stdout, &mapped);
    let shmem = change(&stdout, "Shmem");
    assert!(shmem.abs() <= SLACK_MIB, "not Shmem: {stdout}");
    says(&stdout, &["\nDirty ", "\nWriteback "]);
    says_first(&stderr, "released (munmap, unlink): ");
    assert!(!file.exists(), "the file is removed at the end");
    lab.assert_clean();
}

#[test]
fn an_existing_file_or_object_is_refused_and_left_alone() {
    let lab = Lab::new();
    let file = lab.tmpdir().join("precious");
    std::fs::write(&file, "important").unwrap();
    let args = sized("1M", &["--file", file.to_str().unwrap()]);
    let eexist = "failed: EEXIST (File exists)";
    says(&exits(&lab.run(BIN, &args), 1), &[eexist]);
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "important");
    std::fs::remove_file(&file).unwrap();

    let name = lab.name();
    let object = format!("/dev/shm{name}");
    std::fs::write(&object, "important").unwrap();
    let stderr = exits(&lab.run(BIN, &sized("1M", &["--posix", &name])), 1);
    // Not provably this program's leftover: no rm, another name offered
    // with mmap_mem's own flag.
    never_says(&stderr, &["rm "]);
    let alone = "it is left alone.\n      Use another name: --posix ";
    says(&stderr, &[alone]);
    assert_eq!(std::fs::read_to_string(&object).unwrap(), "important");
    std::fs::remove_file(&object).unwrap();
    lab.assert_clean();
}

#[test]
fn posix_and_file_are_one_or_the_other() {
    let lab = Lab::new();
    let stderr = exits(&lab.run(BIN, &["--posix", "/a", "--file", "/tmp/b"]), 2);
    let either = "the argument '--posix <NAME>' cannot be used with '--file <PATH>'";
    says(&stderr, &[either]);
    lab.assert_clean();
}

/// ENOSPC from fallocate, before a single page is touched (no SIGBUS).
#[test]
fn a_full_file_system_is_enospc_and_leaves_nothing() {
    let lab = Lab::new();
    let full = lab.tmpdir().join("full");
    std::fs::create_dir(&full).unwrap();
    let script = format!(
        "mount -t tmpfs -o size=64k tmpfs /dev/shm || exit 99
         mount -t tmpfs -o size=64k tmpfs '{dir}' || exit 99
         cat /dev/zero > /dev/shm/fill 2>/dev/null
         cat /dev/zero > '{dir}/fill' 2>/dev/null
         '{bin}' --size 1M --hold 0 --posix /m
         echo posix=$?
         '{bin}' --size 1M --hold 0 --file '{dir}/m'
         echo file=$?
         ls -A /dev/shm '{dir}'",
        dir = full.display(),
        bin = lab.program(BIN).display()
    );
    let Some((stdout, stderr)) = testkit::in_private_mounts(&lab, &script) else {
        std::fs::remove_dir(&full).unwrap();
        lab.assert_clean();
        return;
    };
    let both = stdout.contains("posix=1\n") && stdout.contains("file=1\n");
    assert!(both, "{stdout}{stderr}");
    let fills = stdout.matches("fill").count();
    assert_eq!(fills, 2, "only the fillers are left:\n{stdout}");
    never_says(&stdout, &["\nm\n"]);
    let shown = full.display();
    let dev_shm =
        "failed: ENOSPC (No space left on device)\nhint: the tmpfs at /dev/shm has no room";
    let file = format!(
        "hint: the file system of {shown} has no room for it (df -h {shown}); the file was removed."
    );
    says(&stderr, &[dev_shm, &file]);
    never_says(&stderr, &["SIGBUS"]);
    std::fs::remove_dir(&full).unwrap();
    lab.assert_clean();
}

/// Root may write almost anywhere, but not in /sys.
#[test]
fn a_directory_it_may_not_write_is_one_clear_error() {
    let lab = Lab::new();
    let dir = if testkit::is_root() {
        "/sys/kernel"
    } else {
        "/etc"
    };
    let path = &format!("{dir}/shm-lessons-memory");
    let stderr = fails_without_result(&lab.run(BIN, &sized("1M", &["--file", path])));
    assert_eq!(
        stderr,
        format!(
            "mmap_mem: open(\"{path}\", O_RDWR|O_CREAT|O_EXCL|O_NOFOLLOW|O_CLOEXEC, 0600) failed: EACCES (Permission denied)\n\
             hint: this user may not create {path}; pick a path in a directory of your own,\n      e.g. --file $HOME/FILE\n"
        )
    );
    assert!(!Path::new(path).exists());
    lab.assert_clean();
}

/// The stores past the new end are SIGBUS.
#[test]
fn a_backing_truncated_while_zeroing_ends_the_run_in_one_line() {
    use std::os::unix::fs::MetadataExt;
    let lab = Lab::machine();
    let name = lab.name();
    let file = lab.tmpdir().join("memory");
    let size: u64 = 512 << 20;
    let file = file.to_str().unwrap();
    for (flag, value, path) in [
        ("--posix", &*name, format!("/dev/shm{name}")),
        ("--file", file, file.into()),
    ] {
        let mut run = lab.start(BIN, &sized("512M", &[flag, value]));
        // Stop it once its blocks are allocated (fallocate would undo an
        // earlier truncation), so that the truncation comes while it zeroes.
        run.wait_until("the backing allocated", || {
            std::fs::metadata(&path).is_ok_and(|m| m.len() == size && m.blocks() * 512 >= size)
        });
        run.signal(testkit::Signal::SIGSTOP);
        testkit::truncate(&path);
        run.signal(testkit::Signal::SIGCONT);
        let stderr = fails_without_result(&run.finish());
        let went = "mmap_mem: the shared memory went away under its mapping while zeroing, after ";
        let why = " of 512 MiB (SIGBUS: its file or /dev/shm object was truncated by another process); everything this run created has been released\n";
        says_first(&stderr, went);
        says_last(&stderr, why);
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(!Path::new(&path).exists(), "{flag}: removed");
    }
    lab.assert_clean();
}

/// No fallocate either: neither Shmem nor /dev/shm's use moves.
#[test]
fn no_touch_allocates_nothing_for_an_object_either() {
    let lab = Lab::machine();
    let name = lab.name();
    let out = lab.run(BIN, &sized("256M", &["--no-touch", "--posix", &name]));
    exits(&out, 0);
    let stdout = text(&out.stdout);
    let not_zeroed = "not zeroed (--no-touch): no page was written, so none needed memory yet";
    says(&stdout, &[not_zeroed]);
    assert!(change(&stdout, "Shmem").abs() <= SLACK_MIB, "{stdout}");
    assert!(change(&stdout, "/dev/shm").abs() <= SLACK_MIB, "{stdout}");
    lab.assert_clean();
}

/// The last line does not claim this run unlinked it.
#[test]
fn a_file_removed_during_the_hold_is_said_so() {
    let lab = Lab::new();
    let file = lab.tmpdir().join("memory");
    let path = file.to_str().unwrap();
    let mut run = lab.start(BIN, &["--size", "1M", "--hold", "30", "--file", path]);
    let pid = run.pid();
    run.wait_until("the hold", || file.exists() && testkit::sleeping(pid));
    std::fs::remove_file(&file).unwrap();
    run.signal(testkit::Signal::SIGINT);
    let stderr = exits(&run.finish(), 0);
    let removed =
        format!("released (munmap; {path} had been removed by someone else meanwhile): Shmem is ");
    says(&stderr, &[removed]);
    lab.assert_clean();
}
