//! What racing_posix_shm does that the article's racing_posix_shm.c does
//! not: `--runs`, `--linger` and `--attach`. main.rs enters here by one
//! branch each, and everything else it does is the C's.

use common::demo::hold::Hold;
use common::posix::ShmName;
use common::process::fork_children;
use common::race::{Lock, SemaphoreKind, SharedCounter, meet};

use super::{Args, do_child, experiment};

/// Whether the flags ask for more than the article's experiment (or for
/// `--count 0`, which only `--attach` accepts).
pub fn asked(args: &Args) -> bool {
    args.meet.attach || args.race.runs > 1 || args.race.count == 0
}

pub fn run(args: &Args) -> anyhow::Result<()> {
    args.race.check_count(args.meet.attach)?;
    // Join another run's object (--attach).
    if args.meet.attach {
        return join(args);
    }
    // --runs N repeats the whole experiment and shows the spread.
    args.race.repeat(|| experiment(args))
}

/// `--linger`: keep the object, with the result in it, for processes that
/// are not this one's children to find by the name.
pub fn linger(how: Hold, name: &ShmName, shm_p: SharedCounter<'_>) -> anyhow::Result<()> {
    let what = name.path().display().to_string();
    let join = format!("racing_posix_shm --attach --name {}", name.shell_word());
    meet::linger(how, &what, &join, || shm_p.get())?;
    Ok(())
}

/// Join the object another run keeps under the name, let this process's
/// own children add to it, and leave it to its creator.
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
