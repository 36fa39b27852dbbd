//! The promises every program makes, as assertions the programs' tests
//! share (the rows of docs/reliability.md).
//!
//! `own` is the flags that give a run names of its own (`--path … --proj-id
//! …` from [`Lab::key`], `--name …` from [`Lab::name`]; nothing for
//! racing_mmap, whose memory has no name).

use std::ffi::OsStr;
use std::fmt::Debug;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Output, Stdio};
use std::time::{Duration, Instant};

use common::system::cgroup::{self, Version};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use crate::lab::Lab;
use crate::output::{change, shm_p, text};
use crate::probe::{child_pids, in_nanosleep, shmem_mib};
use crate::run::Running;

/// The signals a person uses to stop a program, and the exit status each
/// must give once the run has released everything: Ctrl-C, `kill`, a
/// closed terminal, `Ctrl-\`.
pub const STOPPING: [(Signal, i32); 4] = [
    (Signal::SIGINT, 130),
    (Signal::SIGTERM, 143),
    (Signal::SIGHUP, 129),
    (Signal::SIGQUIT, 131),
];

/// `own` followed by `rest`, as one argument list.
pub fn with(own: &[String], rest: &[&str]) -> Vec<String> {
    own.iter()
        .cloned()
        .chain(rest.iter().map(|s| (*s).to_owned()))
        .collect()
}

/// Run a racing program expected to succeed with `count` children, and
/// check what every one of them promises: exit 0, stdout exactly one
/// `shm_p: N` line with 1 ≤ N ≤ count (the race is nondeterministic: a
/// range, never a value), stderr stating expected vs got. Returns N and
/// stderr.
pub fn race<S: AsRef<OsStr> + Debug>(
    lab: &Lab,
    bin: &str,
    args: &[S],
    count: i64,
) -> (i64, String) {
    let out = lab.run(bin, args);
    let stderr = text(&out.stderr);
    assert!(out.status.success(), "{args:?}: {:?}\n{stderr}", out.status);
    let n = shm_p(&text(&out.stdout));
    assert!(
        (1..=count).contains(&n),
        "{args:?}: shm_p {n} outside 1..={count}"
    );
    assert!(
        stderr.contains(&format!("expected {count}, got {n}")),
        "{args:?}: {stderr}"
    );
    assert_race_explained(args, count, n, &stderr);
    (n, stderr)
}

/// Without a lock, the explanation a run prints under `shm_p` is exactly
/// the one the chapters show: how many were lost, then why (or that none
/// were, this time).
fn assert_race_explained<S: AsRef<OsStr> + Debug>(args: &[S], count: i64, n: i64, stderr: &str) {
    let args: Vec<String> = args
        .iter()
        .map(|a| a.as_ref().to_string_lossy().into_owned())
        .collect();
    let flag = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1).cloned())
    };
    if flag("--lock").is_some_and(|mode| mode != "none")
        || args.iter().any(|a| a == "--private")
        || count == 1
    {
        return;
    }
    let lost = count - n;
    let (updates, were) = if lost == 1 {
        ("update", "was")
    } else {
        ("updates", "were")
    };
    let sleep_us = flag("--sleep-us").unwrap_or_else(|| String::from("1"));
    let step = if sleep_us == "0" {
        String::from("wrote back that value + 1 at once")
    } else {
        format!("slept {sleep_us} µs, wrote back that value + 1")
    };
    let why = if lost > 0 {
        format!(
            "Each child read the int, {step}: a child that read before another's write overwrote it. Fix it: --lock semaphore."
        )
    } else {
        String::from(
            "None lost this time, yet nothing prevented it: read and write are still two steps. Run again, or raise --sleep-us.",
        )
    };
    let expected = format!(
        "{count} children each added 1 to the shared int: expected {count}, got {n}, so {lost} {updates} {were} lost.\n{why}\n"
    );
    assert!(
        stderr.ends_with(&expected),
        "{args:?}: expected the explanation\n{expected}in\n{stderr}"
    );
}

/// Start `bin args`, wait until `target(pid)` picks the process to signal
/// (the program, or one of its children), send `signal`, and collect the
/// output; also how long the program took to exit after the signal.
/// Panics if it never gets ready or does not exit within 10 s.
pub fn signal_when<S: AsRef<OsStr>>(
    lab: &Lab,
    bin: &str,
    args: &[S],
    target: impl Fn(Pid) -> Option<Pid>,
    signal: Signal,
) -> (Output, Duration) {
    let mut run = lab.start(bin, args);
    let pid = run.pid();
    let victim = run.wait_for(&format!("the moment to send {signal}"), || target(pid));
    kill(victim, signal).expect("signal the process");
    let sent = Instant::now();
    let out = run
        .finish_within(Duration::from_secs(10))
        .unwrap_or_else(|out| {
            panic!(
                "{bin} did not exit within 10 s of {signal}:\n{}",
                text(&out.stderr)
            )
        });
    (out, sent.elapsed())
}

/// [`signal_when`] with the program itself as the target, once `ready(pid)`.
pub fn interrupt_when<S: AsRef<OsStr>>(
    lab: &Lab,
    bin: &str,
    args: &[S],
    ready: impl Fn(Pid) -> bool,
    signal: Signal,
) -> (Output, Duration) {
    signal_when(lab, bin, args, |pid| ready(pid).then_some(pid), signal)
}

