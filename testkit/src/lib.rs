//! What every test that touches machine-wide shared-memory state needs.
//!
//! System V segments and semaphore sets, files in /dev/shm and
//! `vm.nr_hugepages` belong to the whole machine, not to one test. Two
//! tests running at once would see each other's objects (and a test that
//! asserts "nothing was left behind" would blame the wrong one), and two
//! runs of a program with the same default key would collide. So:
//!
//! - [`Machine::lock`] takes an exclusive `flock` on one lock file in the
//!   temp directory. Tests in one binary, in several binaries, and under
//!   cargo-nextest's one-process-per-test all queue on it.
//! - It also snapshots the machine's IPC objects. [`Machine::assert_unchanged`]
//!   compares with a new snapshot: anything added is removed (so one
//!   failing test does not poison the next) and the test fails naming it.
//!   If the test panics first, `Drop` still removes what was added.
//!
//! Beside that, the few things every program's tests do: run the binary,
//! read its `shm_p: N` line, run it as an unprivileged user, signal it.
//!
//! This crate is a dev-dependency only; the programs never link it.

use std::collections::BTreeSet;
use std::fs::{File, OpenOptions};
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use nix::fcntl::{Flock, FlockArg};
pub use nix::sys::signal::Signal;
use nix::sys::signal::kill;
pub use nix::unistd::Pid;

/// The lock file every test queues on.
pub fn lock_path() -> PathBuf {
    std::env::temp_dir().join("shm-lessons-tests.lock")
}

/// The machine-wide IPC state: what `ipcs -m`, `ipcs -s`, `ls /dev/shm` and
/// `/proc/sys/vm/nr_hugepages` show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    /// System V shared memory: (key as ipcs prints it, shmid).
    pub segments: BTreeSet<(String, i64)>,
    /// System V semaphore sets: (key, semid).
    pub semaphores: BTreeSet<(String, i64)>,
    /// Names in /dev/shm.
    pub dev_shm: BTreeSet<String>,
    pub nr_hugepages: u64,
}

impl Snapshot {
    pub fn take() -> Snapshot {
        Snapshot {
            segments: sysvipc("shm", "shmid"),
            semaphores: sysvipc("sem", "semid"),
            dev_shm: std::fs::read_dir("/dev/shm")
                .map(|dir| {
                    dir.filter_map(|e| e.ok())
                        .map(|e| e.file_name().to_string_lossy().into_owned())
                        .collect()
                })
                .unwrap_or_default(),
            nr_hugepages: nr_hugepages(),
        }
    }

    /// What `now` has that `self` had not, described one object per line,
    /// with the command that removes it.
    fn added_in(&self, now: &Snapshot) -> Vec<Leftover> {
        let mut added = Vec::new();
        for (key, id) in now.segments.difference(&self.segments) {
            added.push(Leftover::Segment(key.clone(), *id));
        }
        for (key, id) in now.semaphores.difference(&self.semaphores) {
            added.push(Leftover::Semaphore(key.clone(), *id));
        }
        for name in now.dev_shm.difference(&self.dev_shm) {
            added.push(Leftover::DevShm(name.clone()));
        }
        if now.nr_hugepages != self.nr_hugepages {
            added.push(Leftover::HugePages(self.nr_hugepages, now.nr_hugepages));
        }
        added
    }
}

/// One object a test left on the machine.
#[derive(Debug)]
enum Leftover {
    Segment(String, i64),
    Semaphore(String, i64),
    DevShm(String),
    HugePages(u64, u64),
}

impl Leftover {
    fn describe(&self) -> String {
        match self {
            Leftover::Segment(key, id) => {
                format!("System V segment key {key} shmid {id} (ipcrm -m {id})")
            }
            Leftover::Semaphore(key, id) => {
                format!("System V semaphore set key {key} semid {id} (ipcrm -s {id})")
            }
            Leftover::DevShm(name) => format!("/dev/shm/{name} (rm /dev/shm/{name})"),
            Leftover::HugePages(was, now) => {
                format!(
                    "vm.nr_hugepages is {now}, was {was} (echo {was} > /proc/sys/vm/nr_hugepages)"
                )
            }
        }
    }

