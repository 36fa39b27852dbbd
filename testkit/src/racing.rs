//! The cases the three racing programs share, written once: each is a
//! function run for a [`Racer`] (a program of [`cases::PROGRAMS`], whose
//! [`Names`] say how its memory is found again), and
//! [`racing_faults!`](crate::racing_faults), [`racing_meet!`](crate::racing_meet)
//! and [`racing_trust!`](crate::racing_trust) make one `#[test]` of each in
//! the program's test file. The cells named are those of the fault matrix
//! in docs/reliability.md.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::{Duration, Instant};

use common::system::sysvipc;
use nix::sys::signal::Signal;

use crate::cases::{self, Names, Program};
use crate::checks::{kill_a_child_asleep, lab_tmpdir_is_empty, run_to_file, with_flags};
use crate::lab::{Lab, LabKey};
use crate::output::{shm_p, text};
use crate::plant::{PlantedSemaphore, PlantedSet};
use crate::probe::{child_pids, children_of, sleeping};
use crate::run::Running;
use crate::said::{exits, fails_without_result, never_says, says, says_once};

/// A racing program of [`cases::PROGRAMS`], with the path of its binary.
#[derive(Debug, Clone, Copy)]
pub struct Racer {
    pub bin: &'static str,
    pub program: &'static Program,
}

/// The racer at `bin` (`env!("CARGO_BIN_EXE_…")`).
pub fn row(bin: &'static str) -> Racer {
    let name = Path::new(bin).file_name().and_then(|n| n.to_str());
    let program = cases::program(name.unwrap_or(bin));
    assert!(program.memory.is_none(), "{bin} is not a racing program");
    Racer { bin, program }
}

impl Racer {
    /// Memory of a run's own: a key or a name from `lab`, or none.
    pub fn own(&self, lab: &Lab) -> Own {
        match self.program.names {
            Names::None => Own::Anonymous,
            Names::Key => Own::Key(lab.key()),
            Names::Name => Own::Name(lab.name()),
        }
    }

    fn name(&self) -> &'static str {
        self.program.name
    }

    /// `case` in a fresh lab with memory of its own; then all must be gone.
    fn in_a_lab(&self, case: impl FnOnce(&Lab, &Own)) {
        let lab = Lab::new();
        let own = self.own(&lab);
        case(&lab, &own);
        assert!(!own.exists(), "{}: the run's memory is gone", self.name());
        lab.assert_clean();
    }
}

#[derive(Debug, Clone)]
pub enum Own {
    Anonymous,
    Key(LabKey),
    Name(String),
}

impl Own {
    /// The flags that name this memory, then `flags` (split at spaces).
    pub fn with(&self, flags: &str) -> Vec<String> {
        match self {
            Own::Anonymous => with_flags(&[], flags),
            Own::Key(key) => with_flags(&key.with(&[]), flags),
            Own::Name(name) => with_flags(&[String::from("--name"), name.clone()], flags),
        }
    }

    pub fn exists(&self) -> bool {
        match self {
            Own::Anonymous => false,
            Own::Key(key) => sysvipc::segment_with_key(key.key.raw()).is_some(),
            Own::Name(_) => Path::new(&self.object()).exists(),
        }
    }

    fn object(&self) -> String {
        format!("/dev/shm{}", self.name())
    }

    fn semaphore(&self) -> String {
        format!("/dev/shm/sem.{}", &self.name()[1..])
    }

    fn name(&self) -> &str {
        match self {
            Own::Name(name) => name,
            _ => panic!("only a POSIX object has a name"),
        }
    }

    fn key(&self) -> &LabKey {
        match self {
            Own::Key(key) => key,
            _ => panic!("only a System V segment has a key"),
        }
    }

