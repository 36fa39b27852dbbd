//! What every kind of shared memory has in common: a run of bytes at an
//! address, which other processes may be writing at the same moment.
//!
//! A `mmap` mapping ([`crate::mmap::Mapping`]), a System V attachment
//! ([`crate::xsi::Attachment`]) and a mapped POSIX object are different ways
//! to get such bytes; [`crate::race::SharedCounter`] only needs the bytes.

use std::ptr::NonNull;
use std::time::{Duration, Instant};

use nix::sys::resource::{UsageWho, getrusage};

use crate::terminal::output::size_text;
use crate::terminal::signals::{self, Interrupted};

/// Zero this much at a time, then look whether Ctrl-C was pressed.
const ZERO_STEP: usize = 64 << 20;

/// Shared bytes, valid for `len()` bytes from `start()` while `self` lives.
///
/// Sealed: only this crate's owned types implement it, because their
/// promise (the range stays mapped as long as the value lives) is what makes
/// the `unsafe` views of it sound.
pub trait SharedMemory: sealed::Sealed {
    /// The first byte; page-aligned.
    fn start(&self) -> NonNull<u8>;
    /// How many bytes.
    fn len(&self) -> usize;
    /// Never true: shared memory has at least one byte.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The article's `bzero(shm_p, MEMSIZE)`: write a zero to every byte,
    /// which makes the kernel give every page real memory (a page fault
    /// each). Measures the time and the minor page faults it took. Stops
    /// with [`Interrupted`] if a stopping signal (Ctrl-C, SIGTERM, SIGHUP,
    /// SIGQUIT) arrives meanwhile.
    fn zero(&self) -> Result<Zeroing, Interrupted> {
        let faults_before = minor_faults();
        let started = Instant::now();
        let mut done = 0;
        while done < self.len() {
            signals::check(|| {
                format!(
                    "while zeroing, after {} of {}",
                    size_text(done as u64),
                    size_text(self.len() as u64)
                )
            })?;
            let step = ZERO_STEP.min(self.len() - done);
            // SAFETY: `done + step <= len()`, so the range is inside the
            // memory, which stays mapped while `self` is borrowed. The write
            // goes through a raw pointer: no Rust reference to these bytes
            // exists in this process meanwhile, so none is invalidated.
            // Other processes may write them at the same moment (mmap_mem
            // --posix's object and --file's file can be opened by anyone
            // allowed to): that changes which bytes end up there, never
            // whether they are valid, since every byte pattern is a valid
            // value of what they are read as (zeros, `AtomicI32`).
            unsafe { self.start().as_ptr().add(done).write_bytes(0, step) };
            done += step;
        }
        Ok(Zeroing {
            bytes: self.len() as u64,
            elapsed: started.elapsed(),
            minor_faults: minor_faults().saturating_sub(faults_before),
        })
    }
}

/// What zeroing the memory cost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Zeroing {
    pub bytes: u64,
    pub elapsed: Duration,
    /// Minor page faults while zeroing: one per page first touched.
    pub minor_faults: u64,
}

impl Zeroing {
    /// `zeroed 2046 MiB in 0.61 s (3354 MiB/s): 523776 minor page faults for 523776 pages of 4 KiB`
    pub fn describe(&self, page_bytes: u64) -> String {
        let secs = self.elapsed.as_secs_f64();
        let mib = self.bytes as f64 / f64::from(1 << 20);
        let rate = if secs > 0.0 {
            format!("{:.0} MiB/s", mib / secs)
        } else {
            String::from("too fast to time")
        };
        format!(
            "zeroed {} in {secs:.2} s ({rate}): {} minor page faults for {} pages of {}",
            size_text(self.bytes),
            self.minor_faults,
            self.bytes.div_ceil(page_bytes),
            size_text(page_bytes)
        )
    }
}

/// This process's minor page faults so far (getrusage).
fn minor_faults() -> u64 {
    getrusage(UsageWho::RUSAGE_SELF).map_or(0, |usage| usage.minor_page_faults() as u64)
}

pub(crate) mod sealed {
    pub trait Sealed {}
}
