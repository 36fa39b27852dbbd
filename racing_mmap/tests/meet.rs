//! `--file PATH`: the article's other use of mmap, a file, which gives the
//! memory a name; and `--attach --file PATH`, a process started on its own
//! that joins the counter by that name.

use std::ffi::OsStr;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;

use testkit::said::{says_first, says_last};
use testkit::{Lab, Signal, child_pids, in_nanosleep, shm_p, start_asleep, text, truncate};
use testkit::{exits, fails_without_result, never_says, says};

const BIN: &str = env!("CARGO_BIN_EXE_racing_mmap");

/// A lab, and the path of a counter file in its TMPDIR.
fn lab_and_counter() -> (Lab, PathBuf, String) {
    let lab = Lab::new();
    let file = lab.tmpdir().join("counter");
    let path = file.to_str().unwrap().to_owned();
    (lab, file, path)
}

/// `racing_mmap` with `flags` (split at spaces) after `--file PATH`.
fn on_file(path: &str, flags: &str) -> Vec<String> {
    let mut args = vec![String::from("--file"), path.to_owned()];
    args.extend(flags.split_whitespace().map(String::from));
    args
}

/// The page size: a counter file's header is one page, the int after it.
fn page() -> usize {
    common::system::page_size() as usize
}

/// The int after the header page, as `od -An -td4 -j PAGE -N 4` reads it.
fn int_in(path: &Path) -> i32 {
    let bytes = std::fs::read(path).unwrap();
    i32::from_ne_bytes(bytes[page()..page() + 4].try_into().unwrap())
}

/// What a file is, byte for byte and by its times, to show it untouched.
fn fingerprint(path: &Path) -> Option<(Vec<u8>, i64, i64)> {
    let meta = std::fs::symlink_metadata(path).ok()?;
    let bytes = match meta.is_file() {
        true => std::fs::read(path).unwrap_or_default(),
        false => Vec::new(),
    };
    Some((bytes, meta.mtime(), meta.mtime_nsec()))
}

/// A run on `path` with `count` children, its children asleep in the race.
fn asleep_on(lab: &Lab, path: &str, count: usize, sleep_us: &str) -> testkit::Running {
    let args = on_file(path, &format!("--count {count} --sleep-us {sleep_us}"));
    start_asleep(lab, BIN, &args, count)
}

#[test]
fn a_file_keeps_the_int_and_an_unrelated_process_joins_it() {
    let (lab, file, path) = lab_and_counter();
    let out = lab.run(BIN, &on_file(&path, "--count 20 --lock atomic"));
    let stderr = exits(&out, 0);
    assert_eq!(shm_p(&text(&out.stdout)), 20);
    let (page, path) = (page(), path.as_str());
    let od = format!("od -An -td4 -j {page} -N 4");
    let join = format!("join it: racing_mmap --attach --file {path}\n");
    let kept = format!("{path} keeps the int: {od} {path}; {join}");
    says_last(&stderr, &kept);
    assert_eq!(int_in(&file), 20, "the run's result is in the file");
    // The header says what the file is, and how to read the int.
    let head = std::fs::read_to_string(&file).unwrap_or_default();
    let header =
        format!("racing_mmap counter\nThe int is the 4 bytes after this page: {od} FILE\n");
    let bytes = std::fs::read(&file).unwrap();
    assert!(bytes.starts_with(header.as_bytes()), "{head:?}");
    if testkit::has("od") {
        let mut command = Command::new("od");
        command.args(od.split_whitespace().skip(1)).arg(path);
        assert_eq!(text(&command.output().unwrap().stdout).trim(), "20");
    }
    let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);

    let out = lab.run(BIN, &on_file(path, "--attach --count 10 --lock atomic"));
    let stderr = exits(&out, 0);
    assert_eq!(shm_p(&text(&out.stdout)), 30);
    let joined = format!("joined {path}: no process holds it now; only this process maps it\n");
    says_first(&stderr, &joined);
    let alone = ": not a child of the process that made it. It found the memory by its name alone.";
    let added = "10 children of this process each added 1: 20 → 30.";
    says(&stderr, &[alone, added]);
    assert_eq!(int_in(&file), 30);

    let out = lab.run(BIN, &on_file(path, "--attach --count 0"));
    assert_eq!(shm_p(&text(&out.stdout)), 30, "only read");

    // Neither lock object of the creator's run can be joined: each is
    // refused in one line, the hint offers only --lock atomic (which
    // works), and the int is untouched.
    let semaphore = "the creator's unnamed semaphore belongs to its own run and has no name";
    let flock = "its lock file is its own, made for its own children";
    for (mode, why) in [("semaphore", semaphore), ("flock", flock)] {
        let out = lab.run(BIN, &on_file(path, &format!("--attach --lock {mode}")));
        let refused = format!(
            "racing_mmap: --lock {mode} cannot join the run: {why}\n\
             hint: join with --lock atomic, which needs no lock object at all; a different lock, \
             or none, lets updates be lost.\n"
        );
        assert_eq!(exits(&out, 1), refused);
        assert_eq!(int_in(&file), 30);
    }

    std::fs::remove_file(&file).unwrap();
    lab.assert_clean();
}

