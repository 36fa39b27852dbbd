//! The fault matrix (docs/reliability.md) for xsi_shm_mem_huge: the cells
//! the other test files do not cover. What must never leak here is worse
//! than a segment: a raised vm.nr_hugepages pins memory for everybody.
//! Only root can reserve huge pages: as anyone else every test here says
//! `skipped: needs root …` (the ordinary user's side is in cli.rs).

use testkit::cases::segment_of;
use testkit::{
    Lab, Pid, Running, STOPPING, Signal, change, interrupt_when, nr_hugepages, sleeping, text,
};
use testkit::{exits, never_says, says};

const BIN: &str = env!("CARGO_BIN_EXE_xsi_shm_mem_huge");

testkit::demo_faults!(BIN);

/// Whether `pid` holds its segment, asleep in the hold.
fn holds(pid: Pid) -> bool {
    segment_of(pid).is_some() && sleeping(pid)
}

fn holding(lab: &Lab, args: &[&str]) -> Running {
    let mut run = lab.start(BIN, args);
    let pid = run.pid();
    run.wait_until("the run to hold its segment", || holds(pid));
    run
}

fn root_lab() -> Option<Lab> {
    if !testkit::is_root() {
        testkit::skip("needs root to reserve huge pages (--reserve writes vm.nr_hugepages)");
        return None;
    }
    Some(Lab::machine())
}

/// Cells 3 and 4.
#[test]
fn every_stopping_signal_during_the_hold_exits_0_and_restores() {
    let Some(lab) = root_lab() else { return };
    let old = nr_hugepages();
    for (signal, _) in STOPPING {
        let (out, _) = interrupt_when(&lab, BIN, &["--size", "32M", "--reserve"], holds, signal);
        let releasing = format!("{signal}: releasing.");
        let stderr = exits(&out, 0);
        says(&stderr, &[&releasing, "--reserve: nr_hugepages 16 → "]);
        assert_eq!(nr_hugepages(), old, "{signal}");
    }
    lab.assert_clean();
}

/// Cells 3 and 4.
#[test]
fn every_stopping_signal_while_zeroing_exits_128_plus_and_restores() {
    let Some(lab) = root_lab() else { return };
    let old = nr_hugepages();
    // Zeroing has begun once 32 of the 512 reserved pages are in use.
    let zeroing = |_| {
        let total = testkit::meminfo().huge_total as i64;
        total >= 512 && (testkit::meminfo().huge_free as i64) <= total - 32
    };
    let args = ["--size", "1G", "--hold", "0", "--reserve"];
    let (restored, said) = (|| nr_hugepages() == old, "while zeroing, after ");
    testkit::assert_signals_end_the_run_cleanly(&lab, BIN, &args, zeroing, said, restored);
    lab.assert_clean();
}

/// Cell 9: the second refuses with the shortage and the exact command.
#[test]
fn two_runs_at_once_with_pages_for_one() {
    let Some(lab) = root_lab() else { return };
    let old = nr_hugepages();
    let first = holding(&lab, &["--size", "32M", "--hold", "2", "--reserve"]);
    let stderr = exits(&lab.run(BIN, &["--size", "32M", "--hold", "0"]), 1);
    let short = "needs 16 huge pages of 2 MiB; only ";
    says(&stderr, &[short, "> /proc/sys/vm/nr_hugepages"]);
    let first = first.finish();
    exits(&first, 0);
    assert_eq!(change(&text(&first.stdout), "HugePages_Free"), -16);
    assert_eq!(nr_hugepages(), old);
    lab.assert_clean();
}

