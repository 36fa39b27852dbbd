//! What the programs' tests need to share a machine with other people.
//!
//! The tests create System V segments and semaphore sets, files in
//! /dev/shm and (as root) huge page reservations, which belong to the whole
//! machine; and on a lab server thirty students run `cargo test` at once, a
//! teacher as root. So every test opens a [`Lab`], which keeps three rules:
//!
//! 1. **Locks without files.** [`Lab::new`] runs one user's tests one at a
//!    time (forking, timed programs are flaky when they overlap);
//!    [`Lab::machine`] also takes the machine-wide lock, for tests that read
//!    /proc/meminfo, change vm.nr_hugepages or use the article's defaults.
//!    Both are abstract Unix sockets ([`lock`]): no user owns them, none is
//!    left behind, and a killed test releases them at once.
//! 2. **Names of its own.** A private directory (the programs' TMPDIR), an
//!    ftok key no object uses ([`Lab::key`]) and POSIX names tagged with
//!    user, process and counter ([`Lab::name`]); the article's defaults only
//!    where they are the point, under the machine lock
//!    ([`Lab::use_default`]).
//! 3. **Only what it created.** [`Lab::assert_clean`] counts an object as
//!    left behind only if it is new *and* the test's: made by a process the
//!    test started, or with the test's key or name by a user the test ran
//!    programs as. That is removed and fails the test; what anyone else
//!    made meanwhile is neither counted nor touched.
//!
//! Private IPC namespaces would isolate better, but need root or
//! unprivileged user namespaces, which many lab servers, containers and
//! Ubuntu's AppArmor policy refuse; the three rules work everywhere.
//!
//! Every wait has a deadline and fails naming what it waited for
//! ([`lock::LOCK_WAIT`], [`WAIT`], [`run::RUN_WAIT`]). A test that needs
//! root calls [`skip`] and passes without asserting. The crate is a
//! dev-dependency only, and not a default member.
//!
//! | module | holds |
//! |---|---|
//! | [`lab`] | [`Lab`]: a test's private TMPDIR, key and names; running the programs (as root, as nobody, under limits) |
//! | [`snapshot`] | what the machine holds (`ipcs -m`, `ipcs -s`, /dev/shm, nr_hugepages), and what a test left |
//! | [`lock`] | the per-user and machine-wide locks (abstract sockets) |
//! | [`run`] | [`Running`]: a started program, waited for with deadlines |
//! | [`probe`] | what /proc says about a running program and the machine |
//! | [`output`] | reading the programs' stdout and stderr, and asserting on what they said ([`says`]) |
//! | [`said`] | the same assertions, under the path the kit's files import them from |
//! | [`plant`] | a semaphore set or named semaphore planted under a key or name, as a classmate would |
//! | [`cases`](mod@cases) | the cases several programs share, as tables ([`cases::PROGRAMS`], [`refusals!`]), run by [`cases!`] |
//! | [`checks`] | the assertions the six programs' tests share; [`MemoryCgroup`], a limited memory cgroup to run a demo in (root) |
//! | [`racing`] | the cases the three racing programs share, one `#[test]` each by [`racing_faults!`], [`racing_meet!`], [`racing_trust!`] |
//! | [`demos`] | the cases the three memory demos share, one `#[test]` each by [`demo_faults!`] |
//! | [`react`] | how fast a stopping signal is acted on in every phase of a run ([`react::CASES`]), and how the parent waits |
//! | [`generated`] | generated flag combinations, and the check that none crashes a program |
//! | [`trace`] | `--trace` in the three racing programs: its count adds up, locks show no shared read, stdout untouched |
//! | [`transcripts`] | the docs' `console` blocks, run with trycmd |

pub mod cases;
pub mod checks;
pub mod demos;
pub mod generated;
pub mod lab;
pub mod lock;
pub mod output;
// The only unsafe of the kit: the libc calls that plant a semaphore.
#[allow(unsafe_code)]
pub mod plant;
pub mod probe;
pub mod racing;
pub mod react;
pub mod run;
pub mod said;
pub mod snapshot;
pub mod trace;
pub mod transcripts;

