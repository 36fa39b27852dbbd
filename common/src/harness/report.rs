//! Where a racing program's results go. One run prints the article's
//! `shm_p: N` on stdout and what it means on stderr; `--runs N` collects
//! the N results and prints their histogram instead. The flags are parsed
//! into [`RaceArgs`], the run returns what it read, and a [`Report`] tells
//! it: three things apart.

use std::fmt::Write as _;

use super::flags::RaceArgs;
use crate::process::fork_children;
use crate::race::explain;
use crate::race::lock::Lock;
use crate::race::mode::LockMode;
use crate::race::trace::Trace;
use crate::terminal::output::{note, result_line};
use crate::terminal::signals;

/// The reporter of a racing program's runs.
#[derive(Debug)]
pub struct Report {
    count: usize,
    sleep_us: u64,
    lock: LockMode,
    /// How many runs there are, and the results of those done (`--runs`).
    runs: usize,
    results: Vec<i32>,
}

impl Report {
    /// The reporter of the runs `race` asks for.
    pub fn new(race: &RaceArgs) -> Report {
        Report {
            count: race.count,
            sleep_us: race.sleep_us,
            lock: race.lock,
            runs: race.runs,
            results: Vec::new(),
        }
    }

    /// Run `experiment` (the article's `main`) `--runs` times, then print
    /// the histogram of the results.
    pub fn repeat(
        race: &RaceArgs,
        mut experiment: impl FnMut(&mut Report) -> anyhow::Result<()>,
    ) -> anyhow::Result<()> {
        let mut report = Report::new(race);
        for _ in 0..race.runs {
            experiment(&mut report)?;
        }
        if race.runs > 1 {
            result_line(histogram(&report.results, &report))?;
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
    pub fn print(&mut self, got: i32) -> anyhow::Result<()> {
        signals::check_memory(|| String::from("before the result was read"))?;
        if self.runs == 1 {
            result_line(format!("shm_p: {got}"))?;
        } else {
            self.results.push(got);
        }
        Ok(())
    }

    /// Tell the student, on stderr, what the result `got` means
    /// ([`explain::result`]). With `--runs`, only the histogram speaks.
    pub fn explain(&self, got: i32, lock: &Lock<'_>) {
        if self.runs == 1 {
            for line in explain::result(
                self.count,
                self.sleep_us,
                got,
                lock.mode(),
                &lock.describe(),
            ) {
                note(line);
            }
        }
    }
}

/// The race of a traced experiment (`--trace`), once its memory, counter
/// and lock are made: fork `--count` children that run `work`, wait for
/// them, report `shm_p` (`value` reads it) and what it means, then what
/// the trace says.
pub fn race_traced(
    race: &RaceArgs,
    value: impl Fn() -> i32,
    lock: &Lock<'_>,
    traced: Option<Trace<'_>>,
    work: impl FnMut(usize) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let mut report = Report::new(race);
    let children = fork_children(race.count, work)?;
    let numbers = children.pids();
    children.wait_all_unless_stuck(race.stall_bound())?;
    report.print(value())?;
    report.explain(value(), lock);
    if let Some(traced) = traced {
        traced.tell(race.count, &numbers, value());
    }
    Ok(())
}

/// `shm_p over 20 runs of 100 children (--lock none, --sleep-us 1): min 12, median 21.5, max 35`,
/// then one row per bin of width count/20: its range, a bar, how many runs.
fn histogram(results: &[i32], race: &Report) -> String {
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
    let mode = race.lock.name();
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

    fn race(args: &[&str]) -> Report {
        Report::new(&Args::parse_from(std::iter::once("racing").chain(args.iter().copied())).race)
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
