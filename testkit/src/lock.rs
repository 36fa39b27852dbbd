//! Locks with no file behind them: abstract Unix sockets.
//!
//! A lock file in /tmp belongs to the first user who creates it; with mode
//! 0644 the next user cannot open it for writing, and with 0600 not at all.
//! An *abstract* socket address (Linux: a name that starts with a NUL byte)
//! is a name in the kernel, not a file: `bind` succeeds for exactly one
//! socket at a time, for any user, and the name is freed the moment the
//! socket is closed — when the test ends, panics, or is killed. Nothing can
//! be left behind and nothing belongs to anyone.
//!
//! The scope is the network namespace, which on a laptop, a WSL instance
//! or a lab server is the whole machine.

use std::io::{ErrorKind, Write};
use std::os::linux::net::SocketAddrExt;
use std::os::unix::net::{SocketAddr, UnixListener};
use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

/// How long a test waits for a lock before it fails. Generous: on a lab
/// server, thirty students' memory tests queue on the machine lock.
pub const LOCK_WAIT: Duration = Duration::from_secs(600);

/// A held lock; dropping it releases it.
#[derive(Debug)]
pub struct Held {
    _socket: UnixListener,
}

/// This process's turn: the tests of one test binary (libtest runs them on
/// several threads) queue here first, quietly, before the machine-visible
/// lock, which then only ever waits for *other* test runs.
#[derive(Debug)]
pub struct Turn {
    _private: (),
}

static TAKEN: Mutex<bool> = Mutex::new(false);
static FREED: Condvar = Condvar::new();

/// Wait (up to [`LOCK_WAIT`]) until no other test of this process holds a
/// [`Turn`].
pub fn turn() -> Turn {
    let start = Instant::now();
    let mut taken = TAKEN.lock().unwrap_or_else(|e| e.into_inner());
    while *taken {
        let left = LOCK_WAIT.saturating_sub(start.elapsed());
        assert!(
            !left.is_zero(),
            "waited {} s for the other tests of this test binary",
            LOCK_WAIT.as_secs()
        );
        taken = FREED
            .wait_timeout(taken, left)
            .unwrap_or_else(|e| e.into_inner())
            .0;
    }
    *taken = true;
    Turn { _private: () }
}

impl Drop for Turn {
    fn drop(&mut self) {
        *TAKEN.lock().unwrap_or_else(|e| e.into_inner()) = false;
        FREED.notify_one();
    }
}

/// Take the lock called `name` (an abstract socket address), waiting up to
/// [`LOCK_WAIT`]. `why` says, for the messages, why a test would wait.
/// After 10 s of waiting, one line on the terminal says so.
pub fn acquire(name: &str, why: &str) -> Held {
    let addr = SocketAddr::from_abstract_name(name.as_bytes())
        .unwrap_or_else(|e| panic!("abstract socket name {name:?}: {e}"));
    let start = Instant::now();
    let mut told = false;
    let mut step = 0u64;
    loop {
        match UnixListener::bind_addr(&addr) {
            // std opens sockets close-on-exec: the programs a test starts
            // never inherit (and so never keep) the lock.
            Ok(socket) => return Held { _socket: socket },
            Err(e) if e.kind() == ErrorKind::AddrInUse => {}
            Err(e) => panic!("cannot bind the abstract socket @{name}: {e}"),
        }
        let waited = start.elapsed();
        if waited > LOCK_WAIT {
            panic!(
                "waited {} s: {why} (the abstract socket @{name}; \
                 `ss -xlp | grep shm-lessons` shows who holds it)",
                waited.as_secs()
            );
        }
        if !told && waited > Duration::from_secs(10) {
            told = true;
            crate::say(&format!("waiting (up to {} s): {why}", LOCK_WAIT.as_secs()));
        }
        // 10 to 40 ms, varied per process so that waiters do not move in step.
        step = step
            .wrapping_mul(6364136223846793005)
            .wrapping_add(u64::from(std::process::id()) | 1);
        std::thread::sleep(Duration::from_millis(10 + (step >> 33) % 31));
    }
}

/// Write one line straight to the terminal's stderr: libtest captures
/// `eprintln!` of a passing test, but not writes to the stderr handle.
pub(crate) fn say_raw(line: &str) {
    let _ = writeln!(std::io::stderr(), "{line}");
}
