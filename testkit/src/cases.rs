//! The cases several programs share, written once and run for each: what
//! differs between the programs is a row of [`PROGRAMS`], a program's test
//! file names its tests with [`cases!`](crate::cases!), and the usage
//! errors are the table [`refusals!`](crate::refusals!).

use std::path::Path;

use common::system::sysvipc;
use nix::unistd::Pid;

use crate::generated::{
    Flag, MEMORY_DEFAULTS, Random, assert_generated_flags_never_crash, file_flag, linger_flag,
    memory_demo_flags, racing_flags,
};
use crate::lab::{Article, Lab};
use crate::output::{change, faults, text};
use crate::probe::{shmem_mib, sleeping};
use crate::said::{self, exits, fails_without_result, never_says};
use crate::{STOPPING, checks, react, trace};

/// How a program's runs get names of their own, so that tests of several
/// users at once never meet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Names {
    /// Nothing to name: anonymous memory, or IPC_PRIVATE.
    None,
    /// `--path FILE --proj-id N`: an ftok key of the lab's ([`Lab::key`]).
    Key,
    /// `--name NAME`: a POSIX name of the lab's ([`Lab::name`]).
    Name,
}

/// A memory demo's report: the start of its first line for `--size 64M`,
/// and how it says it released the memory (`{id}` stands for the shmid).
#[derive(Debug, Clone, Copy)]
pub struct Memory {
    pub mapped: &'static str,
    pub released: &'static str,
}

/// One program: what its `--help` must explain, the chapters whose
/// transcripts run it, the seed of its generated flags, and `memory` for
/// the memory demos.
#[derive(Debug, Clone, Copy)]
pub struct Program {
    pub name: &'static str,
    pub names: Names,
    pub help: &'static [&'static str],
    pub chapters: &'static [&'static str],
    pub seed: u64,
    pub memory: Option<Memory>,
}

// The chapters about all three racing programs.
const FIXING: &str = "fixing-the-race.md";
const RELIABILITY: &str = "reliability.md";
const THREE_NAMES: &str = "three-names.md";

/// How the XSI memory demos say they released their segment.
const SHMDT: &str = "released (shmdt, IPC_RMID on shmid {id})";

#[rustfmt::skip]
pub const PROGRAMS: [Program; 6] = [
    Program { name: "racing_mmap", names: Names::None, seed: 0x5eed_0001, memory: None,
        help: &["mmap内存共享映射", "sem_init with pshared=1", "Every mode but none gives exactly --count",
            "MAP_PRIVATE", "--count <N>", "--sleep-us <MICROSECONDS>", "[default: 100]"],
        chapters: &["racing_mmap.md", "README.md", FIXING, RELIABILITY, THREE_NAMES] },
    Program { name: "racing_xsi_shm", names: Names::Key, seed: 0x5eed_0002, memory: None,
        help: &["XSI共享内存", "semop with SEM_UNDO", "ipcs -s", "The article uses /etc/passwd", "low 8 bits"],
        chapters: &["racing_xsi_shm.md", FIXING, RELIABILITY, THREE_NAMES] },
    Program { name: "racing_posix_shm", names: Names::Name, seed: 0x5eed_0003, memory: None,
        help: &["POSIX共享内存", "/dev/shm/sem.NAME", "sem_open", "/dev/shm/NAME"],
        chapters: &["racing_posix_shm.md", FIXING, RELIABILITY, THREE_NAMES] },
    Program { name: "mmap_mem", names: Names::None, seed: 0x5eed_0004,
        help: &["mmap内存共享映射", "1024*1024*1023*2", "sleeps 3000 s", "first written"],
        chapters: &["mmap_mem.md", "observing.md"],
        memory: Some(Memory { released: "released (munmap)", mapped:
            "mmap(NULL, 67108864, PROT_READ|PROT_WRITE, MAP_SHARED|MAP_ANONYMOUS, -1, 0): 64 MiB mapped\n" }) },
    Program { name: "xsi_shm_mem", names: Names::None, seed: 0x5eed_0005,
        help: &["XSI共享内存", "IPC_PRIVATE", "even a SIGKILL can no longer leak it"],
        chapters: &["xsi_shm_mem.md"],
        memory: Some(Memory { released: SHMDT, mapped: "shmget(IPC_PRIVATE, 67108864, 0600) = shmid " }) },
    Program { name: "xsi_shm_mem_huge", names: Names::None, seed: 0x5eed_0006,
        help: &["XSI共享内存", "SHM_HUGETLB", "even a SIGKILL can no longer leak it", "Root only", "gives back the"],
        chapters: &["xsi_shm_mem_huge.md"],
        memory: Some(Memory { released: SHMDT,
            mapped: "shmget(IPC_PRIVATE, 67108864, SHM_HUGETLB|0600) = shmid " }) },
];

