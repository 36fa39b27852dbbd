//! Trust nothing found by a name (docs/reliability.md, "Found by name"):
//! what a run, its children and a joiner do when /dev/shm/NAME or
//! /dev/shm/sem.NAME is not what they expect — an object made again under
//! the name while the children start, a semaphore another user planted or
//! nobody gives back, a holder that died, an object truncated under its
//! mapping. Each is said in one line, and nothing waits forever. The cases
//! both families share are in testkit's racing table.

use std::path::Path;
use std::time::{Duration, Instant};
use testkit::{exits, never_says, says};

use testkit::racing::{self, keeping, release, start_as_someone_else};
use testkit::{Lab, Running, Signal, child_pids, in_nanosleep, shm_p, text};

const BIN: &str = env!("CARGO_BIN_EXE_racing_posix_shm");

testkit::racing_trust!(BIN);

fn named(name: &str, rest: &[&str]) -> Vec<String> {
    let mut args = vec![String::from("--name"), name.to_owned()];
    args.extend(rest.iter().map(|s| (*s).to_owned()));
    args
}

/// A creator of `name` that keeps it until a signal (`rest`: more flags).
fn creator(lab: &Lab, name: &str, rest: &[&str]) -> Running {
    racing::lingering_creator(lab, BIN, &racing::Own::Name(name.to_owned()), rest)
}

/// One try of [`an_object_found_by_the_name_that_is_not_the_runs_is_left_alone`]:
/// `None` if the fork loop ended before the test could stop it (the other
/// object is still checked untouched), else the creator's stderr.
fn swap_under_a_stopped_creator(lab: &Lab) -> Option<(String, String)> {
    let name = lab.name();
    let object = format!("/dev/shm{name}");
    let mut run = lab.start(
        BIN,
        &named(&name, &["--count", "200", "--sleep-us", "300000"]),
    );
    let pid = run.pid();
    run.stop_when("2 children forked", || child_pids(pid).len() >= 2);
    std::fs::remove_file(&object).unwrap();
    let args = named(
        &name,
        &["--count", "1", "--lock", "atomic", "--linger", "forever"],
    );
    let impostor = start_as_someone_else(lab, BIN, &args);
    let impostor = keeping(impostor, || Path::new(&object).exists());
    run.signal(Signal::SIGCONT);
    let out = run.finish();
    let theirs = release(impostor);
    assert!(
        theirs.contains("shm_p is still 1: nobody added to it meanwhile."),
        "{theirs}"
    );
    if !out.stdout.is_empty() {
        return None;
    }
    let stderr = exits(&out, 1);
    Some((stderr, format!("{object} is another object now (inode ")))
}

/// The run's object removed and another made under its name while the
/// children start: the children forked afterwards open someone else's
/// object by the article's lookup. They leave it alone, say so once, and
/// the run exits 1; the other object's int is untouched.
#[test]
fn an_object_found_by_the_name_that_is_not_the_runs_is_left_alone() {
    let lab = Lab::new();
    // The stop must come before the fork loop ends: on a loaded machine it
    // may not, and then the try says nothing; five tries.
    let (stderr, once) = (0..5)
        .find_map(|_| swap_under_a_stopped_creator(&lab))
        .expect("the test stopped the fork loop before its end in one of 5 tries");
    assert_eq!(stderr.matches(&once).count(), 1, "said once:\n{stderr}");
    says(&stderr, &["), not the one this run works on (inode "]);
    says(&stderr, &["this child left it alone\n"]);
    lab.assert_clean();
}

/// A joiner of the creator of `name` (which has `--lock semaphore`) with
/// `count` children that pause `sleep_us` in the critical section, once
/// one of them holds the semaphore: the joiner, and that child.
fn joiner_holding(lab: &Lab, name: &str, count: &str, sleep_us: &str) -> (Running, testkit::Pid) {
    let args = [
        "--attach",
        "--count",
        count,
        "--lock",
        "semaphore",
        "--sleep-us",
        sleep_us,
    ];
    let mut joiner = lab.start(BIN, &named(name, &args));
    let pid = joiner.pid();
    let holder = joiner.wait_for("a child asleep holding the semaphore", || {
        child_pids(pid).into_iter().find(|c| in_nanosleep(*c))
    });
    (joiner, holder)
}

/// A joiner's child killed while it holds the creator's named semaphore
/// leaves it taken for good (a POSIX semaphore is only a counter). The
/// joiner's other child, and every later joiner, say so within seconds
/// and end, instead of waiting forever.
#[test]
fn a_named_semaphore_whose_holder_died_is_said_so_within_seconds() {
    let lab = Lab::new();
    let name = lab.name();
    let owner = creator(&lab, &name, &["--lock", "semaphore"]);
    let (mut first, holder) = joiner_holding(&lab, &name, "2", "5000000");
    testkit::signal_pid(holder, Signal::SIGKILL);
    let out = first
        .finish_within(Duration::from_secs(5))
        .expect("the first joiner ends");
    let stderr = exits(&out, 1);
    let dead = format!(" is held by pid {holder}, which died without giving it back");
    assert_eq!(stderr.matches(&dead).count(), 1, "{stderr}");

    let started = Instant::now();
    let out = lab.run(
        BIN,
        &named(&name, &["--attach", "--count", "1", "--lock", "semaphore"]),
    );
    let stderr = exits(&out, 1);
    assert!(started.elapsed() < Duration::from_secs(5), "within 5 s");
    says(&stderr, &[&dead]);
    says(
        &stderr,
        &["hint: nothing can free it: end the run that made it"],
    );
    release(owner);
    lab.assert_clean();
}

