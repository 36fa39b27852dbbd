//! A program a test started, with deadlines on every wait.

use std::io::Read;
use std::process::{Child, ExitStatus, Output};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use crate::output::text;

/// How long a test waits for anything but a lock: a program to reach the
/// phase to interrupt, an object to appear.
pub const WAIT: Duration = Duration::from_secs(30);

/// How long a program may run before a test gives up on it.
pub const RUN_WAIT: Duration = Duration::from_secs(120);

/// A running program. Its output is read as it is written, so a chatty
/// program never blocks on a full pipe. Dropped before it ended (a test
/// failed), it is stopped with SIGTERM (SIGKILL 5 s later) so it releases
/// what it holds.
#[derive(Debug)]
pub struct Running {
    child: Option<Child>,
    pid: Pid,
    what: String,
    stdout: Option<JoinHandle<Vec<u8>>>,
    stderr: Option<JoinHandle<Vec<u8>>>,
}

impl Running {
    pub(crate) fn new(mut child: Child, what: String) -> Running {
        Running {
            pid: Pid::from_raw(child.id() as i32),
            stdout: child.stdout.take().map(drain),
            stderr: child.stderr.take().map(drain),
            child: Some(child),
            what,
        }
    }

    pub fn pid(&self) -> Pid {
        self.pid
    }

    /// Send `signal` to the program (not to its children).
    pub fn signal(&self, signal: Signal) {
        kill(self.pid, signal).expect("signal the program");
    }

    fn ended(&mut self) -> Option<ExitStatus> {
        let child = self.child.as_mut()?;
        child.try_wait().expect("try_wait")
    }

    /// Wait until `ready()`, polling every 5 ms for up to [`WAIT`]; see
    /// [`Running::wait_for`].
    pub fn wait_until(&mut self, what: &str, mut ready: impl FnMut() -> bool) {
        self.wait_for(what, || ready().then_some(()));
    }

    /// Stop the program (SIGSTOP) the moment `ready()`: polled without a
    /// pause, because what it waits for (a fork loop at its second child)
    /// passes in milliseconds. `SIGCONT` lets it go on.
    pub fn stop_when(&mut self, what: &str, mut ready: impl FnMut() -> bool) {
        let start = Instant::now();
        while !ready() {
            if self.ended().is_some() || start.elapsed() > WAIT {
                // Fails as wait_until does (or finds it ready after all).
                self.wait_until(what, &mut ready);
                break;
            }
            std::thread::yield_now();
        }
        self.signal(Signal::SIGSTOP);
    }

    /// What `ready()` finds, polling every 5 ms for up to [`WAIT`]. Panics
    /// with the program's output, naming `what` was awaited, if it ends
    /// first or the deadline passes.
    pub fn wait_for<T>(&mut self, what: &str, mut ready: impl FnMut() -> Option<T>) -> T {
        let start = Instant::now();
        loop {
            if let Some(found) = ready() {
                return found;
            }
            if let Some(status) = self.ended() {
                let out = shown(&self.collect(status));
                panic!("{} ended ({status}) before {what}:\n{out}", self.what);
            }
            if start.elapsed() > WAIT {
                let (out, secs) = (shown(&self.stop()), WAIT.as_secs());
                panic!(
                    "waited {secs} s for {what}; {} never got there:\n{out}",
                    self.what
                );
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// Wait for the program to end (up to [`RUN_WAIT`], else stop it and
    /// panic) and collect its output.
    pub fn finish(mut self) -> Output {
        let out = self.finish_within(RUN_WAIT);
        let (what, secs) = (&self.what, RUN_WAIT.as_secs());
        out.unwrap_or_else(|out| panic!("{what} did not end within {secs} s:\n{}", shown(&out)))
    }

    /// Wait up to `limit` for the program to end: `Ok` with its output, or
    /// `Err` with what it printed before it was stopped.
    pub fn finish_within(&mut self, limit: Duration) -> Result<Output, Output> {
        let start = Instant::now();
        loop {
            if let Some(out) = self.try_finish() {
                return Ok(out);
            }
            if start.elapsed() > limit {
                return Err(self.stop());
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// Its output if it has ended, without waiting: for a test that times
    /// the end itself.
    pub fn try_finish(&mut self) -> Option<Output> {
        self.ended().map(|status| self.collect(status))
    }

    /// SIGTERM, then SIGKILL if it has not ended 5 s later; its output.
    fn stop(&mut self) -> Output {
        if self.ended().is_none() {
            let _ = kill(self.pid, Signal::SIGTERM);
            // A program a test stopped (SIGSTOP) hears SIGTERM only once it runs.
            let _ = kill(self.pid, Signal::SIGCONT);
            let start = Instant::now();
            while self.ended().is_none() && start.elapsed() < Duration::from_secs(5) {
                std::thread::sleep(Duration::from_millis(10));
            }
            if self.ended().is_none() {
                let _ = kill(self.pid, Signal::SIGKILL);
            }
        }
        let child = self.child.as_mut();
        let status = child.map(|c| c.wait().expect("wait")).unwrap_or_default();
        self.collect(status)
    }

    fn collect(&mut self, status: ExitStatus) -> Output {
        self.child = None;
        let join = |h: Option<JoinHandle<_>>| h.map(|h| h.join().unwrap()).unwrap_or_default();
        let (stdout, stderr) = (join(self.stdout.take()), join(self.stderr.take()));
        Output {
            status,
            stdout,
            stderr,
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if self.child.is_some() {
            self.stop();
        }
    }
}

/// A thread that reads `pipe` to its end.
fn drain(mut pipe: impl Read + Send + 'static) -> JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = pipe.read_to_end(&mut bytes);
        bytes
    })
}

/// A run's stdout, then its stderr, for a message.
fn shown(out: &Output) -> String {
    text(&out.stdout) + &text(&out.stderr)
}