/// The program of this name in [`PROGRAMS`].
pub fn program(name: &str) -> &'static Program {
    let found = PROGRAMS.iter().find(|p| p.name == name);
    found.unwrap_or_else(|| panic!("no {name} in testkit::cases::PROGRAMS"))
}

impl Program {
    /// The lab its cases run in: the memory demos move /proc/meminfo, which
    /// another user's memory test must not see, so they take the machine.
    pub fn lab(&self) -> Lab {
        if self.memory.is_some() {
            Lab::machine()
        } else {
            Lab::new()
        }
    }

    /// The flags that give a run names of its own in `lab`.
    pub fn own(&self, lab: &Lab) -> Vec<String> {
        match self.names {
            Names::None => Vec::new(),
            Names::Key => lab.key().with(&[]),
            Names::Name => vec![String::from("--name"), lab.name()],
        }
    }

    /// `case` in `lab`, given the run's own names; then nothing may be left.
    fn check(&self, lab: Lab, case: impl FnOnce(&Lab, &[String])) {
        case(&lab, &self.own(&lab));
        lab.assert_clean();
    }

    /// Whether what a run named by `own` creates is gone.
    fn released(&self, own: &[String]) -> bool {
        match self.names {
            Names::None => true,
            Names::Key => {
                let key = own_key(own);
                sysvipc::segment_with_key(key).is_none()
                    && sysvipc::semaphore_sets().iter().all(|set| set.key != key)
            }
            Names::Name => {
                let name = &own[1];
                !Path::new(&format!("/dev/shm{name}")).exists()
                    && !Path::new(&format!("/dev/shm/sem.{}", &name[1..])).exists()
            }
        }
    }
}

/// The key that `--path FILE --proj-id N` gives.
fn own_key(own: &[String]) -> i32 {
    let proj_id: i32 = own[3].parse().expect("--proj-id N");
    let key = common::xsi::Key::ftok(Path::new(&own[1]), proj_id);
    key.expect("ftok of the lab's file").raw()
}

/// Runs shared cases for one program (`PROGRAM;` or `PROGRAM = BIN;`), one
/// `#[test]` each:
///
/// - `fn NAME();` runs the case `testkit::cases::NAME`, `fn NAME() = CASE;`
///   runs `CASE` under the program's own name for it;
/// - `race fn NAME(ARGS) => COUNT give RANGE;` is [`race_gives`];
/// - `error fn NAME(ARGS) => FIRST, MORE…;` is [`assert_one_clear_error`];
/// - `refusals A, B;` makes a test of each row of those groups of
///   [`refusals!`](crate::refusals!).
#[macro_export]
macro_rules! cases {
    ($program:ident; $($rest:tt)*) => {
        $crate::cases!(@each $program, env!(concat!("CARGO_BIN_EXE_", stringify!($program))); $($rest)*);
    };
    ($program:ident = $bin:expr; $($rest:tt)*) => {
        $crate::cases!(@each $program, $bin; $($rest)*);
    };
    (@each $program:ident, $bin:expr; ) => {};
    (@each $program:ident, $bin:expr; fn $name:ident() = $case:ident; $($rest:tt)*) => {
        #[test]
        fn $name() {
            $crate::cases::$case($crate::cases::program(stringify!($program)), $bin);
        }
        $crate::cases!(@each $program, $bin; $($rest)*);
    };
    (@each $program:ident, $bin:expr; fn $name:ident(); $($rest:tt)*) => {
        $crate::cases!(@each $program, $bin; fn $name() = $name; $($rest)*);
    };
    (@each $program:ident, $bin:expr;
        race fn $name:ident($($arg:expr),*) => $count:literal give $range:expr; $($rest:tt)*) => {
        #[test]
        fn $name() {
            let program = $crate::cases::program(stringify!($program));
            $crate::cases::race_gives(program, $bin, &[$($arg),*], $count, $range);
        }
        $crate::cases!(@each $program, $bin; $($rest)*);
    };
    (@each $program:ident, $bin:expr;
        error fn $name:ident($($arg:expr),*) => $($says:expr),+; $($rest:tt)*) => {
        #[test]
        fn $name() {
            $crate::cases::assert_one_clear_error($bin, &[$($arg),*], &[$($says),+]);
        }
        $crate::cases!(@each $program, $bin; $($rest)*);
    };
    (@each $program:ident, $bin:expr; refusals $($group:ident),+; $($rest:tt)*) => {
        $($crate::refusals!($group, $bin);)+
        $crate::cases!(@each $program, $bin; $($rest)*);
    };
}