/// The promise every program makes about the stopping signals: run `bin
/// args` once per signal in [`STOPPING`], interrupting it once
/// `ready(pid)`; each time it must exit 128 + the signal within 3 s, print
/// nothing on stdout, say `interrupted by SIG… {during}` on stderr, and
/// leave `released()` true (its objects are gone).
pub fn assert_signals_end_the_run_cleanly<S: AsRef<OsStr>>(
    lab: &Lab,
    bin: &str,
    args: &[S],
    ready: impl Fn(Pid) -> bool,
    during: &str,
    released: impl Fn() -> bool,
) {
    for (signal, status) in STOPPING {
        let (out, took) = interrupt_when(lab, bin, args, &ready, signal);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(status), "{signal}: {stderr}");
        assert!(
            out.stdout.is_empty(),
            "no result after {signal}: {}",
            text(&out.stdout)
        );
        assert!(
            stderr.contains(&format!("interrupted by {signal} {during}")),
            "{signal}: {stderr}"
        );
        assert!(
            took < Duration::from_secs(3),
            "{signal}: took {took:?} to exit"
        );
        assert!(released(), "{signal}: what the run created is still there");
    }
}

/// Every stopping signal, while the children run under every `--lock`
/// mode (one of them asleep inside its critical section, the others
/// waiting for the lock): exit 128 + signal, the lock's object (lock file,
/// semaphore) released with everything else, as `released()` and an empty
/// TMPDIR show.
pub fn assert_signals_release_every_lock(
    lab: &Lab,
    bin: &str,
    own: &[String],
    released: impl Fn() -> bool,
) {
    for mode in ["none", "atomic", "flock", "semaphore"] {
        let args = with(
            own,
            &["--count", "4", "--sleep-us", "5000000", "--lock", mode],
        );
        assert_signals_end_the_run_cleanly(
            lab,
            bin,
            &args,
            |pid| {
                let children = child_pids(pid);
                children.len() >= 4 && children.into_iter().any(in_nanosleep)
            },
            "while 4 children ran; all were waited for",
            || released() && lab_tmpdir_is_empty(lab),
        );
    }
}

fn lab_tmpdir_is_empty(lab: &Lab) -> bool {
    std::fs::read_dir(lab.tmpdir()).is_ok_and(|mut d| d.next().is_none())
}

/// `--lock` closes the race: with every mode but `none`, `--count 200`
/// gives exactly 200, five runs each, with no pause and with the default
/// pause; stderr names the lock; the lock file of a flock run is gone.
pub fn assert_every_lock_is_exact(lab: &Lab, bin: &str, own: &[String]) {
    for mode in ["atomic", "flock", "semaphore"] {
        for sleep in ["0", "1"] {
            for _ in 0..5 {
                let args = with(
                    own,
                    &["--count", "200", "--lock", mode, "--sleep-us", sleep],
                );
                let (n, stderr) = race(lab, bin, &args, 200);
                assert_eq!(n, 200, "{args:?} lost updates:\n{stderr}");
                assert!(
                    stderr.contains(&format!("--lock {mode}: ")),
                    "{args:?}: {stderr}"
                );
                assert!(
                    stderr.contains("so no update was lost."),
                    "{args:?}: {stderr}"
                );
                assert!(
                    lab_tmpdir_is_empty(lab),
                    "{args:?}: the run's lock file is gone"
                );
            }
        }
    }
}

/// Ten runs of `--lock flock` started 20 ms apart, each with names of its
/// own (`owns[i]`): every one exact, and no lock file left. (With one lock
/// file per program, the first run to finish deleted it under the others.)
pub fn assert_concurrent_flock_runs_do_not_disturb_each_other(
    lab: &Lab,
    bin: &str,
    owns: &[Vec<String>],
) {
    let runs: Vec<_> = owns
        .iter()
        .map(|own| {
            let run = lab.start(
                bin,
                &with(
                    own,
                    &["--count", "50", "--lock", "flock", "--sleep-us", "100"],
                ),
            );
            std::thread::sleep(Duration::from_millis(20));
            run
        })
        .collect();
    for run in runs {
        let out = run.finish();
        assert!(out.status.success(), "{}", text(&out.stderr));
        assert_eq!(shm_p(&text(&out.stdout)), 50, "{}", text(&out.stderr));
    }
    assert!(lab_tmpdir_is_empty(lab), "no lock file is left");
}

