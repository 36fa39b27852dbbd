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
//! 2. **Waiting for all of them.** The parent blocks in `wait4(-1, &status,
//!    0, NULL)`, the system call behind the C's `wait(NULL)`, once per
//!    child. `wait(NULL)` throws the status away; we keep every child's,
//!    and gather every non-zero exit and every killing signal into one error.
//! 3. **A fork that fails part-way** (`EAGAIN` when a process limit is
//!    reached). The C program calls `exit(1)` and leaves its children to
//!    init. We stop forking, wait for the children already started, and
//!    return an error that says how many ran.
//!
//! The stopping signals (see [`crate::terminal::signals`]) stop the fork loop.
//! The signal handler itself passes the signal on to the children (their
//! pids are registered with it, [`signals::pass_on_to`]), so the parent's
//! blocking `wait4` ends as they die, even if the signal came a moment
//! before the parent entered it; the parent still waits for every child,
//! and returns [`Interrupted`].
//!
//! The parent must be single-threaded when it forks: the child gets a copy of
//! only the calling thread, and a lock another thread held at that instant
//! stays locked forever in the child. The programs never start a thread.

use std::io::Write as _;
use std::num::NonZeroUsize;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::ptr::NonNull;
use std::sync::atomic::{AtomicI32, AtomicPtr, AtomicU64, Ordering};
use std::time::Duration;

use nix::errno::Errno;
use nix::sys::mman::{MapFlags, MmapAdvise, ProtFlags, madvise, mmap_anonymous, munmap};
use nix::sys::signal::{Signal, kill};
use nix::sys::wait::{WaitStatus, waitpid};
use nix::unistd::{ForkResult, Pid, fork};

use super::explain::{ChildFailure, Ending, PANIC_STATUS, children_failed, fork_failed};
use crate::error::report;
use crate::terminal::signals::{self, Interrupted, StallAlarm};

/// Children that are running or finished but not yet waited for.
///
/// Call [`Children::wait_all`] to wait and learn how they ended. If the value
/// is dropped without that (an early `?` in `main`), `Drop` still waits, so no
/// child is ever left unreaped.
#[derive(Debug)]
pub struct Children {
    /// Child `number`'s pid in slot `number - 1` until it is waited for,
    /// then 0: what the signal handler passes a stopping signal on to.
    pids: Pids,
    /// How many have been forked (slots `0..started` were filled).
    started: usize,
    /// How many have not been waited for yet.
    running: usize,
    /// No slot below this one holds a pid any more.
    first: usize,
    /// What the children have said (see [`say_once`]); unmapped last.
    _board: Option<Board>,
}

/// The pids of one fork loop's children, in memory the children do not
/// inherit: `mmap(MAP_PRIVATE|MAP_ANONYMOUS)` with `madvise(MADV_DONTFORK)`.
///
/// Why not a `Vec`? After each `fork`, every page of the parent's own
/// memory is shared copy-on-write with the new child, and the parent's
/// next write to such a page costs a page fault and a 4 KiB copy. Writing
/// each new pid into the heap would cost that on every fork (the C's
/// parent writes only its stack). A mapping the children never get is
/// never shared, so writing it costs nothing more than the store.
#[derive(Debug)]
struct Pids {
    start: NonNull<AtomicI32>,
    len: usize,
}

impl Pids {
    fn new(len: usize) -> Result<Pids, Errno> {
        let bytes = NonZeroUsize::new(len.max(1) * size_of::<AtomicI32>()).ok_or(Errno::EINVAL)?;
        // SAFETY: no address hint, so the kernel picks a range no Rust
        // object uses; the memory (zeroed: every slot 0) belongs to the new
        // value alone.
        let start = unsafe {
            mmap_anonymous(
                None,
                bytes,
                ProtFlags::PROT_READ | ProtFlags::PROT_WRITE,
                MapFlags::MAP_PRIVATE,
            )
        }?;
        // SAFETY: the range just mapped, owned by nothing else yet.
        // Failing, the children would inherit it: only slower.
        let _ = unsafe { madvise(start, bytes.get(), MmapAdvise::MADV_DONTFORK) };
        Ok(Pids {
            start: start.cast(),
            len,
        })
    }

