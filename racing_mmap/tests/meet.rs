//! `--file PATH`: the article's other use of mmap, a file, which gives the
//! memory a name; and `--attach --file PATH`, a process started on its own
//! that joins the counter by that name.

use std::os::unix::fs::PermissionsExt;

use testkit::{Lab, shm_p, text};

const BIN: &str = env!("CARGO_BIN_EXE_racing_mmap");

/// The int in the first four bytes of the file, as `od -An -td4` reads it.
fn int_in(path: &std::path::Path) -> i32 {
    let bytes = std::fs::read(path).unwrap();
    i32::from_ne_bytes(bytes[..4].try_into().unwrap())
}

#[test]
fn a_file_keeps_the_int_and_an_unrelated_process_joins_it() {
    let lab = Lab::new();
    let file = lab.tmpdir().join("counter");
    let path = file.to_str().unwrap();
    let out = lab.run(BIN, &["--file", path, "--count", "20", "--lock", "atomic"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(shm_p(&text(&out.stdout)), 20);
    assert!(
        text(&out.stderr).ends_with(&format!(
            "{path} keeps the int: od -An -td4 {path}; join it: racing_mmap --attach --file {path}\n"
        )),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(int_in(&file), 20, "the run's result is in the file");
    let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);

    let out = lab.run(
        BIN,
        &[
            "--attach", "--file", path, "--count", "10", "--lock", "atomic",
        ],
    );
    let stderr = text(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert_eq!(shm_p(&text(&out.stdout)), 30);
    assert!(
        stderr.starts_with(&format!(
            "joined {path}: no process holds it now; only this process maps it\n"
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains(
            ": not a child of the process that made it. It found the memory by its name alone."
        ),
        "{stderr}"
    );
    assert!(
        stderr.contains("10 children of this process each added 1: 20 → 30."),
        "{stderr}"
    );
    assert_eq!(int_in(&file), 30);

    let out = lab.run(BIN, &["--attach", "--file", path, "--count", "0"]);
    assert_eq!(shm_p(&text(&out.stdout)), 30, "only read");

    // Neither lock object of the creator's run can be joined: each is
    // refused in one line, the hint offers only --lock atomic (which
    // works), and the int is untouched.
    for (mode, why) in [
        (
            "semaphore",
            "the creator's unnamed semaphore belongs to its own run and has no name",
        ),
        (
            "flock",
            "its lock file is its own, made for its own children",
        ),
    ] {
        let out = lab.run(BIN, &["--attach", "--file", path, "--lock", mode]);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{stderr}");
        assert_eq!(
            stderr,
            format!(
                "racing_mmap: --lock {mode} cannot join the run: {why}\n\
                 hint: join with --lock atomic, which needs no lock object at all; a different lock, \
                 or none, lets updates be lost.\n"
            )
        );
        assert_eq!(int_in(&file), 30);
    }

    std::fs::remove_file(&file).unwrap();
    lab.assert_clean();
}

#[test]
fn an_existing_file_is_left_as_it_is() {
    let lab = Lab::new();
    let file = lab.tmpdir().join("precious");
    std::fs::write(&file, "important").unwrap();
    let path = file.to_str().unwrap();
    let out = lab.run(BIN, &["--file", path]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("failed: EEXIST (File exists)"), "{stderr}");
    assert!(
        stderr.contains(&format!("Join it: racing_mmap --attach --file {path}")),
        "{stderr}"
    );
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "important");
    std::fs::remove_file(&file).unwrap();
    lab.assert_clean();
}

#[test]
fn attach_without_a_file_says_why_anonymous_memory_cannot_be_joined() {
    let lab = Lab::new();
    let out = lab.run(BIN, &["--attach"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        text(&out.stderr),
        "error: --attach needs --file PATH: anonymous memory has no name, so no other process can \
         find it; only the children forked after the mmap share it\n\nFor more information, try '--help'.\n"
    );
    let missing = lab.tmpdir().join("missing");
    let out = lab.run(BIN, &["--attach", "--file", missing.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains(&format!(
            "hint: nothing to join: {} does not exist. Create it first, in another terminal:\n      racing_mmap --file {}",
            missing.display(),
            missing.display()
        )),
        "{}",
        text(&out.stderr)
    );
    lab.assert_clean();
}

/// In /proc/PID/maps, anonymous shared memory is the deleted file
/// `/dev/zero`, and a mapped file is its path: seen from a child asleep in
/// its critical section.
#[test]
fn each_memory_shows_its_name_in_proc_maps() {
    let lab = Lab::new();
    let file = lab.tmpdir().join("counter");
    let path = file.to_str().unwrap().to_owned();
    for (extra, name) in [
        (vec![], String::from("/dev/zero (deleted)")),
        (vec!["--file", path.as_str()], path.clone()),
    ] {
        let mut args = vec!["--count", "1", "--sleep-us", "2000000"];
        args.extend(extra);
        let mut run = lab.start(BIN, &args);
        let pid = run.pid();
        let child = run.wait_for("the child asleep in its critical section", || {
            testkit::child_pids(pid)
                .into_iter()
                .find(|c| testkit::in_nanosleep(*c))
        });
        let maps = std::fs::read_to_string(format!("/proc/{child}/maps")).unwrap();
        assert!(
            maps.lines()
                .any(|l| l.contains(" rw-s ") && l.ends_with(&format!(" {name}"))),
            "{name} in:\n{maps}"
        );
        run.signal(testkit::Signal::SIGTERM);
        run.finish();
    }
    let _ = std::fs::remove_file(&file);
    lab.assert_clean();
}
