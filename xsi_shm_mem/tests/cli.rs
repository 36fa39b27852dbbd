//! xsi_shm_mem as a user runs it, with real System V segments. Each test
//! holds `testkit::Lab`: memory-measuring runs never overlap, and
//! `ipcs -m` must hold exactly what it held before.

use testkit::cases::{exists, segment_of};
use testkit::{Lab, Signal, exits, interrupt_when, says, sleeping, text};

const BIN: &str = env!("CARGO_BIN_EXE_xsi_shm_mem");

testkit::cases! { xsi_shm_mem = BIN;
    refusals all, memory;
    fn help_is_short_with_h_and_complete_with_help();
    fn a_private_segment_shows_up_like_mmap_memory_and_is_removed() =
        a_touched_mapping_shows_up_as_shmem_and_cached;
    fn untouched_segments_cost_nothing() = untouched_memory_costs_nothing;
    fn every_stopping_signal_ends_the_hold_and_removes_the_segment() =
        every_stopping_signal_ends_the_hold;
    fn every_stopping_signal_while_zeroing_removes_the_segment() =
        every_stopping_signal_while_zeroing;
    fn a_size_above_shmmax_or_memory_is_refused() = more_than_the_machine_has_is_refused;
}

/// SIGKILL runs no cleanup: with --rmid-early the kernel destroys the
/// segment marked already when the killed process detaches.
#[test]
fn sigkill_leaks_the_segment_unless_rmid_early() {
    let lab = Lab::machine();
    for (args, leaks) in [
        (&["--size", "16M"][..], true),
        (&["--size", "16M", "--rmid-early"][..], false),
    ] {
        let created = std::cell::Cell::new(None);
        let held = |pid| {
            let seg = segment_of(pid);
            created.set(seg.as_ref().map(|s| s.id));
            seg.is_some() && sleeping(pid)
        };
        let (out, _) = interrupt_when(&lab, BIN, args, held, Signal::SIGKILL);
        assert_eq!(out.status.code(), None, "killed by a signal");
        let id = created.get().expect("segment seen");
        if leaks {
            assert!(exists(id), "article order: SIGKILL leaks shmid {id}");
            // What a student would do (docs/xsi_shm_mem.md):
            let rm = std::process::Command::new("ipcrm")
                .args(["-m", &id.to_string()])
                .status();
            assert!(rm.unwrap().success());
        } else {
            assert!(!exists(id), "--rmid-early: shmid {id} left after SIGKILL");
        }
    }
    lab.assert_clean();
}

#[test]
fn rmid_early_shows_the_segment_as_dest_while_held() {
    let lab = Lab::machine();
    let seen = std::cell::Cell::new(None);
    let held = |pid| {
        let seg = segment_of(pid);
        let dest = seg.as_ref().is_some_and(|s| s.mode & 0o1000 != 0);
        let held = dest && sleeping(pid);
        if held {
            seen.set(seg);
        }
        held
    };
    let args = ["--size", "16M", "--rmid-early"];
    let (out, _) = interrupt_when(&lab, BIN, &args, held, Signal::SIGINT);
    let stderr = exits(&out, 0);
    let seg = seen.take().expect("segment seen while held");
    assert_eq!(seg.key, 0, "a segment marked for removal loses its key");
    says(&text(&out.stdout), &["IPC_RMID already (--rmid-early)"]);
    says(&stderr, &["status dest"]);
    lab.assert_clean();
}
