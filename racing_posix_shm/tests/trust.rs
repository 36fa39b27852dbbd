//! Trust nothing found by a name (docs/reliability.md, "Found by name"):
//! when /dev/shm/NAME or /dev/shm/sem.NAME is not what a run, its children
//! or a joiner expect, each says so in one line, and nothing waits
//! forever. The cases both families share are in testkit's racing module.

use std::path::Path;
use std::time::{Duration, Instant};

use testkit::racing::{Own, keeping, lingering_creator, release, start_as_someone_else};
use testkit::said::{says_first, says_last};
use testkit::{Lab, Running, Signal, child_pids, in_nanosleep, shm_p, text};
use testkit::{exits, never_says, says, says_once};

const BIN: &str = env!("CARGO_BIN_EXE_racing_posix_shm");

testkit::racing_trust!(BIN);

/// `--name NAME`, then `flags` (split at spaces).
fn named(name: &str, flags: &str) -> Vec<String> {
    Own::Name(name.to_owned()).with(flags)
}

/// A creator of `name` that keeps it until a signal, with `flags`.
fn creator(lab: &Lab, name: &str, flags: &str) -> Running {
    lingering_creator(lab, BIN, &Own::Name(name.to_owned()), flags)
}

/// One try of [`an_object_found_by_the_name_that_is_not_the_runs_is_left_alone`]:
/// `None` if the fork loop ended before the stop, else the creator's stderr.
fn swap_under_a_stopped_creator(lab: &Lab) -> Option<(String, String)> {
    let name = lab.name();
    let object = format!("/dev/shm{name}");
    let mut run = lab.start(BIN, &named(&name, "--count 200 --sleep-us 300000"));
    let pid = run.pid();
    run.stop_when("2 children forked", || child_pids(pid).len() >= 2);
    std::fs::remove_file(&object).unwrap();
    let args = named(&name, "--count 1 --lock atomic --linger forever");
    let impostor = start_as_someone_else(lab, BIN, &args);
    let impostor = keeping(impostor, || Path::new(&object).exists());
    run.signal(Signal::SIGCONT);
    let out = run.finish();
    let untouched = "shm_p is still 1: nobody added to it meanwhile.";
    says(&release(impostor), &[untouched]);
    if !out.stdout.is_empty() {
        return None;
    }
    let stderr = exits(&out, 1);
    Some((stderr, format!("{object} is another object now (inode ")))
}

/// The run's object replaced while the children start: the later children
/// find someone else's object by the article's lookup.
#[test]
fn an_object_found_by_the_name_that_is_not_the_runs_is_left_alone() {
    let lab = Lab::new();
    // The stop must come before the fork loop ends: on a loaded machine it
    // may not, and then the try says nothing; five tries.
    let (stderr, once) = (0..5)
        .find_map(|_| swap_under_a_stopped_creator(&lab))
        .expect("the test stopped the fork loop before its end in one of 5 tries");
    says_once(&stderr, &once);
    let not_ours = "), not the one this run works on (inode ";
    says(&stderr, &[not_ours, "this child left it alone\n"]);
    lab.assert_clean();
}

/// A joiner of `name`'s creator (`--lock semaphore`) with `count` children
/// pausing `sleep_us`, once one holds the semaphore: the joiner and it.
fn joiner_holding(lab: &Lab, name: &str, count: &str, sleep_us: &str) -> (Running, testkit::Pid) {
    let flags = format!("--attach --count {count} --lock semaphore --sleep-us {sleep_us}");
    let mut joiner = lab.start(BIN, &named(name, &flags));
    let pid = joiner.pid();
    let holder = joiner.wait_for("a child asleep holding the semaphore", || {
        child_pids(pid).into_iter().find(|c| in_nanosleep(*c))
    });
    (joiner, holder)
}

