//! What the race's failures and results mean, told to the student: every
//! hint of `race/` is written here (the layout test holds the folder to it).

use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::time::Duration;

use nix::errno::Errno;

use super::mode::{Family, LockMode};
use super::trace;
use crate::error::{Failure, SysError};
use crate::system::procs;
use crate::system::sysvipc::SegmentInfo;
use crate::system::users::user_name;
use crate::terminal::output::shell_word;
use crate::xsi::Key;

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
///
/// `mode` is the `--lock` the run used, and `protection` what it put
/// around the critical section (`Lock::describe`).
pub fn result(
    count: usize,
    sleep_us: u64,
    got: i32,
    mode: LockMode,
    protection: &str,
) -> Vec<String> {
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
    if mode != LockMode::None {
        let name = mode.name();
        if lost == 0 {
            lines.push(format!(
                "--lock {name}: {}, so no update was lost.",
                protection
            ));
        } else {
            lines.push(format!(
                    "--lock {name}: {}, and still {lost} updates were lost. That is a bug: please report it.",
                    protection
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

/// A child found another file where the run's lock file was.
pub(crate) fn lock_file_replaced(path: &Path, program: &str) -> Failure {
    Failure::new(format!(
        "{} is another file now, not the lock file this run made: someone replaced it; \
         this child left it alone",
        shell_word(path)
    ))
    .hint(
        "the directory of $TMPDIR lets others replace files in it. Point TMPDIR at a\n\
         directory of your own, e.g.: TMPDIR=$HOME PROGRAM --lock flock"
            .replace("PROGRAM", program),
    )
}

/// Why this run could not create its lock file, and how to get one: the
/// directory, whose it is, and the `TMPDIR=` that points elsewhere.
pub(crate) fn lock_file_not_created(err: SysError, path: &Path, program: &str) -> SysError {
    let dir = path.parent().unwrap_or(Path::new("/"));
    let elsewhere = "--lock flock keeps its lock file in $TMPDIR (/tmp if unset). Point TMPDIR\n\
                     at a directory of your own, e.g.: TMPDIR=$HOME PROGRAM --lock flock"
        .replace("PROGRAM", program);
    let about_dir = match std::fs::metadata(dir) {
        Ok(meta) if !meta.is_dir() => format!("{} is not a directory.", shell_word(dir)),
        Ok(meta) => format!(
            "{} belongs to {}, mode {:04o}: this user may not create files in it.",
            shell_word(dir),
            user_name(meta.uid()),
            meta.mode() & 0o7777
        ),
        Err(_) => format!("{} does not exist.", shell_word(dir)),
    };
    match err.errno() {
        Errno::EACCES | Errno::EPERM | Errno::EROFS | Errno::ENOENT | Errno::ENOTDIR => {
            err.hint(format!("{about_dir}\n{elsewhere}"))
        }
        Errno::EEXIST => err.hint(format!(
            "100 random names in {} were all taken: someone is filling the directory\n\
             with files faster than names can be guessed.\n{elsewhere}",
            shell_word(dir)
        )),
        // EMFILE, ENOSPC, …: a limit, not the directory (see general_hint).
        _ => err,
    }
}

/// The segment under a key is not a racing_xsi_shm counter.
pub(crate) fn not_a_counter_segment(key: &Key, info: &SegmentInfo, start: &str) -> Failure {
    Failure::new(format!(
        "key {key} names shmid {} of {} bytes ({}): not a racing_xsi_shm counter, which is one int \
         of 4 bytes; nothing was written to it",
        info.id,
        info.size,
        info.describe_owner()
    ))
    .hint(traced_or(info.size as u64, start, || {
        format!("that segment is another program's. Use the key of a racing_xsi_shm run:\n{start}")
    }))
}

/// The object /dev/shm/NAME is another user's.
pub(crate) fn object_not_ours(err: SysError, path: &Path) -> SysError {
    let whose = std::fs::metadata(path).map_or_else(
        |_| String::from("another user"),
        |m| format!("{}, mode {:04o}", user_name(m.uid()), m.mode() & 0o777),
    );
    err.hint(format!(
        "{} belongs to {whose}: only its owner's processes (and root) may join it.\n\
         Join a run of your own: start one under a name of yours (racing_posix_shm\n\
         --linger 60 --name /NAME), then --attach with the same --name.",
        shell_word(path)
    ))
}

/// The object /dev/shm/NAME is not a racing_posix_shm counter.
pub(crate) fn not_a_counter_object(
    path: &Path,
    owner: u32,
    size: u64,
    regular: bool,
    start: &str,
) -> Failure {
    let what = if regular {
        format!("a file of {size} bytes")
    } else {
        String::from("not a regular file")
    };
    Failure::new(format!(
        "{} is {what} (owner {}): not a racing_posix_shm counter, which is one int of 4 bytes \
         (8 with --lock semaphore); nothing was written to it",
        shell_word(path),
        user_name(owner)
    ))
    .hint(traced_or(if regular { size } else { 0 }, start, || {
        format!(
            "that object is another program's, or was truncated. Join a racing_posix_shm run:\n{start}"
        )
    }))
}

/// The hint for memory of `size` bytes that is not a counter: a `--trace`
/// run's, which cannot be joined (its memory holds its children's
/// records), if it has that size; otherwise `other`'s.
pub(crate) fn traced_or(size: u64, start: &str, other: impl FnOnce() -> String) -> String {
    if trace::is_traced_size(size) {
        format!(
            "its size is that of a {} --trace run, whose memory holds its own children's\n\
             records: a traced run cannot be joined. Join a run without --trace:\n{start}",
            crate::error::program_name()
        )
    } else {
        other()
    }
}

/// Nothing to join: `what` is missing; `start` is the run to start first.
pub(crate) fn nothing_to_join(what: &str, start: &str) -> Failure {
    Failure::new(format!("nothing to join: {what}")).hint(format!(
        "start the run to join first, in another terminal:\n{start}"
    ))
}