    fn remove(&self) {
        let _ = match self {
            Leftover::Segment(_, id) => Command::new("ipcrm")
                .args(["-m", &id.to_string()])
                .output()
                .map(drop),
            Leftover::Semaphore(_, id) => Command::new("ipcrm")
                .args(["-s", &id.to_string()])
                .output()
                .map(drop),
            Leftover::DevShm(name) => std::fs::remove_file(format!("/dev/shm/{name}")),
            Leftover::HugePages(was, _) => {
                std::fs::write("/proc/sys/vm/nr_hugepages", was.to_string())
            }
        };
    }
}

/// Exclusive use of the machine's IPC state for one test.
#[derive(Debug)]
pub struct Machine {
    _lock: Flock<File>,
    before: Snapshot,
    checked: bool,
}

impl Machine {
    /// Wait for every other test holding the lock, then snapshot.
    pub fn lock() -> Machine {
        let path = lock_path();
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .unwrap_or_else(|e| panic!("cannot open the test lock {}: {e}", path.display()));
        let lock = Flock::lock(file, FlockArg::LockExclusive)
            .unwrap_or_else(|(_, errno)| panic!("cannot flock {}: {errno}", path.display()));
        Machine {
            _lock: lock,
            before: Snapshot::take(),
            checked: false,
        }
    }

    /// The state when the lock was taken.
    pub fn before(&self) -> &Snapshot {
        &self.before
    }

    /// Fail, after removing them, if IPC objects were added or
    /// nr_hugepages changed since [`Machine::lock`].
    pub fn assert_unchanged(mut self) {
        self.checked = true;
        let added = self.before.added_in(&Snapshot::take());
        for leftover in &added {
            leftover.remove();
        }
        let lines: Vec<String> = added.iter().map(Leftover::describe).collect();
        assert!(
            lines.is_empty(),
            "the test left behind (now removed):\n  {}",
            lines.join("\n  ")
        );
    }
}

impl Drop for Machine {
    fn drop(&mut self) {
        // A test that panicked before its check: clean up quietly so the
        // next test starts from the same state; the panic already failed it.
        if !self.checked {
            for leftover in self.before.added_in(&Snapshot::take()) {
                leftover.remove();
            }
        }
    }
}

/// (key as ipcs prints it, id) of every object in /proc/sysvipc/`which`.
fn sysvipc(which: &str, id_column: &str) -> BTreeSet<(String, i64)> {
    common::xsi::sysvipc_table(which)
        .into_iter()
        .filter_map(|row| {
            let key: i32 = row.get("key")?.parse().ok()?;
            let id: i64 = row.get(id_column)?.parse().ok()?;
            Some((format!("{:#010x}", key as u32), id))
        })
        .collect()
}

pub fn nr_hugepages() -> u64 {
    std::fs::read_to_string("/proc/sys/vm/nr_hugepages")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(0)
}

/// Run the ```console transcripts of each docs chapter against the real
/// program `name` at `bin` (trycmd): if the program's output changes, the
/// chapter must change with it. Under the machine lock, one chapter after
/// the other (trycmd would run several files at once, and two memory demos
/// or two runs with one key must not overlap), and nothing may be left.
pub fn check_transcripts(name: &str, bin: &str, chapters: &[&str]) {
    let machine = Machine::lock();
    let docs = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs");
    for chapter in chapters {
        trycmd::TestCases::new()
            .register_bin(name, std::path::Path::new(bin))
            .case(docs.join(chapter))
            .run();
    }
    machine.assert_unchanged();
}

/// Run `bin` with `args`, stdin closed, and collect everything.
pub fn run(bin: &str, args: &[&str]) -> Output {
    Command::new(bin)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {bin}: {e}"))
}

/// Start `bin args` in the background, stdin closed, stdout and stderr
/// piped; collect it later with `wait_with_output`.
pub fn start(bin: &str, args: &[&str]) -> std::process::Child {
    Command::new(bin)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {bin}: {e}"))
}