pub use checks::*;
pub use lab::{Article, Lab, LabKey};
pub use nix::sys::signal::Signal;
pub use nix::unistd::Pid;
pub use output::{
    assert_usage_error, change, exits, fails_without_result, faults, me, never_says, says,
    says_once, shm_p, text,
};
pub use probe::*;
pub use run::{Running, WAIT};
pub use snapshot::Snapshot;
pub use transcripts::check_transcripts;

use std::io::Write;
use std::process::{Command, Stdio};

/// Whether this test runs as root (CI does, once).
pub fn is_root() -> bool {
    nix::unistd::Uid::effective().is_root()
}

/// Say that the current test cannot do its work here, and why; the test
/// then returns without asserting.
pub fn skip(why: &str) {
    say(&format!("skipped: {why}"));
}

/// One line about the current test, straight to the terminal's stderr:
/// libtest captures `eprintln!` of a passing test, but not this.
pub fn say(line: &str) {
    let thread = std::thread::current();
    let test = thread.name().unwrap_or("test");
    let _ = writeln!(std::io::stderr(), "test {test}: {line}");
}

/// Send `signal` to process `pid` (a program's child, say).
pub fn signal_pid(pid: Pid, signal: Signal) {
    nix::sys::signal::kill(pid, signal).expect("signal the process");
}

/// Whether a command-line tool is installed.
pub fn has(tool: &str) -> bool {
    let mut command = Command::new(tool);
    command.arg("--version").stdout(Stdio::null());
    command.stderr(Stdio::null()).status().is_ok()
}

/// The entries of `dir`; none if it cannot be read.
pub(crate) fn entries(dir: &std::path::Path) -> impl Iterator<Item = std::fs::DirEntry> + use<> {
    std::fs::read_dir(dir).into_iter().flatten().flatten()
}

/// A number no other call in this process has had.
pub(crate) fn unique() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `ipcmk ARGS`, run through `lab` or (without) as if typed in another
    /// terminal: the id it prints.
    fn ipcmk(lab: Option<&Lab>, args: &[&str]) -> i64 {
        let out = match lab {
            Some(lab) => lab.run("/usr/bin/ipcmk", args),
            None => Command::new("ipcmk").args(args).output().unwrap(),
        };
        assert!(out.status.success(), "ipcmk (util-linux): {out:?}");
        let id = text(&out.stdout).split_whitespace().last().map(str::parse);
        id.and_then(Result::ok).expect("ipcmk prints the id")
    }

    /// A segment the test's own program creates and leaves is named,
    /// removed, and fails the check.
    #[test]
    fn a_segment_the_test_left_is_named_removed_and_fails_the_check() {
        let lab = Lab::new();
        let id = ipcmk(Some(&lab), &["-M", "4096"]);
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| lab.assert_clean()));
        let message = result.expect_err("a leftover must fail the check");
        let text = message.downcast_ref::<String>().map_or("", String::as_str);
        assert!(text.contains(&format!("shmid {id} ")), "{text}");
        let removed = Snapshot::take().segments.iter().all(|s| s.id != id);
        assert!(removed, "and it was removed");
    }

    /// What some other process creates while the test runs is not the
    /// test's: it survives the check, and the check passes.
    #[test]
    fn a_segment_someone_else_creates_meanwhile_is_left_alone() {
        let lab = Lab::new();
        let id = ipcmk(None, &["-M", "4096"]);
        let key = lab.key();
        let sem = ipcmk(None, &["-S", "1", "-p", "0600"]);
        lab.assert_clean();
        let now = Snapshot::take();
        let survived = now.segments.iter().any(|s| s.id == id);
        let sem_survived = now.semaphores.iter().any(|s| s.id == sem);
        // The test's own business: remove what it made for the experiment.
        let _ = snapshot::ipcrm("-m", id);
        let _ = snapshot::ipcrm("-s", sem);
        assert!(survived, "another process's segment was removed");
        assert!(sem_survived, "another process's semaphore set was removed");
        drop(key);
    }

    #[test]
    fn a_clean_test_passes_the_check() {
        Lab::new().assert_clean();
    }

    #[test]
    fn each_lab_gets_its_own_key_and_name() {
        let lab = Lab::new();
        let (a, b) = (lab.key(), lab.key());
        assert_ne!(a.key, b.key);
        assert_ne!(lab.name(), lab.name());
        lab.assert_clean();
    }
}
