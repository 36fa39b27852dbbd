//! Meeting by name: what System V keys and POSIX names are for.
//!
//! The racing programs share memory with their own children only, which
//! any anonymous mapping can do. A name lets processes with no common
//! ancestor find the same memory: one run keeps its object for a while
//! after its race (`--linger`), and another program, started on its own in
//! another terminal, joins it (`--attach`): it finds the object by its key
//! or name, reads the int, lets its own children add to it, and leaves the
//! object to its creator, who removes it when it ends.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use nix::errno::Errno;

use super::explain;
use crate::error::Usage;
use crate::mmap::MappedFile;
use crate::mmap::header::od_command;
use crate::posix::{PosixShm, ShmName};
use crate::system::{procs, sysvipc};
use crate::terminal::hold::{Held, Hold, hold_then_release};
use crate::terminal::output::{note, result_line, shell_word};
use crate::terminal::signals::{self, Interrupted};
use crate::xsi::{Key, Segment};

/// The creator's side: say what is kept and how to join it, hold it as
/// `how` says (a stopping signal ends it, as it ends a memory demo's hold),
/// then say what others added. `value` reads the int.
pub fn linger(
    how: Hold,
    what: &str,
    join: &str,
    value: impl Fn() -> i32,
) -> Result<Held, Interrupted> {
    let until = how.until();
    let before = value();
    note(format!(
        "Keeping {what} {until}. Join it from another terminal, as a process that is not this one's child:\n  {join}"
    ));
    let held = hold_then_release(how);
    let after = value();
    // Truncated while kept (SIGBUS): `after` came from a zero page.
    signals::check_memory(|| String::from("while it was kept"))?;
    if after == before {
        note(format!(
            "shm_p is still {after}: nobody added to it meanwhile."
        ));
    } else {
        note(format!(
            "shm_p is {after} now: other processes added {} while it was kept.",
            i64::from(after) - i64::from(before)
        ));
    }
    Ok(held)
}

/// What a joiner found, by its key, name or path.
#[derive(Debug)]
pub enum Meeting {
    /// A System V segment; `creator` is its shm_cpid.
    Segment {
        key: Key,
        id: libc::c_int,
        creator: libc::pid_t,
        owner: u32,
    },
    /// A POSIX object, /dev/shm/NAME.
    Object { path: PathBuf, owner: u32 },
    /// A file on disk (racing_mmap --file).
    File { path: PathBuf },
}

/// The segment under `key`, opened, if it is what a racing_xsi_shm run
/// keeps there: a segment of one int. Otherwise an error that says which
/// program to start first (`start`: its command line, e.g.
/// `racing_xsi_shm --linger 60 …`), whose segment it is, or why it is not
/// a counter to write to.
pub fn segment(key: Key, start: &str) -> anyhow::Result<(Segment, Meeting)> {
    let segment = match Segment::open(key.clone(), size_of::<i32>()) {
        Ok(segment) => segment,
        Err(err) if err.errno() == Errno::ENOENT => {
            return Err(
                explain::nothing_to_join(&format!("no segment has key {key}"), start).into(),
            );
        }
        Err(err) => return Err(err.into()),
    };
    let info = sysvipc::segments()
        .into_iter()
        .find(|s| s.id == segment.id());
    let Some(info) = info else {
        return Err(explain::nothing_to_join(
            &format!("the segment with key {key} was removed"),
            start,
        )
        .into());
    };
    if info.size != size_of::<i32>() {
        return Err(explain::not_a_counter_segment(&key, &info, start).into());
    }
    let meeting = Meeting::Segment {
        key,
        id: info.id,
        creator: info.creator_pid,
        owner: info.uid,
    };
    Ok((segment, meeting))
}

/// The object /dev/shm/NAME, opened, if it is what a racing_posix_shm run
/// keeps there: a regular file of one int (and, with `--lock semaphore`,
/// the pid of the semaphore's holder after it). Otherwise an error that
/// says which program to start, whose object it is, or why it is not a
/// counter to write to.
pub fn object(name: &ShmName, start: &str) -> anyhow::Result<(PosixShm, Meeting)> {
    let path = name.path();
    let shm = match PosixShm::open(name) {
        Ok(shm) => shm,
        Err(err) if err.errno() == Errno::ENOENT => {
            return Err(explain::nothing_to_join(
                &format!("{} does not exist", shell_word(&path)),
                start,
            )
            .into());
        }
        Err(err) if err.errno() == Errno::EACCES => {
            return Err(explain::object_not_ours(err, &path).into());
        }
        Err(err) => return Err(err.into()),
    };
    let (owner, size, regular) = shm.facts();
    if !regular || !COUNTER_SIZES.contains(&size) {
        return Err(explain::not_a_counter_object(&path, owner, size, regular, start).into());
    }
    Ok((shm, Meeting::Object { path, owner }))
}