/// By `--file` (which creates) and by `--attach --file` (which would add).
#[test]
fn what_racing_mmap_did_not_make_is_never_written_nor_offered_for_removal() {
    let lab = Lab::new();
    let dir = lab.tmpdir();
    let notes = dir.join("notes.txt");
    std::fs::write(&notes, "Dear diary, today I learned mmap.").unwrap();
    let fifo = dir.join("fifo");
    let mkfifo = Command::new("mkfifo").arg(&fifo).status();
    assert!(mkfifo.unwrap().success(), "mkfifo");
    let subdir = dir.join("subdir");
    std::fs::create_dir(&subdir).unwrap();
    let link = dir.join("link");
    std::os::unix::fs::symlink(&notes, &link).unwrap();
    let short = dir.join("short");
    std::fs::write(&short, "racing_mmap counter\n").unwrap();
    let not_a_counter = "that does not begin with the line";
    let short_file = format!("a file of 20 bytes {not_a_counter}");
    let diary = format!(
        "a file of 33 bytes {not_a_counter} \"racing_mmap counter\", and it begins \"Dear diary, today I lear…\""
    );
    let cases: Vec<(PathBuf, &str)> = vec![
        (notes.clone(), &diary),
        (PathBuf::from("/etc/passwd"), "a file of"),
        (PathBuf::from("/dev/null"), "a character device"),
        (subdir.clone(), "a directory"),
        (fifo.clone(), "a FIFO (a named pipe)"),
        (link.clone(), "a symbolic link, which is not followed"),
        (short.clone(), &short_file),
    ];
    for (path, what) in &cases {
        let before = fingerprint(path);
        let q = path.to_str().unwrap();
        let stderr = fails_without_result(&lab.run(BIN, &on_file(q, "--attach --count 3")));
        let not = format!("racing_mmap: {q} is not a racing_mmap counter: {what}");
        says_first(&stderr, &not);
        says(&stderr, &["; nothing was written to it\n"]);
        never_says(&stderr, &["rm "]);

        let stderr = exits(&lab.run(BIN, &on_file(q, "--count 3")), 1);
        let eexist = "failed: EEXIST (File exists)";
        says(&stderr, &[eexist, "it is left as it is."]);
        never_says(&stderr, &["--attach", "rm "]);
        assert_eq!(fingerprint(path), before, "{q} untouched");
    }
    let diary = std::fs::read_to_string(&notes).unwrap();
    assert_eq!(diary, "Dear diary, today I learned mmap.");
    for path in [&notes, &fifo, &link, &short] {
        std::fs::remove_file(path).unwrap();
    }
    std::fs::remove_dir(&subdir).unwrap();
    lab.assert_clean();
}

/// In a shared directory: this user may not remove them.
#[test]
fn another_users_file_or_counter_is_left_alone_and_never_offered_for_removal() {
    let lab = Lab::new();
    let Some(mut nobody) = lab.as_nobody(BIN, None) else {
        testkit::skip("needs root to make a file as one user and run the program as another");
        return;
    };
    let shared = lab.path("shared");
    std::fs::create_dir(&shared).unwrap();
    std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o1777)).unwrap();
    let theirs = shared.join("their-counter");
    let path = theirs.to_str().unwrap();
    exits(&lab.run(BIN, &on_file(path, "--count 3 --lock atomic")), 0);
    std::fs::set_permissions(&theirs, std::fs::Permissions::from_mode(0o644)).unwrap();
    let before = fingerprint(&theirs);
    nobody.args(on_file(path, ""));
    let stderr = exits(&lab.spawn(nobody).finish(), 1);
    let counter = "is a racing_mmap counter of uid 0 (root) (shm_p 3, last written";
    says(&stderr, &[counter, "not yours; it is left as it is."]);
    never_says(&stderr, &["rm ", "--attach"]);

    let mut nobody = lab.as_nobody(BIN, None).unwrap();
    nobody.args(on_file(path, "--attach"));
    let stderr = exits(&lab.spawn(nobody).finish(), 1);
    let eacces = "failed: EACCES (Permission denied)\nhint: this user may not write";
    let owner = "(owner uid 0 (root), mode 0644): a counter is joined only by its\n      owner's runs (and root's).";
    says(&stderr, &[eacces, owner]);
    assert_eq!(fingerprint(&theirs), before);
    std::fs::remove_file(&theirs).unwrap();
    std::fs::remove_dir(&shared).unwrap();
    lab.assert_clean();
}

