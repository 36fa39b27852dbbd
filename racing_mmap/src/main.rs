//! `racing_mmap` — the article's racing_mmap.c, section "mmap内存共享映射".
//!
//! The parent maps one `int` with `MAP_SHARED | MAP_ANONYMOUS`, sets it to 0
//! and forks 100 children. Because the mapping is shared, not copied, every
//! child sees the same int. Each child reads it, sleeps 1 µs, and writes back
//! what it read + 1. The parent waits for all of them and prints the int:
//!
//! ```text
//! $ racing_mmap 2>/dev/null
//! shm_p: 17
//! ```
//!
//! Takeaway: 100 increments, far fewer counted. Reads that overlap lose
//! updates — a race condition the article leaves for semaphores to fix.
//! The chapter is docs/racing_mmap.md.

use std::process::ExitCode;
use std::time::Duration;

use std::path::{Path, PathBuf};

use clap::Parser;
use common::harness::flags::{Family, RaceArgs, lock_help};
use common::mmap::{MappedFile, Mapping, Sharing, UnnamedSemaphore};
use common::process::fork_children;
use common::race::{Lock, LockMode, SemaphoreKind, SharedCounter, meet};

fn main() -> ExitCode {
    common::run(racing_mmap)
}

/// Race forked children on one int in MAP_SHARED|MAP_ANONYMOUS memory.
///
/// Port of racing_mmap.c from the article "Linux进程间通信-共享内存",
/// section "mmap内存共享映射". The parent maps a shared int, forks --count
/// children that each read it, pause, and write back the value + 1, then
/// prints the result as "shm_p: N" on stdout. Updates are lost when children
/// overlap, so N is usually below --count; stderr explains the result.
#[derive(Debug, Parser)]
#[command(
    name = "racing_mmap",
    version,
    mut_arg("lock", lock_help(Family::Mmap))
)]
struct Args {
    #[command(flatten)]
    race: RaceArgs,

    /// Map the int MAP_PRIVATE instead of MAP_SHARED
    ///
    /// An exercise: each child then writes its own copy-on-write copy of
    /// the page, and the parent's int stays 0.
    #[arg(long, conflicts_with = "attach")]
    private: bool,

    /// Map this new file MAP_SHARED instead of anonymous memory
    ///
    /// The article's first use of mmap: "a specific file". The program
    /// creates PATH (it must not exist yet): one page of text that says it
    /// is a racing_mmap counter, then the int, which it maps MAP_SHARED and
    /// races on. A run that ends well keeps the file, holding the result
    /// (the last line says how od prints it, and racing_mmap --attach
    /// --file PATH joins it from another terminal); a run cut short
    /// removes it. Remove it with rm.
    #[arg(long, value_name = "PATH", conflicts_with = "runs")]
    file: Option<PathBuf>,

    /// Join the counter in --file PATH instead of creating it
    ///
    /// Opens the file, which must be a counter racing_mmap --file made
    /// (anything else is refused and left as it is), says how many
    /// processes map it, reads the int, forks --count children that add to
    /// it (0: only read) and prints it. Without --file there is nothing to
    /// join: anonymous memory has no name, so only the children forked
    /// after the mmap share it.
    #[arg(long, conflicts_with = "runs")]
    attach: bool,
}

fn racing_mmap(
    Args {
        race,
        private,
        file,
        attach,
    }: Args,
) -> anyhow::Result<()> {
    race.check_count(attach)?;
    // Not in the C: join the counter another run left in a file (--attach).
    if attach {
        return join(&race, file.as_deref());
    }
    // Not in the C: --runs N repeats the whole experiment and shows the spread.
    race.repeat(|| experiment(&race, private, file.as_deref()))
}

/// The article's main(): one experiment.
fn experiment(race: &RaceArgs, private: bool, file: Option<&Path>) -> anyhow::Result<()> {
    let sharing = if private {
        Sharing::Private
    } else {
        Sharing::Shared
    };

    // shm_p = mmap(NULL, sizeof(int), PROT_WRITE|PROT_READ, MAP_SHARED|MAP_ANONYMOUS, -1, 0);
    // (--lock semaphore maps room for a sem_t after the int)
    let len = match race.lock {
        LockMode::Semaphore => UnnamedSemaphore::MEMORY_LEN,
        _ => size_of::<i32>(),
    };
    // (--file: the page after the header of a new counter file)
    let mut backing = file
        .map(|path| MappedFile::create_counter(path, len))
        .transpose()?;
    let memory = match &backing {
        Some(file) => file.map(len, sharing)?,
        None => Mapping::anonymous(len, sharing)?,
    };
    let shm_p = SharedCounter::at_start_of(&memory);

    // *shm_p = 0;
    shm_p.set(0);

    // Not in the C: the lock --lock asks for (none: the article's race).
    let lock = Lock::create(race.lock, SemaphoreKind::InMemory(&memory))?;

    // for (count = 0; count < COUNT; count++) { pid = fork(); if (pid == 0) do_child(shm_p); }
    let children = fork_children(race.count, |_| do_child(shm_p, &lock, race.pause()))?;

    // for (count = 0; count < COUNT; count++) wait(NULL);
    children.wait_all_unless_stuck(race.stall_bound())?;

    // printf("shm_p: %d\n", *shm_p);
    race.result(shm_p.get(), || match sharing {
        Sharing::Shared => race.explain(shm_p.get(), &lock),
        Sharing::Private => explain_private(race.count, shm_p.get()),
    })?;

    // Not in the C: a file keeps the int after a run that ended well.
    if let Some(file) = &mut backing {
        file.keep();
        race.say(meet::file_kept(file));
    }

    // munmap(shm_p, sizeof(int)): `memory` is unmapped when it goes out of scope.
    Ok(())
}

/// Not in the C: join the counter in a file another run made, let this
/// process's own children add to it, and leave the file as it is.
fn join(race: &RaceArgs, file: Option<&Path>) -> anyhow::Result<()> {
    let Some(path) = file else {
        return Err(meet::anonymous_cannot_be_joined().into());
    };
    let shared = MappedFile::join_counter(path)?;
    let memory = shared.map(size_of::<i32>(), Sharing::Shared)?;
    let shm_p = SharedCounter::at_start_of(&memory);
    let before = shm_p.get();
    let meeting = meet::file(path);
    let lock = Lock::join(race.lock, SemaphoreKind::InMemory(&memory), meeting.owner())?;
    meeting.joined(before)?;
    let children = fork_children(race.count, |_| do_child(shm_p, &lock, race.pause()))?;
    children.wait_all_unless_stuck(race.stall_bound())?;
    meet::result(race.count, before, shm_p.get())?;
    Ok(())
}

/// do_child(): the critical section. Returning ends the child with `_exit(0)`.
fn do_child(shm_p: SharedCounter<'_>, lock: &Lock<'_>, pause: Duration) -> anyhow::Result<()> {
    let lock = lock.open_in_child()?;

    // interval = *count; interval++; usleep(1); *count = interval;  (under --lock)
    lock.increment(shm_p, pause)?;
    Ok(())
}

/// What `--private` shows: without MAP_SHARED no child's write reaches the parent.
fn explain_private(count: usize, got: i32) {
    common::note(format!(
        "{count} children each added 1, but the int was mapped MAP_PRIVATE: the parent still reads {got}."
    ));
    common::note(
        "Each child's write went to its own copy-on-write copy of the page. MAP_SHARED is what makes fork share memory.",
    );
}
