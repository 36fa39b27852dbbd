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

use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use common::harness::flags::{Family, MeetArgs, RaceArgs, lock_help};
use common::posix::{NamedSemaphore, ObjectId, PosixShm, ShmName};
use common::process::fork_children;
use common::race::{Lock, LockMode, SemaphoreKind, SharedCounter, meet};

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
    args.race.check_count(args.meet.attach)?;
    // Not in the C: join another run's object (--attach).
    if args.meet.attach {
        return join(&args);
    }
    // Not in the C: --runs N repeats the whole experiment and shows the spread.
    args.race.repeat(|| experiment(&args))
}

/// The article's main(): one experiment.
fn experiment(
    Args {
        race, name, meet, ..
    }: &Args,
) -> anyhow::Result<()> {
    // shmfd = shm_open(SHMPATH, O_RDWR|O_CREAT|O_TRUNC, 0600);  (O_EXCL here: see the docs)
    let shm = PosixShm::create_exclusive(name, 0o600)?;
    race.say(format!("created {} as {}", name, name.path().display()));

    // ftruncate(shmfd, sizeof(int));
    // (--lock semaphore: room after the int for the pid of the semaphore's holder)
    let len = match race.lock {
        LockMode::Semaphore => NamedSemaphore::MEMORY_LEN,
        _ => size_of::<i32>(),
    };
    shm.set_len(len)?;

    // shm_p = mmap(NULL, sizeof(int), PROT_WRITE|PROT_READ, MAP_SHARED, shmfd, 0);
    let memory = shm.map(len)?;
    let shm_p = SharedCounter::at_start_of(&memory);

    // *shm_p = 0;
    shm_p.set(0);

    // Not in the C: the lock --lock asks for (none: the article's race).
    let lock = Lock::create(race.lock, SemaphoreKind::Named(name))?;

    // for (count = 0; count < COUNT; count++) { pid = fork(); if (pid == 0) do_child(SHMPATH); }
    let children = fork_children(race.count, |_| {
        do_child(name, &shm.identity(), len, &lock, race.pause())
    })?;

    // for (count = 0; count < COUNT; count++) wait(NULL);
    children.wait_all_unless_stuck(race.stall_bound())?;

    // printf("shm_p: %d\n", *shm_p);
    race.result(shm_p.get(), || race.explain(shm_p.get(), &lock))?;

    // Not in the C: keep the object for other processes (--linger).
    if let Some(how) = meet.linger {
        let what = name.path().display().to_string();
        let join = format!("racing_posix_shm --attach --name {}", name.shell_word());
        meet::linger(how, &what, &join, || shm_p.get())?;
    }

    // munmap(shm_p, sizeof(int));
    drop(memory);

    // close(shmfd); shm_unlink(SHMPATH);
    shm.unlink()?;
    Ok(())
}

/// Not in the C: join the object another run keeps under the name, let
/// this process's own children add to it, and leave it to its creator.
fn join(Args { race, name, .. }: &Args) -> anyhow::Result<()> {
    let start = format!("racing_posix_shm --linger 60 --name {}", name.shell_word());
    let (shm, meeting) = meet::object(name, &start)?;
    let len = shm.size();
    let memory = shm.map(len)?;
    let shm_p = SharedCounter::at_start_of(&memory);
    let before = shm_p.get();
    let lock = Lock::join(race.lock, SemaphoreKind::Named(name), meeting.owner())?;
    meeting.joined(before)?;
    let children = fork_children(race.count, |_| {
        do_child(name, &shm.identity(), len, &lock, race.pause())
    })?;
    children.wait_all_unless_stuck(race.stall_bound())?;
    meet::result(race.count, before, shm_p.get())?;
    // The object is not this process's: unmap and close, and leave it.
    Ok(())
}

/// do_child(): open the parent's object by name, map it, race.
fn do_child(
    name: &ShmName,
    ours: &ObjectId,
    len: usize,
    lock: &Lock<'_>,
    pause: Duration,
) -> anyhow::Result<()> {
    // shmfd = shm_open(shmpath, O_RDWR, 0600);
    let shm = PosixShm::open(name)?;

    // Not in the C: the name may lead to another object by now. Write only to the run's.
    shm.must_be(ours)?;

    // shm_p = mmap(NULL, sizeof(int), PROT_WRITE|PROT_READ, MAP_SHARED, shmfd, 0);
    let memory = shm.map(len)?;
    let shm_p = SharedCounter::at_start_of(&memory);

    // interval = *shm_p; interval++; usleep(1); *shm_p = interval;  (under --lock)
    let lock = lock.open_in_child()?;
    lock.increment(shm_p, pause)?;

    // munmap(shm_p, sizeof(int)); close(shmfd);  — both dropped here
    Ok(())
}
