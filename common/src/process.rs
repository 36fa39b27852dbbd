//! Fork N children, run a closure in each, and wait for every one of them.
//!
//! The article's loop is `for (...) { pid = fork(); if (pid == 0) do_child(); }`
//! followed by `for (...) wait(NULL);`. Three things in it need care in Rust,
//! and they are all handled here so `main.rs` can stay as short as the C:
//!
//! 1. **How a child ends.** A child must end with `_exit`, never by
//!    returning into the parent's `main` (it would run the parent's code a
//!    second time) and never with `std::process::exit` (that flushes stdio
//!    buffers the child inherited, printing the parent's pending output
//!    twice, and runs exit handlers). A panic in the child is caught with
//!    `catch_unwind` and becomes exit status 101, so it cannot masquerade as
//!    success. stdout is flushed *before* forking for the same reason.
//! 2. **Waiting for all of them.** `wait(NULL)` throws the status away. We
//!    collect every child's status (polling `waitpid`, so that a stopping
//!    signal is noticed within milliseconds), and gather every non-zero
//!    exit and every killing signal into one error.
//! 3. **A fork that fails part-way** (`EAGAIN` when a process limit is
//!    reached). The C program calls `exit(1)` and leaves its children to
//!    init. We stop forking, wait for the children already started, and
//!    return an error that says how many ran.
//!
//! The stopping signals (see [`crate::signals`]) stop the fork loop; the
//! parent passes the signal on to its children, still waits for every one,
//! and returns [`Interrupted`].
//!
//! The parent must be single-threaded when it forks: the child gets a copy of
//! only the calling thread, and a lock another thread held at that instant
//! stays locked forever in the child. The programs never start a thread.

use std::fmt::Write as _;
use std::io::Write as _;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::sys::signal::{Signal, kill};
use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
use nix::unistd::{ForkResult, Pid, fork};

use crate::error::{Failure, SysError, errno_text, report};
use crate::signals::{self, Interrupted};

/// The exit status of a child whose closure panicked (the same number Rust
/// uses for a panicking `main`).
pub const PANIC_STATUS: i32 = 101;

/// Children that are running or finished but not yet waited for.
///
/// Call [`Children::wait_all`] to wait and learn how they ended. If the value
/// is dropped without that (an early `?` in `main`), `Drop` still waits, so no
/// child is ever left unreaped.
#[derive(Debug)]
pub struct Children {
    /// `(number, pid)`, number counting from 1 in fork order.
    running: Vec<(usize, Pid)>,
}

/// Fork `count` children. Child number `n` (1 to `count`) runs `work(n)` and
/// exits: status 0 if it returned `Ok`, 1 if it returned an error (printed
/// to stderr first), 101 if it panicked.
///
/// If a fork fails, no more are attempted; the children already started are
/// waited for, and the error says how many that was.
pub fn fork_children<F>(count: usize, mut work: F) -> anyhow::Result<Children>
where
    F: FnMut(usize) -> anyhow::Result<()>,
{
    // Anything still buffered would be inherited by, and printed again from,
    // each child that ever flushes. Ours never do (they `_exit`), but a
    // buffered line must not depend on that.
    let _ = std::io::stdout().flush();

    // Grown as children start, not sized for `count` up front: a huge
    // --count must fail at fork, cleanly, not abort here for lack of memory.
    let mut children = Children {
        running: Vec::new(),
    };
    for number in 1..=count {
        if let Some(signal) = signals::caught() {
            let started = children.running.len();
            children.reap(Some(Duration::from_secs(5)));
            return Err(Interrupted::new(
                signal,
                format!(
                    "after {started} of {count} children had started; all {started} were waited for"
                ),
            )
            .into());
        }
        if children.running.try_reserve(1).is_err() {
            let started = children.running.len();
            let failures = children.reap(Some(Duration::from_secs(5)));
            return Err(fork_failed(Errno::ENOMEM, started, count, &failures)
                .detail(format!(
                    "after {started} of {count} children had started (no memory left to keep track of another)"
                ))
                .into());
        }
        // A stopping signal that arrives during the fork waits until the
        // child has its default actions back (see `signals::hold_back`).
        let held = signals::hold_back();
        // SAFETY: these programs are single-threaded when they fork (see the
        // module comment), so the child's copy of the address space has no
        // lock held by a thread that does not exist in it. The child branch
        // never returns: `run_child` ends in `_exit`.
        match unsafe { fork() } {
            Ok(ForkResult::Child) => {
                signals::restore_default_in_child();
                drop(held);
                run_child(|| work(number))
            }
            Ok(ForkResult::Parent { child }) => {
                drop(held);
                children.running.push((number, child));
            }
            Err(errno) => {
                drop(held);
                let started = children.running.len();
                let failures = children.reap(Some(Duration::from_secs(5)));
                return Err(fork_failed(errno, started, count, &failures).into());
            }
        }
    }
    Ok(children)
}