    /// The (what, mode) of each object a run makes for `lock`, once all exist.
    fn modes(&self, lock: &str) -> Option<Vec<(String, u32)>> {
        let semaphore = lock == "semaphore";
        Some(match self {
            Own::Anonymous => Vec::new(),
            Own::Key(key) => {
                let raw = key.key.raw();
                let mut modes = vec![(
                    String::from("segment"),
                    sysvipc::segment_with_key(raw)?.mode & 0o777,
                )];
                if semaphore {
                    let sets = sysvipc::semaphore_sets();
                    let set = sets.into_iter().find(|set| set.key == raw)?;
                    modes.push((String::from("semaphore set"), set.mode & 0o777));
                }
                modes
            }
            Own::Name(_) => {
                let mut paths = vec![self.object()];
                if semaphore {
                    paths.push(self.semaphore());
                }
                let mode = |path: &String| {
                    let meta = std::fs::metadata(path).ok()?;
                    Some((path.clone(), meta.permissions().mode() & 0o777))
                };
                paths.iter().map(mode).collect::<Option<_>>()?
            }
        })
    }

    /// A semaphore planted under this key or name, taken (value 0), owned
    /// by `owner` or by the test's user.
    fn plant(&self, owner: Option<u32>) -> Planted {
        match self {
            Own::Key(key) => Planted::Set(crate::plant::semaphore_set(&key.key, 0, owner)),
            _ => Planted::Named(crate::plant::named_semaphore(self.name(), 0, owner)),
        }
    }
}

enum Planted {
    Set(PlantedSet),
    Named(PlantedSemaphore),
}

impl Planted {
    fn value(&self) -> i32 {
        match self {
            Planted::Set(set) => set.value(),
            Planted::Named(semaphore) => semaphore.value(),
        }
    }
}

/// One `#[test]` per case of a `testkit` module for the program at `bin`:
/// `table_cases!(bin, racing; case, …)` calls `racing::case(&racing::row(bin))`.
#[doc(hidden)]
#[macro_export]
macro_rules! table_cases {
    ($bin:expr, $module:ident; $($case:ident),+ $(,)?) => {
        $(
            #[test]
            fn $case() {
                $crate::$module::$case(&$crate::$module::row($bin));
            }
        )+
    };
}

/// The faults every racing program meets the same way (faults.rs); with
/// `named`, also those of a memory found by a key or a name. (racing_mmap's
/// fork case is its cli.rs test, which docs/racing_mmap.md cites.)
#[macro_export]
macro_rules! racing_faults {
    ($bin:expr, named) => {
        $crate::racing_faults!($bin);
        $crate::table_cases!($bin, racing;
            two_runs_at_once_one_fails_clearly_the_other_is_untouched,
            a_fork_that_fails_part_way_releases_the_memory,
        );
    };
    ($bin:expr) => {
        $crate::table_cases!($bin, racing;
            a_closed_stdout_is_an_error_and_the_memory_is_released,
            a_child_killed_by_sigkill_is_reported_and_the_memory_released,
            concurrent_flock_runs_do_not_break_each_other,
            an_unwritable_lock_directory_is_one_clear_error,
            the_memory_the_semaphore_and_the_lock_file_are_0600_whatever_the_umask,
            stdout_to_a_file_holds_each_line_once,
            a_huge_count_is_a_usage_error_not_an_abort,
        );
    };
}

/// Runs that meet by a key or a name (meet.rs).
#[macro_export]
macro_rules! racing_meet {
    ($bin:expr) => {
        $crate::table_cases!($bin, racing;
            a_joiner_started_on_its_own_reads_adds_and_leaves_the_memory_to_its_creator,
            with_nothing_to_join_it_says_which_program_to_start,
        );
    };
}

/// A joiner that finds, by the key or name, something it must not trust
/// (trust.rs).
#[macro_export]
macro_rules! racing_trust {
    ($bin:expr) => {
        $crate::table_cases!($bin, racing;
            a_joiner_whose_creator_ends_meanwhile_says_so_once,
            a_joiner_of_a_run_without_a_semaphore_is_told_so,
            a_joiner_of_another_users_memory_is_told_whose_it_is,
            a_semaphore_another_user_planted_is_refused,
            a_semaphore_held_by_another_program_ends_the_wait_with_one_line,
        );
    };
}