/// A POSIX semaphore is only a counter: its dead holder leaves it taken for
/// good, and waiting for it would be forever.
#[test]
fn a_named_semaphore_whose_holder_died_is_said_so_within_seconds() {
    let lab = Lab::new();
    let name = lab.name();
    let owner = creator(&lab, &name, "--lock semaphore");
    let (mut first, holder) = joiner_holding(&lab, &name, "2", "5000000");
    testkit::signal_pid(holder, Signal::SIGKILL);
    let out = first.finish_within(Duration::from_secs(5));
    let stderr = exits(&out.expect("the first joiner ends"), 1);
    let dead = format!(" is held by pid {holder}, which died without giving it back");
    says_once(&stderr, &dead);

    let started = Instant::now();
    let out = lab.run(BIN, &named(&name, "--attach --count 1 --lock semaphore"));
    let stderr = exits(&out, 1);
    assert!(started.elapsed() < Duration::from_secs(5), "within 5 s");
    let hint = "hint: nothing can free it: end the run that made it";
    says(&stderr, &[dead.as_str(), hint]);
    release(owner);
    lab.assert_clean();
}

#[test]
fn a_slow_holder_of_another_run_is_waited_for_and_named_once() {
    let lab = Lab::new();
    let name = lab.name();
    let owner = creator(&lab, &name, "--lock semaphore");
    let (slow, holder) = joiner_holding(&lab, &name, "1", "3000000");
    let slow_pid = slow.pid();
    let out = lab.run(BIN, &named(&name, "--attach --count 3 --lock semaphore"));
    let stderr = exits(&out, 0);
    let waiting = format!(
        "waiting for /dev/shm/sem.{}: pid {holder} (racing_posix_shm, child of pid {slow_pid}), of another run, holds it; the children of this one wait until it gives it back\n",
        &name[1..]
    );
    says_once(&stderr, &waiting);
    assert_eq!(shm_p(&text(&out.stdout)), 5, "1 + 1 + 3: {stderr}");
    exits(&slow.finish(), 0);
    says(&release(owner), &["shm_p is 5 now"]);
    lab.assert_clean();
}

/// Reading the int of a truncated object is SIGBUS.
#[test]
fn an_object_truncated_while_it_is_kept_ends_the_run_in_one_line() {
    let lab = Lab::new();
    let name = lab.name();
    let object = format!("/dev/shm{name}");
    let owner = creator(&lab, &name, "");
    testkit::truncate(&object);
    owner.signal(Signal::SIGINT);
    let stderr = exits(&owner.finish(), 1);
    let sigbus = "racing_posix_shm: the shared memory went away under its mapping while it was kept (SIGBUS: its file or /dev/shm object was truncated by another process); everything this run created has been released\n";
    says_last(&stderr, sigbus);
    assert!(!Path::new(&object).exists(), "unlinked");
    lab.assert_clean();
}

/// Mapping it and adding would be SIGBUS, or write into someone's data.
#[test]
fn an_object_that_is_not_a_counter_is_not_joined() {
    let lab = Lab::new();
    for content in ["", "not a counter at all"] {
        let name = lab.name();
        let object = format!("/dev/shm{name}");
        std::fs::write(&object, content).unwrap();
        let stderr = exits(&lab.run(BIN, &named(&name, "--attach --count 3")), 1);
        let bytes = content.len();
        let file = format!("racing_posix_shm: {object} is a file of {bytes} bytes (owner ");
        says_first(&stderr, &file);
        let not = "not a racing_posix_shm counter, which is one int of 4 bytes (8 with --lock semaphore); nothing was written to it\n";
        says(&stderr, &[not]);
        assert_eq!(std::fs::read_to_string(&object).unwrap(), content);
        std::fs::remove_file(&object).unwrap();
    }
    lab.assert_clean();
}

/// Another run meeting it under that name is told who uses it; no `rm`.
#[test]
fn a_live_runs_semaphore_is_never_called_left_over() {
    let lab = Lab::new();
    let name = lab.name();
    let flags = "--count 3 --lock semaphore --sleep-us 1000000";
    let mut first = lab.start(BIN, &named(&name, flags));
    let pid = first.pid();
    first.wait_until("its children race", || child_pids(pid).len() == 3);
    let sem_name = format!("/sem.{}", &name[1..]);
    let stderr = exits(&lab.run(BIN, &named(&sem_name, "")), 1);
    let in_use = format!(
        "and is in use right now: pid {pid} (racing_posix_shm) and 3 more use it. Removing it would break that run."
    );
    says(&stderr, &[in_use]);
    never_says(&stderr, &["rm "]);
    exits(&first.finish(), 0);
    lab.assert_clean();
}
