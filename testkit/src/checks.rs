//! The promises every program makes, as assertions the programs' tests
//! share (the rows of docs/reliability.md). `own` is the flags that give a
//! run names of its own ([`Lab::key`], [`Lab::name`]; none for anonymous memory).

use std::ffi::OsStr;
use std::fmt::Debug;
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
use crate::said::{exits, fails_without_result, says, says_last};

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
    let rest = rest.iter().map(|s| (*s).to_owned());
    own.iter().cloned().chain(rest).collect()
}

/// `own` followed by `flags`, split at spaces.
pub fn with_flags(own: &[String], flags: &str) -> Vec<String> {
    with(own, &flags.split_whitespace().collect::<Vec<_>>())
}

/// A racing run of `count` children that succeeds: one `shm_p: N` line,
/// 1 ≤ N ≤ count (the race is nondeterministic: a range, never a value),
/// and stderr explaining it. Returns N and stderr.
pub fn race<S: AsRef<OsStr> + Debug>(
    lab: &Lab,
    bin: &str,
    args: &[S],
    count: i64,
) -> (i64, String) {
    let out = lab.run(bin, args);
    let stderr = exits(&out, 0);
    let n = shm_p(&text(&out.stdout));
    assert!((1..=count).contains(&n), "{args:?}: shm_p {n}");
    says(&stderr, &[format!("expected {count}, got {n}")]);
    assert_race_explained(args, count, n, &stderr);
    (n, stderr)
}

/// Without a lock, the explanation a run prints under `shm_p` is exactly
/// the one the chapters show: how many were lost, then why (or that none
/// were, this time).
fn assert_race_explained<S: AsRef<OsStr> + Debug>(args: &[S], count: i64, n: i64, stderr: &str) {
    let args: Vec<String> = args
        .iter()
        .map(|a| a.as_ref().to_string_lossy().into())
        .collect();
    let flag = |name: &str| args.get(args.iter().position(|a| a == name)? + 1).cloned();
    if flag("--lock").is_some_and(|mode| mode != "none")
        || args.iter().any(|a| a == "--private")
        || count == 1
    {
        return;
    }
    let lost = count - n;
    let (updates, were) = [("updates", "were"), ("update", "was")][usize::from(lost == 1)];
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
    says_last(stderr, &expected);
}

/// Start `bin args`, send `signal` to the process `target(pid)` picks (the
/// program, or a child) once it picks one; the output, and how long the
/// program took to exit after the signal (at most 10 s).
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
    let out = run.finish_within(Duration::from_secs(10));
    let out = out.unwrap_or_else(|out| panic!("not ended 10 s after {signal}: {out:?}"));
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

/// Each signal of [`STOPPING`] sent to `bin args` once `ready(pid)`: exit
/// 128 + signal within 3 s, no result, `interrupted by SIG… {during}`, and
/// `released()` (its objects are gone).
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
        let stderr = exits(&out, status);
        assert!(out.stdout.is_empty(), "no result after {signal}: {out:?}");
        says(&stderr, &[format!("interrupted by {signal} {during}")]);
        assert!(took < Duration::from_secs(3), "{signal}: took {took:?}");
        assert!(released(), "{signal}: what the run created is still there");
    }
}

/// Every stopping signal while the children run under every `--lock`
/// (one asleep inside its critical section, the others waiting for the
/// lock): the lock's object goes with everything else.
pub fn assert_signals_release_every_lock(
    lab: &Lab,
    bin: &str,
    own: &[String],
    released: impl Fn() -> bool,
) {
    let ready = |pid| {
        let children = child_pids(pid);
        children.len() >= 4 && children.into_iter().any(in_nanosleep)
    };
    let during = "while 4 children ran; all were waited for";
    let gone = || released() && lab_tmpdir_is_empty(lab);
    for mode in ["none", "atomic", "flock", "semaphore"] {
        let args = with_flags(own, &format!("--count 4 --sleep-us 5000000 --lock {mode}"));
        assert_signals_end_the_run_cleanly(lab, bin, &args, ready, during, gone);
    }
}

pub(crate) fn lab_tmpdir_is_empty(lab: &Lab) -> bool {
    std::fs::read_dir(lab.tmpdir()).is_ok_and(|mut d| d.next().is_none())
}

/// `--lock` closes the race: every mode but `none` gives exactly 200 of
/// 200, five runs each, with no pause and with the default pause.
pub fn assert_every_lock_is_exact(lab: &Lab, bin: &str, own: &[String]) {
    for mode in ["atomic", "flock", "semaphore"] {
        for sleep in ["0", "1"] {
            let flags = format!("--count 200 --lock {mode} --sleep-us {sleep}");
            let args = with_flags(own, &flags);
            for _ in 0..5 {
                let (n, stderr) = race(lab, bin, &args, 200);
                assert_eq!(n, 200, "{args:?} lost updates:\n{stderr}");
                let exact = format!("--lock {mode}: ");
                says(&stderr, &[exact.as_str(), "so no update was lost."]);
                assert!(lab_tmpdir_is_empty(lab), "{args:?}: lock file left");
            }
        }
    }
}

