//! Keep the memory until the reader has looked at it.
//!
//! The article's memory demos call `sleep(3000)` so there is time to run
//! `free` in another terminal — and then Ctrl-C kills them, skipping the
//! `shmdt`/`IPC_RMID` that follow, so a System V segment stays behind.
//! Ours hold until Ctrl-C, SIGTERM, a closed terminal (SIGHUP) or `Ctrl-\`
//! (SIGQUIT), or a timeout, and then *return*:
//! the program goes on to release everything in the article's order and
//! exits 0, because ending the hold is what the signal was for.

use std::fmt;
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;

use super::output::note;
use super::signals;

/// How long to hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hold {
    /// Until a stopping signal: Ctrl-C, SIGTERM, SIGHUP, SIGQUIT.
    Forever,
    /// At most this long (0 = release at once).
    For(Duration),
}

impl Hold {
    /// `until Ctrl-C`, or `for 60 s (Ctrl-C ends it sooner)`.
    pub fn until(self) -> String {
        match self {
            Hold::Forever => String::from("until Ctrl-C"),
            Hold::For(d) => format!("for {} s (Ctrl-C ends it sooner)", d.as_secs()),
        }
    }

    /// `forever`, or whole seconds from 0.
    pub fn parse(text: &str) -> Result<Hold, String> {
        if text.trim() == "forever" {
            return Ok(Hold::Forever);
        }
        text.trim()
            .parse::<u64>()
            .map(|secs| Hold::For(Duration::from_secs(secs)))
            .map_err(|_| {
                format!("'{text}' is neither 'forever' nor a whole number of seconds (0 or more)")
            })
    }
}

impl fmt::Display for Hold {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Hold::Forever => f.write_str("forever"),
            Hold::For(d) => write!(f, "{}", d.as_secs()),
        }
    }
}

/// Why a hold ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Held {
    /// The time given with `--hold` ran out.
    TimeUp,
    /// One of the stopping signals (see [`crate::terminal::signals`]).
    Signal(Signal),
}

/// [`hold`], then say on stderr why the hold ended and that what it kept
/// is released now: the one "releasing" line of every program.
pub fn hold_then_release(how: Hold) -> Held {
    let held = hold(how);
    match held {
        Held::Signal(signal) => note(format!("{signal}: releasing.")),
        Held::TimeUp => note("Time is up: releasing."),
    }
    held
}

/// Wait until `hold` is over or a stopping signal arrives.
///
/// It sleeps in `nanosleep` 50 ms at a time and looks at the signal flag in
/// between. A signal ends the nap at once (`nanosleep` returns `EINTR` after
/// the handler ran, and is never restarted); one that lands between the look
/// and the next nap is seen at the end of that nap, 50 ms later at most.
pub fn hold(hold: Hold) -> Held {
    // A time so long that the clock cannot add it (`--hold 18446744073709551615`,
    // 584 billion years) is as good as forever.
    let deadline = match hold {
        Hold::Forever => None,
        Hold::For(d) => Instant::now().checked_add(d),
    };
    loop {
        if let Some(signal) = signals::caught() {
            return Held::Signal(signal);
        }
        let step = Duration::from_millis(50);
        match deadline {
            Some(end) => {
                let now = Instant::now();
                if now >= end {
                    return Held::TimeUp;
                }
                nap(step.min(end - now));
            }
            None => nap(step),
        }
    }
}

/// `nanosleep` once: `d`, or less if a signal's handler runs meanwhile
/// (`std::thread::sleep` would sleep on after it).
fn nap(d: Duration) {
    let request = libc::timespec {
        tv_sec: d.as_secs() as libc::time_t,
        tv_nsec: d.subsec_nanos() as libc::c_long,
    };
    // SAFETY: nanosleep reads `request` and, with a null second argument,
    // writes nothing.
    unsafe { libc::nanosleep(&request, std::ptr::null_mut()) };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holds_are_forever_or_whole_seconds() {
        assert_eq!(Hold::parse("forever"), Ok(Hold::Forever));
        assert_eq!(Hold::parse("0"), Ok(Hold::For(Duration::ZERO)));
        assert_eq!(Hold::parse("30"), Ok(Hold::For(Duration::from_secs(30))));
        assert!(Hold::parse("-1").unwrap_err().contains("neither 'forever'"));
        assert!(Hold::parse("soon").is_err());
    }

    #[test]
    fn a_zero_hold_returns_at_once() {
        let start = Instant::now();
        assert_eq!(hold(Hold::For(Duration::ZERO)), Held::TimeUp);
        assert!(start.elapsed() < Duration::from_secs(1));
    }
}
