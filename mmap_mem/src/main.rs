//! `mmap_mem` — the article's mmap_mem.c, section "mmap内存共享映射".
//!
//! Map 2046 MiB of `MAP_SHARED | MAP_ANONYMOUS` memory, write zeros over all
//! of it, and hold it so it can be looked at. The article runs `free`
//! before and after and finds the memory under "shared" and "buff/cache",
//! not under "used": shared anonymous memory is kept in tmpfs pages, and
//! tmpfs pages are page cache. We print the same observation ourselves:
//!
//! ```text
//! $ mmap_mem --size 64M --hold 0
//! mmap(NULL, 67108864, PROT_READ|PROT_WRITE, MAP_SHARED|MAP_ANONYMOUS, -1, 0): 64 MiB mapped
//! zeroed 64 MiB in 0.02 s (3200 MiB/s): 16384 minor page faults for 16384 pages of 4 KiB
//!                     before        after       change
//! MemFree          22674 MiB    22609 MiB      -65 MiB
//! Shmem                8 MiB       72 MiB      +64 MiB   free's "shared"
//! Cached            1098 MiB     1162 MiB      +64 MiB   in free's "buff/cache"
//! ```
//!
//! Takeaway: shared memory costs real memory only once it is touched, and
//! `free` books it as shared cache. The chapter is docs/mmap_mem.md.
//!
//! Read it beside the article: each C statement is a comment with its Rust
//! below it, in the C's order. What the C does not have is marked
//! `// Not in the C`; the flags the article has no counterpart for live in
//! beyond_the_c.rs, entered by a branch marked the same way.

mod beyond_the_c;

use std::process::ExitCode;

use clap::Parser;
use std::path::PathBuf;

use common::SharedMemory;
use common::demo::{self, backing::Backing};
use common::harness::flags::MemArgs;
use common::mmap::{Mapping, Sharing};
use common::posix::ShmName;
use common::system::meminfo::Meminfo;
use common::system::page_size;

fn main() -> ExitCode {
    common::run(mmap_mem)
}

/// Map 2046 MiB of shared anonymous memory, zero it, and hold it.
///
/// Port of mmap_mem.c from the article "Linux进程间通信-共享内存", section
/// "mmap内存共享映射". Prints /proc/meminfo's MemFree, Shmem (free's
/// "shared") and Cached (in free's "buff/cache") before and after, and the
/// time and page faults zeroing took; then holds the memory until Ctrl-C,
/// SIGTERM or SIGHUP (or --hold SECONDS), releases it and exits 0.
#[derive(Debug, Parser)]
#[command(name = "mmap_mem", version)]
struct Args {
    #[command(flatten)]
    mem: MemArgs,

    /// Back the memory with a POSIX object, /dev/shm/NAME
    ///
    /// Instead of anonymous memory: shm_open, ftruncate and mmap
    /// MAP_SHARED, as racing_posix_shm does. The table then shows the same
    /// Shmem and Cached as the article's run, and df's count for /dev/shm:
    /// all shared memory is tmpfs memory. The object is unlinked at the end.
    #[arg(long, value_name = "NAME", value_parser = ShmName::parse, conflicts_with = "file")]
    posix: Option<ShmName>,

    /// Back the memory with a new file on disk, PATH
    ///
    /// Instead of anonymous memory: a file (it must not exist yet) mapped
    /// MAP_SHARED. Its pages are page cache (Cached) but not Shmem, and
    /// once written they are Dirty until the kernel writes them back to
    /// the disk. The file is removed at the end. Pick a path on a disk,
    /// not in a tmpfs (df -h PATH's directory tells).
    #[arg(long, value_name = "PATH")]
    file: Option<PathBuf>,
}

/// The article's main(), statement by statement.
fn mmap_mem(args: Args) -> anyhow::Result<()> {
    // Not in the C: --posix and --file put an object or a file behind the memory (beyond_the_c.rs).
    if beyond_the_c::asked(&args) {
        return beyond_the_c::run(args);
    }
    let MemArgs {
        size,
        hold,
        no_touch,
    } = args.mem;

    // Not in the C: a size this machine cannot hold is refused; /proc/meminfo before.
    demo::refuse_what_does_not_fit(size, !no_touch)?;
    let before = Meminfo::read()?;

    // shm_p = mmap(NULL, MEMSIZE, PROT_WRITE|PROT_READ, MAP_SHARED|MAP_ANONYMOUS, -1, 0);
    // `memory` owns the mapping; the C's pointer shm_p is where it starts.
    let memory = Mapping::anonymous(size as usize, Sharing::Shared)?;

    // bzero(shm_p, MEMSIZE);
    // Not in the C: --no-touch leaves it out.
    let zeroing = if no_touch { None } else { Some(memory.zero()?) };

    // Not in the C: what was made, what zeroing cost, /proc/meminfo before and after.
    let anonymous = Backing::Anonymous;
    demo::report(
        &Backing::anonymous_created(size),
        zeroing,
        page_size(),
        &before,
        anonymous.rows(),
    )?;

    // sleep(3000);
    demo::hold_for_the_reader(hold, size, &anonymous.watch(size, !no_touch));

    // munmap(shm_p, MEMSIZE);
    drop(memory);

    // Not in the C: show that the memory went back.
    demo::released("munmap", &before, anonymous.rows());

    // exit(0);
    Ok(())
}