/// A holder of another run that is only slow is waited for, and named
/// once while the others wait; then both runs count.
#[test]
fn a_slow_holder_of_another_run_is_waited_for_and_named_once() {
    let lab = Lab::new();
    let name = lab.name();
    let owner = creator(&lab, &name, &["--lock", "semaphore"]);
    let (slow, holder) = joiner_holding(&lab, &name, "1", "3000000");
    let slow_pid = slow.pid();
    let out = lab.run(
        BIN,
        &named(&name, &["--attach", "--count", "3", "--lock", "semaphore"]),
    );
    let stderr = exits(&out, 0);
    let waiting = format!(
        "waiting for /dev/shm/sem.{}: pid {holder} (racing_posix_shm, child of pid {slow_pid}), of another run, holds it; the children of this one wait until it gives it back\n",
        &name[1..]
    );
    assert_eq!(stderr.matches(&waiting).count(), 1, "named once:\n{stderr}");
    assert_eq!(shm_p(&text(&out.stdout)), 5, "1 + 1 + 3: {stderr}");
    assert_eq!(slow.finish().status.code(), Some(0));
    let theirs = release(owner);
    assert!(theirs.contains("shm_p is 5 now"), "{theirs}");
    lab.assert_clean();
}

/// The object truncated while its creator keeps it: reading the int then
/// is SIGBUS. One line naming the cause, the object unlinked, exit 1.
#[test]
fn an_object_truncated_while_it_is_kept_ends_the_run_in_one_line() {
    let lab = Lab::new();
    let name = lab.name();
    let object = format!("/dev/shm{name}");
    let owner = creator(&lab, &name, &[]);
    std::fs::OpenOptions::new()
        .write(true)
        .open(&object)
        .and_then(|f| f.set_len(0))
        .unwrap();
    owner.signal(Signal::SIGINT);
    let out = owner.finish();
    let stderr = exits(&out, 1);
    assert!(
        stderr.ends_with("racing_posix_shm: the shared memory went away under its mapping while it was kept (SIGBUS: its file or /dev/shm object was truncated by another process); everything this run created has been released\n"),
        "{stderr}"
    );
    assert!(!Path::new(&object).exists(), "unlinked");
    lab.assert_clean();
}

/// An empty object (or any that is not a counter) is not joined: mapping
/// it and adding would be SIGBUS, or writing into someone else's data.
#[test]
fn an_object_that_is_not_a_counter_is_not_joined() {
    let lab = Lab::new();
    for content in ["", "not a counter at all"] {
        let name = lab.name();
        let object = format!("/dev/shm{name}");
        std::fs::write(&object, content).unwrap();
        let out = lab.run(BIN, &named(&name, &["--attach", "--count", "3"]));
        let stderr = exits(&out, 1);
        assert!(
            stderr.starts_with(&format!(
                "racing_posix_shm: {object} is a file of {} bytes (owner ",
                content.len()
            )),
            "{stderr}"
        );
        assert!(
            stderr.contains("not a racing_posix_shm counter, which is one int of 4 bytes (8 with --lock semaphore); nothing was written to it\n"),
            "{stderr}"
        );
        assert_eq!(std::fs::read_to_string(&object).unwrap(), content);
        std::fs::remove_file(&object).unwrap();
    }
    lab.assert_clean();
}

/// A live run's named semaphore is an object in use, never "left over":
/// another run meeting it under that name is told who uses it, and no
/// `rm` is offered.
#[test]
fn a_live_runs_semaphore_is_never_called_left_over() {
    let lab = Lab::new();
    let name = lab.name();
    let mut first = lab.start(
        BIN,
        &named(
            &name,
            &[
                "--count",
                "3",
                "--lock",
                "semaphore",
                "--sleep-us",
                "1000000",
            ],
        ),
    );
    let pid = first.pid();
    first.wait_until("its children race", || child_pids(pid).len() == 3);
    let sem_name = format!("/sem.{}", &name[1..]);
    let out = lab.run(BIN, &named(&sem_name, &[]));
    let stderr = exits(&out, 1);
    says(
        &stderr,
        &[&format!(
            "and is in use right now: pid {pid} (racing_posix_shm) and 3 more use it. Removing it would break that run."
        )],
    );
    never_says(&stderr, &["rm "]);
    assert_eq!(first.finish().status.code(), Some(0));
    lab.assert_clean();
}
