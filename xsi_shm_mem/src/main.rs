//! `xsi_shm_mem` — the article's xsi_shm_mem.c, section "XSI共享内存".
//!
//! mmap_mem again, through System V: an `IPC_PRIVATE` segment of 2046 MiB,
//! attached, zeroed and held. `free` shows it exactly like the mmap'd memory
//! — "shared" and "buff/cache" grow by the size — because the kernel backs
//! both with the same tmpfs pages. `ipcs -m` lists the segment meanwhile.
//!
//! ```text
//! $ xsi_shm_mem --size 64M --hold 0
//! shmget(IPC_PRIVATE, 67108864, 0600) = shmid 7, attached with shmat: 64 MiB
//! zeroed 64 MiB in 0.02 s (...): 16384 minor page faults for 16384 pages of 4 KiB
//! ...
//! ```
//!
//! Takeaway: System V memory is tmpfs memory too; and it outlives its
//! process unless removed — which is why `--rmid-early` exists. The chapter
//! is docs/xsi_shm_mem.md.
//!
//! Read it beside the article: each C statement is a comment with its Rust
//! below it, in the C's order. What the C does not have (`--rmid-early`,
//! `--no-touch`, the report) is marked `// Not in the C`.

use std::process::ExitCode;

use clap::Parser;
use common::SharedMemory;
use common::demo::{self, table::Rows};
use common::harness::flags::MemArgs;
use common::system::meminfo::Meminfo;
use common::system::page_size;
use common::xsi::{Limits, Pages, Segment};

fn main() -> ExitCode {
    common::run(xsi_shm_mem)
}

/// Create a 2046 MiB IPC_PRIVATE System V segment, zero it, and hold it.
///
/// Port of xsi_shm_mem.c from the article "Linux进程间通信-共享内存",
/// section "XSI共享内存". Prints /proc/meminfo before and after (the
/// segment counts as free's "shared" and "buff/cache", like mmap_mem), the
/// time and page faults of the zeroing and the shmid to find in ipcs -m;
/// holds until Ctrl-C, SIGTERM or SIGHUP (or --hold SECONDS), then detaches,
/// removes the segment (IPC_RMID) and exits 0.
#[derive(Debug, Parser)]
#[command(name = "xsi_shm_mem", version)]
struct Args {
    #[command(flatten)]
    mem: MemArgs,

    /// IPC_RMID right after shmat, not at the end
    ///
    /// Marks the segment for removal right after attaching it, instead of
    /// at the end as the article does. Linux keeps a marked segment until
    /// its last detach, so nothing changes while it is held (ipcs -m shows
    /// it as "dest"), but even a SIGKILL can no longer leak it.
    #[arg(long)]
    rmid_early: bool,
}

/// The article's main(), statement by statement.
fn xsi_shm_mem(Args { mem, rmid_early }: Args) -> anyhow::Result<()> {
    let MemArgs {
        size,
        hold,
        no_touch,
    } = mem;

    // Not in the C: a size this machine cannot hold is refused; /proc/meminfo before.
    demo::refuse_what_does_not_fit(size, !no_touch)?;
    let before = Meminfo::read()?;
    if let Some(limits) = Limits::read() {
        limits.check(size)?;
    }

    // shm_id = shmget(IPC_PRIVATE, MEMSIZE, 0600);
    let segment = Segment::create_private(size as usize, 0o600, Pages::Normal)?;

    // shm_p = shmat(shm_id, NULL, 0);
    let shm_p = segment.attach()?;

    // Not in the C: --rmid-early marks the segment for removal now, not at the end.
    if rmid_early {
        segment.mark_for_removal()?;
    }

    // bzero(shm_p, MEMSIZE);
    // Not in the C: --no-touch leaves it out.
    let zeroing = if no_touch { None } else { Some(shm_p.zero()?) };

    // Not in the C: what was made, what zeroing cost, /proc/meminfo before and after.
    demo::report(
        &demo::segment_created(&segment, size),
        zeroing,
        page_size(),
        &before,
        Rows::Normal,
    )?;

    // sleep(3000);
    let looks = [
        demo::free_line(size, !no_touch),
        String::from(demo::MEMINFO_GREP),
    ];
    demo::hold_for_the_reader(hold, size, &demo::segment_watch(&segment, size, looks));

    // shmdt(shm_p);
    shm_p.detach()?;

    // Not in the C: what the release does, named while the segment is still there.
    let how = demo::segment_release(&segment);

    // shmctl(shm_id, IPC_RMID, NULL);
    segment.remove()?;

    // Not in the C: show that the memory went back.
    demo::released(&how, &before, Rows::Normal);

    // exit(0);
    Ok(())
}