#[test]
fn this_users_own_leftover_counter_may_be_joined_or_removed() {
    let (lab, file, path) = lab_and_counter();
    exits(&lab.run(BIN, &on_file(&path, "--count 5 --lock atomic")), 0);
    let before = fingerprint(&file);
    let stderr = exits(&lab.run(BIN, &on_file(&path, "")), 1);
    let left = format!(
        "hint: {path} is a counter an earlier racing_mmap run left (shm_p 5, last written "
    );
    let offers = format!(
        "it is left as it is.\n      Join it: racing_mmap --attach --file {path}\n      or remove it: rm {path}\n      or pick a path where nothing is yet: --file {path}-2\n"
    );
    says(&stderr, &[left, offers]);
    assert_eq!(fingerprint(&file), before);
    std::fs::remove_file(&file).unwrap();
    lab.assert_clean();
}

/// Whatever the path holds: a space, a quote, a newline.
#[test]
fn paths_in_hints_can_be_pasted_back_into_a_shell() {
    let lab = Lab::new();
    if !testkit::has("bash") {
        testkit::skip("needs bash to paste the commands into");
        return;
    }
    let bash = |line: &str| {
        let mut bash = Command::new("bash");
        bash.args(["-c", line]).env("TMPDIR", lab.tmpdir());
        bash.output().unwrap()
    };
    for name in ["my counter", "it's", "two\nlines"] {
        let file = lab.tmpdir().join(name);
        let flag = [OsStr::new("--file"), file.as_os_str()];
        let count = ["--count", "7", "--lock", "atomic"].map(OsStr::new);
        let stderr = exits(&lab.run(BIN, &[&flag[..], &count].concat()), 0);
        let last = stderr.lines().last().unwrap();
        let kept = last.split_once(" keeps the int: ").unwrap().1;
        let (od, join) = kept.split_once("; join it: ").unwrap();
        assert_eq!(text(&bash(od).stdout).trim(), "7", "{last}");
        let join = join.replacen("racing_mmap", &lab.program(BIN).display().to_string(), 1);
        let out = bash(&format!("{join} --count 3 --lock atomic"));
        let why = text(&out.stderr);
        assert_eq!(shm_p(&text(&out.stdout)), 10, "{join}: {why}");
        // And the rm the next refusal offers removes exactly this file.
        let stderr = text(&lab.run(BIN, &flag).stderr);
        let mut lines = stderr.lines().map(str::trim);
        let rm = lines.find_map(|l| l.strip_prefix("or remove it: "));
        let rm = rm.unwrap_or_else(|| panic!("{stderr}"));
        assert!(bash(rm).status.success());
        assert!(!file.exists(), "{rm} removed {name:?}");
    }
    lab.assert_clean();
}

/// No half-counted file is kept: the "released" line is true.
#[test]
fn a_file_run_cut_short_removes_its_file() {
    let (lab, file, path) = lab_and_counter();
    for (signal, status) in [(Signal::SIGINT, 130), (Signal::SIGTERM, 143)] {
        let args = on_file(&path, "--count 3 --sleep-us 5000000");
        let asleep = |pid| {
            let children = child_pids(pid);
            (children.len() == 3 && children.into_iter().all(in_nanosleep)).then_some(pid)
        };
        let (out, _) = testkit::signal_when(&lab, BIN, &args, asleep, signal);
        let stderr = exits(&out, status);
        says(&stderr, &["everything this run created has been released"]);
        assert!(!file.exists(), "{signal}: the half-counted file is removed");
    }
    let args = on_file(&path, "--count 3");
    testkit::assert_a_closed_stdout_fails_cleanly(&lab, BIN, "racing_mmap", &args);
    assert!(!file.exists(), "no result printed: no file kept");
    lab.assert_clean();
}

#[test]
fn a_file_removed_during_the_run_is_not_said_to_keep_the_int() {
    let (lab, file, path) = lab_and_counter();
    let args = on_file(&path, "--count 2 --sleep-us 500000 --lock atomic");
    let run = start_asleep(&lab, BIN, &args, 2);
    std::fs::remove_file(&file).unwrap();
    let stderr = exits(&run.finish(), 0);
    let removed = "was removed or replaced by someone else during the run: the int went with the file it was in.\n";
    says_last(&stderr, &format!("{path} {removed}"));
    assert!(!file.exists());
    lab.assert_clean();
}