/// The usage errors, a row a case: `fn NAME(ARGS) => SAYS, …;` must exit
/// 2 with nothing on stdout and one `error:` line holding each SAYS
/// ([`assert_refused`]). Grouped by the flags they try: `all` programs,
/// the `racing` ones, `xsi` (--proj-id), `posix` (--name), `memory`
/// (--size, --hold).
#[macro_export]
macro_rules! refusals {
    (all, $bin:expr) => { $crate::refused! { $bin;
        fn refuses_an_unknown_flag("--bogus") => "unexpected argument '--bogus'";
    } };
    (racing, $bin:expr) => { $crate::refused! { $bin;
        fn refuses_count_0("--count", "0") => "use 1 or more";
        fn refuses_count_minus_3("--count", "-3") => "use 1 or more";
        fn refuses_count_abc("--count", "abc") => "'abc' is not a whole number";
        fn refuses_count_2147483648("--count", "2147483648")
            => "children: the article's loop forks them all before waiting for any";
        fn refuses_sleep_us_minus_1("--sleep-us", "-1") => "'-1' is not a whole number of microseconds";
    } };
    (xsi, $bin:expr) => { $crate::refused! { $bin;
        fn refuses_proj_id_0("--proj-id", "0") => "those of 0 are 0x00";
        fn refuses_proj_id_256("--proj-id", "256") => "those of 256 are 0x00";
        fn refuses_proj_id_512("--proj-id", "512") => "those of 512 are 0x00";
        fn refuses_proj_id_abc("--proj-id", "abc") => "'abc' is not a whole number";
        fn refuses_proj_id_99999999999("--proj-id", "99999999999") => "is not a whole number";
    } };
    (posix, $bin:expr) => { $crate::refused! { $bin;
        fn refuses_an_empty_name("--name", "") => "the name is empty", $crate::cases::NAME_RULE;
        fn refuses_a_bare_slash("--name", "/") => "the name is empty", $crate::cases::NAME_RULE;
        fn refuses_a_slash_inside_a_name("--name", "/a/b")
            => "'/a/b' has a '/' inside", $crate::cases::NAME_RULE;
        fn refuses_a_252_byte_name("--name", &"x".repeat(252))
            => "the name is 252 bytes long", $crate::cases::NAME_RULE;
        fn refuses_dot_dot("--name", "..") => "is not a file name", $crate::cases::NAME_RULE;
    } };
    (memory, $bin:expr) => { $crate::refused! { $bin;
        fn refuses_size_0("--size", "0") => "use at least 1";
        fn refuses_size_lots("--size", "lots") => "'lots' is not a size";
        fn refuses_size_minus_5m("--size", "-5M") => "'-5M' is not a size";
        fn refuses_size_1_5g("--size", "1.5G") => "is not a size";
        fn refuses_hold_soon("--hold", "soon") => "neither 'forever' nor a whole number";
        fn refuses_hold_minus_1("--hold", "-1") => "neither 'forever' nor a whole number";
    } };
}