    fn slots(&self) -> &[AtomicI32] {
        // SAFETY: `len` zero-initialised atomics at `start`, mapped until
        // `self` is dropped; only ever accessed through atomics.
        unsafe { std::slice::from_raw_parts(self.start.as_ptr(), self.len) }
    }
}

impl Drop for Pids {
    fn drop(&mut self) {
        // SAFETY: the range mapped in `new`; the signal handler stopped
        // looking at it (`pass_on_to_nobody`) before this drop.
        let _ = unsafe { munmap(self.start.cast(), self.len.max(1) * size_of::<AtomicI32>()) };
    }
}

/// Memory the children of one fork loop share, where each writes a
/// fingerprint of what it printed: [`say_once`]. One page, `MAP_SHARED`,
/// made by the parent before the first fork.
#[derive(Debug)]
struct Board {
    slots: NonNull<AtomicU64>,
}

/// How many different things the children can remember having said.
const SLOTS: usize = 64;

/// The board of the fork loop this process is a child of (null in a
/// process that is nobody's child here).
static BOARD: AtomicPtr<AtomicU64> = AtomicPtr::new(std::ptr::null_mut());

impl Board {
    /// `mmap(NULL, 4096, PROT_READ|PROT_WRITE, MAP_SHARED|MAP_ANONYMOUS,
    /// -1, 0)`; `None` if even that fails (children then all speak).
    fn new() -> Option<Board> {
        let len = NonZeroUsize::new(SLOTS * size_of::<AtomicU64>())?;
        // SAFETY: no address hint, so the kernel picks a range no Rust
        // object uses; the memory belongs to the new Board alone.
        let start = unsafe {
            mmap_anonymous(
                None,
                len,
                ProtFlags::PROT_READ | ProtFlags::PROT_WRITE,
                MapFlags::MAP_SHARED,
            )
        }
        .ok()?;
        let slots = start.cast::<AtomicU64>();
        BOARD.store(slots.as_ptr(), Ordering::Relaxed);
        Some(Board { slots })
    }
}

impl Drop for Board {
    fn drop(&mut self) {
        let _ = BOARD.compare_exchange(
            self.slots.as_ptr(),
            std::ptr::null_mut(),
            Ordering::Relaxed,
            Ordering::Relaxed,
        );
        // SAFETY: the range mapped in `new`, which nothing uses any more:
        // the children that shared it have all been waited for.
        let _ = unsafe { munmap(self.slots.cast(), SLOTS * size_of::<AtomicU64>()) };
    }
}

