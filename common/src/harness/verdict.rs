//! What a race's result means, told to the student on stderr: what was
//! expected, how many updates were lost and why, and what to try next.
//! With `--runs N`, the spread of N results as a histogram instead.

use std::fmt::Write as _;

use clap::ValueEnum;

use super::flags::RaceArgs;
use crate::process::fork_children;
use crate::race::lock::{Lock, LockMode};
use crate::race::trace::Trace;
use crate::terminal::output::{note, result_line};
use crate::terminal::signals;

impl RaceArgs {
    /// Run `experiment` (the article's `main`) `--runs` times; after more
    /// than one, print the histogram of the results.
    pub fn repeat(&self, mut experiment: impl FnMut() -> anyhow::Result<()>) -> anyhow::Result<()> {
        for _ in 0..self.runs {
            experiment()?;
        }
        if self.runs > 1 {
            result_line(histogram(&self.results.borrow(), self))?;
        }
        Ok(())
    }

    /// A line about this run on stderr; with `--runs`, only the histogram
    /// speaks (a hundred key lines would bury it).
    pub fn say(&self, line: impl std::fmt::Display) {
        if self.runs == 1 {
            note(line);
        }
    }

    /// The article's `printf("shm_p: %d\n", *shm_p)`; with `--runs`, only
    /// remember `got` for the histogram. If the memory went away under its
    /// mapping (SIGBUS), `got` was read from a zero page: no result is
    /// printed.
    pub fn print(&self, got: i32) -> anyhow::Result<()> {
        signals::check_memory(|| String::from("before the result was read"))?;
        if self.runs == 1 {
            result_line(format!("shm_p: {got}"))?;
        } else {
            self.results.borrow_mut().push(got);
        }
        Ok(())
    }

    /// The race of a traced experiment (`--trace`), once its memory,
    /// counter and lock are made: fork `--count` children that run `work`,
    /// wait for them, print `shm_p` (`value` reads it) and what it means,
    /// then what the trace says.
    pub fn race_traced(
        &self,
        value: impl Fn() -> i32,
        lock: &Lock<'_>,
        traced: Option<Trace<'_>>,
        work: impl FnMut(usize) -> anyhow::Result<()>,
    ) -> anyhow::Result<()> {
        let children = fork_children(self.count, work)?;
        let numbers = children.pids();
        children.wait_all_unless_stuck(self.stall_bound())?;
        self.print(value())?;
        self.explain(value(), lock);
        if let Some(traced) = traced {
            traced.tell(self.count, &numbers, value());
        }
        Ok(())
    }

    /// Tell the student, on stderr, what the result `got` means: what was
    /// expected, how many updates were lost and why, what to try next.
    /// With `--runs`, only the histogram speaks.
    pub fn explain(&self, got: i32, lock: &Lock<'_>) {
        if self.runs > 1 {
            return;
        }
        let expected = self.count;
        let lost = expected as i64 - i64::from(got);
        if lost < 0 {
            note(format!(
                "{expected} children each added 1 to the shared int: expected {expected}, got {got}: \
                 {} more than they added. Another process found the memory by its name and added \
                 to it meanwhile (--attach).",
                -lost
            ));
            return;
        }
        if expected == 1 {
            note(format!(
                "1 child added 1 to the shared int: expected 1, got {got}."
            ));
        } else {
            let (updates, were) = if lost == 1 {
                ("update", "was")
            } else {
                ("updates", "were")
            };
            note(format!(
                "{expected} children each added 1 to the shared int: expected {expected}, got {got}, so {lost} {updates} {were} lost."
            ));
        }
        if self.lock != LockMode::None {
            let name = self
                .lock
                .to_possible_value()
                .map(|v| v.get_name().to_owned())
                .unwrap_or_default();
            if lost == 0 {
                note(format!(
                    "--lock {name}: {}, so no update was lost.",
                    lock.describe()
                ));
            } else {
                note(format!(
                    "--lock {name}: {}, and still {lost} updates were lost. That is a bug: please report it.",
                    lock.describe()
                ));
            }
        } else if expected == 1 {
            note(
                "With one child there is nobody to race with; the default --count 100 shows the race.",
            );
        } else if lost > 0 {
            let step = if self.sleep_us == 0 {
                String::from("wrote back that value + 1 at once")
            } else {
                format!("slept {} µs, wrote back that value + 1", self.sleep_us)
            };
            note(format!(
                "Each child read the int, {step}: a child that read before another's write overwrote it. Fix it: --lock semaphore."
            ));
        } else {
            note(
                "None lost this time, yet nothing prevented it: read and write are still two steps. Run again, or raise --sleep-us.",
            );
        }
    }
}

