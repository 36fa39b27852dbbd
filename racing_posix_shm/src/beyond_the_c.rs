//! What racing_posix_shm does that the article's racing_posix_shm.c does
//! not: `--runs`, `--linger`, `--attach` and `--trace`. main.rs enters here by one
//! branch each, and everything else it does is the C's.

use common::posix::{NamedSemaphore, PosixShm, ShmName};
use common::process::fork_children;
use common::race::trace::{self, Trace};
use common::race::{Lock, LockMode, SharedCounter, meet};
use common::terminal::hold::Hold;

use common::harness::report::{self, Report};

use super::{Args, do_child, experiment};

/// Whether the flags ask for more than the article's experiment (or for
/// `--count 0`, which only `--attach` accepts).
pub fn asked(args: &Args) -> bool {
    args.meet.attach || args.race.runs > 1 || args.race.count == 0 || args.race.trace
}

pub fn run(args: &Args) -> anyhow::Result<()> {
    args.race.check_count(args.meet.attach)?;
    if args.race.trace {
        trace::check_count(args.race.count)?;
        return experiment_traced(args);
    }
    // Join another run's object (--attach).
    if args.meet.attach {
        return join(args);
    }
    // --runs N repeats the whole experiment and shows the spread.
    Report::repeat(&args.race, |report| experiment(args, report))
}

/// `--linger`: keep the object, with the result in it, for processes that
/// are not this one's children to find by the name.
pub fn linger(how: Hold, name: &ShmName, shm_p: SharedCounter<'_>) -> anyhow::Result<()> {
    let what = name.path().display().to_string();
    let join = format!("racing_posix_shm --attach --name {}", name.shell_word());
    meet::linger(how, &what, &join, || shm_p.get())?;
    Ok(())
}

/// The article's main(), with each child's read and write recorded in the
/// object after the int (`--trace`): a bigger object, the same children.
fn experiment_traced(Args { race, name, .. }: &Args) -> anyhow::Result<()> {
    let shm = PosixShm::create_exclusive(name, 0o600)?;
    common::note(format!("created {} as {}", name, name.path().display()));
    let base = match race.lock {
        LockMode::Semaphore => NamedSemaphore::MEMORY_LEN,
        _ => size_of::<i32>(),
    };
    let len = trace::memory_len(base, race.count);
    shm.set_len(len)?;
    let memory = shm.map(len)?;
    // Set up before the counter is made, which looks for it.
    let traced = Trace::start(&memory, race.count);
    let shm_p = SharedCounter::at_start_of(&memory);
    shm_p.set(0);
    let lock = Lock::create(race.lock, name)?;
    let ours = shm.identity();
    report::race_traced(
        race,
        || shm_p.get(),
        &lock,
        traced,
        |_| do_child(name, &ours, len, &lock, race.pause()),
    )?;
    drop(memory);
    shm.unlink()?;
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
    let lock = Lock::join(race.lock, name, meeting.owner())?;
    meeting.joined(before)?;
    let children = fork_children(race.count, |_| {
        do_child(name, &shm.identity(), len, &lock, race.pause())
    })?;
    children.wait_all_unless_stuck(race.stall_bound())?;
    meet::result(race.count, before, shm_p.get())?;
    // The object is not this process's: unmap and close, and leave it.
    Ok(())
}
