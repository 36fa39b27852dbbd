//! What mmap_mem does that the article's mmap_mem.c does not: `--posix`
//! and `--file` put a POSIX object or a file on disk behind the memory
//! instead of nothing. main.rs enters here by one branch, and everything
//! else it does is the C's.

use common::SharedMemory;
use common::demo::{self, backing::Backing};
use common::harness::flags::MemArgs;
use common::system::meminfo::Meminfo;
use common::system::page_size;

use super::Args;

/// Whether the flags ask for a backing the article does not use.
pub fn asked(args: &Args) -> bool {
    args.posix.is_some() || args.file.is_some()
}

/// mmap_mem's experiment with the memory backed by `--posix NAME` or `--file PATH`.
pub fn run(Args { mem, posix, file }: Args) -> anyhow::Result<()> {
    let MemArgs {
        size,
        hold,
        no_touch,
    } = mem;
    let backing = match (posix, file) {
        (Some(name), _) => Backing::Posix(Box::new(name)),
        (None, Some(path)) => Backing::File(path),
        (None, None) => Backing::Anonymous,
    };
    demo::refuse_what_does_not_fit(size, !no_touch)?;
    let before = Meminfo::read()?;
    let mapped = backing.map(size as usize, !no_touch)?;
    let zeroing = if no_touch {
        None
    } else {
        Some(mapped.memory.zero()?)
    };
    demo::report(
        mapped.created(),
        zeroing,
        page_size(),
        &before,
        backing.rows(),
    )?;
    demo::hold_for_the_reader(hold, size, &backing.watch(size, !no_touch));
    let how = mapped.release()?;
    demo::released(&how, &before, backing.rows());
    Ok(())
}