/// `--lock flock` where this user may not create the lock file (TMPDIR is
/// someone else's directory): one clear error from the parent naming the
/// directory, its owner and the `TMPDIR=` way out — not one per child —
/// exit 1, and what the run had created before is removed.
pub fn assert_an_unwritable_lock_dir_is_one_clear_error(
    lab: &Lab,
    bin: &str,
    program: &str,
    own: &[String],
) {
    let args = with(own, &["--lock", "flock", "--count", "20"]);
    let mut command = match lab.as_nobody(bin, None) {
        // Root may write anywhere: the test's program runs as nobody, in
        // root's lab directory (mode 0755).
        Some(command) => {
            let mut command = command;
            command.env("TMPDIR", lab.path(""));
            command
        }
        None if nix::unistd::Uid::effective().is_root() => {
            crate::skip("needs setpriv and prlimit to run as nobody (root may write anywhere)");
            return;
        }
        None => {
            let mut command = lab.command(bin);
            command.env("TMPDIR", "/");
            command
        }
    };
    command.args(&args);
    let out = lab.spawn(command).finish();
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(out.stdout.is_empty(), "no result: {}", text(&out.stdout));
    let errors: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with(&format!("{program}: ")))
        .collect();
    assert_eq!(
        errors.len(),
        1,
        "one error line, not one per child:\n{stderr}"
    );
    assert!(
        errors[0].contains("failed: EACCES (Permission denied)"),
        "{stderr}"
    );
    assert!(
        stderr.contains("belongs to uid 0 (root), mode 0755"),
        "{stderr}"
    );
    assert!(stderr.contains("TMPDIR=$HOME"), "{stderr}");
    assert!(!stderr.contains("child"), "{stderr}");
}

/// A umask of 0277 (which would make a new file 0400, so that not even its
/// owner could open it for writing) changes nothing: with `--lock flock`
/// and `--lock semaphore` the run is exact, and while it runs every object
/// it created is mode 0600. `modes(lock)` gives the (name, mode) of each
/// object the program makes for that lock mode once they all exist; the
/// flock lock file is checked here.
pub fn assert_a_restrictive_umask_changes_nothing(
    lab: &Lab,
    bin: &str,
    own: &[String],
    modes: impl Fn(&str) -> Option<Vec<(String, u32)>>,
) {
    for lock in ["flock", "semaphore"] {
        let mut command = lab.command_with_umask(bin, 0o277);
        command.args(with(
            own,
            &["--count", "3", "--lock", lock, "--sleep-us", "300000"],
        ));
        let mut run = lab.spawn(command);
        let pid = run.pid();
        let tmpdir = lab.tmpdir();
        // Once the children exist, the parent has made every object and
        // set its mode (between creating and fchmod, a file is briefly
        // the umask's 0400: the children are forked after that).
        let seen = run.wait_for(&format!("the objects of --lock {lock}"), || {
            if crate::probe::children_of(pid) < 3 {
                return None;
            }
            let mut seen = modes(lock)?;
            if lock == "flock" {
                let file = std::fs::read_dir(&tmpdir).ok()?.flatten().next()?;
                let mode = file.metadata().ok()?.permissions().mode() & 0o777;
                seen.push((file.path().display().to_string(), mode));
            }
            Some(seen)
        });
        for (object, mode) in &seen {
            assert_eq!(
                *mode, 0o600,
                "--lock {lock}, umask 0277: {object} is {mode:04o}"
            );
        }
        let out = run.finish();
        let stderr = text(&out.stderr);
        assert!(out.status.success(), "--lock {lock}, umask 0277: {stderr}");
        assert_eq!(shm_p(&text(&out.stdout)), 3, "{stderr}");
    }
}

/// The mode bits of a file, if it exists.
pub fn mode_of(path: &str) -> Option<u32> {
    std::fs::metadata(path)
        .ok()
        .map(|m| m.permissions().mode() & 0o777)
}

/// Run `bin args` with stdout redirected to a file (fully buffered in C,
/// where fork duplicates unflushed output), and return what the file holds
/// and the exit status. Every line must appear once: lines are unique in
/// these programs' output, so a duplicate means a buffer copied by fork.
pub fn run_to_file<S: AsRef<OsStr>>(lab: &Lab, bin: &str, args: &[S]) -> (ExitStatus, String) {
    let path = lab.path(&format!("stdout-{}.txt", crate::unique()));
    let file = std::fs::File::create(&path).expect("create the stdout file");
    let mut command = lab.command(bin);
    command.args(args).stdout(Stdio::from(file));
    let out = lab.spawn(command).finish();
    let written = std::fs::read_to_string(&path).unwrap_or_default();
    let _ = std::fs::remove_file(&path);
    let mut seen = std::collections::BTreeSet::new();
    for line in written.lines().filter(|l| !l.trim().is_empty()) {
        assert!(
            seen.insert(line.to_owned()),
            "line printed twice: {line:?}\nin:\n{written}"
        );
    }
    (out.status, written)
}

/// A racing program with stdout redirected to a file: exit 0, and the file
/// holds the one `shm_p: N` line once, 1 ≤ N ≤ 20 (no stdio buffer was
/// copied into the children by fork).
pub fn assert_race_to_a_file_prints_once(lab: &Lab, bin: &str, own: &[String]) {
    let (status, written) = run_to_file(lab, bin, &with(own, &["--count", "20"]));
    assert!(status.success(), "{written}");
    assert!((1..=20).contains(&shm_p(&written)), "{written}");
}