/// Bytes as text, for messages and matching.
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Run `bin args` with stdout a pipe whose reading end is already closed:
/// its first write fails with EPIPE (Rust programs ignore SIGPIPE). A
/// real fault that strikes after the program has created its objects.
pub fn run_with_closed_stdout(bin: &str, args: &[&str]) -> Output {
    let (read_end, write_end) = nix::unistd::pipe().expect("pipe");
    drop(read_end);
    Command::new(bin)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::from(write_end))
        .stderr(Stdio::piped())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {bin}: {e}"))
}

/// Run `bin args` with stdout redirected to a file (fully buffered in C,
/// where fork duplicates unflushed output), and return what the file holds
/// and the exit status. Every line must appear once: lines are unique in
/// these programs' output, so a duplicate means a buffer copied by fork.
pub fn run_to_file(bin: &str, args: &[&str]) -> (std::process::ExitStatus, String) {
    let path = std::env::temp_dir().join(format!(
        "shm-lessons-stdout-{}-{}.txt",
        std::process::id(),
        unique()
    ));
    let file = std::fs::File::create(&path).expect("create the stdout file");
    let status = Command::new(bin)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::from(file))
        .stderr(Stdio::null())
        .status()
        .unwrap_or_else(|e| panic!("cannot run {bin}: {e}"));
    let written = std::fs::read_to_string(&path).unwrap_or_default();
    let _ = std::fs::remove_file(&path);
    let mut seen = BTreeSet::new();
    for line in written.lines().filter(|l| !l.trim().is_empty()) {
        assert!(
            seen.insert(line.to_owned()),
            "line printed twice: {line:?}\nin:\n{written}"
        );
    }
    (status, written)
}

/// A racing program with stdout redirected to a file: exit 0, and the file
/// holds the one `shm_p: N` line once, 1 ≤ N ≤ 20 (no stdio buffer was
/// copied into the children by fork).
pub fn assert_race_to_a_file_prints_once(bin: &str) {
    let (status, written) = run_to_file(bin, &["--count", "20"]);
    assert!(status.success(), "{written}");
    assert!((1..=20).contains(&shm_p(&written)), "{written}");
}

/// The value of the one `shm_p: N` line that must be all of stdout.
pub fn shm_p(stdout: &str) -> i64 {
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(
        lines.len(),
        1,
        "stdout must be exactly one line, got {stdout:?}"
    );
    assert!(
        stdout.ends_with('\n'),
        "the line ends with a newline: {stdout:?}"
    );
    lines[0]
        .strip_prefix("shm_p: ")
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("not a `shm_p: N` line: {stdout:?}"))
}

/// A usage error, as every program must give one: exit status 2, nothing
/// on stdout, clap's `error:` line on stderr saying `says`, no panic.
pub fn assert_usage_error(args: &[&str], out: &Output, says: &str) {
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
    assert!(
        out.stdout.is_empty(),
        "{args:?} printed to stdout: {}",
        text(&out.stdout)
    );
    assert!(stderr.starts_with("error: "), "{args:?}: {stderr}");
    assert!(
        stderr.contains(says),
        "{args:?} should say {says:?}: {stderr}"
    );
    assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
}

/// Run a racing program expected to succeed with `count` children, and
/// check what every one of them promises: exit 0, stdout exactly one
/// `shm_p: N` line with 1 ≤ N ≤ count (the race is nondeterministic: a
/// range, never a value), stderr stating expected vs got. Returns N and
/// stderr.
pub fn race(bin: &str, args: &[&str], count: i64) -> (i64, String) {
    let out = run(bin, args);
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
    (n, stderr)
}

/// The "change" column of a memory demo's before/after table: `Shmem`,
/// `Cached`, `MemFree` (MiB) or `HugePages_Free` (pages).
pub fn change(stdout: &str, row: &str) -> i64 {
    stdout
        .lines()
        .find(|line| line.split_whitespace().next() == Some(row))
        .and_then(|line| line.split_whitespace().nth(5))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no {row} row with a change in:\n{stdout}"))
}

/// The minor page faults on the report's `zeroed ...` line.
pub fn faults(stdout: &str) -> u64 {
    stdout
        .lines()
        .find(|line| line.starts_with("zeroed "))
        .and_then(|line| line.split(": ").nth(1))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no `zeroed ...: N minor page faults` line in:\n{stdout}"))
}