/// The child's side (its signals already back to their default actions):
/// run `work`, then `_exit` with a status the parent reads.
fn run_child(work: impl FnOnce() -> anyhow::Result<()>) -> ! {
    let status = match catch_unwind(AssertUnwindSafe(work)) {
        Ok(Ok(())) => 0,
        Ok(Err(err)) => {
            report(&err.context(format!("child pid {}", std::process::id())));
            1
        }
        // The panic hook has already printed the message.
        Err(_) => PANIC_STATUS,
    };
    // SAFETY: `_exit` ends the process at once, without running the
    // destructors, atexit handlers or stdio flushes that belong to the
    // parent's copy of the program. It is always safe to call.
    unsafe { libc::_exit(status) }
}

impl Children {
    /// How many children were started and are not yet waited for.
    pub fn len(&self) -> usize {
        self.running.len()
    }

    pub fn is_empty(&self) -> bool {
        self.running.is_empty()
    }

    /// Wait for every child. `Ok` if all exited with status 0; otherwise an
    /// error naming each child that exited non-zero or was killed.
    ///
    /// If a stopping signal arrives meanwhile, it is passed on to the
    /// children still running, all of them are still waited for, and the
    /// result is an [`Interrupted`] error.
    pub fn wait_all(self) -> anyhow::Result<()> {
        self.wait(None)
    }

    /// [`Children::wait_all`], but once a child has failed, do not wait
    /// forever for the rest: if none of them finishes for `quiet`, they are
    /// taken to be stuck (typically in `sem_wait` on a POSIX semaphore the
    /// dead child held, which nobody will ever post) and are killed with
    /// SIGKILL, reaped, and reported as stuck.
    pub fn wait_all_unless_stuck(self, quiet: Duration) -> anyhow::Result<()> {
        self.wait(Some(quiet))
    }

    fn wait(mut self, quiet: Option<Duration>) -> anyhow::Result<()> {
        let total = self.running.len();
        let failures = self.reap(quiet);
        if let Some(signal) = signals::caught() {
            Err(Interrupted::new(
                signal,
                format!("while {total} children ran; all were waited for"),
            )
            .into())
        } else if failures.is_empty() {
            Ok(())
        } else {
            Err(children_failed(total, &failures).into())
        }
    }

    /// Wait for every child still running; return how the unsuccessful ones
    /// ended, in child order.
    ///
    /// It waits for *any* child (`waitpid(-1, WNOHANG)` every 2 ms), not for
    /// each in turn: a child that dies must be noticed even while an earlier
    /// one is blocked.
    /// (So a `Children` assumes it is all the children its process has,
    /// which is true of these programs.) Once a stopping signal has been
    /// caught, it is sent on to every child not yet waited for. With
    /// `quiet`, see [`Children::wait_all_unless_stuck`].
    fn reap(&mut self, quiet: Option<Duration>) -> Vec<ChildFailure> {
        let mut failures = Vec::new();
        let mut passed_on = false;
        let mut gave_up = false;
        let mut last_progress = Instant::now();
        while !self.running.is_empty() {
            if !passed_on {
                if let Some(signal) = signals::caught() {
                    for &(_, pid) in &self.running {
                        // A child that already exited is a zombie until we
                        // wait for it: its pid cannot have been reused.
                        let _ = kill(pid, signal);
                    }
                    passed_on = true;
                }
            }
            // After a failure, notice a stall.
            if let Some(quiet) = quiet.filter(|_| !failures.is_empty()) {
                if !gave_up && last_progress.elapsed() >= quiet {
                    for &(_, pid) in &self.running {
                        let _ = kill(pid, Signal::SIGKILL);
                    }
                    gave_up = true;
                }
            }
            // Poll rather than block. A blocking waitpid would race with the
            // signal flag: a signal that lands after the check above but
            // before waitpid starts runs its handler at once, so waitpid is
            // not interrupted and sleeps until a child ends — 5 s later, with
            // `--sleep-us 5000000`. Polling looks at the flag every 2 ms.
            let status = match waitpid(None, Some(WaitPidFlag::WNOHANG)) {
                Ok(WaitStatus::StillAlive) => {
                    std::thread::sleep(Duration::from_millis(2));
                    continue;
                }
                Ok(status) => status,
                Err(Errno::EINTR) => continue,
                Err(errno) => {
                    // ECHILD: nothing left to wait for (someone else reaped them).
                    for (number, pid) in self.running.drain(..) {
                        failures.push(ChildFailure {
                            number,
                            pid,
                            ending: Ending::Lost(errno),
                        });
                    }
                    break;
                }
            };
            let Some(pid) = status.pid() else { continue };
            let Some(at) = self.running.iter().position(|&(_, p)| p == pid) else {
                continue;
            };
            let ending = match status {
                WaitStatus::Exited(_, 0) => None,
                WaitStatus::Exited(_, code) => Some(Ending::Status(code)),
                WaitStatus::Signaled(_, Signal::SIGKILL, _) if gave_up => {
                    Some(Ending::Stuck(quiet.unwrap_or_default()))
                }
                WaitStatus::Signaled(_, signal, _) => Some(Ending::Signal(signal)),
                // Stopped/continued are only reported with flags we do not pass.
                _ => continue,
            };
            let (number, _) = self.running.swap_remove(at);
            last_progress = Instant::now();
            if let Some(ending) = ending {
                failures.push(ChildFailure {
                    number,
                    pid,
                    ending,
                });
            }
        }
        failures.sort_by_key(|f| f.number);
        failures
    }
}