/// Matrix cell 2 by a closed stdout: the result cannot be written after
/// everything was created; exit 1 with `PROGRAM: write(1, result) failed:
/// EPIPE` and its hint, no panic. (A pipe whose reading end is already
/// closed: Rust programs ignore SIGPIPE, so the write fails with EPIPE.)
pub fn assert_a_closed_stdout_fails_cleanly<S: AsRef<OsStr>>(
    lab: &Lab,
    bin: &str,
    program: &str,
    args: &[S],
) {
    let (read_end, write_end) = nix::unistd::pipe().expect("pipe");
    drop(read_end);
    let mut command = lab.command(bin);
    command.args(args).stdout(Stdio::from(write_end));
    let out = lab.spawn(command).finish();
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "{program}: write(1, result) failed: EPIPE (Broken pipe)\nhint: stdout is a pipe"
        )),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
}

/// Matrix cell 5: a child killed by SIGKILL (the one asleep in its pause)
/// is reported by the parent, which prints no result and exits 1.
pub fn assert_a_killed_child_is_reported(lab: &Lab, bin: &str, program: &str, own: &[String]) {
    let (out, _) = signal_when(
        lab,
        bin,
        &with(own, &["--count", "3", "--sleep-us", "1000000"]),
        |pid| {
            let children = child_pids(pid);
            (children.len() == 3)
                .then(|| children.into_iter().find(|&c| in_nanosleep(c)))
                .flatten()
        },
        Signal::SIGKILL,
    );
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(out.stdout.is_empty(), "no result with a dead child");
    assert!(
        stderr.contains(&format!("{program}: 1 of 3 children failed: child ")),
        "{stderr}"
    );
    assert!(stderr.contains(") was killed by SIGKILL\n"), "{stderr}");
    assert!(
        stderr.contains("A child killed by a signal was stopped from outside"),
        "{stderr}"
    );
}

/// Matrix cell 6: with so few processes left that fork fails part-way
/// (see [`Lab::with_few_processes`]), the program stops, waits for the
/// children that started, says how many, exits 1, prints no result.
/// Returns stderr, for program-specific checks.
pub fn assert_fork_fails_part_way(lab: &Lab, bin: &str, program: &str, own: &[String]) -> String {
    let mut command = lab.with_few_processes(bin);
    command.args(with(own, &["--count", "100", "--sleep-us", "100000"]));
    let out = lab.spawn(command).finish();
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        out.stdout.is_empty(),
        "no result without all children: {}",
        text(&out.stdout)
    );
    let prefix = format!("{program}: fork() failed after ");
    let line = stderr
        .lines()
        .find(|l| l.starts_with(&prefix))
        .unwrap_or_else(|| panic!("a line names fork() and how many started: {stderr}"));
    let started: usize = line[prefix.len()..]
        .split_whitespace()
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{line}"));
    assert!((1..100).contains(&started), "{line}");
    assert!(
        line.ends_with(" of 100 children had started: EAGAIN (Resource temporarily unavailable)"),
        "{line}"
    );
    assert!(
        stderr.contains(&format!(
            "The {started} children that did start were waited for."
        )),
        "{stderr}"
    );
    assert!(stderr.contains("ulimit -u"), "{stderr}");
    stderr
}

/// Matrix cells 3 and 4 for a memory demo's zeroing: each stopping signal
/// once 256 MiB of a 6 GiB zeroing is done: exit 128 + signal,
/// "interrupted ... while zeroing", and Shmem back where it was.
pub fn assert_signals_stop_the_zeroing(lab: &Lab, bin: &str) {
    let base = shmem_mib();
    assert_signals_end_the_run_cleanly(
        lab,
        bin,
        &["--size", "6G", "--hold", "0"],
        |_| shmem_mib() - base >= 256,
        "while zeroing, after ",
        || (shmem_mib() - base).abs() <= 4,
    );
}

/// Matrix cell 9 where the two runs share a name: the first run
/// (`--lock semaphore`, so its result is checkable) holds the key or name
/// once `holding()`; a second run meanwhile fails with EEXIST and a hint
/// saying `says`; the first finishes undisturbed with exactly 5. Returns
/// the second run's stderr.
pub fn assert_a_second_run_fails_clearly(
    lab: &Lab,
    bin: &str,
    own: &[String],
    holding: impl Fn() -> bool,
    says: &str,
) -> String {
    let mut first = lab.start(
        bin,
        &with(
            own,
            &[
                "--count",
                "5",
                "--lock",
                "semaphore",
                "--sleep-us",
                "200000",
            ],
        ),
    );
    first.wait_until("the first run to hold its object", holding);
    let second = lab.run(bin, own);
    let stderr = text(&second.stderr);
    assert_eq!(second.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("failed: EEXIST (File exists)"), "{stderr}");
    assert!(stderr.contains(says), "{stderr}");
    let first = first.finish();
    assert!(first.status.success(), "{}", text(&first.stderr));
    assert_eq!(
        shm_p(&text(&first.stdout)),
        5,
        "the first run was not disturbed"
    );
    stderr
}

/// Matrix cell 9 where the runs cannot meet (private memory): two runs of
/// a memory demo at once both succeed, each reporting its own Shmem rise.
pub fn assert_two_memory_runs_both_succeed(lab: &Lab, bin: &str) {
    let args = ["--size", "64M", "--hold", "1"];
    let first = lab.start(bin, &args);
    let second = lab.run(bin, &args);
    let first = first.finish();
    for out in [first, second] {
        assert!(out.status.success(), "{}", text(&out.stderr));
        assert!(
            change(&text(&out.stdout), "Shmem") >= 60,
            "{}",
            text(&out.stdout)
        );
    }
}

