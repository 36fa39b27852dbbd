//! `racing_xsi_shm` — the article's racing_xsi_shm.c, section "XSI共享内存".
//!
//! The race of racing_mmap, through System V shared memory. The parent turns
//! a path and a project id into a key with `ftok`, creates a 4-byte segment
//! under that key, attaches it, sets the int to 0 and forks 100 children.
//! Each child finds the segment again *by key* — as an unrelated process
//! would — attaches it, does the racy increment and detaches. The parent
//! prints the int, detaches, and removes the segment:
//!
//! ```text
//! $ racing_xsi_shm 2>/dev/null
//! shm_p: 27
//! ```
//!
//! Takeaway: a key is a system-wide name, so processes that share no
//! ancestry can meet at the same memory; and the segment outlives them all
//! until someone removes it. The chapter is docs/racing_xsi_shm.md.
//!
//! Read it beside the article: each C statement is a comment with its Rust
//! below it, in the C's order. What the C does not have is marked
//! `// Not in the C`; the flags the article has no counterpart for live in
//! beyond_the_c.rs, entered by a branch marked the same way.

mod beyond_the_c;

use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use common::harness::flags::{KeyArgs, MeetArgs, RaceArgs};
use common::harness::report::Report;
use common::process::fork_children;
use common::race::{Family, Lock, SharedCounter, lock_help};
use common::xsi::{Key, Segment, SegmentId};

fn main() -> ExitCode {
    common::run(racing_xsi_shm)
}

/// Race forked children on one int in a System V shared memory segment.
///
/// Port of racing_xsi_shm.c from the article "Linux进程间通信-共享内存",
/// section "XSI共享内存". The parent makes a key with ftok(--path,
/// --proj-id), creates a segment with shmget(IPC_CREAT|IPC_EXCL|0600) and
/// forks --count children that each find it again by key (shmget, shmat),
/// read the int, pause, write back the value + 1 and detach. The parent
/// prints "shm_p: N" on stdout, detaches and removes the segment
/// (IPC_RMID). While it runs, ipcs -m lists the segment.
#[derive(Debug, Parser)]
#[command(
    name = "racing_xsi_shm",
    version,
    mut_arg("lock", lock_help(Family::Xsi))
)]
struct Args {
    #[command(flatten)]
    race: RaceArgs,

    #[command(flatten)]
    key: KeyArgs,

    #[command(flatten)]
    meet: MeetArgs,
}

fn racing_xsi_shm(args: Args) -> anyhow::Result<()> {
    // Not in the C: --attach, --runs, --trace (beyond_the_c.rs).
    if beyond_the_c::asked(&args) {
        return beyond_the_c::run(&args);
    }
    experiment(&args, &mut Report::new(&args.race))
}

/// The article's main(), statement by statement.
fn experiment(
    Args {
        race, key, meet, ..
    }: &Args,
    report: &mut Report,
) -> anyhow::Result<()> {
    let KeyArgs { path, proj_id } = key;

    // proj_id = 1234;
    let proj_id = *proj_id;

    // shm_key = ftok(PATHNAME, proj_id);
    let shm_key = Key::ftok(path, proj_id)?;

    // Not in the C: how ftok made the key, on stderr.
    report.say(shm_key.explain());

    // shm_id = shmget(shm_key, sizeof(int), IPC_CREAT|IPC_EXCL|0600);
    let segment = Segment::create_exclusive(shm_key, size_of::<i32>(), 0o600)?;

    // shm_p = (int *)shmat(shm_id, NULL, 0);
    let attachment = segment.attach()?;
    let shm_p = SharedCounter::at_start_of(&attachment);

    // *shm_p = 0;
    shm_p.set(0);

    // Not in the C: the lock --lock asks for (none: the article's race).
    let lock = Lock::create(race.lock, segment.key())?;

    // for (count=0;count<COUNT;count++) { pid = fork(); if (pid == 0) do_child(proj_id); }
    let children = fork_children(race.count, |_| {
        do_child(path, proj_id, &segment.identity(), &lock, race.pause())
    })?;

    // for (count=0;count<COUNT;count++) wait(NULL);
    children.wait_all_unless_stuck(race.stall_bound())?;

    // printf("shm_p: %d\n", *shm_p);
    report.print(shm_p.get())?;

    // Not in the C: what the number means, on stderr.
    report.explain(shm_p.get(), &lock);

    // Not in the C: --linger keeps the segment for other processes (beyond_the_c.rs).
    if let Some(how) = meet.linger {
        beyond_the_c::linger(how, &segment, shm_p, path, proj_id)?;
    }

    // shmdt(shm_p);
    attachment.detach()?;

    // shmctl(shm_id, IPC_RMID, NULL);
    segment.remove()?;

    // exit(0);
    Ok(())
}

/// do_child(): find the parent's segment by key, race, detach. Returning
/// ends the child with `_exit(0)`.
fn do_child(
    path: &Path,
    proj_id: i32,
    ours: &SegmentId,
    lock: &Lock<'_>,
    pause: Duration,
) -> anyhow::Result<()> {
    // shm_key = ftok(PATHNAME, proj_id);
    let shm_key = Key::ftok(path, proj_id)?;

    // shm_id = shmget(shm_key, sizeof(int), 0);
    let segment = Segment::open(shm_key, size_of::<i32>())?;

    // Not in the C: the key may name another segment by now. Write only to the run's.
    segment.must_be(ours)?;

    // shm_p = (int *)shmat(shm_id, NULL, 0);
    let attachment = segment.attach()?;
    let shm_p = SharedCounter::at_start_of(&attachment);

    // Not in the C: --lock atomic makes the read, the add and the write one step.
    if lock.is_atomic() {
        std::thread::sleep(pause);
        shm_p.fetch_add(1);
        attachment.detach()?;
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

    // shmdt(shm_p);
    attachment.detach()?;

    // exit(0);
    Ok(())
}