/// One `#[test]` per row of [`refusals!`](crate::refusals!).
#[doc(hidden)]
#[macro_export]
macro_rules! refused {
    ($bin:expr; $(fn $name:ident($($arg:expr),+) => $($says:expr),+;)*) => {$(
        #[test]
        fn $name() {
            $crate::cases::assert_refused($bin, &[$($arg),+], &[$($says),+]);
        }
    )*};
}

/// What every refusal of a POSIX name states: the rule.
pub const NAME_RULE: &str = "'/' then 1 to 251 bytes with no other '/'";

/// `bin args` is a usage error saying each of `says`, and leaves nothing.
pub fn assert_refused(bin: &str, args: &[&str], says: &[&str]) {
    let lab = Lab::new();
    let out = lab.run(bin, args);
    crate::assert_usage_error(args, &out, says[0]);
    said::says(&text(&out.stderr), &says[1..]);
    lab.assert_clean();
}

/// A race of `count` children with the lab's names and `args` succeeds
/// ([`checks::race`]), and its result is in `gives`.
pub fn race_gives(
    program: &Program,
    bin: &str,
    args: &[&str],
    count: i64,
    gives: std::ops::RangeInclusive<i64>,
) {
    program.check(Lab::new(), |lab, own| {
        let (n, _) = checks::race(lab, bin, &checks::with(own, args), count);
        assert!(gives.contains(&n), "{args:?}: shm_p {n}, not in {gives:?}");
    });
}

/// `bin args` fails before it creates anything, with one error from the
/// parent (no child speaking): exit 1, nothing on stdout, stderr starting
/// with `says[0]` and holding the rest.
pub fn assert_one_clear_error(bin: &str, args: &[&str], says: &[&str]) {
    let lab = Lab::new();
    let stderr = fails_without_result(&lab.run(bin, args));
    assert!(stderr.starts_with(says[0]), "{stderr}");
    said::says(&stderr, &says[1..]);
    never_says(&stderr, &["child pid"]);
    lab.assert_clean();
}

/// `lab`, if `default` (the article's key or name) is free for it. If an
/// object this test may not touch holds it, the program run without
/// arguments must refuse it, saying EEXIST and each of `says`, and leave
/// it alone; then `None`.
pub fn lab_with_default(lab: Lab, bin: &str, default: &Article, says: &[&str]) -> Option<Lab> {
    let Err(holder) = lab.use_default(default) else {
        return Some(lab);
    };
    let stderr = exits(&lab.run(bin, &[] as &[&str]), 1);
    said::says(&stderr, &["failed: EEXIST (File exists)"]);
    said::says(&stderr, says);
    crate::say(&format!(
        "{holder} holds the article's default: checked that the program refuses it and leaves it alone"
    ));
    lab.assert_clean();
    None
}

/// Root's leftover under the run's key or name (made by `plant`), and the
/// program run as nobody with `args`: exit 1, EEXIST, each of `says`, and
/// no `never` (a remedy that would fail for nobody). Returns what `plant`
/// made, for the test to see it untouched; `None`, saying why, without root.
pub fn assert_a_leftover_of_root_is_left_alone<T>(
    lab: &Lab,
    bin: &str,
    args: &[String],
    plant: impl FnOnce() -> T,
    says: &[&str],
    never: &str,
) -> Option<T> {
    let Some(mut nobody) = lab.as_nobody(bin, None) else {
        crate::skip("needs root to create an object as one user and run the program as another");
        return None;
    };
    let planted = plant();
    nobody.args(args);
    let stderr = exits(&lab.spawn(nobody).finish(), 1);
    said::says(&stderr, &["EEXIST"]);
    said::says(&stderr, says);
    never_says(&stderr, &[never]);
    Some(planted)
}