/// The lines of `stderr` that are `program`'s own errors.
fn errors<'a>(stderr: &'a str, program: &str) -> Vec<&'a str> {
    let prefix = format!("{program}: ");
    stderr.lines().filter(|l| l.starts_with(&prefix)).collect()
}

// ---- faults ------------------------------------------------------------------

/// Cell 2.
pub fn a_closed_stdout_is_an_error_and_the_memory_is_released(racer: &Racer) {
    racer.in_a_lab(|lab, own| {
        let args = own.with("--count 10");
        crate::checks::assert_a_closed_stdout_fails_cleanly(lab, racer.bin, racer.name(), &args);
    });
}

/// Cell 5: the child killed is the one asleep in its pause; the parent
/// prints no result and exits 1.
pub fn a_child_killed_by_sigkill_is_reported_and_the_memory_released(racer: &Racer) {
    racer.in_a_lab(|lab, own| {
        let args = own.with("--count 3 --sleep-us 1000000");
        let stderr = kill_a_child_asleep(lab, racer.bin, &args, 3);
        let failed = format!("{}: 1 of 3 children failed: child ", racer.name());
        let outside = "A child killed by a signal was stopped from outside";
        says(&stderr, &[&failed, ") was killed by SIGKILL\n", outside]);
    });
}

/// Cell 6.
pub fn a_fork_that_fails_part_way_releases_the_memory(racer: &Racer) {
    racer.in_a_lab(|lab, own| {
        crate::checks::assert_fork_fails_part_way(lab, racer.bin, racer.name(), &own.with(""));
    });
}

/// Ten `--lock flock` runs started 20 ms apart, each with memory of its
/// own. (With one lock file per program, the first run to finish deleted
/// it under the others.)
pub fn concurrent_flock_runs_do_not_break_each_other(racer: &Racer) {
    racer.in_a_lab(|lab, _| {
        let flags = "--count 50 --lock flock --sleep-us 100";
        let runs: Vec<_> = (0..10)
            .map(|_| {
                let run = lab.start(racer.bin, &racer.own(lab).with(flags));
                std::thread::sleep(Duration::from_millis(20));
                run
            })
            .collect();
        for run in runs {
            let out = run.finish();
            let stderr = exits(&out, 0);
            assert_eq!(shm_p(&text(&out.stdout)), 50, "{stderr}");
        }
        assert!(lab_tmpdir_is_empty(lab), "no lock file is left");
    });
}

/// `--lock flock` where this user may not create the lock file (TMPDIR is
/// someone else's directory): one error from the parent, not one per child.
pub fn an_unwritable_lock_directory_is_one_clear_error(racer: &Racer) {
    racer.in_a_lab(|lab, own| {
        let mut command = match lab.as_nobody(racer.bin, None) {
            // Root may write anywhere: the program runs as nobody, with
            // root's lab directory (mode 0755) as its TMPDIR.
            Some(mut command) => {
                command.env("TMPDIR", lab.path(""));
                command
            }
            None if crate::is_root() => {
                crate::skip("needs setpriv and prlimit to run as nobody (root may write anywhere)");
                return;
            }
            None => {
                let mut command = lab.command(racer.bin);
                command.env("TMPDIR", "/");
                command
            }
        };
        command.args(own.with("--lock flock --count 20"));
        let stderr = fails_without_result(&lab.spawn(command).finish());
        let errors = errors(&stderr, racer.name());
        assert_eq!(errors.len(), 1, "one error, not one per child:\n{stderr}");
        says(errors[0], &["failed: EACCES (Permission denied)"]);
        let whose = "belongs to uid 0 (root), mode 0755";
        says(&stderr, &[whose, "TMPDIR=$HOME"]);
        never_says(&stderr, &["child"]);
    });
}

