//! xsi_shm_mem as a user runs it, with real System V segments. Each test
//! holds `testkit::Lab`: memory-measuring runs never overlap, and
//! `ipcs -m` must hold exactly what it held before.

use common::system::sysvipc;
use testkit::{
    Lab, Pid, STOPPING, Signal, change, faults, interrupt_when, shmem_mib, sleeping, text,
};

const BIN: &str = env!("CARGO_BIN_EXE_xsi_shm_mem");
const SLACK_MIB: i64 = 4;

/// The segment process `pid` created, if it exists.
fn segment_of(pid: Pid) -> Option<sysvipc::SegmentInfo> {
    sysvipc::segments()
        .into_iter()
        .find(|s| s.creator_pid == pid.as_raw())
}

/// The shmid on the report's first line, `shmget(...) = shmid N, ...`.
fn shmid(stdout: &str) -> i32 {
    stdout
        .split("= shmid ")
        .nth(1)
        .and_then(|rest| rest.split(',').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no shmid in:\n{stdout}"))
}

fn exists(shmid: i32) -> bool {
    sysvipc::segments().iter().any(|s| s.id == shmid)
}

#[test]
fn a_private_segment_shows_up_like_mmap_memory_and_is_removed() {
    let lab = Lab::machine();
    let out = testkit::run_until_cached_moves(
        &lab,
        BIN,
        &["--size", "64M", "--hold", "0"],
        64,
        2 * SLACK_MIB,
    );
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        stdout.starts_with("shmget(IPC_PRIVATE, 67108864, 0600) = shmid "),
        "{stdout}"
    );
    let shmem = change(&stdout, "Shmem");
    let cached = change(&stdout, "Cached");
    assert!(
        (64 - shmem).abs() <= SLACK_MIB,
        "Shmem changed by {shmem} MiB:\n{stdout}"
    );
    assert!(
        testkit::cached_rose_by(&stdout, 64, 2 * SLACK_MIB),
        "Cached changed by {cached} MiB:\n{stdout}"
    );
    assert!((16384..16384 + 256).contains(&faults(&stdout)), "{stdout}");
    assert!(!exists(shmid(&stdout)), "the segment was removed");
    lab.assert_clean();
}

/// `--no-touch`: the table shows no change, and the reader is told so
/// (held for a second, so that the "look at it" lines are printed).
#[test]
fn untouched_segments_cost_nothing() {
    let lab = Lab::machine();
    let out = lab.run(BIN, &["--size", "64M", "--hold", "1", "--no-touch"]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(change(&stdout, "Shmem").abs() <= SLACK_MIB, "{stdout}");
    // What it tells the reader to look at matches the table: nothing moved.
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("\"buff/cache\" have not moved: no page was written (--no-touch)")
            && !stderr.contains("are up by"),
        "{stderr}"
    );
    lab.assert_clean();
}

/// Every stopping signal during `--hold forever` (Ctrl-C, SIGTERM, a
/// closed terminal, Ctrl-\): detach, IPC_RMID, exit 0. The segment, found
/// by the shmid the program printed, is gone.
#[test]
fn every_stopping_signal_ends_the_hold_and_removes_the_segment() {
    let lab = Lab::machine();
    for (signal, _) in STOPPING {
        let base = shmem_mib();
        let (out, _) = interrupt_when(
            &lab,
            BIN,
            &["--size", "64M"],
            |pid| {
                segment_of(pid).is_some() && shmem_mib() - base >= 64 - SLACK_MIB && sleeping(pid)
            },
            signal,
        );
        let stdout = text(&out.stdout);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{signal}: {stderr}");
        let id = shmid(&stdout);
        assert!(
            stderr.contains(&format!(
                "ipcs -m          shmid {id}: 67108864 bytes, 1 attached"
            )),
            "{stderr}"
        );
        assert!(
            stderr.contains(&format!(
                "{signal}: releasing.\nreleased (shmdt, IPC_RMID on shmid {id})"
            )),
            "{stderr}"
        );
        assert!(!exists(id), "{signal}: shmid {id} still exists");
    }
    lab.assert_clean();
}

/// A stopping signal while zeroing: detach, remove the segment, exit 128 +
/// signal.
#[test]
fn every_stopping_signal_while_zeroing_removes_the_segment() {
    let lab = Lab::machine();
    testkit::assert_signals_stop_the_zeroing(&lab, BIN);
    lab.assert_clean();
}

/// SIGKILL runs no cleanup at all. In the article's order (IPC_RMID at the
/// end) the segment is leaked; with --rmid-early it was marked already, and
/// the kernel destroys it when the killed process detaches.
#[test]
fn sigkill_leaks_the_segment_unless_rmid_early() {
    let lab = Lab::machine();
    for (args, leaks) in [
        (&["--size", "16M"][..], true),
        (&["--size", "16M", "--rmid-early"][..], false),
    ] {
        let created = std::cell::Cell::new(None);
        let (out, _) = interrupt_when(
            &lab,
            BIN,
            args,
            |pid| {
                let seg = segment_of(pid);
                created.set(seg.as_ref().map(|s| s.id));
                seg.is_some() && sleeping(pid)
            },
            Signal::SIGKILL,
        );
        assert_eq!(out.status.code(), None, "killed by a signal");
        let id = created.get().expect("segment seen");
        if leaks {
            assert!(exists(id), "article order: SIGKILL leaks shmid {id}");
            // What a student would do (docs/xsi_shm_mem.md):
            let rm = std::process::Command::new("ipcrm")
                .args(["-m", &id.to_string()])
                .status()
                .unwrap();
            assert!(rm.success());
        } else {
            assert!(
                !exists(id),
                "--rmid-early: shmid {id} must be gone after SIGKILL"
            );
        }
    }
    lab.assert_clean();
}

#[test]
fn rmid_early_shows_the_segment_as_dest_while_held() {
    let lab = Lab::machine();
    let seen = std::cell::Cell::new(None);
    let (out, _) = interrupt_when(
        &lab,
        BIN,
        &["--size", "16M", "--rmid-early"],
        |pid| {
            let seg = segment_of(pid);
            let dest = seg.as_ref().is_some_and(|s| s.mode & 0o1000 != 0);
            if dest && sleeping(pid) {
                seen.set(seg);
                return true;
            }
            false
        },
        Signal::SIGINT,
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let seg = seen.take().expect("segment seen while held");
    assert_eq!(seg.key, 0, "a segment marked for removal loses its key");
    assert!(text(&out.stdout).contains("IPC_RMID already (--rmid-early)"));
    assert!(text(&out.stderr).contains("status dest"));
    lab.assert_clean();
}

#[test]
fn a_size_above_shmmax_or_memory_is_refused() {
    let lab = Lab::machine();
    let out = lab.run(BIN, &["--size", "100000G"]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    // The tighter of the machine's MemAvailable and this process's memory
    // cgroup (a container) is named.
    assert!(
        stderr.starts_with("xsi_shm_mem: 100000 GiB is more than this machine has available")
            || stderr
                .starts_with("xsi_shm_mem: 100000 GiB is more than this process's memory cgroup"),
        "{stderr}"
    );
    assert!(out.stdout.is_empty());
    lab.assert_clean();
}

/// `-h` is one line per flag; `--help` explains each flag in full, on its
/// own, wrapped, with no literal backticks.
#[test]
fn help_is_short_with_h_and_complete_with_help() {
    let lab = Lab::new();
    testkit::assert_help_is_short_and_long(
        &lab,
        BIN,
        &[
            "XSI共享内存",
            "IPC_PRIVATE",
            "even a SIGKILL can no longer leak it",
        ],
    );
    lab.assert_clean();
}