/// Whether this test runs as root (CI does).
pub fn is_root() -> bool {
    nix::unistd::Uid::effective().is_root()
}

/// Whether a command-line tool is installed.
pub fn has(tool: &str) -> bool {
    Command::new(tool)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok()
}

/// A copy of a program that user `nobody` can run, in a fresh temp dir
/// (the build's target/ may sit under a home `nobody` cannot enter).
/// Removed on drop.
#[derive(Debug)]
pub struct AsNobody {
    dir: PathBuf,
    bin: PathBuf,
}

impl AsNobody {
    /// `None` unless root with setpriv and prlimit (util-linux) available:
    /// only root can switch to another user.
    pub fn new(bin: &str) -> Option<AsNobody> {
        use std::os::unix::fs::PermissionsExt;
        if !is_root() || !has("setpriv") || !has("prlimit") {
            return None;
        }
        let name = std::path::Path::new(bin).file_name()?.to_owned();
        let dir = std::env::temp_dir().join(format!(
            "shm-lessons-nobody-{}-{}",
            std::process::id(),
            unique()
        ));
        std::fs::create_dir_all(&dir).ok()?;
        let copy = dir.join(name);
        std::fs::copy(bin, &copy).ok()?;
        for path in [&dir, &copy] {
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).ok()?;
        }
        Some(AsNobody { dir, bin: copy })
    }

    /// The program, run as nobody/nogroup, with at most `nproc` processes
    /// for that user if given (RLIMIT_NPROC, which root ignores).
    pub fn command(&self, nproc: Option<u32>) -> Command {
        let mut cmd = Command::new("prlimit");
        if let Some(n) = nproc {
            cmd.arg(format!("--nproc={n}:{n}"));
        }
        cmd.args([
            "--",
            "setpriv",
            "--reuid=nobody",
            "--regid=nogroup",
            "--clear-groups",
            "--",
        ])
        .arg(&self.bin)
        .stdin(Stdio::null());
        cmd
    }
}

impl Drop for AsNobody {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn unique() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// How many child processes `pid` has right now.
pub fn children_of(pid: Pid) -> usize {
    std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children"))
        .map(|s| s.split_whitespace().count())
        .unwrap_or(0)
}

/// Whether process `pid` is asleep (state S), as a demo is while it holds
/// its memory, and not while it zeroes it.
pub fn sleeping(pid: Pid) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|stat| {
            stat.rsplit(')')
                .next()
                .map(|rest| rest.trim_start().starts_with('S'))
        })
        .unwrap_or(false)
}

/// Shmem from /proc/meminfo, in MiB.
pub fn shmem_mib() -> i64 {
    meminfo_field("Shmem:") / 1024
}

/// One field of /proc/meminfo, as the kernel prints it (KiB or pages).
pub fn meminfo_field(name: &str) -> i64 {
    std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|text| {
            text.lines()
                .find(|l| l.starts_with(name))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|n| n.parse().ok())
        })
        .unwrap_or_else(|| panic!("no {name} in /proc/meminfo"))
}

/// Start `bin args`, wait until `ready(pid)` says it has reached the phase
/// to interrupt (polling for up to 10 s), send `signal` to it alone, and
/// collect its output. Also returns how long it took to exit after the
/// signal. Panics (after killing it) if it never gets ready or does not
/// exit within 10 s of the signal.
pub fn interrupt_when(
    bin: &str,
    args: &[&str],
    ready: impl Fn(Pid) -> bool,
    signal: Signal,
) -> (Output, Duration) {
    signal_when(bin, args, |pid| ready(pid).then_some(pid), signal)
}

