//! racing_xsi_shm as a user runs it, with real System V segments, each test
//! under a key of its own (`Lab::key`) unless the article's is the point,
//! so tests of several users at once never meet.

use common::SharedCounter;
use common::system::sysvipc;
use common::xsi::{Key, Segment};
use testkit::cases::{assert_a_leftover_of_root_is_left_alone, lab_with_default};
use testkit::said::says_first;
use testkit::{Article, Lab, exits, fails_without_result, me, never_says, says};

const BIN: &str = env!("CARGO_BIN_EXE_racing_xsi_shm");
const NO_ARGS: [&str; 0] = [];

testkit::cases! { racing_xsi_shm = BIN;
    refusals all, racing, xsi;
    fn help_is_short_with_h_and_complete_with_help();
    fn every_lock_mode_gives_exactly_count();
    fn every_stopping_signal_under_every_lock_removes_the_segment() = signals_under_every_lock;
    error fn a_missing_path_is_named("--path", "/no/such/file")
        => "racing_xsi_shm: ftok(\"/no/such/file\", 1234) failed: ENOENT (No such file or directory)\n",
            "hint: /no/such/file does not exist.";
    // A different file in every process: each child's ftok would give
    // another key. Refused up front, in the parent, saying why.
    error fn a_path_that_differs_per_process_is_refused_before_anything_is_created(
        "--path", "/proc/self/status")
        => "racing_xsi_shm: ftok(\"/proc/self/status\", 1234) failed: EINVAL",
            "a different file in\n      every process";
}

/// A segment under `key` holding `marker`, as a crashed run would leave it;
/// removed when dropped.
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

/// If another user's leftover holds the article's key (a lab server), the
/// refusal is what is checked.
#[test]
fn with_no_arguments_it_runs_the_articles_experiment_and_removes_the_segment() {
    let Some(lab) = lab_with_default(Lab::machine(), BIN, &Article::key(), &["--proj-id"]) else {
        return;
    };
    let key = Key::ftok(std::path::Path::new("/etc/passwd"), 1234).unwrap();
    let (_, stderr) = testkit::race(&lab, BIN, &NO_ARGS, 100);
    let says = format!(
        "key {key} = ftok(\"/etc/passwd\", 1234): proj_id 1234 → 0xd2 (ftok keeps only its low 8 bits)"
    );
    says_first(&stderr, &says);
    assert_eq!(sysvipc::segment_with_key(key.raw()), None, "removed");
    lab.assert_clean();
}

#[test]
fn one_child_gives_exactly_one_and_another_proj_id_another_key() {
    let lab = Lab::new();
    let (first, second) = (lab.key(), lab.key());
    assert_ne!(first.key, second.key);
    for own in [first, second] {
        let (n, stderr) = testkit::race(&lab, BIN, &own.with(&["--count", "1"]), 1);
        assert_eq!(n, 1);
        let (key, path, id) = (&own.key, own.path.display(), own.proj_id);
        let says = format!("key {key} = ftok(\"{path}\", {id}): proj_id {id} → {id:#04x}");
        says_first(&stderr, &says);
    }
    lab.assert_clean();
}

#[test]
fn a_stale_segment_with_the_key_is_reported_and_left_untouched() {
    let lab = Lab::new();
    let own = lab.key();
    let key = own.key.clone();
    let stale = stale_segment(key.clone(), 0x5a5a);
    let stderr = fails_without_result(&lab.run(BIN, &own.with(&[])));
    let shmget = format!("shmget(key={key}, size=4, IPC_CREAT|IPC_EXCL|0600) failed: EEXIST");
    let (id, me) = (stale.id(), me());
    let exists = format!("racing_xsi_shm: {shmget} (File exists)");
    let owner = format!("(shmid {id}, owner {me}, mode 0600, 4 bytes, 0 attached)");
    says(&stderr, &[exists, owner]);
    says(&stderr, &[format!("Remove it with: ipcrm -M {key}")]);
    says(&stderr, &["or use another key: --proj-id ", " is free)"]);
    // Not touched: same shmid, marker still there.
    let now = sysvipc::segment_with_key(key.raw()).map(|s| s.id);
    assert_eq!(now, Some(stale.id()));
    assert_eq!(marker_of(&stale), 0x5a5a);
    drop(stale);
    lab.assert_clean();
}

/// No `ipcrm` suggested: it would fail for nobody.
#[test]
fn another_users_segment_names_the_owner_and_is_left_untouched() {
    let lab = Lab::new();
    let own = lab.key();
    let says = "owner uid 0 (root), mode 0600, 4 bytes, 0 attached):\n      uid 0 (root)'s, not yours; it is left alone. Use another key: --proj-id ";
    let plant = || stale_segment(own.key.clone(), 77);
    let roots =
        assert_a_leftover_of_root_is_left_alone(&lab, BIN, &own.with(&[]), plant, &[says], "ipcrm");
    if let Some(roots) = roots {
        assert_eq!(marker_of(&roots), 77);
    }
    lab.assert_clean();
}

/// SEM_UNDO: the kernel gives the dead holder's semaphore back, so the
/// other children finish; only the killed one is reported.
#[test]
fn a_killed_semaphore_holder_is_undone_by_the_kernel() {
    let lab = Lab::new();
    let stderr = testkit::assert_a_killed_holder_does_not_hang(&lab, BIN, &lab.key().with(&[]));
    says(&stderr, &["1 of 4 children failed: child "]);
    never_says(&stderr, &["was stuck"]);
    lab.assert_clean();
}

/// Once per run: nothing is left, and every run under a lock is exact.
#[test]
fn every_run_of_runs_creates_and_removes_its_own_objects() {
    let lab = Lab::new();
    let own = lab.key();
    let args = own.with(&["--runs", "4", "--count", "10", "--lock", "semaphore"]);
    let out = lab.run(BIN, &args);
    exits(&out, 0);
    let says = "shm_p over 4 runs of 10 children (--lock semaphore, --sleep-us 1): min 10, median 10, max 10\n";
    says_first(&testkit::text(&out.stdout), says);
    assert_eq!(sysvipc::segment_with_key(own.key.raw()), None);
    lab.assert_clean();
}