/// A umask of 0277 (a new file would be 0400, so that not even its owner
/// could open it for writing) changes nothing: with `--lock flock` and
/// `--lock semaphore` the run is exact, and its objects 0600. (System V
/// modes ignore the umask; the programs set a file's mode again with fchmod.)
pub fn the_memory_the_semaphore_and_the_lock_file_are_0600_whatever_the_umask(racer: &Racer) {
    racer.in_a_lab(|lab, own| {
        for lock in ["flock", "semaphore"] {
            let mut command = lab.command_with_umask(racer.bin, 0o277);
            command.args(own.with(&format!("--count 3 --lock {lock} --sleep-us 300000")));
            let mut run = lab.spawn(command);
            let pid = run.pid();
            // Once the children exist, the parent has made every object and
            // set its mode (between creating and fchmod, a file is briefly
            // the umask's 0400: the children are forked after that).
            let seen = run.wait_for(&format!("the objects of --lock {lock}"), || {
                if children_of(pid) < 3 {
                    return None;
                }
                let mut seen = own.modes(lock)?;
                if lock == "flock" {
                    let file = std::fs::read_dir(lab.tmpdir()).ok()?.flatten().next()?;
                    let mode = file.metadata().ok()?.permissions().mode() & 0o777;
                    seen.push((file.path().display().to_string(), mode));
                }
                Some(seen)
            });
            for (object, mode) in &seen {
                assert_eq!(*mode, 0o600, "--lock {lock}, umask 0277: {object}");
            }
            let out = run.finish();
            let stderr = exits(&out, 0);
            assert_eq!(shm_p(&text(&out.stdout)), 3, "--lock {lock}: {stderr}");
        }
    });
}

/// In C, fork copies a file's unflushed buffer ([`run_to_file`] sees it twice).
pub fn stdout_to_a_file_holds_each_line_once(racer: &Racer) {
    racer.in_a_lab(|lab, own| {
        let (status, written) = run_to_file(lab, racer.bin, &own.with("--count 20"));
        assert!(status.success(), "{written}");
        assert!((1..=20).contains(&shm_p(&written)), "{written}");
    });
}

/// A `--count` larger than the processes the machine can hold at once is
/// a usage error, also under `ulimit -v 20000`, where sizing the list of
/// children for millions of them used to abort.
pub fn a_huge_count_is_a_usage_error_not_an_abort(racer: &Racer) {
    racer.in_a_lab(|lab, own| {
        for (limits, count) in [(None, "2147483647"), (Some("--as=20480000"), "10000000")] {
            let mut command = match limits {
                None => lab.command(racer.bin),
                Some(limit) => lab.command_with_limits(racer.bin, &[limit]),
            };
            command.args(own.with(&format!("--count {count}")));
            let stderr = exits(&lab.spawn(command).finish(), 2);
            let why = "children: the article's loop forks them all before waiting for any";
            says(&stderr, &[why, "kernel.pid_max"]);
            never_says(&stderr, &["memory allocation"]);
        }
    });
}

// ---- meeting by a key or a name ------------------------------------------------

/// Cell 9: two runs at once with the same key or name. The first uses
/// `--lock semaphore`, so that its result is checkable: exactly 5, undisturbed.
/// The second is told the memory is in use right now, and offered no command
/// to remove it.
pub fn two_runs_at_once_one_fails_clearly_the_other_is_untouched(racer: &Racer) {
    racer.in_a_lab(|lab, own| {
        let flags = "--count 5 --lock semaphore --sleep-us 200000";
        let mut first = lab.start(racer.bin, &own.with(flags));
        let (in_use, remove) = match own {
            Own::Key(key) => {
                let raw = key.key.raw();
                first.wait_until("the first run to hold its segment", || {
                    sysvipc::segment_with_key(raw).is_some_and(|s| s.attached >= 2)
                });
                (",\n      and in use right now: ", "ipcrm")
            }
            _ => {
                let semaphore = own.semaphore();
                first.wait_until("the first run to hold its object", || {
                    Path::new(&semaphore).exists()
                });
                (",\n      and is in use right now: pid ", "rm /dev/shm")
            }
        };
        let stderr = exits(&lab.run(racer.bin, &own.with("")), 1);
        says(&stderr, &["failed: EEXIST (File exists)", in_use]);
        never_says(&stderr, &[remove]);
        let first = first.finish();
        let stderr = exits(&first, 0);
        assert_eq!(shm_p(&text(&first.stdout)), 5, "undisturbed: {stderr}");
    });
}

