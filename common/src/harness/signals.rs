//! Ctrl-C, SIGTERM, a closed terminal and `Ctrl-\` end a run cleanly instead
//! of killing it mid-way.
//!
//! The article's programs die where they stand on any of these. For an
//! anonymous mapping that costs nothing (the kernel frees it with the
//! process), but a System V segment or a `/dev/shm` file outlives the
//! process that made it: killed between `shmget` and `IPC_RMID`, the C
//! program leaks it until someone runs `ipcrm` or the machine reboots.
//!
//! So [`crate::run`] installs a handler for the four signals a person sends
//! to stop a program, and the handler only records which one came:
//!
//! | signal | sent when | exit status |
//! |---|---|---|
//! | SIGINT | Ctrl-C | 130 |
//! | SIGTERM | `kill PID`, a shutdown | 143 |
//! | SIGHUP | the terminal (window, ssh session) closes | 129 |
//! | SIGQUIT | `Ctrl-\` | 131 |
//!
//! The program notices at its next check ([`check`]): the fork loop stops
//! forking, the parent passes the signal on to its children and waits for
//! them, and an [`Interrupted`] error unwinds out of `main`, dropping — and
//! so removing — everything the run created. The process then exits with
//! 128 + the signal number, as a shell expects of a process killed by it.
//! (A memory demo's hold is *meant* to be ended by a signal: it releases
//! and exits 0; see [`crate::demo::hold`].)
//!
//! Only SIGKILL (and SIGSTOP) cannot be caught: `kill -9`, the OOM killer
//! and the power cord run no code at all.
//!
//! One exception: a program started under `nohup` (or any parent that
//! ignores SIGHUP) keeps ignoring SIGHUP, because that is what the user
//! asked for: it goes on holding after the terminal closes, and is stopped
//! with SIGTERM or Ctrl-C as usual.
//!
//! The handler is installed without `SA_RESTART`, so a blocking call such as
//! `waitpid` returns `EINTR` and the program gets to look at the flag.
//! Children go back to the default action at once (see
//! [`restore_default_in_child`]): a child has nothing to clean up, and
//! Ctrl-C should stop it on the spot.

use std::fmt;
use std::sync::atomic::{AtomicI32, AtomicU64, AtomicUsize, Ordering::Relaxed};

use nix::sys::signal::{SaFlags, SigAction, SigHandler, SigSet, SigmaskHow, Signal, sigaction};

use crate::error::SysError;

/// The signals that ask a run to stop.
pub const STOPPING: [Signal; 4] = [
    Signal::SIGINT,
    Signal::SIGTERM,
    Signal::SIGHUP,
    Signal::SIGQUIT,
];

/// The number of the last stopping signal received, or 0.
static CAUGHT: AtomicI32 = AtomicI32::new(0);

/// Bit `n` set: signal `n` is routed to [`record`] by [`install`] (so a
/// child must put its default action back).
static HANDLED: AtomicU64 = AtomicU64::new(0);

extern "C" fn record(signal: libc::c_int) {
    // A single atomic store: async-signal-safe.
    CAUGHT.store(signal, Relaxed);
}

// ---- SIGBUS: memory that went away under a mapping -------------------------
//
// A file mapped MAP_SHARED (a /dev/shm object, racing_mmap's counter file,
// mmap_mem's file) can be truncated by any process that may write it:
// `truncate -s 0 /dev/shm/shm`. A load or store in the part of the mapping
// that no longer has a file behind it cannot fail like a system call: the
// kernel sends SIGBUS, whose default action kills the process on the spot —
// no message, and its objects left behind.
//
// So the file mappings are registered here ([`watch_mapping`]), and a
// SIGBUS inside one of them is handled: the handler maps private zero
// pages over the rest of that mapping (so the access that faulted, and any
// after it, reads and writes memory that is this process's alone, and
// reaches nobody), records the fault, and returns. The program notices at
// its next check ([`check`], or [`bus_fault`]), says what happened in one
// line, and unwinds like a stopping signal, releasing everything. A SIGBUS
// anywhere else is a real bug: the default action takes over.

/// The file mappings a SIGBUS may come from: (start, length) pairs, 0 when free.
static WATCHED: [(AtomicUsize, AtomicUsize); 16] =
    [const { (AtomicUsize::new(0), AtomicUsize::new(0)) }; 16];

/// The page size, read once at [`install`] (sysconf is not safe in a handler).
static PAGE: AtomicUsize = AtomicUsize::new(4096);

/// The address of the first SIGBUS handled, or 0.
static BUS_AT: AtomicUsize = AtomicUsize::new(0);

