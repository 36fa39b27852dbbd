//! What racing_xsi_shm does that the article's racing_xsi_shm.c does not:
//! `--runs`, `--linger`, `--attach` and `--trace`. main.rs enters here by one branch
//! each, and everything else it does is the C's.

use std::path::Path;

use common::harness::flags::KeyArgs;
use common::process::fork_children;
use common::race::trace::{self, Trace};
use common::race::{Lock, SharedCounter, meet};
use common::terminal::hold::Hold;
use common::terminal::output::shell_word;
use common::xsi::{Key, Segment};

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
    // Join another run's segment (--attach).
    if args.meet.attach {
        return join(args);
    }
    // --runs N repeats the whole experiment and shows the spread.
    Report::repeat(&args.race, |report| experiment(args, report))
}

/// `--linger`: keep the segment, with the result in it, for processes
/// that are not this one's children to find by the key.
pub fn linger(
    how: Hold,
    segment: &Segment,
    shm_p: SharedCounter<'_>,
    path: &Path,
    proj_id: i32,
) -> anyhow::Result<()> {
    let what = format!("key {} (shmid {})", segment.key(), segment.id());
    let join = format!(
        "racing_xsi_shm --attach --path {} --proj-id {proj_id}",
        shell_word(path)
    );
    meet::linger(how, &what, &join, || shm_p.get())?;
    Ok(())
}

/// The article's main(), with each child's read and write recorded in the
/// segment after the int (`--trace`): a bigger segment, the same children.
fn experiment_traced(Args { race, key, .. }: &Args) -> anyhow::Result<()> {
    let KeyArgs { path, proj_id } = key;
    let proj_id = *proj_id;
    let shm_key = Key::ftok(path, proj_id)?;
    common::note(shm_key.explain());
    let size = trace::memory_len(size_of::<i32>(), race.count);
    let segment = Segment::create_exclusive(shm_key, size, 0o600)?;
    let attachment = segment.attach()?;
    // Set up before the counter is made, which looks for it.
    let traced = Trace::start(&attachment, race.count);
    let shm_p = SharedCounter::at_start_of(&attachment);
    shm_p.set(0);
    let lock = Lock::create(race.lock, segment.key())?;
    let ours = segment.identity();
    report::race_traced(
        race,
        || shm_p.get(),
        &lock,
        traced,
        |_| do_child(path, proj_id, &ours, &lock, race.pause()),
    )?;
    attachment.detach()?;
    segment.remove()?;
    Ok(())
}

/// Join the segment another run keeps under the key, let this process's
/// own children add to it, and leave it to its creator.
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
    let lock = Lock::join(race.lock, segment.key(), meeting.owner())?;
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