/// A child killed by SIGKILL while it holds the semaphore (found asleep
/// in the critical section) must not hang the parent: it exits 1 within
/// a bound, naming the killed child. Returns stderr for family-specific
/// checks (a POSIX semaphore stays taken, and the waiters say so; SEM_UNDO
/// gives it back).
pub fn assert_a_killed_holder_does_not_hang(lab: &Lab, bin: &str, own: &[String]) -> String {
    let (out, took) = signal_when(
        lab,
        bin,
        &with(
            own,
            &[
                "--count",
                "4",
                "--lock",
                "semaphore",
                "--sleep-us",
                "1000000",
            ],
        ),
        |pid| {
            let children = child_pids(pid);
            if children.len() < 4 {
                return None;
            }
            children.into_iter().find(|&c| in_nanosleep(c))
        },
        Signal::SIGKILL,
    );
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(out.stdout.is_empty(), "no result with a dead child");
    assert!(stderr.contains("was killed by SIGKILL"), "{stderr}");
    assert!(took < Duration::from_secs(8), "took {took:?}");
    stderr
}

/// After [`assert_a_killed_holder_does_not_hang`] with a POSIX semaphore:
/// the three children that waited for it each found its holder dead and
/// ended, and their common error was printed once, not three times.
pub fn assert_the_waiters_said_the_holder_died(stderr: &str) {
    let said = stderr
        .matches(
            ", which died without giving it back: a POSIX semaphore is only a counter in memory",
        )
        .count();
    assert_eq!(said, 1, "said once for the three waiters:\n{stderr}");
    assert_eq!(
        stderr.matches(") exited with status 1").count(),
        3,
        "{stderr}"
    );
    assert!(
        !stderr.contains("was stuck"),
        "the waiters did not need the parent: {stderr}"
    );
}

/// A `--count` larger than the processes the machine can hold at once is a
/// usage error naming the bound and why — also under a small address-space
/// limit (`ulimit -v 20000`), where sizing the list of children for
/// millions of them used to abort. Never a panic or an abort.
pub fn assert_a_huge_count_is_a_usage_error(lab: &Lab, bin: &str, own: &[String]) {
    for (limits, count) in [(None, "2147483647"), (Some("--as=20480000"), "10000000")] {
        let args = with(own, &["--count", count]);
        let out = match limits {
            None => lab.run(bin, &args),
            Some(limit) => {
                let mut command = lab.command_with_limits(bin, &[limit]);
                command.args(&args);
                lab.spawn(command).finish()
            }
        };
        let stderr = text(&out.stderr);
        assert_eq!(
            out.status.code(),
            Some(2),
            "--count {count} {limits:?}: {stderr}"
        );
        assert!(
            stderr.contains("children: the article's loop forks them all before waiting for any"),
            "{stderr}"
        );
        assert!(stderr.contains("kernel.pid_max"), "{stderr}");
        assert!(!stderr.contains("memory allocation"), "{stderr}");
    }
}

/// `-h` is the summary: one line per flag, none wider than the 100
/// columns clap wraps to when it cannot ask a terminal. `--help` is the
/// long form: longer, just as narrow, without a literal backtick, and
/// holding each of `says` (what this program must explain itself, such as
/// its kind of semaphore, rather than send the reader elsewhere).
pub fn assert_help_is_short_and_long(lab: &Lab, bin: &str, says: &[&str]) {
    let short = lab.run(bin, &["-h"]);
    let long = lab.run(bin, &["--help"]);
    assert!(short.status.success() && long.status.success());
    let (short, long) = (text(&short.stdout), text(&long.stdout));
    let options = short
        .split("Options:\n")
        .nth(1)
        .unwrap_or_else(|| panic!("no Options in -h:\n{short}"));
    for line in options.lines() {
        let flag = line.trim_start();
        assert!(
            flag.starts_with('-') && line.len() <= 100,
            "-h gives each flag one line of at most 100 columns:\n{line}\nin\n{short}"
        );
    }
    assert!(
        long.len() > short.len() * 2,
        "--help explains more:\n{long}"
    );
    for line in long.lines() {
        assert!(
            line.chars().count() <= 100,
            "--help wraps at 100 columns:\n{line}"
        );
    }
    assert!(
        !long.contains('`'),
        "--help shows a backtick literally:\n{long}"
    );
    for needle in says {
        assert!(long.contains(needle), "--help lacks {needle:?}:\n{long}");
    }
}

