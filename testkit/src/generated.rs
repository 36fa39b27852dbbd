//! Generated flags: many runs of a program with values drawn from edge
//! classes (0, 1, the largest value, one more, negative, huge, units,
//! garbage, empty, Unicode, long) and random ones from a fixed seed. Each
//! run must end with exit 0, 1 or 2 — never a panic, an abort or a death by
//! signal — within a time bound, and leave nothing behind.

use std::time::Duration;

use crate::lab::Lab;
use crate::output::text;

/// One flag of a program and the values to draw for it: edge values (a
/// third of the time) and plausible ones (the rest, so that a good share
/// of the runs get past the flags and do real work). A flag with neither
/// is a switch.
#[derive(Debug, Clone)]
pub struct Flag {
    pub name: &'static str,
    pub edges: Vec<String>,
    pub plausible: Vec<String>,
}

impl Flag {
    /// A flag that takes a value, with these edge values.
    pub fn new(name: &'static str, edges: &[&str]) -> Flag {
        let edges = edges.iter().map(|s| (*s).to_owned()).collect();
        Flag {
            name,
            edges,
            plausible: Vec::new(),
        }
    }

    /// A switch, present or not.
    pub fn switch(name: &'static str) -> Flag {
        Flag::new(name, &[])
    }

    /// A number flag: the [`number_edges`], and these plausible values.
    pub fn number(name: &'static str, plausible: Vec<String>) -> Flag {
        Flag::new(name, &[]).and(number_edges()).or(plausible)
    }

    /// More edge values.
    pub fn and(mut self, more: impl IntoIterator<Item = String>) -> Flag {
        self.edges.extend(more);
        self
    }

    /// Plausible values, e.g. random numbers in the range a user would type.
    pub fn or(mut self, plausible: impl IntoIterator<Item = String>) -> Flag {
        self.plausible.extend(plausible);
        self
    }

    fn draw(&self, random: &mut Random) -> Option<String> {
        let (edges, plausible) = (&self.edges, &self.plausible);
        if edges.is_empty() && plausible.is_empty() {
            return None;
        }
        let edge = plausible.is_empty() || (random.below(3) == 0 && !edges.is_empty());
        let from = if edge { edges } else { plausible };
        Some(from[random.below(from.len() as u64) as usize].clone())
    }
}

