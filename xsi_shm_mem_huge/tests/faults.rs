//! The fault matrix (docs/reliability.md) for xsi_shm_mem_huge: the cells
//! the other test files do not cover. What must never leak here is worse
//! than a segment: a raised vm.nr_hugepages pins memory for everybody.

use common::xsi;
use testkit::{Machine, Pid, Signal, interrupt_when, meminfo_field, sleeping, text};

const BIN: &str = env!("CARGO_BIN_EXE_xsi_shm_mem_huge");

fn segment_of(pid: Pid) -> Option<xsi::SegmentInfo> {
    xsi::segments()
        .into_iter()
        .find(|s| s.creator_pid == pid.as_raw())
}

/// Cell 2: an error after the segment was created (with --reserve): the
/// report meets a closed pipe. Exit 1; segment removed, nr_hugepages
/// restored.
#[test]
fn a_closed_stdout_still_removes_the_segment_and_restores_the_reservation() {
    let machine = Machine::lock();
    let old = testkit::nr_hugepages();
    testkit::assert_a_closed_stdout_fails_cleanly(
        BIN,
        "xsi_shm_mem_huge",
        &["--size", "32M", "--hold", "0", "--reserve"],
    );
    assert_eq!(testkit::nr_hugepages(), old);
    machine.assert_unchanged();
}

/// Cells 3 and 4: SIGINT and SIGTERM while holding: release, exit 0, segment
/// gone, reservation restored.
#[test]
fn sigint_and_sigterm_during_the_hold_exit_0_and_restore() {
    let machine = Machine::lock();
    let old = testkit::nr_hugepages();
    for signal in [Signal::SIGINT, Signal::SIGTERM] {
        let (out, _) = interrupt_when(
            BIN,
            &["--size", "32M", "--reserve"],
            |pid| segment_of(pid).is_some() && sleeping(pid),
            signal,
        );
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{signal}: {stderr}");
        assert!(
            stderr.contains(&format!("{signal}: releasing.")),
            "{stderr}"
        );
        assert_eq!(testkit::nr_hugepages(), old, "{signal}");
    }
    machine.assert_unchanged();
}

/// Cells 3 and 4: SIGINT and SIGTERM while zeroing 1 GiB of huge pages: stop,
/// release, exit 130 / 143, reservation restored.
#[test]
fn sigint_and_sigterm_while_zeroing_exit_130_and_143_and_restore() {
    let machine = Machine::lock();
    let old = testkit::nr_hugepages();
    testkit::assert_signals_end_the_run_cleanly(
        BIN,
        &["--size", "1G", "--hold", "0", "--reserve"],
        // Zeroing has begun once 32 of the 512 reserved pages are in use.
        |_| {
            let total = meminfo_field("HugePages_Total:");
            total >= 512 && meminfo_field("HugePages_Free:") <= total - 32
        },
        "while zeroing, after ",
        || testkit::nr_hugepages() == old,
    );
    machine.assert_unchanged();
}

/// Cell 9: two runs at once, with huge pages for one: the second refuses with
/// the shortage and the exact command; the first is unaffected.
#[test]
fn two_runs_at_once_with_pages_for_one() {
    let machine = Machine::lock();
    let old = testkit::nr_hugepages();
    let first = testkit::start(BIN, &["--size", "32M", "--hold", "2", "--reserve"]);
    let pid = Pid::from_raw(first.id() as i32);
    while !(segment_of(pid).is_some() && sleeping(pid)) {
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    let second = testkit::run(BIN, &["--size", "32M", "--hold", "0"]);
    let stderr = text(&second.stderr);
    assert_eq!(second.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("needs 16 huge pages of 2 MiB; only "),
        "{stderr}"
    );
    assert!(stderr.contains("> /proc/sys/vm/nr_hugepages"), "{stderr}");
    let first = first.wait_with_output().unwrap();
    assert!(first.status.success(), "{}", text(&first.stderr));
    assert_eq!(testkit::change(&text(&first.stdout), "HugePages_Free"), -16);
    assert_eq!(testkit::nr_hugepages(), old);
    machine.assert_unchanged();
}

/// Stdout to a file: every report line once.
#[test]
fn stdout_to_a_file_holds_each_line_once() {
    let machine = Machine::lock();
    let (status, written) =
        testkit::run_to_file(BIN, &["--size", "8M", "--hold", "0", "--reserve"]);
    assert!(status.success());
    assert_eq!(written.lines().count(), 8, "{written}");
    machine.assert_unchanged();
}