/// Run `script` (sh) in a private mount namespace, where it may mount a
/// small tmpfs (on /dev/shm, or anywhere) that nobody else sees, and
/// return its stdout and stderr. `None`, after saying so, when that needs
/// what this user lacks (root, and unshare).
pub fn in_private_mounts(lab: &Lab, script: &str) -> Option<(String, String)> {
    if !crate::is_root() || !crate::has("unshare") {
        crate::skip("needs root (and unshare) to mount a small full tmpfs in a private namespace");
        return None;
    }
    let mut command = std::process::Command::new("unshare");
    command
        .args([
            "--mount",
            "--propagation",
            "private",
            "--",
            "sh",
            "-c",
            script,
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let out = lab.spawn(command).finish();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    Some((text(&out.stdout), text(&out.stderr)))
}

/// A memory cgroup made for one test, with a limit, under this process's
/// own memory cgroup: the container or systemd slice a student's demo may
/// run in, made real. Removed when dropped (after the programs run in it
/// have ended: a cgroup with a process in it cannot be removed).
///
/// It is named after the lab's tag, so two test runs never share one, and
/// only the directory this value created is ever removed.
#[derive(Debug)]
pub struct MemoryCgroup {
    dir: PathBuf,
    setting: &'static str,
}

impl MemoryCgroup {
    /// A child cgroup of this process's memory cgroup limited to `limit`
    /// bytes: in the v2 hierarchy if this cgroup lists `memory` in its
    /// cgroup.subtree_control (so a child gets memory.max), else in the v1
    /// memory hierarchy. `None`, after saying why, unless this test runs
    /// as root on a machine with a memory controller.
    pub fn make(lab: &Lab, limit: u64) -> Option<MemoryCgroup> {
        if !crate::is_root() {
            crate::skip("needs root to create a memory cgroup");
            return None;
        }
        let places = cgroup::own_places();
        let v2 = places.iter().find(|place| {
            place.version == Version::V2
                && std::fs::read_to_string(place.dir.join("cgroup.subtree_control"))
                    .is_ok_and(|on| on.split_whitespace().any(|c| c == "memory"))
        });
        let v1 = places.iter().find(|place| place.version == Version::V1);
        let Some(place) = v2.or(v1) else {
            crate::skip(
                "needs a memory controller: cgroup v2 with memory in this cgroup's \
                 subtree_control, or a v1 memory hierarchy",
            );
            return None;
        };
        let setting = match place.version {
            Version::V2 => "memory.max",
            Version::V1 => "memory.limit_in_bytes",
        };
        let dir = place.dir.join(lab.tag());
        std::fs::create_dir(&dir)
            .unwrap_or_else(|e| panic!("cannot create the cgroup {}: {e}", dir.display()));
        // From here on, Drop removes it whatever happens.
        let made = MemoryCgroup { dir, setting };
        std::fs::write(made.dir.join(setting), limit.to_string()).unwrap_or_else(|e| {
            panic!(
                "cannot write {limit} to {}: {e}",
                made.dir.join(setting).display()
            )
        });
        Some(made)
    }

    /// The cgroup's directory, as the programs' messages name it.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The file its limit is in: `memory.max` (v2), `memory.limit_in_bytes` (v1).
    pub fn setting(&self) -> &'static str {
        self.setting
    }

    /// [`Lab::command`] for `bin`, whose wrapper script moves itself into
    /// this cgroup (writes its pid to cgroup.procs) before it execs the
    /// program: the program runs in the cgroup from its first instruction,
    /// and the test process stays where it was.
    pub fn command(&self, lab: &Lab, bin: &str) -> Command {
        let mut command = lab.command(bin);
        command.env("SHM_LESSONS_TEST_CGROUP", &self.dir);
        command
    }
}

impl Drop for MemoryCgroup {
    fn drop(&mut self) {
        // A waited-for process has left the cgroup, but the kernel may
        // still count it for a moment: rmdir says EBUSY until then.
        let start = Instant::now();
        loop {
            match std::fs::remove_dir(&self.dir) {
                Ok(()) => return,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => return,
                Err(_) if start.elapsed() < Duration::from_secs(5) => {
                    std::thread::sleep(Duration::from_millis(20));
                }
                Err(e) => {
                    let message = format!(
                        "cannot remove the test's cgroup {} within 5 s: {e}; remove it with: rmdir {}",
                        self.dir.display(),
                        self.dir.display()
                    );
                    // A second panic while unwinding would abort the run.
                    if std::thread::panicking() {
                        crate::say(&message);
                    } else {
                        panic!("{message}");
                    }
                    return;
                }
            }
        }
    }
}

/// Matrix cell 10 in a container (root only): in a memory cgroup of
/// 256 MiB, on a machine with far more available, `--size 512M --hold 0`
/// is refused before anything is created — exit 1, one error line naming
/// the cgroup's limit and directory, a hint with a `--size` and
/// `--no-touch` — instead of being OOM-killed halfway through zeroing
/// and leaving its segment or object behind (the caller's
/// [`Lab::assert_clean`] checks that). The size the hint offers, and
/// 64 MiB, then run in the same cgroup. The cgroup is removed at the end.
pub fn assert_a_cgroup_limit_is_refused_before_anything_is_created(
    lab: &Lab,
    bin: &str,
    program: &str,
    own: &[String],
) {
    let Some(cgroup) = MemoryCgroup::make(lab, 256 << 20) else {
        return;
    };
    let run = |size: &str| {
        let mut command = cgroup.command(lab, bin);
        command.args(with(own, &["--size", size, "--hold", "0"]));
        lab.spawn(command).finish()
    };
    let out = run("512M");
    let stderr = text(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(1),
        "not refused, or killed: {stderr}"
    );
    assert!(
        out.stdout.is_empty(),
        "nothing was created, nothing reported"
    );
    let errors: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with(&format!("{program}: ")))
        .collect();
    assert_eq!(errors.len(), 1, "one error line:\n{stderr}");
    let says = format!(
        "{program}: 512 MiB is more than this process's memory cgroup has room for ({} 256 MiB, ",
        cgroup.setting()
    );
    assert!(
        stderr.starts_with(&says)
            && errors[0].ends_with(&format!(" MiB in use: {})", cgroup.dir().display())),
        "the first line names the limit and the cgroup:\n{stderr}"
    );
    let hint = "\nhint: zeroing it would push this cgroup into swap or its OOM killer. Ask for less,\n      e.g. --size ";
    let offered: u64 = stderr
        .split_once(hint)
        .and_then(|(_, rest)| rest.split_once("M, or add --no-touch to map it without using it.\n"))
        .and_then(|(size, _)| size.parse().ok())
        .unwrap_or_else(|| panic!("a hint with a --size and --no-touch:\n{stderr}"));
    assert!(
        (64..256).contains(&offered),
        "--size {offered}M fits 256 MiB with room to spare:\n{stderr}"
    );
    for size in [format!("{offered}M"), String::from("64M")] {
        let out = run(&size);
        assert_eq!(
            out.status.code(),
            Some(0),
            "--size {size} in the 256 MiB cgroup:\n{}",
            text(&out.stderr)
        );
    }
    let dir = cgroup.dir().to_owned();
    drop(cgroup);
    assert!(
        !dir.exists(),
        "the test's cgroup {} is removed",
        dir.display()
    );
}