/// Like [`interrupt_when`], but `target(pid)` picks the process to signal
/// (the program itself, or one of its children) once it is time.
pub fn signal_when(
    bin: &str,
    args: &[&str],
    target: impl Fn(Pid) -> Option<Pid>,
    signal: Signal,
) -> (Output, Duration) {
    let mut child = Command::new(bin)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {bin}: {e}"));
    let pid = Pid::from_raw(child.id() as i32);
    let start = Instant::now();
    let victim = loop {
        if let Some(victim) = target(pid) {
            break victim;
        }
        if start.elapsed() > Duration::from_secs(10) {
            let _ = child.kill();
            let out = child.wait_with_output().unwrap();
            panic!("{bin} never got ready: {}", text(&out.stderr));
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    kill(victim, signal).expect("signal the process");
    let sent = Instant::now();
    loop {
        if let Ok(Some(_)) = child.try_wait() {
            break;
        }
        if sent.elapsed() > Duration::from_secs(10) {
            let _ = child.kill();
            break;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let took = sent.elapsed();
    let out = child.wait_with_output().unwrap();
    assert!(
        took < Duration::from_secs(10),
        "{bin} did not exit within 10 s of {signal}"
    );
    (out, took)
}

/// The children of `pid`, by pid.
pub fn child_pids(pid: Pid) -> Vec<Pid> {
    std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children"))
        .map(|s| {
            s.split_whitespace()
                .filter_map(|p| p.parse().ok())
                .map(Pid::from_raw)
                .collect()
        })
        .unwrap_or_default()
}

/// Whether `pid` is asleep in nanosleep/clock_nanosleep right now: in a
/// racing child, that is the pause *inside* the critical section.
pub fn in_nanosleep(pid: Pid) -> bool {
    let sleeps = [nix::libc::SYS_clock_nanosleep, nix::libc::SYS_nanosleep];
    std::fs::read_to_string(format!("/proc/{pid}/syscall"))
        .ok()
        .and_then(|s| {
            s.split_whitespace()
                .next()
                .and_then(|n| n.parse::<i64>().ok())
        })
        .is_some_and(|n| sleeps.contains(&n))
}

/// `--lock` closes the race: with every mode but `none`, `--count 200`
/// gives exactly 200, five runs each, with no pause and with the default
/// pause; stderr names the lock; a lock file the run created is gone.
pub fn assert_every_lock_is_exact(bin: &str, program: &str) {
    let lock_file = std::env::temp_dir().join(format!("{program}.lock"));
    let existed = lock_file.exists();
    for mode in ["atomic", "flock", "semaphore"] {
        for sleep in ["0", "1"] {
            for _ in 0..5 {
                let args = ["--count", "200", "--lock", mode, "--sleep-us", sleep];
                let (n, stderr) = race(bin, &args, 200);
                assert_eq!(n, 200, "{args:?} lost updates:\n{stderr}");
                assert!(
                    stderr.contains(&format!("--lock {mode}: ")),
                    "{args:?}: {stderr}"
                );
                assert!(
                    stderr.contains("so no update was lost."),
                    "{args:?}: {stderr}"
                );
                assert_eq!(
                    lock_file.exists(),
                    existed,
                    "{args:?}: the lock file the run created is gone"
                );
            }
        }
    }
}

/// Matrix cell 5: a child killed by SIGKILL (the one asleep in its pause)
/// is reported by the parent, which prints no result and exits 1.
pub fn assert_a_killed_child_is_reported(bin: &str, program: &str) {
    let (out, _) = signal_when(
        bin,
        &["--count", "3", "--sleep-us", "1000000"],
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

/// Matrix cell 6: as `nobody` with at most 8 processes, fork fails
/// part-way: the program stops, waits for the children that started,
/// says how many, exits 1, prints no result. `None` if this test cannot
/// switch users (not root); otherwise stderr, for program-specific checks.
pub fn assert_fork_fails_part_way(bin: &str, program: &str) -> Option<String> {
    let Some(nobody) = AsNobody::new(bin) else {
        eprintln!(
            "skipped: needs root, setpriv and prlimit to run as nobody with a low RLIMIT_NPROC"
        );
        return None;
    };
    let out = nobody
        .command(Some(8))
        .args(["--count", "100", "--sleep-us", "100000"])
        .output()
        .expect("run as nobody");
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
    Some(stderr)
}

/// Matrix cells 3 and 4 for a memory demo's zeroing: SIGINT, then
/// SIGTERM, once 256 MiB of a 6 GiB zeroing is done: exit 130 / 143,
/// "interrupted ... while zeroing", and Shmem back where it was.
pub fn assert_signals_stop_the_zeroing(bin: &str) {
    let base = shmem_mib();
    assert_signals_end_the_run_cleanly(
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
/// saying `says`; the first finishes undisturbed with exactly 5.
pub fn assert_a_second_run_fails_clearly(bin: &str, holding: impl Fn() -> bool, says: &str) {
    let first = start(
        bin,
        &[
            "--count",
            "5",
            "--lock",
            "semaphore",
            "--sleep-us",
            "200000",
        ],
    );
    while !holding() {
        std::thread::sleep(Duration::from_millis(5));
    }
    let second = run(bin, &[]);
    let stderr = text(&second.stderr);
    assert_eq!(second.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("failed: EEXIST (File exists)"), "{stderr}");
    assert!(stderr.contains(says), "{stderr}");
    let first = first.wait_with_output().unwrap();
    assert!(first.status.success(), "{}", text(&first.stderr));
    assert_eq!(
        shm_p(&text(&first.stdout)),
        5,
        "the first run was not disturbed"
    );
}

/// Matrix cell 9 where the runs cannot meet (private memory): two runs of
/// a memory demo at once both succeed, each reporting its own Shmem rise.
pub fn assert_two_memory_runs_both_succeed(bin: &str) {
    let args = ["--size", "64M", "--hold", "1"];
    let first = start(bin, &args);
    let second = run(bin, &args);
    let first = first.wait_with_output().unwrap();
    for out in [first, second] {
        assert!(out.status.success(), "{}", text(&out.stderr));
        assert!(
            change(&text(&out.stdout), "Shmem") >= 60,
            "{}",
            text(&out.stdout)
        );
    }
}

/// Matrix cell 2 by a closed stdout: the result cannot be written after
/// everything was created; exit 1 with `PROGRAM: write(1, result) failed:
/// EPIPE` and its hint, no panic.
pub fn assert_a_closed_stdout_fails_cleanly(bin: &str, program: &str, args: &[&str]) {
    let out = run_with_closed_stdout(bin, args);
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

/// A child killed by SIGKILL while it holds the semaphore (found asleep
/// in the critical section) must not hang the parent: it exits 1 within
/// a bound, naming the killed child. Returns stderr for family-specific
/// checks (a POSIX semaphore leaves the others stuck; SEM_UNDO does not).
pub fn assert_a_killed_holder_does_not_hang(bin: &str) -> String {
    let (out, took) = signal_when(
        bin,
        &[
            "--count",
            "4",
            "--lock",
            "semaphore",
            "--sleep-us",
            "1000000",
        ],
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

/// The promise every program makes about Ctrl-C and SIGTERM: run `bin
/// args` twice, interrupting it with SIGINT and then SIGTERM once
/// `ready(pid)`; each time it must exit 130 / 143 within 3 s, print nothing
/// on stdout, say `interrupted by SIG… {during}` on stderr, and leave
/// `released()` true (its objects are gone).
pub fn assert_signals_end_the_run_cleanly(
    bin: &str,
    args: &[&str],
    ready: impl Fn(Pid) -> bool,
    during: &str,
    released: impl Fn() -> bool,
) {
    for (signal, status) in [(Signal::SIGINT, 130), (Signal::SIGTERM, 143)] {
        let (out, took) = interrupt_when(bin, args, &ready, signal);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_segment_left_behind_is_named_removed_and_fails_the_check() {
        let machine = Machine::lock();
        let out = Command::new("ipcmk")
            .args(["-M", "4096"])
            .output()
            .expect("ipcmk (util-linux)");
        assert!(out.status.success());
        let result =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| machine.assert_unchanged()));
        let message = result.expect_err("a leftover must fail the check");
        let text = message
            .downcast_ref::<String>()
            .cloned()
            .unwrap_or_default();
        assert!(text.contains("System V segment key 0x"), "{text}");
        // ...and it was removed: no segment now is the one named.
        let now = Snapshot::take();
        assert!(
            now.segments
                .iter()
                .all(|(_, id)| !text.contains(&format!("shmid {id} "))),
            "{text}"
        );
    }

    #[test]
    fn a_clean_test_passes_the_check() {
        let machine = Machine::lock();
        machine.assert_unchanged();
    }
}
