//! Flags that mean the same thing in several programs, defined once: the
//! race's ([`RaceArgs`]), the memory demos' ([`MemArgs`]) and the System V
//! key's ([`KeyArgs`]).
//!
//! A program includes them with `#[command(flatten)] race: RaceArgs`.

use std::path::PathBuf;
use std::time::Duration;

use crate::race::mode::LockMode;
use crate::system::sysctl;
use crate::terminal::hold::Hold;

/// The article's experiment: `--count` children each add 1 to a shared int.
#[derive(Debug, Clone, clap::Args)]
pub struct RaceArgs {
    /// How many children race on the int
    ///
    /// Each forked child adds 1 to the shared int once, so with no lost
    /// updates the result equals this number; the article uses 100. All of
    /// them exist at once (the article forks them all before waiting for
    /// any), so the most is the smaller of kernel.pid_max and
    /// kernel.threads-max. 0 is allowed only with --attach, to read
    /// another run's int without adding to it.
    #[arg(
        long,
        value_name = "N",
        default_value_t = 100,
        value_parser = parse_count,
        allow_negative_numbers = true
    )]
    pub count: usize,

    /// The pause between a child's read and its write
    ///
    /// Microseconds each child sleeps between reading the int and writing
    /// back the value + 1: the article's usleep(1). A longer pause widens
    /// the window in which another child reads the same value; 0 means no
    /// pause at all.
    #[arg(
        long,
        value_name = "MICROSECONDS",
        default_value_t = 1,
        value_parser = parse_micros,
        allow_negative_numbers = true
    )]
    pub sleep_us: u64,

    /// What protects each child's read, pause, write
    ///
    /// Each racing program names its own kind of semaphore here (see
    /// [`lock_help`](crate::race::lock_help)).
    #[arg(long, value_name = "MODE", value_enum, default_value_t = LockMode::None)]
    pub lock: LockMode,

    /// Repeat the experiment N times and show the spread
    ///
    /// Each run creates and removes its objects exactly as a single run
    /// does. Instead of each run's lines, the program prints a histogram of
    /// shm_p with its min, median and max: compare --sleep-us 0, the
    /// default, and --lock semaphore by eye. 1 (the default) is the
    /// article's single run.
    #[arg(
        long,
        value_name = "N",
        default_value_t = 1,
        value_parser = parse_runs,
        allow_negative_numbers = true
    )]
    pub runs: usize,

    /// Show, child by child, which updates were lost and why
    ///
    /// Each child records, beside the int, the value it read and the value
    /// it wrote, and when. After the result, stderr tells which children
    /// read the same value, which late writes undid others' updates, the
    /// total lost (it adds up to --count minus shm_p), and a timeline of
    /// every child's read-to-write window. One run only: not with --runs.
    /// At most 10000 children.
    #[arg(long, conflicts_with = "runs")]
    pub trace: bool,
}

impl RaceArgs {
    /// `--count 0` only makes sense when joining another run's counter
    /// (`--attach`): it reads it and adds nothing.
    pub fn check_count(&self, joining: bool) -> Result<(), crate::error::Usage> {
        if self.count == 0 && !joining {
            return Err(crate::error::Usage::invalid(
                "--count <N>",
                "0",
                "0 children cannot race; use 1 or more",
            ));
        }
        Ok(())
    }

    /// The pause inside the critical section.
    pub fn pause(&self) -> Duration {
        Duration::from_micros(self.sleep_us)
    }

    /// A bound on waiting: once a child has died, the parent gives up on
    /// the others if none of them finishes for this long. Children waiting
    /// for a semaphore whose holder died say so themselves within a second
    /// or two (`crate::race::lock`); this is the backstop for a child stuck
    /// anywhere else. Legitimately, one child finishes every pause.
    pub fn stall_bound(&self) -> Duration {
        self.pause() * 2 + Duration::from_secs(5)
    }
}

/// Meeting by name, for the programs whose memory has a key or a name
/// (racing_xsi_shm, racing_posix_shm): keep it for others, or join it.
#[derive(Debug, Clone, clap::Args)]
pub struct MeetArgs {
    /// Keep the memory after the race, for other processes to join
    ///
    /// After printing its result, the program keeps its segment or object
    /// (and its semaphore, with --lock semaphore) for SECONDS, or until
    /// Ctrl-C with forever, so that a program started on its own in
    /// another terminal can find it by the same key or name, with
    /// --attach. Then it says what others added, and removes it as usual.
    #[arg(long, value_name = "SECONDS", value_parser = Hold::parse, conflicts_with_all = ["runs", "trace"])]
    pub linger: Option<Hold>,