impl Drop for Children {
    fn drop(&mut self) {
        // Never hang on an error path: give up on stuck children after 5 s.
        self.reap(Some(Duration::from_secs(5)));
    }
}

/// A child that did not exit with status 0.
#[derive(Debug)]
struct ChildFailure {
    number: usize,
    pid: Pid,
    ending: Ending,
}

#[derive(Debug)]
enum Ending {
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

fn children_failed(total: usize, failures: &[ChildFailure]) -> Failure {
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
        hint.push_str("\nEach child printed its own error above.");
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

fn fork_failed(errno: Errno, started: usize, count: usize, failures: &[ChildFailure]) -> SysError {
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
    //! The fork loop is tested in a subprocess: forking inside the test
    //! harness would copy its threads' state and output capture into the
    //! children. `fork_loop_subprocess` is an ignored test that the other
    //! tests run, alone, in a fresh copy of this test binary.

    use super::*;
    use std::process::Command;

    const MODE: &str = "COMMON_FORK_LOOP_MODE";
    const CHILDREN: usize = 4;

    #[test]
    #[ignore = "forks; the fork_loop tests run it in a subprocess"]
    fn fork_loop_subprocess() {
        let mode = std::env::var(MODE).expect("run by the fork_loop tests");
        let outcome = fork_children(CHILDREN, |number| {
            if number != 2 {
                return Ok(());
            }
            match mode.as_str() {
                "panic" => panic!("child 2 panics on purpose"),
                "error" => Err(anyhow::anyhow!("child 2 fails on purpose")),
                "kill" => {
                    nix::sys::signal::raise(Signal::SIGKILL)?;
                    unreachable!("SIGKILL cannot be caught")
                }
                _ => Ok(()),
            }
        })
        .and_then(Children::wait_all);
        // One line the parent test reads; children never print to stdout.
        match outcome {
            Ok(()) => println!("\nOUTCOME ok"),
            Err(err) => println!(
                "\nOUTCOME {err:#}\nHINT {}",
                crate::error::hint_of(&err).unwrap_or("")
            ),
        }
    }

    /// Run the fork loop in a subprocess with children misbehaving as `mode` says.
    fn fork_loop(mode: &str) -> (String, String) {
        let out = Command::new(std::env::current_exe().unwrap())
            .args([
                "--ignored",
                "--exact",
                "process::tests::fork_loop_subprocess",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(MODE, mode)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(
            out.status.success(),
            "subprocess failed:\n{stdout}\n{stderr}"
        );
        (stdout, stderr)
    }

    fn outcome(stdout: &str) -> &str {
        stdout
            .lines()
            .find_map(|l| l.strip_prefix("OUTCOME "))
            .unwrap_or_else(|| panic!("no OUTCOME line in:\n{stdout}"))
    }

    #[test]
    fn fork_loop_children_that_all_succeed_give_ok_and_print_nothing_twice() {
        let (stdout, _) = fork_loop("none");
        assert_eq!(outcome(&stdout), "ok");
        assert_eq!(stdout.matches("OUTCOME").count(), 1, "{stdout}");
    }

    #[test]
    fn fork_loop_reports_a_panicking_child_as_status_101() {
        let (stdout, stderr) = fork_loop("panic");
        let line = outcome(&stdout);
        assert!(
            line.starts_with("1 of 4 children failed: child 2 (pid "),
            "{line}"
        );
        assert!(
            line.ends_with(") exited with status 101 (it panicked)"),
            "{line}"
        );
        assert!(stderr.contains("child 2 panics on purpose"), "{stderr}");
        assert!(
            stdout.contains("HINT ") && stdout.contains("101 is a panic"),
            "{stdout}"
        );
    }

    #[test]
    fn fork_loop_reports_a_child_killed_by_a_signal() {
        let (stdout, _) = fork_loop("kill");
        let line = outcome(&stdout);
        assert!(
            line.starts_with("1 of 4 children failed: child 2 (pid "),
            "{line}"
        );
        assert!(line.ends_with(") was killed by SIGKILL"), "{line}");
    }

    #[test]
    fn fork_loop_reports_a_child_error_and_the_child_prints_it() {
        let (stdout, stderr) = fork_loop("error");
        let line = outcome(&stdout);
        assert!(line.ends_with(") exited with status 1"), "{line}");
        assert!(stderr.contains("child 2 fails on purpose"), "{stderr}");
    }

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