/// Values every numeric flag gets: the edges of the integer types, signs,
/// units, garbage, empty, Unicode, long.
#[rustfmt::skip]
pub fn number_edges() -> Vec<String> {
    [
        "0", "1", "-1", "2", "2147483647", "2147483648", "-2147483648", "4294967296",
        "9223372036854775807", "9223372036854775808", "18446744073709551615",
        "18446744073709551616", "99999999999999999999999", "", " ", "abc", "1.5", "0x10", "+5",
        "1e3", "NaN", "１２", "🦀", "٣", "-", "--",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .chain([String::from("9").repeat(300)])
    .collect()
}

/// A small, fixed pseudo-random sequence (xorshift64*): the same runs on
/// every machine, so a failure can be replayed.
#[derive(Debug, Clone)]
pub struct Random(u64);

impl Random {
    pub fn new(seed: u64) -> Random {
        Random(seed.max(1))
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A number in `0..n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }

    /// `count` random numbers in `low..=high`, as text.
    pub fn numbers(&mut self, count: usize, low: u64, high: u64) -> Vec<String> {
        let mut one = || (low + self.below(high - low + 1)).to_string();
        (0..count).map(|_| one()).collect()
    }
}

/// What stderr shows of a panic or an abort.
const CRASHED: [&str; 4] = [
    "panicked",
    "memory allocation of",
    "RUST_BACKTRACE",
    "SIGABRT",
];

/// Run `bin` `runs` times, each with a random selection of `flags` (in a
/// random order, sometimes one twice, sometimes an unknown one) and random
/// values for them; `defaults` (flag, value) are added for the flags not
/// drawn (the lab's own names, a small size). Every run must
/// exit 0, 1 or 2 without a panic or an abort; one still running after
/// `patience` (a hold, a long pause) is sent SIGTERM and must then exit 0
/// or 143 within 5 s. Returns how many runs ended with each status, for
/// the test to check that the values reached the program at all.
pub fn assert_generated_flags_never_crash(
    lab: &Lab,
    bin: &str,
    defaults: &[(&str, &str)],
    flags: &[Flag],
    runs: usize,
    seed: u64,
    patience: Duration,
) -> [usize; 3] {
    let mut random = Random::new(seed);
    let mut ended = [0; 3];
    for run in 0..runs {
        let mut args: Vec<String> = Vec::new();
        for flag in flags {
            // Each flag is present about half the time, rarely twice.
            let times = match random.below(40) {
                0..=19 => 0,
                20..=38 => 1,
                _ => 2,
            };
            for _ in 0..times {
                args.push(flag.name.to_owned());
                args.extend(flag.draw(&mut random));
            }
        }
        for (flag, value) in defaults {
            if !args.iter().any(|a| a == flag) {
                args.extend([(*flag).to_owned(), (*value).to_owned()]);
            }
        }
        if random.below(25) == 0 {
            args.push(String::from("--no-such-flag"));
        }
        // finish_within stops a run still going with SIGTERM (SIGKILL 5 s later).
        let mut running = lab.start(bin, &args);
        let out = running.finish_within(patience).unwrap_or_else(|out| out);
        let stderr = text(&out.stderr);
        let replay = format!("run {run} of seed {seed}: {bin} {args:?}");
        for sign in CRASHED {
            assert!(!stderr.contains(sign), "{replay}\n{stderr}");
        }
        match out.status.code() {
            Some(code @ 0..=2) => ended[code as usize] += 1,
            // Stopped by our SIGTERM while it held or paused.
            Some(143) => ended[0] += 1,
            other => panic!("{replay}\nended with {other:?} ({}):\n{stderr}", out.status),
        }
    }
    let [ok, failed, usage] = ended;
    crate::say(&format!(
        "{runs} generated runs (seed {seed:#x}): {ok} exit 0, {failed} exit 1, {usage} exit 2"
    ));
    ended
}

/// The flags every racing program has: `--count`, `--sleep-us`, `--lock`,
/// `--runs` and `--attach`, with edge values and plausible ones drawn from
/// `random`.
pub fn racing_flags(random: &mut Random) -> Vec<Flag> {
    let locks = ["none", "atomic", "flock", "semaphore"].map(String::from);
    vec![
        Flag::number("--runs", random.numbers(5, 1, 4)),
        Flag::switch("--attach"),
        Flag::number("--count", random.numbers(20, 1, 200)),
        Flag::number("--sleep-us", random.numbers(20, 0, 1000)),
        Flag::new("--lock", &["", "NONE", "mutex", "🦀"]).or(locks),
    ]
}

/// `--linger` of racing_xsi_shm and racing_posix_shm: seconds or
/// `forever` (a run still lingering after the patience is stopped with
/// SIGTERM, which must remove what it kept).
pub fn linger_flag() -> Flag {
    #[rustfmt::skip]
    let edges = ["", "-1", "abc", "1.5", "🦀", "forever", "18446744073709551616"];
    Flag::new("--linger", &edges).or(["0", "1"].map(String::from))
}

/// A `--file PATH` flag: paths in the lab's directory (which later runs
/// find taken, or join), and paths no run may create.
pub fn file_flag(lab: &Lab) -> Flag {
    let own = |name: &str| lab.tmpdir().join(name).display().to_string();
    let edges = ["", "/", "/proc/self/status", "/sys/kernel/shm-lessons-x"];
    let edges = Flag::new("--file", &edges).and([own("missing-dir/x"), own("")]);
    edges.or([own("a"), own("b"), own("🦀")])
}

/// The flags every memory demo has: `--size` (plausible sizes up to
/// 64 MiB; an edge like 2147483647 bytes zeroes gigabytes and is one of
/// the runs stopped with SIGTERM), `--hold` (mostly 0), `--no-touch`, and
/// the demo's own `switches`.
pub fn memory_demo_flags(random: &mut Random, switches: &[&'static str]) -> Vec<Flag> {
    #[rustfmt::skip]
    let sizes = ["0", "1.5G", "-1", "-5M", "1T", "99999999999G", "abc", "", "1 M", "🦀", "12X", "M"];
    let plausible = ["1", "4K", "4096", "64M", "64m", "64MiB", "2M", "3M"].map(String::from);
    let holds = ["1", "forever", "18446744073709551615", "-1", "soon", ""];
    let mut flags = vec![
        Flag::new("--size", &sizes)
            .and(number_edges())
            .or(plausible)
            .or(random.numbers(30, 1, 64 << 20)),
        Flag::new("--hold", &holds).or([String::from("0")]),
        Flag::switch("--no-touch"),
    ];
    flags.extend(switches.iter().map(|s| Flag::switch(s)));
    flags
}

/// A memory demo's run: a small size and no hold, unless a drawn value
/// says otherwise.
pub const MEMORY_DEFAULTS: [(&str, &str); 2] = [("--size", "4K"), ("--hold", "0")];
