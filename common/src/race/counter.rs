//! The shared `int` the racing programs fight over.
//!
//! In C the article writes `interval = *shm_p; interval++; usleep(1);
//! *shm_p = interval;`. Done with a plain `i32` in Rust, two processes
//! reading and writing it at once would be a **data race**: undefined
//! behaviour, where the compiler may assume it never happens and the program
//! means nothing at all. `read_volatile` does not change that.
//!
//! So the word is viewed as an [`AtomicI32`]. Every load ([`SharedCounter::get`],
//! the C's `*shm_p` read) and store ([`SharedCounter::set`]) is then one
//! indivisible machine access and the program is defined. What remains is a
//! **race condition**: `do_child`'s load, pause and store (in each racing
//! program's main.rs) are three separate steps, and another child can store
//! between our load and our store. Its update is then overwritten and lost —
//! exactly the article's experiment, now with a meaning. A `fetch_add`, or a
//! lock around the three steps, closes the window: `--lock`, see [`super::lock`].

use std::sync::atomic::{AtomicI32, Ordering::Relaxed};

use super::trace::Trace;
use crate::memory::SharedMemory;

/// An `i32` at the start of shared memory, safe to touch from many processes.
#[derive(Debug, Clone, Copy)]
pub struct SharedCounter<'m> {
    value: &'m AtomicI32,
    /// The 4 bytes after the int, when the memory has them (`--lock
    /// semaphore` with a POSIX semaphore makes room): the pid of the child
    /// that holds the semaphore, 0 while nobody does. A POSIX semaphore is
    /// only a counter and does not know its holder; this is how a waiter
    /// learns who it waits for, and whether that process is still alive.
    holder: Option<&'m AtomicI32>,
    /// `--trace`: where a child records its read and its write, when the
    /// parent set a trace up in this memory.
    trace: Option<Trace<'m>>,
}

impl<'m> SharedCounter<'m> {
    /// The article's `int *shm_p`: the first four bytes of `memory` (a
    /// mapping, a System V attachment, a mapped POSIX object).
    pub fn at_start_of(memory: &'m impl SharedMemory) -> Self {
        let start = memory.start().cast::<i32>();
        assert!(
            memory.len() >= size_of::<i32>() && start.is_aligned(),
            "the counter needs 4 aligned bytes; mappings are page-aligned"
        );
        // SAFETY: `start` is non-null, aligned (checked above; mappings are
        // page-aligned) and valid for 4 bytes for as long as `memory` lives,
        // which the lifetime 'm ties the reference to. Every process that
        // touches these bytes does so through this atomic view, so all
        // concurrent accesses are atomic, as `from_ptr` requires.
        let value = unsafe { AtomicI32::from_ptr(start.as_ptr()) };
        let holder = (memory.len() >= 2 * size_of::<i32>()).then(|| {
            // SAFETY: as for the int: the next 4 bytes are inside the
            // memory (checked just above), aligned, live for 'm, and only
            // ever touched through this atomic view.
            unsafe { AtomicI32::from_ptr(start.as_ptr().add(1)) }
        });
        SharedCounter {
            value,
            holder,
            trace: Trace::find(memory),
        }
    }

    /// The holder's pid recorded after the int (`None`: no room for one,
    /// or nobody holds the semaphore).
    pub fn holder(&self) -> Option<libc::pid_t> {
        self.holder.map(|h| h.load(Relaxed)).filter(|pid| *pid > 0)
    }

    /// Whether the memory has room for the holder's pid.
    pub fn records_holder(&self) -> bool {
        self.holder.is_some()
    }

    /// Write this process's pid as the holder (`true`), or 0 (`false`).
    pub fn set_holder(&self, holding: bool) {
        if let Some(h) = self.holder {
            let pid = if holding {
                std::process::id() as i32
            } else {
                0
            };
            h.store(pid, Relaxed);
        }
    }

    /// `*shm_p = value;` (with `--trace`, a child also records it).
    pub fn set(&self, value: i32) {
        self.value.store(value, Relaxed);
        if let Some(trace) = &self.trace {
            trace.wrote(value);
        }
    }

    /// `*shm_p` (with `--trace`, a child also records what it read).
    pub fn get(&self) -> i32 {
        let value = self.value.load(Relaxed);
        if let Some(trace) = &self.trace {
            trace.read(value);
        }
        value
    }

    /// `--lock atomic`: read, add `n` and write as one indivisible step
    /// (a `lock xadd` on x86), so no other process can get in between.
    pub fn fetch_add(&self, n: i32) {
        let old = self.value.fetch_add(n, Relaxed);
        if let Some(trace) = &self.trace {
            trace.read(old);
            trace.wrote(old.wrapping_add(n));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mmap::{Mapping, Sharing};

    #[test]
    fn a_new_mapping_reads_zero_and_keeps_what_is_set() {
        let memory = Mapping::anonymous(size_of::<i32>(), Sharing::Shared).unwrap();
        let counter = SharedCounter::at_start_of(&memory);
        assert_eq!(counter.get(), 0);
        counter.set(41);
        counter.fetch_add(1);
        assert_eq!(counter.get(), 42);
    }

    #[test]
    fn a_mapping_of_zero_bytes_is_refused_with_einval() {
        let err = Mapping::anonymous(0, Sharing::Private).unwrap_err();
        assert_eq!(err.errno(), nix::errno::Errno::EINVAL);
        assert!(err.to_string().starts_with("mmap(NULL, 0, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) failed: EINVAL"), "{err}");
    }
}