/// `shm_p over 20 runs of 100 children (--lock none, --sleep-us 1): min 12, median 21.5, max 35`,
/// then one row per bin of width count/20: its range, a bar, how many runs.
fn histogram(results: &[i32], race: &RaceArgs) -> String {
    let mut sorted = results.to_vec();
    sorted.sort_unstable();
    let (Some(&min), Some(&max)) = (sorted.first(), sorted.last()) else {
        return String::from("no runs");
    };
    let mid = sorted.len() / 2;
    let median = if sorted.len() % 2 == 1 {
        f64::from(sorted[mid])
    } else {
        (f64::from(sorted[mid - 1]) + f64::from(sorted[mid])) / 2.0
    };
    let mode = race
        .lock
        .to_possible_value()
        .map(|v| v.get_name().to_owned())
        .unwrap_or_default();
    let mut text = format!(
        "shm_p over {} runs of {} children (--lock {mode}, --sleep-us {}): min {min}, median {median}, max {max}",
        sorted.len(),
        race.count,
        race.sleep_us
    );
    let count = i32::try_from(race.count).unwrap_or(i32::MAX);
    let width = (count / 20).max(1);
    let first = min.div_euclid(width) * width;
    let bins: Vec<(i32, i32, usize)> = (0..)
        .map(|i| first + i * width)
        .take_while(|low| *low <= max)
        .map(|low| {
            let high = (low + width - 1).min(count.max(low));
            let n = sorted.iter().filter(|v| (low..=high).contains(*v)).count();
            (low, high, n)
        })
        .collect();
    let most = bins.iter().map(|b| b.2).max().unwrap_or(1).max(1);
    for (low, high, n) in bins {
        let label = if low == high {
            low.to_string()
        } else {
            format!("{low}-{high}")
        };
        let bar = "#".repeat((n * 40).div_ceil(most));
        let _ = write!(text, "\n{label:>9}  {bar:<40} {n}");
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Debug, Parser)]
    struct Args {
        #[command(flatten)]
        race: RaceArgs,
    }

    fn race(args: &[&str]) -> RaceArgs {
        Args::parse_from(std::iter::once("racing").chain(args.iter().copied())).race
    }

    #[test]
    fn the_histogram_names_the_spread_and_counts_every_run() {
        let race = race(&["--runs", "6"]);
        let text = histogram(&[12, 14, 21, 22, 35, 14], &race);
        let mut lines = text.lines();
        assert_eq!(
            lines.next().unwrap(),
            "shm_p over 6 runs of 100 children (--lock none, --sleep-us 1): min 12, median 17.5, max 35"
        );
        let rows: Vec<&str> = lines.collect();
        assert_eq!(
            rows[0].trim_start(),
            format!("10-14  {:<40} 3", "#".repeat(40))
        );
        assert!(
            rows.last().unwrap().trim_start().starts_with("35-39  "),
            "{text}"
        );
        let total: usize = rows
            .iter()
            .map(|r| r.rsplit(' ').next().unwrap().parse::<usize>().unwrap())
            .sum();
        assert_eq!(total, 6);
    }

    #[test]
    fn an_exact_result_is_one_bar() {
        let race = race(&["--runs", "3", "--lock", "atomic"]);
        let text = histogram(&[100, 100, 100], &race);
        assert!(text.starts_with("shm_p over 3 runs of 100 children (--lock atomic, --sleep-us 1): min 100, median 100, max 100\n"), "{text}");
        assert_eq!(text.lines().count(), 2, "{text}");
        assert_eq!(
            text.lines().nth(1).unwrap().trim_start(),
            format!("100  {} 3", "#".repeat(40))
        );
    }
}
