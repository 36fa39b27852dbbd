//! A program a test started, with deadlines on every wait.

use std::io::Read;
use std::process::{Child, ExitStatus, Output};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use crate::output::text;

/// How long a test waits for anything but a lock: a program to reach the
/// phase to interrupt, an object to appear, a run to end.
pub const WAIT: Duration = Duration::from_secs(30);

/// How long a program may run before a test gives up on it.
pub const RUN_WAIT: Duration = Duration::from_secs(120);

/// A running program. Its stdout and stderr are read as it writes them
/// (so a chatty program never blocks on a full pipe). Dropped before it
/// ended — a test failed — it is stopped with SIGTERM (SIGKILL 5 s later)
/// so it releases what it holds.
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
        let pid = Pid::from_raw(child.id() as i32);
        let drain = |pipe: Option<Box<dyn Read + Send>>| {
            pipe.map(|mut pipe| {
                std::thread::spawn(move || {
                    let mut bytes = Vec::new();
                    let _ = pipe.read_to_end(&mut bytes);
                    bytes
                })
            })
        };
        let stdout = drain(
            child
                .stdout
                .take()
                .map(|p| Box::new(p) as Box<dyn Read + Send>),
        );
        let stderr = drain(
            child
                .stderr
                .take()
                .map(|p| Box::new(p) as Box<dyn Read + Send>),
        );
        Running {
            child: Some(child),
            pid,
            what,
            stdout,
            stderr,
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
        self.child
            .as_mut()
            .and_then(|c| c.try_wait().expect("try_wait"))
    }

    /// Wait until `ready()` (polling every 5 ms, for up to [`WAIT`]).
    /// Panics, with the program's output, if it ends first or the
    /// deadline passes: `what` names what was awaited.
    pub fn wait_until(&mut self, what: &str, mut ready: impl FnMut() -> bool) {
        self.wait_for(what, || ready().then_some(()));
    }

    /// Stop the program (SIGSTOP) the moment `ready()`: polled without a
    /// pause, because what it waits for (a fork loop at its second child)
    /// passes in milliseconds. Whatever the test does next happens while
    /// the program is frozen; `SIGCONT` lets it go on. Panics as
    /// [`Running::wait_until`] does.
    pub fn stop_when(&mut self, what: &str, mut ready: impl FnMut() -> bool) {
        let start = Instant::now();
        loop {
            if ready() {
                self.signal(Signal::SIGSTOP);
                return;
            }
            if self.ended().is_some() || start.elapsed() > WAIT {
                self.wait_until(what, &mut ready);
                self.signal(Signal::SIGSTOP);
                return;
            }
            std::thread::yield_now();
        }
    }

    /// Like [`Running::wait_until`], returning what `ready` found.
    pub fn wait_for<T>(&mut self, what: &str, mut ready: impl FnMut() -> Option<T>) -> T {
        let start = Instant::now();
        loop {
            if let Some(found) = ready() {
                return found;
            }
            if let Some(status) = self.ended() {
                let out = self.collect(status);
                panic!(
                    "{} ended ({status}) before {what}:\n{}{}",
                    self.what,
                    text(&out.stdout),
                    text(&out.stderr)
                );
            }
            if start.elapsed() > WAIT {
                let out = self.stop();
                panic!(
                    "waited {} s for {what}; {} never got there:\n{}{}",
                    WAIT.as_secs(),
                    self.what,
                    text(&out.stdout),
                    text(&out.stderr)
                );
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// Wait for the program to end (up to [`RUN_WAIT`]) and collect its
    /// output. Panics if it does not end in time (after stopping it).
    pub fn finish(mut self) -> Output {
        match self.finish_within(RUN_WAIT) {
            Ok(out) => out,
            Err(out) => panic!(
                "{} did not end within {} s:\n{}{}",
                self.what,
                RUN_WAIT.as_secs(),
                text(&out.stdout),
                text(&out.stderr)
            ),
        }
    }

    /// Wait up to `limit` for the program to end: `Ok` with its output, or
    /// `Err` with what it printed before it was stopped.
    pub fn finish_within(&mut self, limit: Duration) -> Result<Output, Output> {
        let start = Instant::now();
        loop {
            if let Some(status) = self.ended() {
                return Ok(self.collect(status));
            }
            if start.elapsed() > limit {
                return Err(self.stop());
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// Its output if it has ended, without waiting: for a test that times
    /// the end itself, looking as often as it likes.
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
        let status = self
            .child
            .as_mut()
            .map(|c| c.wait().expect("wait"))
            .unwrap_or_default();
        self.collect(status)
    }

    fn collect(&mut self, status: ExitStatus) -> Output {
        self.child = None;
        let join =
            |h: Option<JoinHandle<Vec<u8>>>| h.map(|h| h.join().unwrap()).unwrap_or_default();
        Output {
            status,
            stdout: join(self.stdout.take()),
            stderr: join(self.stderr.take()),
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