/// Watch the mapping `[start, start + len)` for SIGBUS until
/// [`unwatch_mapping`]. A mapping that finds no free slot is not watched
/// (a SIGBUS in it then kills the process, as without this module).
pub fn watch_mapping(start: usize, len: usize) {
    for (at, size) in &WATCHED {
        if at.compare_exchange(0, start, Relaxed, Relaxed).is_ok() {
            size.store(len, Relaxed);
            return;
        }
    }
}

/// Stop watching the mapping that starts at `start` (it is being unmapped).
pub fn unwatch_mapping(start: usize) {
    for (at, size) in &WATCHED {
        if at.load(Relaxed) == start {
            size.store(0, Relaxed);
            at.store(0, Relaxed);
        }
    }
}

extern "C" fn on_sigbus(_: libc::c_int, info: *mut libc::siginfo_t, _: *mut libc::c_void) {
    // SAFETY: the kernel passes a valid siginfo_t for a SA_SIGINFO handler,
    // and for SIGBUS si_addr is the address that faulted.
    let addr = unsafe { (*info).si_addr() } as usize;
    let page = PAGE.load(Relaxed);
    for (at, size) in &WATCHED {
        let (start, len) = (at.load(Relaxed), size.load(Relaxed));
        if start == 0 || addr < start || addr >= start + len {
            continue;
        }
        let from = addr & !(page - 1);
        let end = (start + len).div_ceil(page) * page;
        // SAFETY: mmap is a plain system call (async-signal-safe in
        // practice on Linux). MAP_FIXED replaces only pages of this
        // registered mapping, from the faulting page to its end: memory
        // the program owns through a `Mapping`, which unmaps the whole
        // range when dropped, replacement included.
        let replaced = unsafe {
            libc::mmap(
                from as *mut libc::c_void,
                end - from,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_FIXED,
                -1,
                0,
            )
        };
        if replaced != libc::MAP_FAILED {
            let _ = BUS_AT.compare_exchange(0, addr, Relaxed, Relaxed);
            return;
        }
        break;
    }
    // Not a mapping of ours: the default action, when the access faults again.
    // SAFETY: signal(2) with SIG_DFL is async-signal-safe and runs no code.
    unsafe { libc::signal(libc::SIGBUS, libc::SIG_DFL) };
}

/// Whether a SIGBUS was handled: a mapped file was truncated under this
/// process, which has been reading and writing zero pages of its own since.
pub fn bus_fault() -> bool {
    BUS_AT.load(Relaxed) != 0
}

/// `Err(Interrupted)` if a mapped file was truncated (SIGBUS), and only
/// then: for the places where a stopping signal is the normal end of what
/// came before (a hold), but memory read since may be a zero page.
pub fn check_memory(what: impl FnOnce() -> String) -> Result<(), Interrupted> {
    if bus_fault() {
        return Err(Interrupted {
            signal: Signal::SIGBUS,
            during: what(),
        });
    }
    Ok(())
}

/// A child's report of a handled SIGBUS: what it wrote reached nobody.
pub fn truncated_under_child() -> crate::error::Failure {
    crate::error::Failure::new(
        "the shared memory went away under this child's mapping (SIGBUS: its file or /dev/shm \
         object was truncated by another process); what it wrote reached nobody",
    )
    .hint(
        "someone truncated the object while the run went on (truncate -s 0, ftruncate, or a\n\
         program that opens it with O_TRUNC, like the article's C). The run is stopped.",
    )
}

/// Route the stopping signals to the recording handler. SIGHUP stays
/// ignored if it was ignored when the program started (`nohup`).
pub fn install() -> Result<(), SysError> {
    let action = SigAction::new(
        SigHandler::Handler(record),
        SaFlags::empty(),
        SigSet::empty(),
    );
    for signal in STOPPING {
        // SAFETY: `record` only performs an atomic store, which is
        // async-signal-safe, and it never touches memory that the
        // interrupted code could be in the middle of changing.
        let old = unsafe { sigaction(signal, &action) }
            .map_err(|errno| SysError::new(format!("sigaction({signal}, record)"), errno))?;
        if signal == Signal::SIGHUP && matches!(old.handler(), SigHandler::SigIgn) {
            // SAFETY: putting back the action that was there a moment ago.
            unsafe { sigaction(signal, &old) }
                .map_err(|errno| SysError::new(format!("sigaction({signal}, SIG_IGN)"), errno))?;
            continue;
        }
        HANDLED.fetch_or(1 << signal as i32, Relaxed);
    }
    // Growing a file past the file-size limit (`ulimit -f`) sends SIGXFSZ,
    // whose default action kills the process on the spot — a /dev/shm
    // object left behind. Ignored, the call fails with EFBIG instead, which
    // the program reports and cleans up after.
    let ignore = SigAction::new(SigHandler::SigIgn, SaFlags::empty(), SigSet::empty());
    // SAFETY: SIG_IGN involves no handler code.
    unsafe { sigaction(Signal::SIGXFSZ, &ignore) }
        .map_err(|errno| SysError::new("sigaction(SIGXFSZ, SIG_IGN)", errno))?;
    PAGE.store(crate::system::page_size() as usize, Relaxed);
    let bus = SigAction::new(
        SigHandler::SigAction(on_sigbus),
        SaFlags::SA_SIGINFO,
        SigSet::empty(),
    );
    // SAFETY: `on_sigbus` only reads atomics, makes one mmap call and
    // stores an atomic; see its comments.
    unsafe { sigaction(Signal::SIGBUS, &bus) }
        .map_err(|errno| SysError::new("sigaction(SIGBUS, on_sigbus)", errno))?;
    Ok(())
}

