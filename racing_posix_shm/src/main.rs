//! `racing_posix_shm` — the article's racing_posix_shm.c, section "POSIX共享内存".
//!
//! The race of racing_mmap, through POSIX shared memory. The parent creates
//! the object `/shm` with `shm_open` — a file in the tmpfs at /dev/shm —
//! sizes it to one int with `ftruncate`, maps it `MAP_SHARED`, sets the int
//! to 0 and forks 100 children. Each child opens the object again *by name*,
//! maps it, does the racy increment and unmaps it. The parent prints the
//! int, unmaps, and unlinks the name:
//!
//! ```text
//! $ racing_posix_shm 2>/dev/null
//! shm_p: 22
//! ```
//!
//! Takeaway: POSIX shared memory is a file you `mmap`; its name is a path,
//! its handle a file descriptor. The chapter is docs/racing_posix_shm.md.
//!
//! Read it beside the article: each C statement is a comment with its Rust
//! below it, in the C's order. What the C does not have is marked
//! `// Not in the C`; the flags the article has no counterpart for live in
//! beyond_the_c.rs, entered by a branch marked the same way.

mod beyond_the_c;

use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use common::harness::flags::{MeetArgs, RaceArgs};
use common::harness::report::Report;
use common::posix::{NamedSemaphore, ObjectId, PosixShm, ShmName};
use common::process::fork_children;
use common::race::{Family, Lock, LockMode, SharedCounter, lock_help};

fn main() -> ExitCode {
    common::run(racing_posix_shm)
}

/// Race forked children on one int in a POSIX shared memory object.
///
/// Port of racing_posix_shm.c from the article "Linux进程间通信-共享内存",
/// section "POSIX共享内存". The parent creates --name with
/// shm_open(O_CREAT|O_EXCL|O_RDWR, 0600), sizes it with ftruncate, maps it
/// MAP_SHARED and forks --count children that each shm_open the name again,
/// map it, read the int, pause and write back the value + 1. The parent
/// prints "shm_p: N" on stdout, unmaps and shm_unlinks the name. While it
/// runs, the object is the file /dev/shm/NAME.
#[derive(Debug, Parser)]
#[command(
    name = "racing_posix_shm",
    version,
    mut_arg("lock", lock_help(Family::Posix))
)]
struct Args {
    #[command(flatten)]
    race: RaceArgs,

    /// The object's name, the file /dev/shm/NAME
    ///
    /// '/' then 1 to 251 bytes with no other '/'. The article uses "shm";
    /// glibc treats "shm" and "/shm" alike. With --lock semaphore, the
    /// semaphore is the file /dev/shm/sem.NAME.
    #[arg(long, value_name = "NAME", default_value = "/shm", value_parser = ShmName::parse)]
    name: ShmName,

    #[command(flatten)]
    meet: MeetArgs,
}

fn racing_posix_shm(args: Args) -> anyhow::Result<()> {
    // Not in the C: --attach, --runs, --trace (beyond_the_c.rs).
    if beyond_the_c::asked(&args) {
        return beyond_the_c::run(&args);
    }
    experiment(&args, &mut Report::new(&args.race))
}

/// The article's main(), statement by statement.
fn experiment(
    Args {
        race, name, meet, ..
    }: &Args,
    report: &mut Report,
) -> anyhow::Result<()> {
    // shmfd = shm_open(SHMPATH, O_RDWR|O_CREAT|O_TRUNC, 0600);
    // Not in the C: O_EXCL instead of O_TRUNC, never a truncated leftover (see the chapter).
    let shm = PosixShm::create_exclusive(name, 0o600)?;

    // Not in the C: where the object is, on stderr.
    report.say(format!("created {} as {}", name, name.path().display()));

    // Not in the C: --lock semaphore needs room after the int for the pid of its holder.
    let len = match race.lock {
        LockMode::Semaphore => NamedSemaphore::MEMORY_LEN,
        _ => size_of::<i32>(),
    };

    // ret = ftruncate(shmfd, sizeof(int));
    shm.set_len(len)?;

    // shm_p = (int *)mmap(NULL, sizeof(int), PROT_WRITE|PROT_READ, MAP_SHARED, shmfd, 0);
    let memory = shm.map(len)?;
    let shm_p = SharedCounter::at_start_of(&memory);

    // *shm_p = 0;
    shm_p.set(0);

    // Not in the C: the lock --lock asks for (none: the article's race).
    let lock = Lock::create(race.lock, name)?;

    // for (count=0;count<COUNT;count++) { pid = fork(); if (pid == 0) do_child(SHMPATH); }
    let children = fork_children(race.count, |_| {
        do_child(name, &shm.identity(), len, &lock, race.pause())
    })?;

    // for (count=0;count<COUNT;count++) wait(NULL);
    children.wait_all_unless_stuck(race.stall_bound())?;

    // printf("shm_p: %d\n", *shm_p);
    report.print(shm_p.get())?;

    // Not in the C: what the number means, on stderr.
    report.explain(shm_p.get(), &lock);

    // Not in the C: --linger keeps the object for other processes (beyond_the_c.rs).
    if let Some(how) = meet.linger {
        beyond_the_c::linger(how, name, shm_p)?;
    }

    // munmap(shm_p, sizeof(int));
    drop(memory);

    // close(shmfd); shm_unlink(SHMPATH);
    shm.unlink()?;

    // exit(0);
    Ok(())
}

/// do_child(): open the parent's object by name, map it, race. Returning
/// ends the child with `_exit(0)`.
fn do_child(
    shmpath: &ShmName,
    ours: &ObjectId,
    len: usize,
    lock: &Lock<'_>,
    pause: Duration,
) -> anyhow::Result<()> {
    // shmfd = shm_open(shmpath, O_RDWR, 0600);
    let shm = PosixShm::open(shmpath)?;

    // Not in the C: the name may lead to another object by now. Write only to the run's.
    shm.must_be(ours)?;

    // shm_p = (int *)mmap(NULL, sizeof(int), PROT_WRITE|PROT_READ, MAP_SHARED, shmfd, 0);
    let memory = shm.map(len)?;
    let shm_p = SharedCounter::at_start_of(&memory);

    // Not in the C: --lock atomic makes the read, the add and the write one step.
    if lock.is_atomic() {
        std::thread::sleep(pause);
        shm_p.fetch_add(1);
        return Ok(());
    }
    // Not in the C: --lock flock or semaphore is taken here, and given back below.
    let held = lock.enter(shm_p)?;

    // /* critical section */
    // interval = *shm_p;
    let mut interval = shm_p.get();
    // interval++;
    interval = interval.wrapping_add(1);
    // usleep(1);
    std::thread::sleep(pause);
    // *shm_p = interval;
    shm_p.set(interval);
    // /* critical section */
    // Not in the C: give the lock back.
    held.leave()?;

    // munmap(shm_p, sizeof(int)); close(shmfd);  — `memory` and `shm` are dropped here.
    // exit(0);
    Ok(())
}