/// Whether this child is the first of its fork loop to say `text`: then
/// it should print it; a child whose sibling printed the same text stays
/// quiet. 64 children that fail alike (the object they were to open is
/// gone) print one error, not 64; different errors are each printed once.
/// Outside a fork loop's child, always true.
pub fn say_once(text: &str) -> bool {
    let board = BOARD.load(Ordering::Relaxed);
    if board.is_null() {
        return true;
    }
    // The same fingerprint in every process: SipHash with fixed keys.
    let mut hasher = std::hash::DefaultHasher::new();
    std::hash::Hash::hash(text, &mut hasher);
    let print = std::hash::Hasher::finish(&hasher).max(1);
    for i in 0..SLOTS {
        // SAFETY: `board` is the first of SLOTS atomics in the shared page
        // the parent mapped before forking this child, and it stays mapped
        // until the child exits.
        let slot = unsafe { &*board.add(i) };
        match slot.compare_exchange(0, print, Ordering::AcqRel, Ordering::Acquire) {
            Ok(_) => return true,
            Err(seen) if seen == print => return false,
            Err(_) => continue,
        }
    }
    true
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

    // Sized for `count` (at most kernel.pid_max, 4 bytes each), but only
    // address space until written: the kernel gives a page its memory when
    // its first pid is stored.
    let pids = Pids::new(count).map_err(|errno| {
        fork_failed(errno, 0, count, &[]).detail(format!(
            "before the first fork: no room to keep track of {count} children"
        ))
    })?;
    let mut children = Children {
        pids,
        started: 0,
        running: 0,
        first: 0,
        _board: Board::new(),
    };
    signals::pass_on_to(children.pids.slots());
    for number in 1..=count {
        if signals::bus_fault() {
            let started = children.started;
            children.reap(Some(Duration::from_secs(5)));
            return Err(signals::check(|| {
                format!("after {started} of {count} children had started")
            })
            .unwrap_err()
            .into());
        }
        if let Some(signal) = signals::caught() {
            let started = children.started;
            children.reap(Some(Duration::from_secs(5)));
            return Err(Interrupted::new(
                signal,
                format!(
                    "after {started} of {count} children had started; all {started} were waited for"
                ),
            )
            .into());
        }
        // SAFETY: these programs are single-threaded when they fork (see the
        // module comment), so the child's copy of the address space has no
        // lock held by a thread that does not exist in it. The child branch
        // never returns: `run_child` ends in `_exit`.
        match unsafe { fork() } {
            Ok(ForkResult::Child) => run_child(|| work(number)),
            Ok(ForkResult::Parent { child }) => {
                children.pids.slots()[number - 1].store(child.as_raw(), Ordering::SeqCst);
                children.started = number;
                children.running += 1;
            }
            Err(errno) => {
                let started = children.started;
                let failures = children.reap(Some(Duration::from_secs(5)));
                return Err(fork_failed(errno, started, count, &failures).into());
            }
        }
    }
    Ok(children)
}

