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

use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use common::harness::flags::{Family, KeyArgs, MeetArgs, RaceArgs, lock_help};
use common::harness::output::shell_word;
use common::process::fork_children;
use common::race::{Lock, SemaphoreKind, SharedCounter, meet};
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
    args.race.check_count(args.meet.attach)?;
    // Not in the C: join another run's segment (--attach).
    if args.meet.attach {
        return join(&args);
    }
    // Not in the C: --runs N repeats the whole experiment and shows the spread.
    args.race.repeat(|| experiment(&args))
}

/// The article's main(): one experiment.
fn experiment(
    Args {
        race, key, meet, ..
    }: &Args,
) -> anyhow::Result<()> {
    let KeyArgs { path, proj_id } = key;
    let proj_id = *proj_id;

    // shm_key = ftok(PATHNAME, proj_id);
    let shm_key = Key::ftok(path, proj_id)?;
    race.say(shm_key.explain());

    // shm_id = shmget(shm_key, sizeof(int), IPC_CREAT|IPC_EXCL|0600);
    let segment = Segment::create_exclusive(shm_key, size_of::<i32>(), 0o600)?;

    // shm_p = shmat(shm_id, NULL, 0);
    let attachment = segment.attach()?;
    let shm_p = SharedCounter::at_start_of(&attachment);

    // *shm_p = 0;
    shm_p.set(0);

    // Not in the C: the lock --lock asks for (none: the article's race).
    let lock = Lock::create(race.lock, SemaphoreKind::Xsi(segment.key()))?;

    // for (count = 0; count < COUNT; count++) { pid = fork(); if (pid == 0) do_child(proj_id); }
    let children = fork_children(race.count, |_| {
        do_child(path, proj_id, &segment.identity(), &lock, race.pause())
    })?;

    // for (count = 0; count < COUNT; count++) wait(NULL);
    children.wait_all_unless_stuck(race.stall_bound())?;

    // printf("shm_p: %d\n", *shm_p);
    race.result(shm_p.get(), || race.explain(shm_p.get(), &lock))?;

    // Not in the C: keep the segment for other processes (--linger).
    if let Some(how) = meet.linger {
        let what = format!("key {} (shmid {})", segment.key(), segment.id());
        let join = format!(
            "racing_xsi_shm --attach --path {} --proj-id {proj_id}",
            shell_word(path)
        );
        meet::linger(how, &what, &join, || shm_p.get())?;
    }

    // shmdt(shm_p);
    attachment.detach()?;

    // shmctl(shm_id, IPC_RMID, NULL);
    segment.remove()?;
    Ok(())
}

/// Not in the C: join the segment another run keeps under the key, let
/// this process's own children add to it, and leave it to its creator.
fn join(Args { race, key, .. }: &Args) -> anyhow::Result<()> {
    let KeyArgs { path, proj_id } = key;
    let proj_id = *proj_id;
    let shm_key = Key::ftok(path, proj_id)?;
    common::note(shm_key.explain());
    let start = format!(
        "racing_xsi_shm --linger 60 --path {} --proj-id {proj_id}",
        shell_word(path)
    );
    let (segment, meeting) = meet::segment(shm_key, &start)?;
    let attachment = segment.attach()?;
    let shm_p = SharedCounter::at_start_of(&attachment);
    let before = shm_p.get();
    let lock = Lock::join(
        race.lock,
        SemaphoreKind::Xsi(segment.key()),
        meeting.owner(),
    )?;
    meeting.joined(before)?;
    let children = fork_children(race.count, |_| {
        do_child(path, proj_id, &segment.identity(), &lock, race.pause())
    })?;
    children.wait_all_unless_stuck(race.stall_bound())?;
    meet::result(race.count, before, shm_p.get())?;
    // The segment is not this process's: detach, and leave it.
    attachment.detach()?;
    Ok(())
}

/// do_child(): find the parent's segment by key, race, detach.
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

    // shm_p = shmat(shm_id, NULL, 0);
    let attachment = segment.attach()?;
    let shm_p = SharedCounter::at_start_of(&attachment);

    // interval = *shm_p; interval++; usleep(1); *shm_p = interval;  (under --lock)
    let lock = lock.open_in_child()?;
    lock.increment(shm_p, pause)?;

    // shmdt(shm_p);
    attachment.detach()?;
    Ok(())
}
