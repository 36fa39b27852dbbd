//! What racing_mmap does that the article's racing_mmap.c does not:
//! `--runs`, `--private`, `--file`, `--attach` and `--trace`. main.rs enters here by
//! one branch, and everything else it does is the C's.

use std::path::Path;

use common::harness::flags::RaceArgs;
use common::mmap::{MappedFile, Mapping, Sharing, UnnamedSemaphore};
use common::process::fork_children;
use common::race::trace::{self, Trace};
use common::race::{Lock, LockMode, SharedCounter, meet};

use common::harness::report::Report;

use super::{Args, do_child, experiment};

/// Whether the flags ask for more than the article's experiment (or for
/// `--count 0`, which only `--attach` accepts).
pub fn asked(args: &Args) -> bool {
    args.attach
        || args.private
        || args.file.is_some()
        || args.race.runs > 1
        || args.race.count == 0
        || args.race.trace
}

pub fn run(
    Args {
        race,
        private,
        file,
        attach,
    }: &Args,
) -> anyhow::Result<()> {
    race.check_count(*attach)?;
    if race.trace {
        trace::check_count(race.count)?;
    }
    // Join the counter another run left in a file (--attach).
    if *attach {
        return join(race, file.as_deref());
    }
    // --runs N repeats the whole experiment and shows the spread.
    Report::repeat(race, |report| match (file, private, race.trace) {
        (None, false, false) => experiment(race, report),
        (file, private, _) => experiment_with(race, report, *private, file.as_deref()),
    })
}

/// The article's main(), with the int in a new counter file (`--file`)
/// and/or mapped `MAP_PRIVATE` (`--private`), and/or each child's read and
/// write recorded beside it (`--trace`).
fn experiment_with(
    race: &RaceArgs,
    report: &mut Report,
    private: bool,
    file: Option<&Path>,
) -> anyhow::Result<()> {
    let sharing = if private {
        Sharing::Private
    } else {
        Sharing::Shared
    };
    let mut len = match race.lock {
        LockMode::Semaphore => UnnamedSemaphore::MEMORY_LEN,
        _ => size_of::<i32>(),
    };
    if race.trace {
        len = trace::memory_len(len, race.count);
    }
    // --file: the page after the header of a new counter file.
    let mut backing = file
        .map(|path| MappedFile::create_counter(path, len))
        .transpose()?;
    let memory = match &backing {
        Some(file) => file.map(len, sharing)?,
        None => Mapping::anonymous(len, sharing)?,
    };
    // Set up before the counter is made, which looks for it.
    let traced = race
        .trace
        .then(|| Trace::start(&memory, race.count))
        .flatten();
    let shm_p = SharedCounter::at_start_of(&memory);
    shm_p.set(0);
    let lock = Lock::create(race.lock, &memory)?;
    let children = fork_children(race.count, |_| do_child(shm_p, &lock, race.pause()))?;
    let numbers = children.pids();
    children.wait_all_unless_stuck(race.stall_bound())?;
    report.print(shm_p.get())?;
    match sharing {
        Sharing::Shared => report.explain(shm_p.get(), &lock),
        Sharing::Private if race.runs == 1 => explain_private(race.count, shm_p.get()),
        Sharing::Private => {}
    }
    if let Some(traced) = traced {
        traced.tell(race.count, &numbers, shm_p.get());
    }
    // A file keeps the int after a run that ended well.
    if let Some(file) = &mut backing {
        file.keep();
        report.say(meet::file_kept(file));
    }
    Ok(())
}

/// Join the counter in a file another run made, let this process's own
/// children add to it, and leave the file as it is.
fn join(race: &RaceArgs, file: Option<&Path>) -> anyhow::Result<()> {
    let Some(path) = file else {
        return Err(meet::anonymous_cannot_be_joined().into());
    };
    let shared = MappedFile::join_counter(path)?;
    let memory = shared.map(size_of::<i32>(), Sharing::Shared)?;
    let shm_p = SharedCounter::at_start_of(&memory);
    let before = shm_p.get();
    let meeting = meet::file(path);
    let lock = Lock::join(race.lock, &memory, meeting.owner())?;
    meeting.joined(before)?;
    let children = fork_children(race.count, |_| do_child(shm_p, &lock, race.pause()))?;
    children.wait_all_unless_stuck(race.stall_bound())?;
    meet::result(race.count, before, shm_p.get())?;
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