/// The child's side: run `work`, then `_exit` with a status the parent
/// reads. (A stopping signal kills a child: see [`signals`].)
fn run_child(work: impl FnOnce() -> anyhow::Result<()>) -> ! {
    let outcome = catch_unwind(AssertUnwindSafe(work)).map(|done| {
        // A SIGBUS handled meanwhile: the work ran on zero pages.
        done.and_then(|()| match signals::bus_fault() {
            true => Err(crate::terminal::explain::truncated_under_child().into()),
            false => Ok(()),
        })
    });
    let status = match outcome {
        Ok(Ok(())) => 0,
        Ok(Err(err)) => {
            // Said once for all the children that fail alike.
            let hint = crate::error::hint_of(&err).unwrap_or_default().to_owned();
            if say_once(&format!("{err:#}\n{hint}")) {
                report(&err.context(format!("child pid {}", std::process::id())));
            }
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
        let total = self.running;
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

    /// `(number, pid)` of each child not yet waited for, in fork order:
    /// right after [`fork_children`], all of them.
    pub fn pids(&self) -> Vec<(usize, i32)> {
        self.waiting().map(|(n, pid)| (n, pid.as_raw())).collect()
    }

    /// `(number, pid)` of each child not yet waited for, in fork order.
    /// Children mostly end in the order they started, so the search for
    /// the one `wait4` returned stays short.
    fn waiting(&self) -> impl Iterator<Item = (usize, Pid)> + '_ {
        self.pids.slots()[self.first..self.started]
            .iter()
            .enumerate()
            .filter_map(|(i, slot)| match slot.load(Ordering::SeqCst) {
                0 => None,
                pid => Some((self.first + i + 1, Pid::from_raw(pid))),
            })
    }

    /// Child `number` has been waited for: its slot is emptied.
    fn waited_for(&mut self, number: usize) {
        let slots = self.pids.slots();
        slots[number - 1].store(0, Ordering::SeqCst);
        self.running -= 1;
        while self.first < self.started && slots[self.first].load(Ordering::SeqCst) == 0 {
            self.first += 1;
        }
    }

    /// Wait for every child still running; return how the unsuccessful ones
    /// ended, in child order.
    ///
    /// It waits for *any* child, `wait4(-1, &status, 0, NULL)` — blocking,
    /// as the C's `wait(NULL)` does — not for each in turn: a child that
    /// dies must be noticed even while an earlier one is blocked. (So a
    /// `Children` assumes it is all the children its process has, which is
    /// true of these programs.) A stopping signal ends the wait because
    /// the handler passes it on to the children (see the module comment);
    /// the parent sends it once more, itself, to any child forked after the
    /// handler ran. With `quiet`, see [`Children::wait_all_unless_stuck`]:
    /// once a child has failed, a timer is armed after each wait, and its
    /// handler kills the children if none of them ends in time.
    fn reap(&mut self, quiet: Option<Duration>) -> Vec<ChildFailure> {
        let mut failures = Vec::new();
        let mut passed_on = false;
        let mut alarm: Option<StallAlarm> = None;
        while self.running > 0 {
            if !passed_on {
                if let Some(signal) = signals::caught() {
                    for (_, pid) in self.waiting() {
                        // A child that already exited is a zombie until we
                        // wait for it: its pid cannot have been reused.
                        let _ = kill(pid, signal);
                    }
                    passed_on = true;
                }
            }
            // wait4(-1, &status, 0, NULL): sleeps in the kernel until a child ends.
            let status = match waitpid(None, None) {
                Ok(status) => status,
                // A signal: its handler has run; look at the flag again.
                Err(Errno::EINTR) => continue,
                Err(errno) => {
                    // ECHILD: nothing left to wait for (someone else reaped them).
                    for (number, pid) in self.waiting().collect::<Vec<_>>() {
                        self.waited_for(number);
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
            let Some((number, _)) = self.waiting().find(|&(_, p)| p == pid) else {
                continue;
            };
            let gave_up = alarm.as_ref().is_some_and(StallAlarm::went_off);
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
            self.waited_for(number);
            if let Some(ending) = ending {
                failures.push(ChildFailure {
                    number,
                    pid,
                    ending,
                });
            }
            // After a failure, a stall: if no other child ends within
            // `quiet`, the alarm's handler kills them all.
            if let Some(quiet) = quiet.filter(|_| !failures.is_empty()) {
                let alarm = alarm.get_or_insert_with(StallAlarm::new);
                if !alarm.went_off() {
                    alarm.arm(quiet);
                }
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
        signals::pass_on_to_nobody();
    }
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
            if mode == "stuck" && number == 3 {
                std::thread::sleep(Duration::from_secs(60));
            }
            if number != 2 {
                return Ok(());
            }
            match mode.as_str() {
                "panic" => panic!("child 2 panics on purpose"),
                "error" | "stuck" => Err(anyhow::anyhow!("child 2 fails on purpose")),
                "kill" => {
                    nix::sys::signal::raise(Signal::SIGKILL)?;
                    unreachable!("SIGKILL cannot be caught")
                }
                _ => Ok(()),
            }
        })
        .and_then(|children| match mode.as_str() {
            // Child 2 fails, and child 3 never ends: stuck behind it.
            "stuck" => children.wait_all_unless_stuck(Duration::from_millis(300)),
            _ => children.wait_all(),
        });
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
                "process::children::tests::fork_loop_subprocess",
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
            "subprocess failed ({}):\n{stdout}\n{stderr}",
            out.status
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
    fn fork_loop_kills_the_children_that_stop_finishing_after_one_failed() {
        let started = std::time::Instant::now();
        let (stdout, _) = fork_loop("stuck");
        let line = outcome(&stdout);
        assert!(
            line.starts_with("2 of 4 children failed: child 2 (pid "),
            "{line}"
        );
        assert!(line.contains(") exited with status 1"), "{line}");
        assert!(
            line.contains("was stuck (no child finished for 0.3 s) and was killed"),
            "{line}"
        );
        // The blocking wait was ended by the alarm, not by the minute-long sleep.
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "{:?}",
            started.elapsed()
        );
    }
}