// ---- meeting by key or name: what both families share ------------------------

/// `bin own --count 1 --linger forever rest…`, once `keeps()` says its
/// segment or object is there and its race is over: a creator to join,
/// whose int is 1.
pub fn lingering_creator(
    lab: &Lab,
    bin: &str,
    own: &[String],
    rest: &[&str],
    keeps: impl Fn() -> bool,
) -> Running {
    let mut args = vec!["--count", "1", "--linger", "forever"];
    args.extend_from_slice(rest);
    keeping(lab.start(bin, &with(own, &args)), keeps)
}

/// `run`, once `keeps()` says its segment or object is there, its race is
/// over and it sleeps in `--linger`.
pub fn keeping(mut run: Running, keeps: impl Fn() -> bool) -> Running {
    let pid = run.pid();
    run.wait_until("the run keeps its memory", || {
        keeps() && child_pids(pid).is_empty() && crate::probe::sleeping(pid)
    });
    run
}

/// `bin args` run by someone else: `nobody` when the test is root (another
/// user, as on a lab server), else this user (another program of theirs).
pub fn start_as_someone_else(lab: &Lab, bin: &str, args: &[String]) -> Running {
    match lab.as_nobody(bin, None) {
        Some(mut nobody) => {
            nobody.args(args);
            lab.spawn(nobody)
        }
        None => lab.start(bin, args),
    }
}

/// End a lingering creator with Ctrl-C: it releases and exits 0. Its stderr.
pub fn release(creator: Running) -> String {
    creator.signal(Signal::SIGINT);
    let out = creator.finish();
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    stderr
}

/// A joiner whose creator ends while the joiner's 200 children are still
/// being forked (the joiner is stopped after 2, the creator ends, the
/// joiner goes on): the children forked after find nothing under the key
/// or name. One error for all of them, not one per child, then the
/// parent's count; exit 1. (If the joiner's fork loop ends before the
/// test can stop it, as on a loaded machine, nothing is left to check:
/// the scene is played again, five times at most.)
pub fn assert_a_joiner_whose_creator_ends_meanwhile_says_so_once(
    lab: &Lab,
    bin: &str,
    program: &str,
    own: &[String],
    keeps: impl Fn() -> bool,
) {
    for _ in 0..5 {
        let creator = lingering_creator(lab, bin, own, &[], &keeps);
        let mut joiner = lab.start(
            bin,
            &with(
                own,
                &["--attach", "--count", "200", "--sleep-us", "2000000"],
            ),
        );
        let pid = joiner.pid();
        joiner.stop_when("2 children forked", || child_pids(pid).len() >= 2);
        release(creator);
        joiner.signal(Signal::SIGCONT);
        let out = joiner.finish();
        let stderr = text(&out.stderr);
        if out.status.code() == Some(0) {
            continue;
        }
        assert_eq!(out.status.code(), Some(1), "{stderr}");
        assert_eq!(
            stderr.matches(&format!("{program}: child pid ")).count(),
            1,
            "one line for all:\n{stderr}"
        );
        assert!(
            stderr.contains(" of 200 children failed: child "),
            "{stderr}"
        );
        assert!(stderr.lines().count() < 20, "{stderr}");
        return;
    }
    panic!("the test stopped the joiner's fork loop before its end in none of 5 tries");
}