/// `bin args` with stdout to a file: its status, and what the file holds,
/// every line once (lines are unique in these programs' output, so a
/// duplicate means a buffer copied by fork).
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
        assert!(seen.insert(line), "printed twice: {line:?} in:\n{written}");
    }
    (out.status, written)
}

/// Matrix cell 2: stdout a pipe whose reading end is closed (Rust
/// programs ignore SIGPIPE, so the write fails with EPIPE): exit 1, the
/// error and its hint, no panic.
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
    let stderr = exits(&lab.spawn(command).finish(), 1);
    let epipe = "write(1, result) failed: EPIPE (Broken pipe)\nhint: stdout is a pipe";
    says(&stderr, &[format!("{program}: {epipe}")]);
    crate::said::never_says(&stderr, &["panicked"]);
}

/// Matrix cell 6: fork fails part-way ([`Lab::with_few_processes`]); the
/// children that started are waited for and counted, exit 1, no result.
pub fn assert_fork_fails_part_way(lab: &Lab, bin: &str, program: &str, own: &[String]) -> String {
    let mut command = lab.with_few_processes(bin);
    command.args(with_flags(own, "--count 100 --sleep-us 100000"));
    let stderr = fails_without_result(&lab.spawn(command).finish());
    let prefix = format!("{program}: fork() failed after ");
    let line = stderr.lines().find(|l| l.starts_with(&prefix));
    let line = line.unwrap_or_else(|| panic!("a line names fork() and how many started: {stderr}"));
    let started = line[prefix.len()..].split(' ').next();
    let started = started.and_then(|n| n.parse().ok());
    let started: usize = started.unwrap_or_else(|| panic!("{line}"));
    assert!((1..100).contains(&started), "{line}");
    let eagain = " of 100 children had started: EAGAIN (Resource temporarily unavailable)";
    assert!(line.ends_with(eagain), "{line}");
    let waited = format!("The {started} children that did start were waited for.");
    says(&stderr, &[&waited, "ulimit -u"]);
    stderr
}

/// Matrix cells 3 and 4: each stopping signal once a memory demo has zeroed
/// 256 MiB of 6 GiB; Shmem comes back where it was.
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

/// A child killed by SIGKILL while it holds the semaphore (asleep in the
/// critical section) must not hang the parent. Returns stderr for each
/// family's checks (a POSIX semaphore stays taken; SEM_UNDO gives it back).
pub fn assert_a_killed_holder_does_not_hang(lab: &Lab, bin: &str, own: &[String]) -> String {
    let args = with_flags(own, "--count 4 --lock semaphore --sleep-us 1000000");
    kill_a_child_asleep(lab, bin, &args, 4)
}

/// `bin args` with `count` children, once they all exist: one asleep in
/// its pause is killed with SIGKILL. The run ends within 8 s, exit 1, no
/// result, naming the kill; its stderr.
pub(crate) fn kill_a_child_asleep(lab: &Lab, bin: &str, args: &[String], count: usize) -> String {
    let asleep = |pid| {
        let children = child_pids(pid);
        (children.len() >= count).then(|| children.into_iter().find(|&c| in_nanosleep(c)))?
    };
    let (out, took) = signal_when(lab, bin, args, asleep, Signal::SIGKILL);
    let stderr = fails_without_result(&out);
    says(&stderr, &["was killed by SIGKILL"]);
    assert!(took < Duration::from_secs(8), "took {took:?}");
    stderr
}

/// After [`assert_a_killed_holder_does_not_hang`] with a POSIX semaphore:
/// the three waiters each found the holder dead and ended, and their
/// common error was printed once.
pub fn assert_the_waiters_said_the_holder_died(stderr: &str) {
    let died = ", which died without giving it back: a POSIX semaphore is only a counter in memory";
    crate::said::says_once(stderr, died);
    let exited = stderr.matches(") exited with status 1").count();
    assert_eq!(exited, 3, "{stderr}");
    crate::said::never_says(stderr, &["was stuck"]);
}

/// After memory was truncated under the children's mapping: each child
/// survived SIGBUS on a zero page of its own and ended; their common
/// error (holding `went_away`) was said once, and no result printed.
pub fn assert_sigbus_said_once(out: &Output, went_away: &str, children: usize) -> String {
    let stderr = fails_without_result(out);
    crate::said::says_once(&stderr, went_away);
    let ended = stderr.matches("exited with status 1").count();
    assert_eq!(ended, children, "{stderr}");
    stderr
}

/// Truncate the file at `path` to 0 bytes, as another process would.
pub fn truncate(path: impl AsRef<Path>) {
    let file = std::fs::OpenOptions::new().write(true).open(path);
    file.and_then(|f| f.set_len(0)).expect("truncate");
}

