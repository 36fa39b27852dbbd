//! `xsi_shm_mem_huge` — the article's xsi_shm_mem_huge.c, section "XSI共享内存".
//!
//! xsi_shm_mem with one flag more: `shmget(IPC_PRIVATE, size,
//! SHM_HUGETLB|0600)`. The pages now come from the huge page pool that root
//! reserved in advance (`vm.nr_hugepages`), 2 MiB each. `free` does not move
//! at all; /proc/meminfo's `HugePages_Free` falls by 1023; and zeroing the
//! memory takes about a thousand page faults instead of half a million.
//!
//! ```text
//! $ xsi_shm_mem_huge --size 64M --hold 0 --reserve
//! --reserve: nr_hugepages 0 → 32 for this run
//! shmget(IPC_PRIVATE, 67108864, SHM_HUGETLB|0600) = shmid 9, attached with shmat: 64 MiB
//! zeroed 64 MiB in 0.01 s (...): 32 minor page faults for 32 pages of 2 MiB
//! ...
//! ```
//!
//! Takeaway: huge pages are a separate, pre-reserved pool; fewer, bigger
//! pages mean fewer faults and page-table entries, and memory that `free`
//! does not report. The chapter is docs/xsi_shm_mem_huge.md.
//!
//! Read it beside the article: each C statement is a comment with its Rust
//! below it, in the C's order. What the C does not have is marked
//! `// Not in the C`; the flags the article has no counterpart for live in
//! beyond_the_c.rs, entered by a branch marked the same way.

mod beyond_the_c;

use std::process::ExitCode;

use clap::Parser;
use common::SharedMemory;
use common::demo::{self, table::Rows};
use common::harness::flags::MemArgs;
use common::system::meminfo::Meminfo;
use common::xsi::hugepages::Plan;
use common::xsi::reserve::Reservation;
use common::xsi::{self, Limits, Pages, Segment};

fn main() -> ExitCode {
    common::run(xsi_shm_mem_huge)
}

/// Create a 2046 MiB System V segment of huge pages, zero it, and hold it.
///
/// Port of xsi_shm_mem_huge.c from the article "Linux进程间通信-共享内存",
/// section "XSI共享内存". Like xsi_shm_mem but with SHM_HUGETLB: the pages
/// come from the huge page pool (vm.nr_hugepages), so free's "shared" does
/// not move while HugePages_Free falls. The size is rounded up to whole huge
/// pages. Needs enough free huge pages: reserve them first (the error says
/// how), or pass --reserve as root.
#[derive(Debug, Parser)]
#[command(name = "xsi_shm_mem_huge", version)]
struct Args {
    #[command(flatten)]
    mem: MemArgs,

    /// IPC_RMID right after shmat, not at the end
    ///
    /// Marks the segment for removal right after attaching it, instead of
    /// at the end as the article does. Linux keeps a marked segment until
    /// its last detach, so nothing changes while it is held (ipcs -m shows
    /// it as "dest"), but even a SIGKILL can no longer leak it, or its
    /// huge pages.
    #[arg(long)]
    rmid_early: bool,

    /// Root only: reserve the huge pages this run needs
    ///
    /// Raises vm.nr_hugepages just enough for this run, and gives back the
    /// pages it added when the run ends: normally, on an error, or on
    /// Ctrl-C, SIGTERM, SIGHUP or SIGQUIT. Other runs' pages are left alone.
    #[arg(long)]
    reserve: bool,
}

fn xsi_shm_mem_huge(args: Args) -> anyhow::Result<()> {
    // Not in the C: the size rounded up to whole huge pages.
    let plan = Plan::new(args.mem.size, &Meminfo::read()?);
    if let Some(rounding) = plan.rounding_note() {
        common::note(rounding);
    }

    // Not in the C: --reserve does the article's `echo 2048 > /proc/sys/vm/nr_hugepages`
    // for this run, and gives the pages back after (beyond_the_c.rs).
    if args.reserve {
        return beyond_the_c::with_reserved_pages(&args, &plan);
    }
    experiment(&args, &plan, None)
}

/// The article's main() (xsi_shm_mem.c with SHM_HUGETLB), statement by statement.
fn experiment(
    Args {
        mem, rmid_early, ..
    }: &Args,
    plan: &Plan,
    reservation: Option<&Reservation>,
) -> anyhow::Result<()> {
    let MemArgs { hold, no_touch, .. } = *mem;
    let size = plan.bytes;

    // Not in the C: /proc/meminfo before; the huge page pool and kernel.shmmax checked.
    let before = Meminfo::read()?;
    xsi::explain::check_the_pool(plan, &before)?;
    if let Some(limits) = Limits::read() {
        limits.check(size)?;
    }

    // shm_id = shmget(IPC_PRIVATE, MEMSIZE, SHM_HUGETLB|0600);
    let segment = Segment::create_private(size as usize, 0o600, Pages::Huge)?;

    // Not in the C: with --reserve, the segment has its pages; other runs may reserve theirs.
    if let Some(reservation) = reservation {
        reservation.segment_made();
    }

    // shm_p = shmat(shm_id, NULL, 0);
    let shm_p = segment.attach()?;

    // Not in the C: --rmid-early marks the segment for removal now, not at the end.
    if *rmid_early {
        segment.mark_for_removal()?;
    }

    // bzero(shm_p, MEMSIZE);
    // Not in the C: --no-touch leaves it out.
    let zeroing = if no_touch { None } else { Some(shm_p.zero()?) };

    // Not in the C: what was made, what zeroing cost, /proc/meminfo before and after.
    demo::report(
        &demo::segment_created(&segment, size),
        zeroing,
        plan.page_bytes,
        &before,
        Rows::Huge,
    )?;

    // sleep(3000);
    let looks = [
        String::from(
            "free -m          \"shared\" and \"buff/cache\" do not move: huge pages are not in them",
        ),
        plan.pool_line(no_touch),
    ];
    demo::hold_for_the_reader(hold, size, &demo::segment_watch(&segment, size, looks));

    // shmdt(shm_p);
    shm_p.detach()?;

    // Not in the C: what the release does, named while the segment is still there.
    let how = demo::segment_release(&segment);

    // shmctl(shm_id, IPC_RMID, NULL);
    segment.remove()?;

    // Not in the C: show that the memory went back.
    demo::released(&how, &before, Rows::Huge);

    // exit(0);
    Ok(())
}