/// The sizes of a racing_posix_shm object: the int, or the int and the
/// holder's pid (`--lock semaphore`).
pub const COUNTER_SIZES: [u64; 2] = [4, 8];

/// A file another run made (already opened and checked, so it exists).
pub fn file(path: &Path) -> Meeting {
    Meeting::File {
        path: std::fs::canonicalize(path).unwrap_or_else(|_| path.to_owned()),
    }
}

/// racing_mmap `--file`'s last line: where the int stays, how to read it
/// and how to join it; or, if someone removed or replaced the file during
/// the run, that the int went with it.
pub fn file_kept(file: &MappedFile) -> String {
    let q = shell_word(file.path());
    if file.still_there() {
        format!(
            "{q} keeps the int: {}; join it: racing_mmap --attach --file {q}",
            od_command(&q)
        )
    } else {
        format!(
            "{q} was removed or replaced by someone else during the run: the int went with the file it was in."
        )
    }
}

/// `--attach` without a name: anonymous memory cannot be joined.
pub fn anonymous_cannot_be_joined() -> Usage {
    Usage(String::from(
        "--attach needs --file PATH: anonymous memory has no name, so no other process can \
         find it; only the children forked after the mmap share it",
    ))
}

impl Meeting {
    /// The owner of what was joined (this user, for a file: it opened it
    /// for writing).
    pub fn owner(&self) -> u32 {
        match self {
            Meeting::Segment { owner, .. } | Meeting::Object { owner, .. } => *owner,
            Meeting::File { .. } => nix::unistd::Uid::effective().as_raw(),
        }
    }

    /// The joiner's side, once attached or mapped: what it found and who
    /// made it, how many use it now (this one included), and that this
    /// process is nobody's child there; then the int's value.
    pub fn joined(&self, value: i32) -> Result<(), Interrupted> {
        // Truncated before it could be read (SIGBUS): `value` is no value.
        signals::check_memory(|| String::from("when it was joined"))?;
        let (what, creator, users) = match self {
            Meeting::Segment {
                key, id, creator, ..
            } => {
                // nattch counts attachments: a forked child inherits its
                // parent's, and one process may attach twice.
                let attached = sysvipc::segments()
                    .into_iter()
                    .find(|s| s.id == *id)
                    .map_or(0, |s| s.attached as usize);
                let users = if attached <= 1 {
                    String::from("only this process has it attached (nattch 1)")
                } else {
                    format!("{attached} attachments (nattch), this process's included")
                };
                (format!("key {key} (shmid {id})"), Some(*creator), users)
            }
            Meeting::Object { path, .. } => {
                // Every run of ours holds a shared flock on its object.
                let holder = std::fs::metadata(path)
                    .ok()
                    .and_then(|m| procs::flock_holders(m.dev(), m.ino()).first().copied());
                (
                    shell_word(path),
                    holder,
                    mapping_text(procs::mapping(path).len()),
                )
            }
            Meeting::File { path } => (
                shell_word(path),
                None,
                mapping_text(procs::mapping(path).len()),
            ),
        };
        let me = nix::unistd::getpid();
        let parent = nix::unistd::getppid();
        let (made_by, not_child) = match creator {
            Some(pid) => {
                let name = procs::name_of(pid).map_or_else(String::new, |n| format!(" ({n})"));
                (
                    format!("created by pid {pid}{name}"),
                    format!("not a child of pid {pid}"),
                )
            }
            None => (
                String::from("no process holds it now"),
                String::from("not a child of the process that made it"),
            ),
        };
        note(format!("joined {what}: {made_by}; {users}"));
        note(format!(
            "this process is pid {me}, child of pid {parent}: {not_child}. It found the memory by its name alone."
        ));
        note(format!("shm_p is {value} now"));
        Ok(())
    }
}

/// "only this process maps it", "3 processes map it, this one included"
fn mapping_text(processes: usize) -> String {
    if processes <= 1 {
        String::from("only this process maps it")
    } else {
        format!("{processes} processes map it, this one included")
    }
}

/// After the joiner's children: the article's `printf("shm_p: %d\n",
/// *shm_p)`, and how the int moved. Nothing is printed if the memory went
/// away under the mapping (SIGBUS): `after` came from a zero page.
pub fn result(count: usize, before: i32, after: i32) -> anyhow::Result<()> {
    signals::check_memory(|| String::from("before the result was read"))?;
    result_line(format!("shm_p: {after}"))?;
    if count == 0 {
        note("--count 0: only read; nothing added.");
    } else {
        note(format!(
            "{count} children of this process each added 1: {before} → {after}."
        ));
    }
    Ok(())
}