/// Each used to put back the value it had read: 32 pages stayed reserved
/// for good. Then two at the same instant take turns by the pool lock.
#[test]
fn overlapping_reserve_runs_compose_and_the_pool_ends_where_it_began() {
    let Some(lab) = root_lab() else { return };
    let old = nr_hugepages();
    let a = holding(&lab, &["--size", "64M", "--reserve", "--hold", "2"]);
    let b = holding(&lab, &["--size", "64M", "--reserve", "--hold", "4"]);
    let b_pid = b.pid();
    let a = a.finish();
    let a_err = exits(&a, 0);
    // A has given back its 32 pages, and B still has its own.
    let pool = testkit::meminfo().huge_total;
    assert!(pool >= 32, "A shrank the pool under B's segment:\n{a_err}");
    assert!(segment_of(b_pid).is_some());
    let b = b.finish();
    let b_err = exits(&b, 0);
    for out in [&a, &b] {
        assert_eq!(change(&text(&out.stdout), "HugePages_Free"), -32);
    }
    assert_eq!(nr_hugepages(), old, "A: {a_err}\nB: {b_err}");

    // At the same instant. (Each run's HugePages_Free change now includes
    // the other's pages, so only success and the pool are checked.)
    let args = ["--size", "32M", "--reserve", "--hold", "1"];
    let runs: Vec<_> = (0..2).map(|_| lab.start(BIN, &args)).collect();
    for run in runs {
        let out = run.finish();
        exits(&out, 0);
        says(&text(&out.stdout), &["zeroed 32 MiB in "]);
    }
    assert_eq!(nr_hugepages(), old);
    lab.assert_clean();
}

/// The preflight used to count only the pool and refuse.
#[test]
fn surplus_pages_allowed_by_overcommit_are_counted() {
    let Some(lab) = root_lab() else { return };
    struct Overcommit(String);
    impl Drop for Overcommit {
        fn drop(&mut self) {
            let _ = std::fs::write(OVERCOMMIT, &self.0);
        }
    }
    const OVERCOMMIT: &str = "/proc/sys/vm/nr_overcommit_hugepages";
    let _restore = Overcommit(std::fs::read_to_string(OVERCOMMIT).unwrap());
    std::fs::write(OVERCOMMIT, "0").unwrap();
    let size = format!("{}M", (testkit::huge_available() + 16) * 2);
    let refused = lab.run(BIN, &["--size", &size, "--hold", "0"]).status;
    assert_eq!(refused.code(), Some(1), "without surplus it does not fit");
    std::fs::write(OVERCOMMIT, "16").unwrap();
    let stderr = exits(&lab.run(BIN, &["--size", &size, "--hold", "0"]), 0);
    never_says(&stderr, &["--reserve:"]);
    drop(_restore);
    lab.assert_clean();
}

/// docs/xsi_shm_mem_huge.md, "Rsvd: promised, not yet touched".
#[test]
fn untouched_huge_pages_are_promised_not_used() {
    let Some(lab) = root_lab() else { return };
    let old = nr_hugepages();
    let args = ["--size", "64M", "--reserve", "--no-touch", "--hold", "0"];
    let out = lab.run(BIN, &args);
    exits(&out, 0);
    let stdout = text(&out.stdout);
    assert_eq!(change(&stdout, "HugePages_Rsvd"), 32, "{stdout}");
    assert_eq!(change(&stdout, "HugePages_Free"), 0, "{stdout}");
    assert_eq!(nr_hugepages(), old);
    lab.assert_clean();
}

/// docs/xsi_shm_mem_huge.md, "a leak pins the pool": giving the pool back
/// only turns the killed run's pages into surplus.
#[test]
fn a_killed_reserve_run_pins_the_pool_until_its_segment_goes() {
    let Some(lab) = root_lab() else { return };
    let old = nr_hugepages();
    let created = std::cell::Cell::new(None);
    let seen = |pid| {
        created.set(segment_of(pid).map(|s| s.id));
        holds(pid)
    };
    let args = ["--size", "64M", "--reserve"];
    let (out, _) = interrupt_when(&lab, BIN, &args, seen, Signal::SIGKILL);
    assert_eq!(out.status.code(), None, "killed by SIGKILL");
    let id = created.get().expect("the segment was seen");
    assert_eq!(nr_hugepages(), old + 32, "the restore did not run");
    std::fs::write("/proc/sys/vm/nr_hugepages", old.to_string()).unwrap();
    let pool = || {
        Some(testkit::meminfo())
            .map(|i| (i.huge_total, i.huge_surp))
            .unwrap()
    };
    assert_eq!(pool(), (old + 32, 32), "32 pages in use stay, as surplus");
    let rm = std::process::Command::new("ipcrm")
        .args(["-m", &id.to_string()])
        .status();
    assert!(rm.unwrap().success());
    assert_eq!(pool(), (old, 0), "and go with the segment");
    lab.assert_clean();
}