/// Cases that are one check in a lab, given the run's own names: `NAME
/// in LAB => CHECK;` is `pub fn NAME(program, bin)`, and nothing may be left.
macro_rules! one_check {
    (|$program:ident, $bin:ident, $lab:ident, $own:ident|
        $($(#[$doc:meta])* $name:ident in $in:expr => $check:expr;)*) => {$(
        $(#[$doc])*
        #[allow(unused_variables)]
        pub fn $name($program: &Program, $bin: &str) {
            $program.check($in, |$lab, $own| $check);
        }
    )*};
}

one_check! { |program, bin, lab, own|
    help_is_short_with_h_and_complete_with_help in Lab::new()
        => checks::assert_help_is_short_and_long(lab, bin, program.help);
    every_lock_mode_gives_exactly_count in Lab::new()
        => checks::assert_every_lock_is_exact(lab, bin, own);
    /// Every stopping signal under every `--lock`: what the run created is removed.
    signals_under_every_lock in Lab::new()
        => checks::assert_signals_release_every_lock(lab, bin, own, || program.released(own));
    /// [`react::CASES`]: a stopping signal is acted on within 100 ms.
    a_stopping_signal_is_acted_on_within_100_ms_in_every_phase in program.lab()
        => react::assert_stopping_signals_are_acted_on_promptly(lab, program.name, bin, own);
    the_parent_waits_for_its_children_in_a_blocking_wait4 in Lab::new()
        => react::assert_the_parent_blocks_in_wait4(lab, program.name, bin, own);
    the_trace_adds_up_shows_no_shared_read_under_a_lock_and_leaves_stdout_alone in Lab::new()
        => trace::assert_the_trace_keeps_its_promises(lab, bin, own);
    a_traced_run_is_not_joined in Lab::new()
        => trace::assert_a_traced_run_is_not_joined(lab, bin, own);
}

/// A POSIX semaphore (unnamed in racing_mmap's mapping, named in
/// racing_posix_shm) stays taken when its holder dies: the waiting children
/// say so and end, and the parent reports them all instead of hanging.
pub fn a_killed_semaphore_holder_is_named_by_the_waiters_and_nothing_hangs(
    program: &Program,
    bin: &str,
) {
    program.check(Lab::new(), |lab, own| {
        let stderr = checks::assert_a_killed_holder_does_not_hang(lab, bin, own);
        checks::assert_the_waiters_said_the_holder_died(&stderr);
        if program.names == Names::Name {
            let semaphore = format!("/dev/shm/sem.{}", &own[1][1..]);
            said::says(&stderr, &[format!(": {semaphore} is held by pid ")]);
            assert!(!Path::new(&semaphore).exists(), "{semaphore} is left");
        } else {
            let child = format!("{}: child pid ", program.name);
            let held = ": the unnamed semaphore in the mapping is held by pid ";
            said::says(&stderr, &[&child, held]);
        }
    });
}

/// Shmem must rise by the size give or take this many MiB (other tmpfs
/// users); Cached, which all file activity moves, gets twice the slack.
pub const SLACK_MIB: i64 = 4;

/// The memory demo's report of what it holds.
fn memory(program: &Program) -> Memory {
    let not = || panic!("{} is not a memory demo", program.name);
    program.memory.unwrap_or_else(not)
}

/// The shmid on the report's first line, `shmget(...) = shmid N, ...`, if
/// the demo makes a segment.
pub fn shmid(stdout: &str) -> Option<i32> {
    let rest = stdout.lines().next()?.split("= shmid ").nth(1)?;
    Some(rest.split(',').next()?.parse().expect("a shmid"))
}

/// The segment process `pid` created, if it exists.
pub fn segment_of(pid: Pid) -> Option<sysvipc::SegmentInfo> {
    let mut segments = sysvipc::segments().into_iter();
    segments.find(|s| s.creator_pid == pid.as_raw())
}

/// Whether a segment with this shmid exists.
pub fn exists(shmid: i32) -> bool {
    sysvipc::segments().iter().any(|s| s.id == shmid)
}

/// How the demo says it released, with its shmid, if any.
fn released(program: &Program, stdout: &str) -> String {
    let id = shmid(stdout).map(|id| id.to_string()).unwrap_or_default();
    memory(program).released.replace("{id}", &id)
}

/// 64 MiB touched: Shmem and Cached rise by the size, one fault per 4 KiB
/// page (give or take a few of the program's own), and the memory (the
/// segment, if any) is released at the end.
pub fn a_touched_mapping_shows_up_as_shmem_and_cached(program: &Program, bin: &str) {
    let lab = Lab::machine();
    let args = ["--size", "64M", "--hold", "0"];
    let out = checks::run_until_cached_moves(&lab, bin, &args, 64, 2 * SLACK_MIB);
    let (stdout, stderr) = (text(&out.stdout), exits(&out, 0));
    assert!(stdout.starts_with(memory(program).mapped), "{stdout}");
    let shmem = change(&stdout, "Shmem");
    let near = (64 - shmem).abs() <= SLACK_MIB;
    assert!(near, "Shmem: {shmem} MiB:\n{stdout}");
    let cached = change(&stdout, "Cached");
    let rose = checks::cached_rose_by(&stdout, 64, 2 * SLACK_MIB);
    assert!(rose, "Cached changed by {cached} MiB:\n{stdout}");
    let f = faults(&stdout);
    assert!((16384..16384 + 256).contains(&f), "{f} faults:\n{stdout}");
    let released = format!("{}: Shmem is ", released(program, &stdout));
    assert!(stderr.starts_with(&released), "{stderr}");
    if let Some(id) = shmid(&stdout) {
        assert!(!exists(id), "the segment was removed");
    }
    lab.assert_clean();
}

/// `--no-touch`: the table shows no change, and what the reader is told to
/// look at agrees (held for a second, so that those lines are printed).
pub fn untouched_memory_costs_nothing(_: &Program, bin: &str) {
    let lab = Lab::machine();
    let out = lab.run(bin, &["--size", "64M", "--hold", "1", "--no-touch"]);
    let (stdout, stderr) = (text(&out.stdout), exits(&out, 0));
    said::says(&stdout, &["not zeroed (--no-touch)"]);
    let shmem = change(&stdout, "Shmem");
    let moved = format!("Shmem changed by {shmem} MiB without a touch:\n{stdout}");
    assert!(shmem.abs() <= SLACK_MIB, "{moved}");
    let still = "\"buff/cache\" have not moved: no page was written (--no-touch)";
    said::says(&stderr, &[still]);
    never_says(&stderr, &["are up by"]);
    lab.assert_clean();
}

/// Every stopping signal during `--hold forever`, once Shmem is up by the
/// size, ends the hold the way it is meant to end: release (detach and
/// IPC_RMID a segment), exit 0, and Shmem back where it was.
pub fn every_stopping_signal_ends_the_hold(program: &Program, bin: &str) {
    let lab = Lab::machine();
    let needs_segment = memory(program).released.contains("{id}");
    for (signal, _) in STOPPING {
        let base = shmem_mib();
        let holds = |pid| {
            (!needs_segment || segment_of(pid).is_some())
                && shmem_mib() - base >= 64 - SLACK_MIB
                && sleeping(pid)
        };
        let (out, _) = checks::interrupt_when(&lab, bin, &["--size", "64M"], holds, signal);
        let (stdout, stderr) = (text(&out.stdout), exits(&out, 0));
        let holding = "Holding 64 MiB until Ctrl-C (or SIGTERM, or the terminal closing).";
        let releasing = format!("{signal}: releasing.\n{}", released(program, &stdout));
        said::says(&stderr, &[holding, &releasing]);
        if let Some(id) = shmid(&stdout) {
            let ipcs = format!("ipcs -m          shmid {id}: 67108864 bytes, 1 attached");
            said::says(&stderr, &[&ipcs]);
            assert!(!exists(id), "{signal}: shmid {id} still exists");
        }
        let back = shmem_mib() - base;
        let where_it_was = back.abs() <= SLACK_MIB;
        assert!(where_it_was, "{signal}: Shmem {back} MiB from where it was");
    }
    lab.assert_clean();
}

/// A stopping signal while zeroing: stop, release, exit 128 + signal.
pub fn every_stopping_signal_while_zeroing(_: &Program, bin: &str) {
    let lab = Lab::machine();
    checks::assert_signals_stop_the_zeroing(&lab, bin);
    lab.assert_clean();
}

/// More than the machine has is refused before anything is created; the
/// tighter of MemAvailable and this process's memory cgroup is named.
pub fn more_than_the_machine_has_is_refused(program: &Program, bin: &str) {
    let lab = Lab::machine();
    let stderr = fails_without_result(&lab.run(bin, &["--size", "100000G"]));
    let more = format!("{}: 100000 GiB is more than this ", program.name);
    let machine = format!("{more}machine has available (MemAvailable ");
    let cgroup = format!("{more}process's memory cgroup has room for (");
    let names = stderr.starts_with(&machine) || stderr.starts_with(&cgroup);
    assert!(names, "{stderr}");
    said::says(&stderr, &["Ask for less,\n      e.g. --size "]);
    lab.assert_clean();
}

/// Generated flags ([`crate::generated`]): 100 runs of a racing program, 80
/// of a memory demo, from the program's seed, every name that could create
/// an object the lab's own; a run still going after half a second is sent
/// SIGTERM. Some runs must work and some be usage errors.
pub fn generated_flags_never_crash(program: &Program, bin: &str) {
    let lab = program.lab();
    let seed = program.seed;
    let mut random = Random::new(seed);
    let own = program.own(&lab);
    let (mut flags, runs) = match program.name {
        "xsi_shm_mem" => (memory_demo_flags(&mut random, &["--rmid-early"]), 80),
        "xsi_shm_mem_huge" => {
            let switches = ["--rmid-early", "--reserve"];
            (memory_demo_flags(&mut random, &switches), 80)
        }
        _ if program.memory.is_some() => (memory_demo_flags(&mut random, &[]), 80),
        _ => (racing_flags(&mut random), 100),
    };
    match program.name {
        "racing_mmap" => flags.extend([Flag::switch("--private"), file_flag(&lab)]),
        "mmap_mem" => {
            let names = Flag::new("--posix", &["", "/", "a/b", ".."]).or([lab.name(), lab.name()]);
            flags.extend([names, file_flag(&lab)]);
        }
        _ => {}
    }
    match program.names {
        Names::None => {}
        Names::Key => {
            // Every key the random proj_ids can give on the lab's file is ours.
            lab.claim_every_key_of(&lab.key());
            let paths = ["/nonexistent", "/proc/self/status", "", "/", "🦀"];
            flags.extend([
                Flag::number("--proj-id", random.numbers(20, 1, 255)),
                Flag::new("--path", &paths).or([own[1].clone()]),
                linger_flag(),
            ]);
        }
        Names::Name => {
            let name = &own[1];
            let plausible = [
                name.clone(),
                name.trim_start_matches('/').to_owned(),
                format!("/{name}"),
                lab.name_with("🦀"),
                lab.name_with("-ünï"),
                lab.long_name(251),
            ];
            let mut edges = vec![lab.long_name(252), "x".repeat(400)];
            edges.extend(["", "/", "a/b", "..", "."].map(String::from));
            edges.push(format!("{name}/x"));
            flags.extend([
                Flag::new("--name", &[]).and(edges).or(plausible),
                linger_flag(),
            ]);
        }
    }
    let pairs = own.chunks(2).map(|f| (f[0].as_str(), f[1].as_str()));
    let mut defaults: Vec<(&str, &str)> = pairs.collect();
    if program.memory.is_some() {
        defaults.extend(MEMORY_DEFAULTS);
    }
    let patience = std::time::Duration::from_millis(500);
    let ended =
        assert_generated_flags_never_crash(&lab, bin, &defaults, &flags, runs, seed, patience);
    // Without root there are no huge pages: every valid run is refused
    // (exit 1, the shortage explained); as root, --reserve lets some run.
    let huge = program.name == "xsi_shm_mem_huge" && !crate::is_root();
    let (ran, refused) = (ended[usize::from(huge)], ended[2]);
    let both = ran > 0 && refused > 0;
    assert!(both, "some runs, some usage errors: {ended:?}");
    // racing_mmap --file keeps its file by design: a result, not a leftover.
    if program.name == "racing_mmap" {
        for name in ["a", "b", "🦀"] {
            let _ = std::fs::remove_file(lab.tmpdir().join(name));
        }
    }
    lab.assert_clean();
}

/// The console transcripts of the program's chapters, in both editions
/// ([`crate::check_transcripts`]); the racing chapters show the article's
/// key or name.
pub fn chapter_transcripts_match_the_program(program: &Program, bin: &str) {
    let defaults = match program.names {
        Names::None => vec![],
        Names::Key => vec![Article::key()],
        Names::Name => vec![Article::name()],
    };
    crate::check_transcripts(program.name, bin, program.chapters, &defaults);
}
