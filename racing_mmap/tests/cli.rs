//! racing_mmap as a user runs it. The race is nondeterministic, so results
//! are ranges: with N children, between 1 (all read 0) and N (none lost).

use testkit::said::says_first;
use testkit::{Lab, exits, says, shm_p, text};

const BIN: &str = env!("CARGO_BIN_EXE_racing_mmap");
const NO_ARGS: [&str; 0] = [];

testkit::cases! { racing_mmap = BIN;
    refusals all, racing;
    race fn one_child_cannot_race_so_the_result_is_exactly_one("--count", "1") => 1 give 1..=1;
    // docs/racing_mmap.md, exercise 3: with a pause of 0.1 s, all three
    // children read 0 before the first one writes: one update survives.
    race fn three_children_with_a_long_pause_all_read_zero("--count", "3", "--sleep-us", "100000")
        => 3 give 1..=1;
    race fn five_hundred_children_without_a_pause_stay_in_range("--count", "500", "--sleep-us", "0")
        => 500 give 1..=500;
    // The lab pipes stdout; the race asserts the one line.
    race fn stdout_into_a_pipe_holds_the_line_once("--count", "50") => 50 give 1..=50;
    fn help_is_short_with_h_and_complete_with_help();
    fn every_lock_mode_gives_exactly_count();
    fn every_stopping_signal_under_every_lock_ends_the_run_cleanly() = signals_under_every_lock;
    fn a_killed_semaphore_holder_is_named_by_the_waiters_and_nothing_hangs();
}

#[test]
fn with_no_arguments_it_runs_the_articles_experiment() {
    let lab = Lab::new();
    let (n, stderr) = testkit::race(&lab, BIN, &NO_ARGS, 100);
    says(&stderr, &[format!("got {n}, so {} ", 100 - n)]);
    lab.assert_clean();
}

/// Matrix cell 6, the racing table's case, under the name the docs cite.
#[test]
fn a_fork_that_fails_part_way_reports_how_many_children_ran() {
    testkit::racing::a_fork_that_fails_part_way_releases_the_memory(&testkit::racing::row(BIN));
}

#[test]
fn a_private_mapping_is_not_shared_so_the_parent_reads_zero() {
    let lab = Lab::new();
    // MAP_PRIVATE gives each child a copy-on-write copy: the article's point
    // that MAP_SHARED is what makes the children's writes visible.
    let out = lab.run(BIN, &["--private", "--count", "20"]);
    says(&exits(&out, 0), &["MAP_PRIVATE"]);
    assert_eq!(shm_p(&text(&out.stdout)), 0);
    lab.assert_clean();
}

/// Under a lock every run counts all its children.
#[test]
fn runs_print_the_spread_as_a_histogram() {
    let lab = Lab::new();
    let out = lab.run(BIN, &["--runs", "5", "--lock", "atomic", "--count", "20"]);
    exits(&out, 0);
    let head =
        "shm_p over 5 runs of 20 children (--lock atomic, --sleep-us 1): min 20, median 20, max 20";
    let bar = "#".repeat(40);
    assert_eq!(text(&out.stdout), format!("{head}\n{:>9}  {bar} 5\n", "20"));
    let out = lab.run(BIN, &["--runs", "8"]);
    exits(&out, 0);
    let stdout = text(&out.stdout);
    let mut lines = stdout.lines();
    let head = "shm_p over 8 runs of 100 children (--lock none, --sleep-us 1): min ";
    says_first(lines.next().unwrap(), head);
    let counted: usize = lines
        .map(|l| l.rsplit(' ').next().unwrap().parse::<usize>().unwrap())
        .sum();
    assert_eq!(counted, 8, "every run in one bin: {stdout}");
    lab.assert_clean();
}
