//! racing_xsi_shm as a user runs it, with real System V segments.
//!
//! Every test holds `testkit::Machine` — one at a time, machine-wide — so
//! runs with the default key never collide, and each ends by checking that
//! `ipcs -m` (and /dev/shm, semaphores, nr_hugepages) hold exactly what
//! they held before.

use std::path::Path;
use std::process::Output;

use common::SharedCounter;
use common::xsi::{self, Key, Segment};
use testkit::{AsNobody, Machine, text};

const BIN: &str = env!("CARGO_BIN_EXE_racing_xsi_shm");

fn run(args: &[&str]) -> Output {
    testkit::run(BIN, args)
}

fn default_key() -> Key {
    Key::ftok(Path::new("/etc/passwd"), 1234).unwrap()
}

/// A segment made by the test under `key`, holding `marker`, as a crashed
/// earlier run would leave it. Removed when the returned value drops,
/// whether the test passes or not.
fn stale_segment(key: Key, marker: i32) -> Segment {
    let segment =
        Segment::create_exclusive(key, 4, 0o600).expect("the test creates its stale segment");
    let attachment = segment.attach().unwrap();
    SharedCounter::at_start_of(&attachment).set(marker);
    attachment.detach().unwrap();
    segment
}

fn marker_of(segment: &Segment) -> i32 {
    let attachment = segment.attach().unwrap();
    SharedCounter::at_start_of(&attachment).get()
}

#[test]
fn with_no_arguments_it_runs_the_articles_experiment_and_removes_the_segment() {
    let machine = Machine::lock();
    let (_, stderr) = testkit::race(BIN, &[], 100);
    let key = default_key();
    let says = format!(
        "key {key} = ftok(\"/etc/passwd\", 1234): proj_id 1234 → 0xd2 (ftok keeps only its low 8 bits)"
    );
    assert!(
        stderr.starts_with(&says),
        "stderr names the key and ftok's 8 bits: {stderr}"
    );
    assert_eq!(xsi::find(&key), None, "the segment is removed");
    machine.assert_unchanged();
}

#[test]
fn one_child_gives_exactly_one_and_another_proj_id_another_key() {
    let machine = Machine::lock();
    let (n, stderr) = testkit::race(BIN, &["--count", "1", "--proj-id", "7"], 1);
    assert_eq!(n, 1);
    let key = Key::ftok(Path::new("/etc/passwd"), 7).unwrap();
    assert!(
        stderr.starts_with(&format!(
            "key {key} = ftok(\"/etc/passwd\", 7): proj_id 7 → 0x07"
        )),
        "{stderr}"
    );
    machine.assert_unchanged();
}

#[test]
fn a_stale_segment_with_the_key_is_reported_and_left_untouched() {
    let machine = Machine::lock();
    let key = default_key();
    let stale = stale_segment(key.clone(), 0x5a5a);
    let out = run(&[]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(out.stdout.is_empty(), "no result: {:?}", text(&out.stdout));
    assert!(
        stderr.contains(&format!(
            "racing_xsi_shm: shmget(key={key}, size=4, IPC_CREAT|IPC_EXCL|0600) failed: EEXIST (File exists)"
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!(
            "(shmid {}, owner uid 0 (root), mode 0600, 4 bytes, 0 attached)",
            stale.id()
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!("Remove it with: ipcrm -M {key}")),
        "{stderr}"
    );
    assert!(stderr.contains("--proj-id 1235"), "{stderr}");
    // Not touched: same shmid, marker still there.
    assert_eq!(xsi::find(&key).map(|s| s.id), Some(stale.id()));
    assert_eq!(marker_of(&stale), 0x5a5a);
    drop(stale);
    machine.assert_unchanged();
}

#[test]
fn another_users_segment_names_the_owner_and_is_left_untouched() {
    let Some(nobody) = AsNobody::new(BIN) else {
        eprintln!("skipped: needs root, setpriv and prlimit to run as nobody");
        return;
    };
    let machine = Machine::lock();
    let key = default_key();
    let roots = stale_segment(key.clone(), 77);
    let out = nobody.command(None).output().unwrap();
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("EEXIST"), "{stderr}");
    assert!(
        stderr.contains("owner uid 0 (root), mode 0600, 4 bytes, 0 attached).\n      Only its owner or root can remove it. Use another key: --proj-id 1235"),
        "{stderr}"
    );
    assert_eq!(marker_of(&roots), 77);
    drop(roots);
    machine.assert_unchanged();
}

#[test]
fn a_missing_path_is_named() {
    let machine = Machine::lock();
    let out = run(&["--path", "/no/such/file"]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.starts_with("racing_xsi_shm: ftok(\"/no/such/file\", 1234) failed: ENOENT (No such file or directory)\n"),
        "{stderr}"
    );
    assert!(
        stderr.contains("hint: /no/such/file does not exist."),
        "{stderr}"
    );
    assert!(out.stdout.is_empty());
    machine.assert_unchanged();
}

#[test]
fn bad_proj_ids_and_counts_are_usage_errors() {
    let machine = Machine::lock();
    for (args, says) in [
        (&["--proj-id", "0"][..], "those of 0 are 0x00"),
        (&["--proj-id", "512"][..], "those of 512 are 0x00"),
        (&["--proj-id", "abc"][..], "'abc' is not a whole number"),
        (&["--proj-id", "99999999999"][..], "is not a whole number"),
        (&["--count", "0"][..], "use 1 or more"),
    ] {
        testkit::assert_usage_error(args, &run(args), says);
    }
    machine.assert_unchanged();
}

/// Ctrl-C / SIGTERM while the children run: every child reaped, the
/// segment removed, exit 130 / 143.
#[test]
fn sigint_and_sigterm_while_children_run_remove_the_segment() {
    let machine = Machine::lock();
    let key = default_key();
    testkit::assert_signals_end_the_run_cleanly(
        BIN,
        &["--count", "20", "--sleep-us", "5000000"],
        // All 20 children attached: 20 + their 20 inherited attachments + the parent's.
        |_| xsi::find(&key).is_some_and(|s| s.attached >= 41),
        "while 20 children ran; all were waited for",
        || xsi::find(&key).is_none(),
    );
    machine.assert_unchanged();
}

/// --lock atomic, flock and semaphore each make the result exact.
#[test]
fn every_lock_mode_gives_exactly_count() {
    let machine = testkit::Machine::lock();
    testkit::assert_every_lock_is_exact(BIN, "racing_xsi_shm");
    machine.assert_unchanged();
}

/// SEM_UNDO: the kernel gives the dead holder's semaphore back, so the
/// other children finish; only the killed one is reported.
#[test]
fn a_killed_semaphore_holder_is_undone_by_the_kernel() {
    let machine = Machine::lock();
    let stderr = testkit::assert_a_killed_holder_does_not_hang(BIN);
    assert!(
        stderr.contains("1 of 4 children failed: child "),
        "{stderr}"
    );
    assert!(!stderr.contains("was stuck"), "{stderr}");
    machine.assert_unchanged();
}
