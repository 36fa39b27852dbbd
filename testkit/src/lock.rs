//! Locks with no file behind them: abstract Unix sockets.
//!
//! A lock file in /tmp belongs to the first user who creates it, and the
//! next user may not be able to open it. An abstract socket address is a
//! name in the kernel: `bind` succeeds for one socket at a time, for any
//! user, and the name is freed the moment the socket closes, even when the
//! test is killed. Its scope, the network namespace, is the whole machine
//! on a laptop, a WSL instance or a lab server.

use std::io::ErrorKind;
use std::os::linux::net::SocketAddrExt;
use std::os::unix::net::{SocketAddr, UnixListener};
use std::sync::{Condvar, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// How long a test waits for a lock. Generous: on a lab server, thirty
/// students' memory tests queue on the machine lock.
pub const LOCK_WAIT: Duration = Duration::from_secs(600);

/// A held lock; dropping it releases it.
#[derive(Debug)]
pub struct Held {
    _socket: UnixListener,
}

/// This process's turn: the tests of one test binary (libtest runs them on
/// several threads) queue here first, quietly, so that the machine-visible
/// lock only ever waits for *other* test runs.
#[derive(Debug)]
pub struct Turn {
    _private: (),
}

static TAKEN: Mutex<bool> = Mutex::new(false);
static FREED: Condvar = Condvar::new();

/// Wait (up to [`LOCK_WAIT`]) until no other test of this process holds a
/// [`Turn`].
pub fn turn() -> Turn {
    let taken = TAKEN.lock().unwrap_or_else(PoisonError::into_inner);
    let waited = FREED.wait_timeout_while(taken, LOCK_WAIT, |taken| *taken);
    let (mut taken, timeout) = waited.unwrap_or_else(PoisonError::into_inner);
    let secs = LOCK_WAIT.as_secs();
    assert!(
        !timeout.timed_out(),
        "waited {secs} s for the other tests of this test binary"
    );
    *taken = true;
    Turn { _private: () }
}

impl Drop for Turn {
    fn drop(&mut self) {
        *TAKEN.lock().unwrap_or_else(PoisonError::into_inner) = false;
        FREED.notify_one();
    }
}

/// Take the lock called `name`, waiting up to [`LOCK_WAIT`]; `why` says
/// why a test would wait, on the terminal after 10 s and in the panic.
pub fn acquire(name: &str, why: &str) -> Held {
    let addr = SocketAddr::from_abstract_name(name.as_bytes())
        .unwrap_or_else(|e| panic!("abstract socket name {name:?}: {e}"));
    let (start, secs) = (Instant::now(), LOCK_WAIT.as_secs());
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
        assert!(
            waited <= LOCK_WAIT,
            "waited {} s: {why} (the abstract socket @{name}; \
             `ss -xlp | grep shm-lessons` shows who holds it)",
            waited.as_secs()
        );
        if !told && waited > Duration::from_secs(10) {
            told = true;
            crate::say(&format!("waiting (up to {secs} s): {why}"));
        }
        // 10 to 40 ms, varied per process so that waiters do not move in step.
        let odd = u64::from(std::process::id()) | 1;
        step = step.wrapping_mul(6364136223846793005).wrapping_add(odd);
        std::thread::sleep(Duration::from_millis(10 + (step >> 33) % 31));
    }
}
