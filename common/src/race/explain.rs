//! What the race's failures and results mean, told to the student: every
//! hint of `race/` is written here (the layout test holds the folder to it).

use std::time::Duration;

use super::lock::Lock;
use super::mode::{Family, LockMode};
use crate::error::Failure;
use crate::system::procs;

/// `--lock MODE` cannot join another run: `why`, and what to use instead
/// in this family.
pub(crate) fn cannot_join(mode: LockMode, why: &str, family: Family) -> Failure {
    // racing_mmap's semaphore cannot be joined either: offer only what works.
    let instead = match family {
        Family::Mmap => "join with --lock atomic, which needs no lock object at all",
        Family::Xsi | Family::Posix => {
            "join with the lock the creator uses: --lock semaphore (found by the same key\n\
             or name) or --lock atomic"
        }
    };
    Failure::new(format!("--lock {} cannot join the run: {why}", mode.name())).hint(format!(
        "{instead}; a different lock, or none, lets updates be lost."
    ))
}

pub(crate) fn holder_died(family: Family, what: &str, pid: libc::pid_t) -> Failure {
    match family {
        Family::Xsi => Failure::new(format!(
            "{what} is held by pid {pid}, which has died: it took the semaphore without SEM_UNDO, \
             so the kernel did not give it back"
        ))
        .hint(
            "that process was not a run of this program (ours always pass SEM_UNDO). Remove\n\
             the set if it is yours and stale (ipcs -s shows it), or use another --proj-id.",
        ),
        Family::Mmap | Family::Posix => {
            let remedy = if family == Family::Mmap {
                "nothing can free it: the run ends, and its memory goes with the semaphore in it."
            } else {
                "nothing can free it: end the run that made it (it removes its semaphore with its\n\
                 object) and start again, or join with --lock atomic, which needs no lock object."
            };
            Failure::new(format!(
                "{what} is held by pid {pid}, which died without giving it back: a POSIX semaphore \
                 is only a counter in memory, and nobody else may post it"
            ))
            .hint(format!(
                "{remedy}\nA System V semaphore with SEM_UNDO (racing_xsi_shm) is given back by the\n\
                 kernel when its holder dies."
            ))
        }
    }
}

pub(crate) fn held_by_a_stranger(
    what: &str,
    pid: Option<libc::pid_t>,
    nobody_for: Duration,
) -> Failure {
    let who = match pid {
        Some(pid) => format!(
            "pid {pid} ({}), which is not a run of this program",
            procs::name_of(pid).unwrap_or_else(|| String::from("?"))
        ),
        None => String::from(
            "a process that did not say who it is: not a child of a run of this program, \
             or one that died the moment it took it",
        ),
    };
    Failure::new(format!(
        "{what} has been taken for {} s by {who}",
        nobody_for.as_secs()
    ))
    .hint(
        "waiting longer could wait forever. End the run that made the semaphore (it\n\
         removes it) and start again, or join with --lock atomic.",
    )
}

/// What the result `got` of `count` children means, a line each: what was
/// expected, how many updates were lost and why, what to try next.
pub fn result(count: usize, sleep_us: u64, got: i32, lock: &Lock<'_>) -> Vec<String> {
    let mut lines = Vec::new();
    let expected = count;
    let lost = expected as i64 - i64::from(got);
    if lost < 0 {
        lines.push(format!(
            "{expected} children each added 1 to the shared int: expected {expected}, got {got}: \
                 {} more than they added. Another process found the memory by its name and added \
                 to it meanwhile (--attach).",
            -lost
        ));
        return lines;
    }
    if expected == 1 {
        lines.push(format!(
            "1 child added 1 to the shared int: expected 1, got {got}."
        ));
    } else {
        let (updates, were) = if lost == 1 {
            ("update", "was")
        } else {
            ("updates", "were")
        };
        lines.push(format!(
                "{expected} children each added 1 to the shared int: expected {expected}, got {got}, so {lost} {updates} {were} lost."
            ));
    }
    if !matches!(lock, Lock::None) {
        let name = lock.mode().name();
        if lost == 0 {
            lines.push(format!(
                "--lock {name}: {}, so no update was lost.",
                lock.describe()
            ));
        } else {
            lines.push(format!(
                    "--lock {name}: {}, and still {lost} updates were lost. That is a bug: please report it.",
                    lock.describe()
                ));
        }
    } else if expected == 1 {
        lines.push(String::from(
            "With one child there is nobody to race with; the default --count 100 shows the race.",
        ));
    } else if lost > 0 {
        let step = if sleep_us == 0 {
            String::from("wrote back that value + 1 at once")
        } else {
            format!("slept {} µs, wrote back that value + 1", sleep_us)
        };
        lines.push(format!(
                "Each child read the int, {step}: a child that read before another's write overwrote it. Fix it: --lock semaphore."
            ));
    } else {
        lines.push(String::from(
                "None lost this time, yet nothing prevented it: read and write are still two steps. Run again, or raise --sleep-us.",
            ));
    }
    lines
}
