//! Flags that mean the same thing in every racing program, defined once.
//!
//! A program includes them with `#[command(flatten)] race: RaceArgs`.

use std::path::PathBuf;
use std::time::Duration;

use crate::output::note;

/// The article's experiment: `--count` children each add 1 to a shared int.
#[derive(Debug, Clone, clap::Args)]
pub struct RaceArgs {
    /// How many child processes to fork. Each one adds 1 to the shared int,
    /// so with no lost updates the result would equal this number.
    #[arg(
        long,
        value_name = "N",
        default_value_t = 100,
        value_parser = parse_count,
        allow_negative_numbers = true
    )]
    pub count: usize,

    /// Microseconds each child pauses between reading the int and writing it
    /// back (the article's usleep(1)). A longer pause widens the window in
    /// which another child can slip in; 0 means no pause at all.
    #[arg(
        long,
        value_name = "MICROSECONDS",
        default_value_t = 1,
        value_parser = parse_micros,
        allow_negative_numbers = true
    )]
    pub sleep_us: u64,
}

impl RaceArgs {
    /// The pause inside the critical section.
    pub fn pause(&self) -> Duration {
        Duration::from_micros(self.sleep_us)
    }

    /// Tell the student, on stderr, what the result `got` means: what was
    /// expected, how many updates were lost, and what to try next.
    pub fn explain(&self, got: i32) {
        let expected = self.count;
        if expected == 1 {
            note(format!(
                "1 child added 1 to the shared int: expected 1, got {got}."
            ));
            note(
                "With one child there is nobody to race with; the default --count 100 shows the race.",
            );
            return;
        }
        let lost = expected as i64 - i64::from(got);
        let (updates, were) = if lost == 1 {
            ("update", "was")
        } else {
            ("updates", "were")
        };
        note(format!(
            "{expected} children each added 1 to the shared int: expected {expected}, got {got}, so {lost} {updates} {were} lost."
        ));
        if lost > 0 {
            let step = if self.sleep_us == 0 {
                String::from("wrote back that value + 1 at once")
            } else {
                format!("slept {} µs, wrote back that value + 1", self.sleep_us)
            };
            note(format!(
                "Each child read the int, {step}: a child that read before another's write overwrote it. Compare --sleep-us 0, --count 1."
            ));
        } else {
            note(
                "None lost this time, yet nothing prevented it: read and write are still two steps. Run again, or raise --sleep-us.",
            );
        }
    }
}

/// The two halves of a System V key that every process must agree on:
/// `ftok(--path, --proj-id)`.
#[derive(Debug, Clone, clap::Args)]
pub struct KeyArgs {
    /// An existing file to make the System V key from. ftok uses the file's
    /// inode and device numbers, not its name.
    #[arg(long, value_name = "PATH", default_value = "/etc/passwd")]
    pub path: PathBuf,

    /// The project id mixed into the key. ftok keeps only its low 8 bits
    /// (1234 → 0xd2), which must not all be zero.
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

/// A child count: a whole number from 1 up (the counter is an `i32`, so at
/// most `i32::MAX`; the machine's process limits stop far below that).
fn parse_count(text: &str) -> Result<usize, String> {
    let n: i64 = text
        .trim()
        .parse()
        .map_err(|_| format!("'{text}' is not a whole number"))?;
    if n < 1 {
        return Err(format!("{n} children cannot race; use 1 or more"));
    }
    if n > i64::from(i32::MAX) {
        return Err(format!(
            "the shared counter is an int; at most {} children",
            i32::MAX
        ));
    }
    Ok(n as usize)
}

/// A pause in microseconds: a whole number from 0 up.
fn parse_micros(text: &str) -> Result<u64, String> {
    text.trim()
        .parse()
        .map_err(|_| format!("'{text}' is not a whole number of microseconds (0 or more)"))
}

#[cfg(test)]
mod tests {
    use super::{parse_count, parse_micros, parse_proj_id};

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
        assert!(parse_count("0").unwrap_err().contains("use 1 or more"));
        assert!(parse_count("-3").unwrap_err().contains("use 1 or more"));
        assert!(
            parse_count("abc")
                .unwrap_err()
                .contains("not a whole number")
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