/// `--count 1 --linger forever` and `flags`, once its memory is there and
/// its race is over: a creator to join, whose int is 1.
pub fn lingering_creator(lab: &Lab, bin: &str, own: &Own, flags: &str) -> Running {
    let args = own.with(&format!("--count 1 --linger forever {flags}"));
    keeping(lab.start(bin, &args), || own.exists())
}

/// `run`, once `keeps()`, its race is over and it sleeps in `--linger`.
pub fn keeping(mut run: Running, keeps: impl Fn() -> bool) -> Running {
    let pid = run.pid();
    run.wait_until("the run keeps its memory", || {
        keeps() && child_pids(pid).is_empty() && sleeping(pid)
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
    exits(&creator.finish(), 0)
}

/// A creator keeps its memory (`--lock semaphore`, 20 counted); a process
/// that is not its child joins it by the key or name alone: reads 20
/// (`--count 0`), adds 30 under the creator's semaphore, and cannot join
/// its flock. The creator's end says what others added.
pub fn a_joiner_started_on_its_own_reads_adds_and_leaves_the_memory_to_its_creator(racer: &Racer) {
    racer.in_a_lab(|lab, own| {
        let args = own.with("--count 20 --lock semaphore --linger forever");
        let creator = keeping(lab.start(racer.bin, &args), || own.exists());
        let creator_pid = creator.pid();
        // In /proc/PID/maps a segment is the deleted file /SYSV<key>, an
        // object its file in /dev/shm.
        let (mapped, joined) = match own {
            Own::Key(key) => (
                format!("/SYSV{:08x} (deleted)", key.key.raw() as u32),
                format!(
                    "(shmid {}): created by pid {creator_pid} (racing_xsi_shm); 2 attachments (nattch), this process's included",
                    sysvipc::segment_with_key(key.key.raw()).unwrap().id
                ),
            ),
            _ => (
                format!(" {}", own.object()),
                format!(
                    "joined {}: created by pid {creator_pid} (racing_posix_shm); 2 processes map it, this one included",
                    own.object()
                ),
            ),
        };
        let maps = std::fs::read_to_string(format!("/proc/{creator_pid}/maps")).unwrap();
        let shows = |l: &str| l.contains(" rw-s ") && l.ends_with(&mapped);
        assert!(maps.lines().any(shows), "{mapped} in:\n{maps}");

        let out = lab.run(racer.bin, &own.with("--attach --count 0"));
        let stderr = exits(&out, 0);
        assert_eq!(shm_p(&text(&out.stdout)), 20, "{stderr}");
        let not_a_child =
            format!(": not a child of pid {creator_pid}. It found the memory by its name alone.");
        says(&stderr, &[&joined, &not_a_child, "--count 0: only read; nothing added."]);
        never_says(&stderr, &[&format!("child of pid {creator_pid}:")]);

        let out = lab.run(racer.bin, &own.with("--attach --count 30 --lock semaphore"));
        let stderr = exits(&out, 0);
        assert_eq!(shm_p(&text(&out.stdout)), 50, "{stderr}");
        says(&stderr, &["30 children of this process each added 1: 20 → 50."]);
        assert!(own.exists(), "the joiner left it");

        let out = lab.run(racer.bin, &own.with("--attach --lock flock"));
        let stderr = exits(&out, 1);
        says(&stderr, &["--lock flock cannot join the run: its lock file is its own"]);
        assert!(own.exists(), "a refused joiner touches nothing");

        creator.signal(Signal::SIGINT);
        let out = creator.finish();
        let stderr = exits(&out, 0);
        assert_eq!(shm_p(&text(&out.stdout)), 20);
        let added = "shm_p is 50 now: other processes added 30 while it was kept.";
        says(&stderr, &["SIGINT: releasing.", added]);
    });
}

pub fn with_nothing_to_join_it_says_which_program_to_start(racer: &Racer) {
    racer.in_a_lab(|lab, own| {
        let stderr = fails_without_result(&lab.run(racer.bin, &own.with("--attach")));
        // A key is said first as ftok made it, in one line.
        let (first, missing, flags) = match own {
            Own::Key(key) => (
                format!("key {} = ftok(", key.key),
                format!("no segment has key {}", key.key),
                format!("--path {} --proj-id {}", key.path.display(), key.proj_id),
            ),
            _ => (
                String::new(),
                format!("{} does not exist", own.object()),
                format!("--name {}", own.name()),
            ),
        };
        let program = racer.name();
        let hint = format!(
            "{program}: nothing to join: {missing}\nhint: start the run to join first, in another terminal:\n      {program} --linger 60 {flags}\n"
        );
        let before = stderr.strip_suffix(&hint);
        let before = before.unwrap_or_else(|| panic!("{hint} ends:\n{stderr}"));
        let lines = usize::from(!first.is_empty());
        assert!(before.starts_with(&first) && before.lines().count() == lines, "{stderr}");
    });
}

/// A joiner whose creator ends while the joiner's 200 children are still
/// being forked (the joiner is stopped after 2): the children forked after
/// find nothing, and say so once for all. If the fork loop ends before the
/// test can stop it, as on a loaded machine, the scene is played again,
/// five times at most.
pub fn a_joiner_whose_creator_ends_meanwhile_says_so_once(racer: &Racer) {
    racer.in_a_lab(|lab, own| {
        for _ in 0..5 {
            let creator = lingering_creator(lab, racer.bin, own, "");
            let args = own.with("--attach --count 200 --sleep-us 2000000");
            let mut joiner = lab.start(racer.bin, &args);
            let pid = joiner.pid();
            joiner.stop_when("2 children forked", || child_pids(pid).len() >= 2);
            release(creator);
            joiner.signal(Signal::SIGCONT);
            let out = joiner.finish();
            if out.status.code() == Some(0) {
                continue;
            }
            let stderr = exits(&out, 1);
            says_once(&stderr, &format!("{}: child pid ", racer.name()));
            says(&stderr, &[" of 200 children failed: child "]);
            assert!(stderr.lines().count() < 20, "{stderr}");
            return;
        }
        panic!("the test stopped the joiner's fork loop before its end in none of 5 tries");
    });
}

/// `--attach --lock semaphore` to a run started without it: one line that
/// says so (not that the semaphore "was removed meanwhile"), and the hint.
pub fn a_joiner_of_a_run_without_a_semaphore_is_told_so(racer: &Racer) {
    racer.in_a_lab(|lab, own| {
        let creator = lingering_creator(lab, racer.bin, own, "");
        let out = lab.run(racer.bin, &own.with("--attach --lock semaphore"));
        let stderr = exits(&out, 1);
        let why = match own {
            Own::Key(key) => format!("no semaphore set has key {}", key.key),
            _ => format!("{} does not exist", own.semaphore()),
        };
        let program = racer.name();
        let says_why = format!("{program}: --lock semaphore cannot join the run: {why}");
        assert_eq!(errors(&stderr, program), [says_why], "{stderr}");
        let hint = "hint: the run you join was started without --lock semaphore";
        says(&stderr, &[hint]);
        never_says(&stderr, &["meanwhile"]);
        release(creator);
    });
}

/// Root's run, and `--attach` run by nobody, whom the memory's mode 0600
/// keeps out: EACCES, whose it is, and never to use another key or name
/// (it wants this one).
pub fn a_joiner_of_another_users_memory_is_told_whose_it_is(racer: &Racer) {
    racer.in_a_lab(|lab, own| {
        let Some(mut nobody) = lab.as_nobody(racer.bin, None) else {
            crate::skip("needs root to run the creator and the joiner as two users");
            return;
        };
        let creator = lingering_creator(lab, racer.bin, own, "");
        nobody.args(own.with("--attach"));
        let stderr = exits(&lab.spawn(nobody).finish(), 1);
        let hint = match own {
            Own::Key(_) => String::from(
                "hint: the segment belongs to uid 0 (root), mode 0600: only its owner's processes\n      (and root) may read and write it. Join a run of your own:",
            ),
            _ => format!(
                "hint: {} belongs to uid 0 (root), mode 0600: only its owner's processes (and root) may join it.",
                own.object()
            ),
        };
        says(&stderr, &["failed: EACCES (Permission denied)", &hint]);
        never_says(&stderr, &["another key", "another name"]);
        release(creator);
    });
}

/// A creator without a semaphore, and a semaphore planted under its key
/// or name, taken: `--attach --count 2 --lock semaphore` ends, exit 1,
/// says `once` once, and leaves the planted semaphore as it was. Returns
/// stderr and how long the joiner took.
fn join_beside_a_planted_semaphore(
    lab: &Lab,
    racer: &Racer,
    own: &Own,
    owner: Option<u32>,
    once: impl FnOnce(&Planted) -> String,
) -> (String, Duration) {
    let creator = lingering_creator(lab, racer.bin, own, "");
    let planted = own.plant(owner);
    let started = Instant::now();
    let out = lab.run(racer.bin, &own.with("--attach --count 2 --lock semaphore"));
    let took = started.elapsed();
    let stderr = exits(&out, 1);
    says_once(&stderr, &once(&planted));
    assert_eq!(planted.value(), 0, "the planted semaphore is untouched");
    drop(planted);
    release(creator);
    (stderr, took)
}

/// Another user's semaphore, taken, under the key or name of a run that
/// has none: `--attach --lock semaphore` would wait for that user forever.
pub fn a_semaphore_another_user_planted_is_refused(racer: &Racer) {
    racer.in_a_lab(|lab, own| {
        if !crate::is_root() {
            crate::skip("needs root to plant a semaphore as another user");
            return;
        }
        let (memory, semaphore) = match own {
            Own::Key(_) => ("segment", "one"),
            _ => ("object", "semaphore"),
        };
        let (_, took) = join_beside_a_planted_semaphore(lab, racer, own, Some(65534), |planted| {
            let what = match planted {
                Planted::Set(set) => {
                    format!("the semaphore set with key {} (semid {})", own.key().key, set.id())
                }
                Planted::Named(named) => named.path().display().to_string(),
            };
            let program = racer.name();
            format!(
                "{program}: --lock semaphore cannot join the run: {what} is not the {semaphore} its creator made: it belongs to uid 65534 (nobody), and the {memory} to uid 0 (root); it was left alone\n"
            )
        });
        assert!(took < Duration::from_secs(3), "refused at once, not after {took:?}");
    });
}

/// A semaphore under the key or name taken by something that is not a
/// run of ours (the test itself), which will never give it back: the
/// joiner's children wait 5 s, then say so, once, and end.
pub fn a_semaphore_held_by_another_program_ends_the_wait_with_one_line(racer: &Racer) {
    racer.in_a_lab(|lab, own| {
        let (stderr, took) = join_beside_a_planted_semaphore(lab, racer, own, None, |planted| {
            match planted {
                Planted::Set(set) => format!(
                    "semaphore set {} has been taken for 5 s by pid {} (",
                    set.id(),
                    std::process::id()
                ),
                // An object has no room for a holder's pid.
                Planted::Named(named) => format!(
                    "{} has been taken for 5 s by a process that did not say who it is",
                    named.path().display()
                ),
            }
        });
        assert!(took < Duration::from_secs(10), "took {took:?}");
        if let Own::Key(_) = own {
            says(&stderr, &["), which is not a run of this program\n"]);
        }
    });
}