    /// Join a lingering run's memory instead of creating it
    ///
    /// Finds the segment or object by the same key or name, says who
    /// created it and how many processes use it, reads the int, forks
    /// --count children that add to it (0: only read), prints the int and
    /// lets go of it. The memory stays: it is its creator's to remove.
    /// With --lock semaphore the children use the creator's semaphore.
    #[arg(long, conflicts_with_all = ["linger", "runs", "trace"])]
    pub attach: bool,
}

/// What the memory demos (mmap_mem, xsi_shm_mem, xsi_shm_mem_huge) share:
/// how much, whether to touch it, how long to hold it.
#[derive(Debug, Clone, clap::Args)]
pub struct MemArgs {
    /// How much shared memory: bytes, or with K, M or G
    ///
    /// K, M and G are KiB, MiB and GiB. The article's MEMSIZE,
    /// 1024*1024*1023*2 bytes, is 2046M.
    #[arg(
        long,
        value_name = "SIZE",
        default_value = "2046M",
        value_parser = parse_size,
        allow_hyphen_values = true
    )]
    pub size: u64,

    /// How long to hold the memory: seconds, or forever
    ///
    /// The article sleeps 3000 s, so that free can be run in another
    /// terminal meanwhile. forever (the default) holds until Ctrl-C,
    /// SIGTERM, SIGHUP or SIGQUIT, then releases everything and exits 0. 0
    /// releases right after the report, which is what scripts and tests use.
    #[arg(
        long,
        value_name = "SECONDS|forever",
        default_value = "forever",
        value_parser = Hold::parse,
        allow_hyphen_values = true
    )]
    pub hold: Hold,

    /// Create the memory but write nothing to it
    ///
    /// Linux gives a page real memory only when it is first written, so
    /// without the article's bzero the table shows next to nothing
    /// allocated.
    #[arg(long)]
    pub no_touch: bool,
}

/// A size in bytes: digits, optionally followed by K, M or G (powers of
/// 1024; `KiB`, `MiB`, `GiB` are accepted too).
pub fn parse_size(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let digits_end = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (digits, unit) = t.split_at(digits_end);
    let shift = match unit.to_ascii_lowercase().as_str() {
        "" => 0,
        "k" | "kib" => 10,
        "m" | "mib" => 20,
        "g" | "gib" => 30,
        _ => {
            return Err(format!(
                "'{text}' is not a size: use bytes, or a number with K, M or G, like 64M"
            ));
        }
    };
    let n: u64 = digits.parse().map_err(|_| {
        format!("'{text}' is not a size: use bytes, or a number with K, M or G, like 64M")
    })?;
    if n == 0 {
        return Err(String::from(
            "a size of 0 bytes creates nothing to look at; use at least 1",
        ));
    }
    n.checked_mul(1 << shift)
        .filter(|bytes| *bytes <= i64::MAX as u64)
        .ok_or_else(|| format!("'{text}' is more bytes than any machine can map"))
}

/// The two halves of a System V key that every process must agree on:
/// `ftok(--path, --proj-id)`.
#[derive(Debug, Clone, clap::Args)]
pub struct KeyArgs {
    /// The existing file ftok makes the key from
    ///
    /// ftok uses the file's inode and device numbers, not its name: every
    /// process that names the same file, with the same --proj-id, gets the
    /// same key. The article uses /etc/passwd.
    #[arg(long, value_name = "PATH", default_value = "/etc/passwd")]
    pub path: PathBuf,

    /// The project id ftok mixes into the key
    ///
    /// ftok keeps only its low 8 bits (1234 becomes 0xd2), and those must
    /// not all be zero.
    #[arg(
        long,
        value_name = "N",
        default_value_t = 1234,
        value_parser = parse_proj_id,
        allow_negative_numbers = true
    )]
    pub proj_id: i32,
}

/// A proj_id: an int whose low 8 bits are not all zero (ftok's rule).
fn parse_proj_id(text: &str) -> Result<i32, String> {
    let n: i32 = text
        .trim()
        .parse()
        .map_err(|_| format!("'{text}' is not a whole number (an int)"))?;
    if n & 0xff == 0 {
        return Err(format!(
            "ftok keeps only the low 8 bits of proj_id, and those of {n} are 0x00; pick one that is not a multiple of 256, e.g. {}",
            n.wrapping_add(1)
        ));
    }
    Ok(n)
}

