//! How children that failed are put into words: which child, how it
//! ended, and what that usually means.

use std::fmt::Write as _;
use std::time::Duration;

use nix::errno::Errno;
use nix::sys::signal::Signal;
use nix::unistd::Pid;

use crate::error::{Failure, SysError, errno_text};

/// The exit status of a child whose closure panicked (the same number Rust
/// uses for a panicking `main`).
pub const PANIC_STATUS: i32 = 101;

/// A child that did not exit with status 0.
#[derive(Debug)]
pub(super) struct ChildFailure {
    pub(super) number: usize,
    pub(super) pid: Pid,
    pub(super) ending: Ending,
}

#[derive(Debug)]
pub(super) enum Ending {
    Status(i32),
    Signal(Signal),
    /// Killed by us after no child had finished for this long.
    Stuck(Duration),
    Lost(Errno),
}

impl std::fmt::Display for ChildFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "child {} (pid {}) ", self.number, self.pid)?;
        match self.ending {
            Ending::Status(PANIC_STATUS) => {
                write!(f, "exited with status {PANIC_STATUS} (it panicked)")
            }
            Ending::Status(status) => write!(f, "exited with status {status}"),
            Ending::Signal(signal) => write!(f, "was killed by {signal}"),
            Ending::Stuck(quiet) => write!(
                f,
                "was stuck (no child finished for {:.1} s) and was killed",
                quiet.as_secs_f64()
            ),
            Ending::Lost(errno) => write!(f, "could not be waited for: {}", errno_text(errno)),
        }
    }
}

/// Name at most this many failed children in one message; count the rest.
const LISTED: usize = 5;

fn list(failures: &[ChildFailure]) -> String {
    let mut text = String::new();
    for (i, failure) in failures.iter().take(LISTED).enumerate() {
        let sep = if i == 0 { "" } else { "; " };
        let _ = write!(text, "{sep}{failure}");
    }
    if failures.len() > LISTED {
        let _ = write!(text, "; and {} more", failures.len() - LISTED);
    }
    text
}

pub(super) fn children_failed(total: usize, failures: &[ChildFailure]) -> Failure {
    let mut hint = String::from(
        "a child that did not finish its work leaves the shared memory incomplete, \
         so no result was printed.",
    );
    if failures
        .iter()
        .any(|f| matches!(f.ending, Ending::Status(PANIC_STATUS)))
    {
        hint.push_str("\nStatus 101 is a panic; its message is printed above.");
    } else if failures
        .iter()
        .any(|f| matches!(f.ending, Ending::Status(_)))
    {
        hint.push_str("\nThe children's errors are printed above, each different one once.");
    }
    if failures
        .iter()
        .any(|f| matches!(f.ending, Ending::Signal(Signal::SIGBUS)))
    {
        hint.push_str(
            "\nSIGBUS: the memory behind a mapping went away under it (a /dev/shm file\n\
             truncated while mapped, or a tmpfs out of room).",
        );
    }
    if failures
        .iter()
        .any(|f| matches!(f.ending, Ending::Signal(s) if s != Signal::SIGBUS))
    {
        hint.push_str(
            "\nA child killed by a signal was stopped from outside (kill, the OOM killer, Ctrl-C).",
        );
    }
    if failures
        .iter()
        .any(|f| matches!(f.ending, Ending::Stuck(_)))
    {
        hint.push_str(
            "\nThe stuck children were most likely waiting for a lock the dead child held.\n\
             A POSIX semaphore stays taken when its holder dies, so they would have waited\n\
             forever (a System V semaphore with SEM_UNDO, or a flock, is released by the kernel).",
        );
    }
    Failure::new(format!(
        "{} of {total} children failed: {}",
        failures.len(),
        list(failures)
    ))
    .hint(hint)
}

pub(super) fn fork_failed(
    errno: Errno,
    started: usize,
    count: usize,
    failures: &[ChildFailure],
) -> SysError {
    let mut hint = match errno {
        Errno::EAGAIN => String::from(
            "the kernel refused to create another process. The usual limits are\n\
             max user processes (`ulimit -u`; root is exempt), the system-wide\n\
             /proc/sys/kernel/pid_max and /proc/sys/kernel/threads-max, and a pids cgroup.\n\
             Children that have already finished still count until they are waited for,\n\
             and, like the article's program, this one waits only after forking them all.",
        ),
        Errno::ENOMEM => String::from("there was not enough memory to create another process."),
        _ => String::from("fork() could not create another process."),
    };
    let _ = write!(
        hint,
        "\nThe {started} children that did start were waited for"
    );
    if failures.is_empty() {
        hint.push('.');
    } else {
        let _ = write!(
            hint,
            "; {} of them failed: {}.",
            failures.len(),
            list(failures)
        );
    }
    if started > 0 {
        let _ = write!(hint, "\nAsk for fewer, e.g. --count {started}.");
    }
    SysError::new("fork()", errno)
        .detail(format!("after {started} of {count} children had started"))
        .hint(hint)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_most_five_failures_are_named() {
        let failures: Vec<_> = (1..=7)
            .map(|n| ChildFailure {
                number: n,
                pid: Pid::from_raw(1000 + n as i32),
                ending: Ending::Status(1),
            })
            .collect();
        let text = children_failed(10, &failures).to_string();
        assert!(
            text.starts_with("7 of 10 children failed: child 1 (pid 1001)"),
            "{text}"
        );
        assert!(text.ends_with("; and 2 more"), "{text}");
        assert_eq!(text.matches("exited with status 1").count(), 5, "{text}");
    }

    #[test]
    fn a_failed_fork_says_how_many_children_ran_and_suggests_that_count() {
        let err = fork_failed(Errno::EAGAIN, 37, 100, &[]);
        assert_eq!(
            err.to_string(),
            "fork() failed after 37 of 100 children had started: EAGAIN (Resource temporarily unavailable)"
        );
        let err = anyhow::Error::new(err);
        let hint = crate::error::hint_of(&err).unwrap();
        assert!(hint.contains("ulimit -u"), "{hint}");
        assert!(
            hint.contains("The 37 children that did start were waited for."),
            "{hint}"
        );
        assert!(hint.contains("--count 37"), "{hint}");
    }
}
