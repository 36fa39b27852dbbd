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
use std::sync::atomic::{AtomicI32, AtomicU64, Ordering::Relaxed};

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

/// `Err(Interrupted)` once a stopping signal has arrived; `what` says where
/// the run was ("while the children ran").
pub fn check(what: impl FnOnce() -> String) -> Result<(), Interrupted> {
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
    /// SIGHUP, 131 for SIGQUIT.
    pub fn exit_status(&self) -> u8 {
        128u8.saturating_add(self.signal as u8)
    }
}

impl fmt::Display for Interrupted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // By the time this is printed, `main` has returned and every owned
        // object has been dropped: the summary is what Drop just did, and
        // names whatever a Drop could not remove.
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