/// A child count: a whole number from 0 up (0 only joins and reads, see
/// [`RaceArgs::check_count`]), and no more than could exist
/// at once. The article's loop forks every child before it waits for any,
/// so all of them are processes at the same time (running, or finished and
/// not yet waited for), and the kernel allows at most kernel.pid_max and
/// kernel.threads-max of those on the whole machine.
fn parse_count(text: &str) -> Result<usize, String> {
    let n: i64 = text
        .trim()
        .parse()
        .map_err(|_| format!("'{text}' is not a whole number"))?;
    if n < 0 {
        return Err(format!("{n} children cannot race; use 1 or more"));
    }
    let (limit, why) = process_limit();
    if n > limit {
        return Err(format!(
            "at most {limit} children: the article's loop forks them all before waiting for any, \
             so all {n} would exist at once, and {why}"
        ));
    }
    Ok(n as usize)
}

/// The most processes that can exist at once on this machine, and why.
fn process_limit() -> (i64, String) {
    let read = |name: &str| sysctl(name).and_then(|n| i64::try_from(n).ok());
    match (read("kernel/pid_max"), read("kernel/threads-max")) {
        (Some(pids), Some(threads)) => (
            pids.min(threads),
            format!(
                "this machine allows {pids} processes (kernel.pid_max) and {threads} threads (kernel.threads-max)"
            ),
        ),
        // The counter is an int, whatever the kernel allows.
        _ => (
            i64::from(i32::MAX),
            String::from("the shared counter is an int"),
        ),
    }
}

/// A number of runs: from 1 to 100000 (a histogram of more says nothing new).
fn parse_runs(text: &str) -> Result<usize, String> {
    match text.trim().parse::<i64>() {
        Ok(n) if (1..=100_000).contains(&n) => Ok(n as usize),
        Ok(n) => Err(format!("{n} runs: use 1 to 100000")),
        Err(_) => Err(format!("'{text}' is not a whole number of runs")),
    }
}

/// A pause in microseconds: a whole number from 0 up.
fn parse_micros(text: &str) -> Result<u64, String> {
    text.trim()
        .parse()
        .map_err(|_| format!("'{text}' is not a whole number of microseconds (0 or more)"))
}

#[cfg(test)]
mod tests {
    use super::{parse_count, parse_micros, parse_proj_id, parse_size};

    #[test]
    fn sizes_take_k_m_g_suffixes() {
        assert_eq!(parse_size("4096"), Ok(4096));
        assert_eq!(parse_size("64M"), Ok(64 << 20));
        assert_eq!(parse_size("64MiB"), Ok(64 << 20));
        assert_eq!(parse_size("2046m"), Ok(2046 << 20));
        assert_eq!(parse_size("1G"), Ok(1 << 30));
        assert_eq!(parse_size("8k"), Ok(8192));
        assert!(parse_size("0").unwrap_err().contains("at least 1"));
        assert!(parse_size("0M").unwrap_err().contains("at least 1"));
        for bad in ["", "M", "-1M", "1.5G", "12X", "lots"] {
            assert!(
                parse_size(bad).unwrap_err().contains("is not a size"),
                "{bad:?}"
            );
        }
        assert!(
            parse_size("99999999999G")
                .unwrap_err()
                .contains("more bytes")
        );
    }

    #[test]
    fn proj_ids_need_a_non_zero_low_byte() {
        assert_eq!(parse_proj_id("1234"), Ok(1234));
        assert_eq!(parse_proj_id("-1"), Ok(-1));
        assert!(parse_proj_id("256").unwrap_err().contains("0x00"));
        assert!(parse_proj_id("0").unwrap_err().contains("e.g. 1"));
        assert!(
            parse_proj_id("x")
                .unwrap_err()
                .contains("not a whole number")
        );
    }

    #[test]
    fn counts_are_whole_numbers_from_one() {
        assert_eq!(parse_count("1"), Ok(1));
        assert_eq!(parse_count("500"), Ok(500));
        assert_eq!(parse_count("0"), Ok(0), "for --attach; see check_count");
        assert!(parse_count("-3").unwrap_err().contains("use 1 or more"));
        assert!(
            parse_count("abc")
                .unwrap_err()
                .contains("not a whole number")
        );
        let (limit, _) = super::process_limit();
        assert_eq!(parse_count(&limit.to_string()), Ok(limit as usize));
        let over = parse_count(&(limit + 1).to_string()).unwrap_err();
        assert!(
            over.starts_with(&format!("at most {limit} children: ")),
            "{over}"
        );
        assert!(parse_count("2147483648").is_err());
    }

    #[test]
    fn pauses_are_whole_microseconds_from_zero() {
        assert_eq!(parse_micros("0"), Ok(0));
        assert_eq!(parse_micros("250"), Ok(250));
        assert!(parse_micros("-1").unwrap_err().contains("0 or more"));
        assert!(parse_micros("1.5").is_err());
    }
}