/// `bin args` started, once it has `count` children all asleep in their
/// critical section (between their read and their write).
pub fn start_asleep<S: AsRef<OsStr>>(lab: &Lab, bin: &str, args: &[S], count: usize) -> Running {
    let mut run = lab.start(bin, args);
    let pid = run.pid();
    let asleep = format!("{count} children asleep in the critical section");
    run.wait_until(&asleep, || {
        let children = child_pids(pid);
        children.len() == count && children.into_iter().all(in_nanosleep)
    });
    run
}

/// `-h`: one line per flag, none wider than the 100 columns clap wraps to
/// without a terminal. `--help`: longer, as narrow, no literal backtick,
/// and holding each of `explains`.
pub fn assert_help_is_short_and_long(lab: &Lab, bin: &str, explains: &[&str]) {
    let short = lab.run(bin, &["-h"]);
    let long = lab.run(bin, &["--help"]);
    assert!(short.status.success() && long.status.success());
    let (short, long) = (text(&short.stdout), text(&long.stdout));
    let options = short.split("Options:\n").nth(1);
    let options = options.unwrap_or_else(|| panic!("no Options in -h:\n{short}"));
    for line in options.lines() {
        let one = line.trim_start().starts_with('-') && line.len() <= 100;
        assert!(
            one,
            "-h: one line of at most 100 columns a flag:\n{line}\nin\n{short}"
        );
    }
    let more = long.len() > short.len() * 2;
    assert!(more, "--help explains more:\n{long}");
    let narrow = long.lines().all(|line| line.chars().count() <= 100);
    assert!(narrow, "--help wraps at 100 columns:\n{long}");
    crate::said::never_says(&long, &["`"]);
    says(&long, explains);
}

/// `script` (sh) run in a private mount namespace, where it may mount a
/// small tmpfs nobody else sees: its stdout and stderr. `None`, saying
/// why, without root and unshare.
pub fn in_private_mounts(lab: &Lab, script: &str) -> Option<(String, String)> {
    if !crate::is_root() || !crate::has("unshare") {
        crate::skip("needs root (and unshare) to mount a small full tmpfs in a private namespace");
        return None;
    }
    let mut command = Command::new("unshare");
    command.args("--mount --propagation private -- sh -c".split(' '));
    command.arg(script).stdin(Stdio::null());
    command.stdout(Stdio::piped()).stderr(Stdio::piped());
    let out = lab.spawn(command).finish();
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(0), "{stdout}{stderr}");
    Some((stdout, stderr))
}

/// A memory cgroup with a limit, under this process's own: the container
/// or systemd slice a student's demo may run in, made real. Named after
/// the lab's tag, so two test runs never share one; removed when dropped
/// (after the programs run in it have ended).
#[derive(Debug)]
pub struct MemoryCgroup {
    dir: PathBuf,
    setting: &'static str,
}

impl MemoryCgroup {
    /// A child cgroup limited to `limit` bytes: v2 if this cgroup lists
    /// `memory` in its cgroup.subtree_control, else v1. `None`, saying why,
    /// unless root on a machine with a memory controller.
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
        let file = made.dir.join(setting);
        let written = std::fs::write(&file, limit.to_string());
        written.unwrap_or_else(|e| panic!("cannot write {limit} to {}: {e}", file.display()));
        Some(made)
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The file its limit is in: `memory.max` (v2), `memory.limit_in_bytes` (v1).
    pub fn setting(&self) -> &'static str {
        self.setting
    }

    /// [`Lab::command`] for `bin`, whose wrapper moves itself into this
    /// cgroup before it execs the program (the test process stays put).
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
                    let dir = self.dir.display();
                    let message = format!(
                        "cannot remove the test's cgroup {dir} within 5 s: {e}; remove it with: rmdir {dir}"
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

/// How much more page cache other processes may add while a memory demo
/// measures: a program whose pages the kernel had reclaimed, started by
/// another user's tests, reads tens of MiB back in within a tenth of a second.
pub const OTHERS_CACHE_MIB: i64 = 48;

/// Whether a demo's `Cached` row rose by `expected` MiB: at least
/// `expected - slack`, at most [`OTHERS_CACHE_MIB`] more (twice the size
/// would be counting it twice).
pub fn cached_rose_by(stdout: &str, expected: i64, slack: i64) -> bool {
    let moved = change(stdout, "Cached");
    (expected - slack..=expected + slack + OTHERS_CACHE_MIB).contains(&moved)
}

/// A memory demo run until [`cached_rose_by`] `expected` MiB, three runs at
/// most; the last run's output. Cached is the whole machine's page cache,
/// which the kernel takes from too (on the CI machine a DAMON reclaimer
/// frees cold pages, tens of MiB at a time); the caller asserts every row.
pub fn run_until_cached_moves(
    lab: &Lab,
    bin: &str,
    args: &[&str],
    expected: i64,
    slack: i64,
) -> Output {
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
