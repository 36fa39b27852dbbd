//! Meeting by name: what System V keys and POSIX names are for.
//!
//! The racing programs share memory with their own children only, which
//! any anonymous mapping can do. A name lets processes with no common
//! ancestor find the same memory: one run keeps its object for a while
//! after its race (`--linger`), and another program, started on its own in
//! another terminal, joins it (`--attach`): it finds the object by its key
//! or name, reads the int, lets its own children add to it, and leaves the
//! object to its creator, who removes it when it ends.

use crate::demo::hold::{Held, Hold, hold};
use crate::harness::output::note;
use crate::system::procs;

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

/// The joiner's side: what it found and who made it, and that this process
/// is nobody's child there. `creator` is the process that made the memory
/// and still holds it, if one does; `users` counts the processes attached
/// to the memory (or mapping it), this one included; `how` says which, for
/// one process and for several (`("maps it", "map it")`).
pub fn joined(
    what: &str,
    creator: Option<libc::pid_t>,
    users: usize,
    how: (&str, &str),
    value: i32,
) {
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