/// `--attach --lock semaphore` to a run started without `--lock
/// semaphore`: one line that `says` so (not that the semaphore "was
/// removed meanwhile"), and the hint; exit 1.
pub fn assert_a_joiner_of_a_run_without_a_semaphore_is_told_so(
    lab: &Lab,
    bin: &str,
    program: &str,
    own: &[String],
    keeps: impl Fn() -> bool,
    says: &str,
) {
    let creator = lingering_creator(lab, bin, own, &[], keeps);
    let out = lab.run(bin, &with(own, &["--attach", "--lock", "semaphore"]));
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let errors: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with(&format!("{program}: ")))
        .collect();
    assert_eq!(
        errors,
        [format!(
            "{program}: --lock semaphore cannot join the run: {says}"
        )],
        "{stderr}"
    );
    assert!(
        stderr.contains("hint: the run you join was started without --lock semaphore"),
        "{stderr}"
    );
    assert!(!stderr.contains("meanwhile"), "{stderr}");
    release(creator);
}

/// A semaphore planted by a test ([`crate::plant`]), read back.
pub trait Planted {
    /// Its value now.
    fn value(&self) -> i32;
}

impl Planted for crate::plant::PlantedSet {
    fn value(&self) -> i32 {
        self.value()
    }
}

impl Planted for crate::plant::PlantedSemaphore {
    fn value(&self) -> i32 {
        self.value()
    }
}

/// A creator of `own` without a semaphore (`keeps()`: its memory is
/// there), and a semaphore `plant`ed under its key or name, taken (value
/// 0): `--attach --count 2 --lock semaphore` must end, exit 1, and leave
/// the planted semaphore as it was. Returns its stderr and how long it
/// took, for the family's own words; the creator is released and the
/// planted semaphore removed.
pub fn join_beside_a_planted_semaphore<P: Planted>(
    lab: &Lab,
    bin: &str,
    own: &[String],
    keeps: impl Fn() -> bool,
    plant: impl FnOnce() -> P,
    says: impl FnOnce(&P) -> String,
) -> (String, Duration) {
    let creator = lingering_creator(lab, bin, own, &[], keeps);
    let planted = plant();
    let started = Instant::now();
    let out = lab.run(
        bin,
        &with(own, &["--attach", "--count", "2", "--lock", "semaphore"]),
    );
    let took = started.elapsed();
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert_eq!(
        stderr.matches(&says(&planted)).count(),
        1,
        "said once:\n{stderr}"
    );
    assert_eq!(planted.value(), 0, "the planted semaphore is untouched");
    drop(planted);
    release(creator);
    (stderr, took)
}

/// A creator of `own` run by root, and `--attach` run by nobody, whom the
/// memory's mode 0600 keeps out: exit 1 with EACCES, and never "use
/// another key or name" (the joiner wants this one). Its stderr, for the
/// family's hint; `None` (the test skipped) unless the test runs as root.
pub fn join_as_nobody(
    lab: &Lab,
    bin: &str,
    own: &[String],
    keeps: impl Fn() -> bool,
) -> Option<String> {
    let Some(mut nobody) = lab.as_nobody(bin, None) else {
        crate::skip("needs root to run the creator and the joiner as two users");
        return None;
    };
    let creator = lingering_creator(lab, bin, own, &[], keeps);
    nobody.args(with(own, &["--attach"]));
    let out = lab.spawn(nobody).finish();
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("failed: EACCES (Permission denied)"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("another key") && !stderr.contains("another name"),
        "{stderr}"
    );
    release(creator);
    Some(stderr)
}

/// How much more page cache other processes may add while a memory demo
/// measures: another user's test run starting a program whose pages the
/// kernel had reclaimed reads tens of MiB back in within the demo's tenth
/// of a second.
pub const OTHERS_CACHE_MIB: i64 = 48;

/// Whether the `Cached` row of a memory demo's table says the page cache
/// rose by the demo's `expected` MiB: at least `expected - slack` (the
/// memory is there), and at most [`OTHERS_CACHE_MIB`] more than that (what
/// other processes' files may add meanwhile; twice the size would be
/// counting it twice).
pub fn cached_rose_by(stdout: &str, expected: i64, slack: i64) -> bool {
    let moved = change(stdout, "Cached");
    (expected - slack..=expected + slack + OTHERS_CACHE_MIB).contains(&moved)
}

/// Run a memory demo (`bin args`, which prints the before/after table)
/// until [`cached_rose_by`] `expected` MiB, three runs at most; the last
/// run's output. Cached is the whole machine's page cache, and the kernel
/// also takes from it while the demo measures (on this project's CI
/// machine a DAMON reclaimer frees cold pages, tens of MiB at a time);
/// the machine-wide lock keeps other memory tests away, not every file. A
/// run that far off is tried again; the caller asserts every row on the
/// run returned.
pub fn run_until_cached_moves(
    lab: &Lab,
    bin: &str,
    args: &[&str],
    expected: i64,
    slack: i64,
) -> std::process::Output {
    let mut out = lab.run(bin, args);
    for _ in 1..3 {
        let stdout = text(&out.stdout);
        if !out.status.success() || cached_rose_by(&stdout, expected, slack) {
            break;
        }
        crate::say(&format!(
            "Cached moved by {} MiB, not {expected}: something else moved the page cache meanwhile; measuring again",
            change(&stdout, "Cached")
        ));
        out = lab.run(bin, args);
    }
    out
}
