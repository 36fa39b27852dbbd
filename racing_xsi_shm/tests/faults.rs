//! The fault matrix (docs/reliability.md) for racing_xsi_shm: the cells the
//! other test files do not cover (the shared ones are in testkit's racing
//! module). Every test runs with a key of its own (`Lab::key`).

use common::system::sysvipc::{self, semaphore_sets};
use common::xsi::XsiSemaphore;
use testkit::{Lab, child_pids, me, shm_p, text};
use testkit::{exits, never_says, says};

const BIN: &str = env!("CARGO_BIN_EXE_racing_xsi_shm");

testkit::racing_faults!(BIN, named);

/// Cells 2 and 7: semget fails *after* the segment exists.
#[test]
fn a_stale_semaphore_set_fails_after_the_segment_and_the_segment_goes() {
    let lab = Lab::new();
    let own = lab.key();
    let key = own.key.clone();
    let stale = XsiSemaphore::create(&key).expect("the test's stale set");
    let stderr = exits(&lab.run(BIN, &own.with(&["--lock", "semaphore"])), 1);
    let (id, me) = (stale.id(), me());
    let semget =
        format!("racing_xsi_shm: semget(key={key}, 1, IPC_CREAT|IPC_EXCL|0600) failed: EEXIST");
    let set =
        format!("(semid {id}, owner {me}, mode 0600, 1 semaphores),\n      left by an earlier run");
    says(&stderr, &[semget, set]);
    says(&stderr, &[format!("Remove it with: ipcrm -S {key}")]);
    let segment = sysvipc::segment_with_key(key.raw());
    assert_eq!(segment, None, "the segment made before is removed");
    let sets = semaphore_sets();
    let set = sets.iter().find(|set| set.key == key.raw());
    assert_eq!(set.map(|set| set.mode), Some(0o600), "the stale set stays");
    drop(stale);
    lab.assert_clean();
}

/// Cell 8 for the semaphore: root's set, the program run as nobody.
#[test]
fn another_users_semaphore_set_names_the_owner_and_no_command_that_fails() {
    let lab = Lab::new();
    let own = lab.key();
    let Some(mut nobody) = lab.as_nobody(BIN, None) else {
        testkit::skip("needs root to make a semaphore set as one user and run as another");
        return;
    };
    let roots = XsiSemaphore::create(&own.key).expect("root's set");
    nobody.args(own.with(&["--lock", "semaphore"]));
    let stderr = exits(&lab.spawn(nobody).finish(), 1);
    let theirs = format!(
        "semid {}, owner uid 0 (root), mode 0600, 1 semaphores):\n      uid 0 (root)'s, not yours; it is left alone. Use another key: --proj-id ",
        roots.id()
    );
    says(&stderr, &[theirs]);
    never_says(&stderr, &["ipcrm"]);
    let segment = sysvipc::segment_with_key(own.key.raw());
    assert_eq!(segment, None, "nobody's segment was removed");
    drop(roots);
    lab.assert_clean();
}

/// Cell 2: the children still finish (they are attached).
#[test]
fn a_segment_removed_from_outside_is_explained() {
    let lab = Lab::new();
    let own = lab.key();
    let key = own.key.clone();
    let mut run = lab.start(BIN, &own.with(&["--count", "3", "--sleep-us", "1000000"]));
    let pid = run.pid();
    let attached = || sysvipc::segment_with_key(key.raw()).map(|s| s.attached);
    run.wait_until("all 3 children attached", || attached() >= Some(7));
    // What `ipcs -m` shows meanwhile (docs/racing_xsi_shm.md): one
    // attachment of the parent's, and two of each child's (the one fork
    // copied, and its own shmat).
    assert_eq!(attached(), Some(7));
    let ipcrm = std::process::Command::new("ipcrm")
        .args(["-M", &key.to_string()])
        .status();
    assert!(ipcrm.unwrap().success());
    let out = run.finish();
    let stderr = exits(&out, 1);
    let n = shm_p(&text(&out.stdout));
    assert!(
        (1..=3).contains(&n),
        "the children were attached and finished"
    );
    let einval = "IPC_RMID, NULL) failed: EINVAL (Invalid argument)";
    says(&stderr, &[einval, "the segment is already gone"]);
    assert!(child_pids(pid).is_empty());
    lab.assert_clean();
}