#[test]
fn attach_without_a_file_says_why_anonymous_memory_cannot_be_joined() {
    let lab = Lab::new();
    let stderr = exits(&lab.run(BIN, &["--attach"]), 2);
    let no_name = "error: --attach needs --file PATH: anonymous memory has no name, so no other process \
         can find it; only the children forked after the mmap share it\n\nFor more information, try '--help'.\n";
    assert_eq!(stderr, no_name);
    let missing = lab.tmpdir().join("missing");
    let missing = missing.to_str().unwrap();
    let stderr = exits(&lab.run(BIN, &on_file(missing, "--attach")), 1);
    let hint = format!(
        "hint: nothing to join: {missing} does not exist. Create it first, in another terminal:\n      racing_mmap --file {missing}"
    );
    says(&stderr, &[hint]);
    lab.assert_clean();
}

/// In /proc/PID/maps, anonymous shared memory is the deleted file
/// `/dev/zero`, and a mapped file is its path.
#[test]
fn each_memory_shows_its_name_in_proc_maps() {
    let (lab, file, path) = lab_and_counter();
    for file_flag in [None, Some(path.as_str())] {
        let name = file_flag.unwrap_or("/dev/zero (deleted)");
        let mut args = file_flag.map_or(vec![], |path| on_file(path, ""));
        args.extend(["--count", "1", "--sleep-us", "2000000"].map(String::from));
        let mut run = lab.start(BIN, &args);
        let pid = run.pid();
        let child = run.wait_for("the child asleep in its critical section", || {
            child_pids(pid).into_iter().find(|c| in_nanosleep(*c))
        });
        let maps = std::fs::read_to_string(format!("/proc/{child}/maps")).unwrap();
        let shows = |l: &str| l.contains(" rw-s ") && l.ends_with(&format!(" {name}"));
        assert!(maps.lines().any(shows), "{name} in:\n{maps}");
        run.signal(Signal::SIGTERM);
        run.finish();
    }
    let _ = std::fs::remove_file(&file);
    lab.assert_clean();
}

/// Truncated under the children's mapping: the half-counted file is removed.
#[test]
fn a_counter_file_truncated_during_the_race_ends_it_in_one_line() {
    let (lab, file, path) = lab_and_counter();
    let run = asleep_on(&lab, &path, 3, "1000000");
    truncate(&file);
    let went_away = "the shared memory went away under this child's mapping (SIGBUS";
    testkit::assert_sigbus_said_once(&run.finish(), went_away, 3);
    assert!(!file.exists(), "no half-counted file is kept");
    lab.assert_clean();
}

/// `--attach` maps the file as it is: `--private` cannot go with it (it
/// used to be ignored without a word).
#[test]
fn attach_and_private_are_a_usage_error() {
    let lab = Lab::new();
    let out = lab.run(BIN, &["--attach", "--private", "--file", "x"]);
    let says = "the argument '--attach' cannot be used with '--private'";
    testkit::assert_usage_error(&["--attach", "--private"], &out, says);
    lab.assert_clean();
}

/// The hint blames the device stdout goes to, not /dev/shm.
#[test]
fn a_full_stdout_is_blamed_on_where_it_goes() {
    let lab = Lab::new();
    let mut command = lab.command(BIN);
    let full = std::fs::File::options().write(true).open("/dev/full");
    command.args(["--count", "3", "--lock", "atomic"]);
    command.stdout(full.unwrap());
    let stderr = exits(&lab.spawn(command).finish(), 1);
    let enospc = "racing_mmap: write(1, result) failed: ENOSPC (No space left on device)\nhint: stdout goes to a file or device that is full";
    says_first(&stderr, enospc);
    never_says(&stderr, &["/dev/shm"]);
    lab.assert_clean();
}

/// Removing it would break the run.
#[test]
fn a_counter_in_use_is_offered_for_joining_but_not_for_removal() {
    let (lab, file, path) = lab_and_counter();
    let run = asleep_on(&lab, &path, 2, "2000000");
    let pid = run.pid();
    let stderr = exits(&lab.run(BIN, &on_file(&path, "")), 1);
    let in_use = format!(
        "hint: {path} is the counter of a run going on now: pid {pid} (racing_mmap) maps it; it is left as it is.\n      Join it: racing_mmap --attach --file {path}\n"
    );
    says(&stderr, &[in_use]);
    never_says(&stderr, &["rm "]);
    exits(&run.finish(), 0);
    std::fs::remove_file(&file).unwrap();
    lab.assert_clean();
}
