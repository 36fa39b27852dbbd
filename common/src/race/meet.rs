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

use crate::demo::hold::{Held, Hold, hold};
use crate::error::{Failure, Usage};
use crate::harness::output::note;
use crate::posix::ShmName;
use crate::system::{procs, sysvipc};
use crate::xsi::Key;

/// The creator's side: say what is kept and how to join it, hold it as
/// `how` says (a stopping signal ends it, as it ends a memory demo's hold),
/// then say what others added. `value` reads the int.
pub fn linger(how: Hold, what: &str, join: &str, value: impl Fn() -> i32) -> Held {
    let until = match how {
        Hold::Forever => String::from("until Ctrl-C"),
        Hold::For(d) => format!("for {} s (Ctrl-C ends it sooner)", d.as_secs()),
    };
    let before = value();
    note(format!(
        "Keeping {what} {until}. Join it from another terminal, as a process that is not this one's child:\n  {join}"
    ));
    let held = hold(how);
    match held {
        Held::Signal(signal) => note(format!("{signal}: releasing.")),
        Held::TimeUp => note("Time is up: releasing."),
    }
    let after = value();
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
    held
}

/// What a joiner found, by its key, name or path.
#[derive(Debug)]
pub enum Meeting {
    /// A System V segment; `creator` is its shm_cpid.
    Segment { key: Key, creator: libc::pid_t },
    /// A POSIX object, /dev/shm/NAME.
    Object { path: PathBuf },
    /// A file on disk (racing_mmap --file).
    File { path: PathBuf },
}

/// The segment under `key`, or an error that says which program to start
/// first (`start`: its command line, e.g. `racing_xsi_shm --linger 60 …`).
pub fn segment(key: &Key, start: &str) -> Result<Meeting, Failure> {
    match sysvipc::segment_with_key(key.raw()) {
        Some(found) => Ok(Meeting::Segment {
            key: key.clone(),
            creator: found.creator_pid,
        }),
        None => Err(nothing_to_join(&format!("no segment has key {key}"), start)),
    }
}

/// The object /dev/shm/NAME, or an error that says which program to start.
pub fn object(name: &ShmName, start: &str) -> Result<Meeting, Failure> {
    let path = name.path();
    if !path.exists() {
        return Err(nothing_to_join(
            &format!("{} does not exist", path.display()),
            start,
        ));
    }
    Ok(Meeting::Object { path })
}

/// A file another run made (already opened, so it exists).
pub fn file(path: &Path) -> Meeting {
    Meeting::File {
        path: std::fs::canonicalize(path).unwrap_or_else(|_| path.to_owned()),
    }
}

/// `--attach` without a name: anonymous memory cannot be joined.
pub fn anonymous_cannot_be_joined() -> Usage {
    Usage(String::from(
        "--attach needs --file PATH: anonymous memory has no name, so no other process can \
         find it; only the children forked after the mmap share it",
    ))
}

fn nothing_to_join(what: &str, start: &str) -> Failure {
    Failure::new(format!("nothing to join: {what}")).hint(format!(
        "start the run to join first, in another terminal:\n{start}"
    ))
}

impl Meeting {
    /// The joiner's side, once attached or mapped: what it found and who
    /// made it, how many processes use it now (this one included), and
    /// that this process is nobody's child there; then the int's value.
    pub fn joined(&self, value: i32) {
        let (what, creator, users, how) = match self {
            Meeting::Segment { key, creator } => {
                let found = sysvipc::segment_with_key(key.raw());
                (
                    format!("key {key} (shmid {})", found.as_ref().map_or(-1, |s| s.id)),
                    Some(*creator),
                    found.map_or(0, |s| s.attached as usize),
                    ("has it attached", "have it attached"),
                )
            }
            Meeting::Object { path } => {
                // Every run of ours holds a shared flock on its object.
                let holder = std::fs::metadata(path)
                    .ok()
                    .and_then(|m| procs::flock_holders(m.dev(), m.ino()).first().copied());
                (
                    path.display().to_string(),
                    holder,
                    procs::mapping(path).len(),
                    ("maps it", "map it"),
                )
            }
            Meeting::File { path } => (
                path.display().to_string(),
                None,
                procs::mapping(path).len(),
                ("maps it", "map it"),
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
        let users = if users <= 1 {
            format!("only this process {}", how.0)
        } else {
            format!("{users} processes {}, this one included", how.1)
        };
        note(format!("joined {what}: {made_by}; {users}"));
        note(format!(
            "this process is pid {me}, child of pid {parent}: {not_child}. It found the memory by its name alone."
        ));
        note(format!("shm_p is {value} now"));
    }
}

/// After the joiner's children: how the int moved.
pub fn added(count: usize, before: i32, after: i32) {
    if count == 0 {
        note("--count 0: only read; nothing added.");
    } else {
        note(format!(
            "{count} children of this process each added 1: {before} → {after}."
        ));
    }
}
