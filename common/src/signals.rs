//! Ctrl-C and SIGTERM end a run cleanly instead of killing it mid-way.
//!
//! The article's programs die where they stand on Ctrl-C. For an anonymous
//! mapping that costs nothing (the kernel frees it with the process), but a
//! System V segment or a `/dev/shm` file outlives the process that made it:
//! killed between `shmget` and `IPC_RMID`, the C program leaks it until
//! someone runs `ipcrm` or the machine reboots.
//!
//! So [`crate::run`] installs a handler for SIGINT and SIGTERM that only
//! records which signal came. The program notices at its next check
//! ([`check`]): the fork loop stops forking, the parent passes the signal on
//! to its children and waits for them, and an [`Interrupted`] error
//! unwinds out of `main`, dropping — and so removing — everything the run
//! created. The process then exits with 128 + the signal number (130 for
//! SIGINT, 143 for SIGTERM), as a shell expects of a process killed by it.
//!
//! The handler is installed without `SA_RESTART`, so a blocking call such as
//! `waitpid` returns `EINTR` and the program gets to look at the flag.
//! Children go back to the default action at once (see
//! [`restore_default_in_child`]): a child has nothing to clean up, and
//! Ctrl-C should stop it on the spot.

use std::fmt;
use std::sync::atomic::{AtomicI32, Ordering::Relaxed};

use nix::sys::signal::{SaFlags, SigAction, SigHandler, SigSet, Signal, sigaction};

use crate::error::SysError;

/// The signals that ask a run to stop.
const STOPPING: [Signal; 2] = [Signal::SIGINT, Signal::SIGTERM];

/// The number of the last stopping signal received, or 0.
static CAUGHT: AtomicI32 = AtomicI32::new(0);

extern "C" fn record(signal: libc::c_int) {
    // A single atomic store: async-signal-safe.
    CAUGHT.store(signal, Relaxed);
}

/// Route SIGINT and SIGTERM to the recording handler.
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
        unsafe { sigaction(signal, &action) }
            .map_err(|errno| SysError::new(format!("sigaction({signal}, record)"), errno))?;
    }
    Ok(())
}

/// In a freshly forked child: SIGINT and SIGTERM kill it again, as they
/// would kill the article's C children.
pub fn restore_default_in_child() {
    let default = SigAction::new(SigHandler::SigDfl, SaFlags::empty(), SigSet::empty());
    for signal in STOPPING {
        // SAFETY: installing SIG_DFL involves no handler code at all.
        let _ = unsafe { sigaction(signal, &default) };
    }
}

/// The stopping signal received so far, if any.
pub fn caught() -> Option<Signal> {
    match CAUGHT.load(Relaxed) {
        0 => None,
        n => Signal::try_from(n).ok(),
    }
}

/// `Err(Interrupted)` once SIGINT or SIGTERM has arrived; `what` says where
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

/// The run was stopped by SIGINT or SIGTERM. Everything it created has been
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

    pub fn signal(&self) -> Signal {
        self.signal
    }

    /// 128 + the signal number: 130 for SIGINT, 143 for SIGTERM.
    pub fn exit_status(&self) -> u8 {
        128u8.saturating_add(self.signal as u8)
    }
}

impl fmt::Display for Interrupted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // By the time this is printed, `main` has returned and every owned
        // object has been dropped: the claim below is what Drop just did.
        write!(
            f,
            "interrupted by {} {}; everything this run created has been released",
            self.signal, self.during
        )
    }
}

impl std::error::Error for Interrupted {}