/// In a freshly forked child: the stopping signals kill it again, as they
/// would kill the article's C children (an ignored SIGHUP stays ignored).
pub fn restore_default_in_child() {
    let default = SigAction::new(SigHandler::SigDfl, SaFlags::empty(), SigSet::empty());
    let handled = HANDLED.load(Relaxed);
    for signal in STOPPING {
        if handled & (1 << signal as i32) != 0 {
            // SAFETY: installing SIG_DFL involves no handler code at all.
            let _ = unsafe { sigaction(signal, &default) };
        }
    }
}

/// The stopping signals, held back (blocked) until this value is dropped:
/// one that arrives meanwhile waits, and is delivered at the drop.
///
/// The fork loop holds them across each `fork`. Without that, a signal
/// could reach a new child before it has put back the default actions
/// ([`restore_default_in_child`]): the child would only record it, in its
/// copy of the flag, and go on with its 5-second pause while the parent
/// waits for it. Held back, the signal reaches the child after the reset,
/// and stops it.
#[derive(Debug)]
pub struct HeldBack {
    previous: SigSet,
}

/// Hold the stopping signals back until the returned value is dropped.
pub fn hold_back() -> HeldBack {
    let mut stopping = SigSet::empty();
    for signal in STOPPING {
        stopping.add(signal);
    }
    // Cannot fail: SIG_BLOCK with a valid set. Were it to fail, the signals
    // would simply not be held back.
    let previous = stopping
        .thread_swap_mask(SigmaskHow::SIG_BLOCK)
        .unwrap_or_else(|_| SigSet::empty());
    HeldBack { previous }
}

impl Drop for HeldBack {
    fn drop(&mut self) {
        let _ = self.previous.thread_set_mask();
    }
}

/// The stopping signal received so far, if any.
pub fn caught() -> Option<Signal> {
    match CAUGHT.load(Relaxed) {
        0 => None,
        n => Signal::try_from(n).ok(),
    }
}

/// `Err(Interrupted)` once a stopping signal has arrived, or a mapped file
/// was truncated (SIGBUS); `what` says where the run was ("while the
/// children ran").
pub fn check(what: impl FnOnce() -> String) -> Result<(), Interrupted> {
    if bus_fault() {
        return Err(Interrupted {
            signal: Signal::SIGBUS,
            during: what(),
        });
    }
    match caught() {
        None => Ok(()),
        Some(signal) => Err(Interrupted {
            signal,
            during: what(),
        }),
    }
}

/// The run was stopped by a signal. Everything it created has been
/// (or is being, as this error unwinds) released.
#[derive(Debug)]
pub struct Interrupted {
    signal: Signal,
    during: String,
}

impl Interrupted {
    pub fn new(signal: Signal, during: impl Into<String>) -> Self {
        Interrupted {
            signal,
            during: during.into(),
        }
    }

    /// 128 + the signal number: 130 for SIGINT, 143 for SIGTERM, 129 for
    /// SIGHUP, 131 for SIGQUIT. A handled SIGBUS is a runtime error: 1.
    pub fn exit_status(&self) -> u8 {
        if self.signal == Signal::SIGBUS {
            return 1;
        }
        128u8.saturating_add(self.signal as u8)
    }
}

impl fmt::Display for Interrupted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // By the time this is printed, `main` has returned and every owned
        // object has been dropped: the summary is what Drop just did, and
        // names whatever a Drop could not remove.
        if self.signal == Signal::SIGBUS {
            return write!(
                f,
                "the shared memory went away under its mapping {} (SIGBUS: its file or /dev/shm \
                 object was truncated by another process); {}",
                self.during,
                crate::error::release_summary()
            );
        }
        write!(
            f,
            "interrupted by {} {}; {}",
            self.signal,
            self.during,
            crate::error::release_summary()
        )
    }
}

impl std::error::Error for Interrupted {}
