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
//!
//! Read it beside the article: each C statement is a comment with its Rust
//! below it, in the C's order. What the C does not have is marked
//! `// Not in the C`; the flags the article has no counterpart for live in
//! beyond_the_c.rs, entered by a branch marked the same way.

mod beyond_the_c;

use std::process::ExitCode;
use std::time::Duration;

use std::path::PathBuf;

use clap::Parser;
use common::harness::flags::RaceArgs;
use common::harness::report::Report;
use common::mmap::{Mapping, Sharing, UnnamedSemaphore};
use common::process::fork_children;
use common::race::{Family, Lock, LockMode, SharedCounter, lock_help};

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
    #[arg(long, conflicts_with_all = ["attach", "trace"])]
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
    #[arg(long, conflicts_with_all = ["runs", "trace"])]
    attach: bool,
}

fn racing_mmap(args: Args) -> anyhow::Result<()> {
    // Not in the C: --attach, --file, --private, --runs, --trace (beyond_the_c.rs).
    if beyond_the_c::asked(&args) {
        return beyond_the_c::run(&args);
    }
    experiment(&args.race, &mut Report::new(&args.race))
}

/// The article's main(), statement by statement.
fn experiment(race: &RaceArgs, report: &mut Report) -> anyhow::Result<()> {
    // Not in the C: --lock semaphore needs room after the int for a sem_t.
    let len = match race.lock {
        LockMode::Semaphore => UnnamedSemaphore::MEMORY_LEN,
        _ => size_of::<i32>(),
    };

    // shm_p = (int *)mmap(NULL, sizeof(int), PROT_WRITE|PROT_READ, MAP_SHARED|MAP_ANONYMOUS, -1, 0);
    let memory = Mapping::anonymous(len, Sharing::Shared)?;
    let shm_p = SharedCounter::at_start_of(&memory);

    // *shm_p = 0;
    shm_p.set(0);

    // Not in the C: the lock --lock asks for (none: the article's race).
    let lock = Lock::create(race.lock, &memory)?;

    // for (count=0;count<COUNT;count++) { pid = fork(); if (pid == 0) do_child(shm_p); }
    let children = fork_children(race.count, |_| do_child(shm_p, &lock, race.pause()))?;

    // for (count=0;count<COUNT;count++) wait(NULL);
    children.wait_all_unless_stuck(race.stall_bound())?;

    // printf("shm_p: %d\n", *shm_p);
    report.print(shm_p.get())?;

    // Not in the C: what the number means, on stderr.
    report.explain(shm_p.get(), &lock);

    // munmap(shm_p, sizeof(int));  — `memory` is unmapped where it goes out of scope, here.
    Ok(())
}

/// do_child(): the critical section. Returning ends the child with `_exit(0)`.
fn do_child(count: SharedCounter<'_>, lock: &Lock<'_>, pause: Duration) -> anyhow::Result<()> {
    // Not in the C: --lock atomic makes the read, the add and the write one step.
    if lock.is_atomic() {
        std::thread::sleep(pause);
        count.fetch_add(1);
        return Ok(());
    }
    // Not in the C: --lock flock or semaphore is taken here, and given back below.
    let held = lock.enter(count)?;

    // /* critical section */
    // interval = *count;
    let mut interval = count.get();
    // interval++;
    interval = interval.wrapping_add(1);
    // usleep(1);
    std::thread::sleep(pause);
    // *count = interval;
    count.set(interval);
    // /* critical section */
    // Not in the C: give the lock back.
    held.leave()?;

    // exit(0);
    Ok(())
}
