//! The semaphore of racing_mmap's `--lock semaphore`: an unnamed POSIX
//! semaphore (`sem_init` with `pshared = 1`) placed *inside* the shared
//! mapping, right after the counter.
//!
//! Anonymous shared memory has no name, so neither can its semaphore: it
//! is shared exactly as the memory is, with the children forked after the
//! `mmap`. It is only a counter in memory: a child that dies holding it
//! never posts it, and the others wait forever (so the parent gives up on
//! children stuck behind it: see `Children::wait_all_unless_stuck`).
//!
//! nix wraps none of these calls.

use std::marker::PhantomData;
use std::ptr::NonNull;
use std::time::Duration;

use nix::errno::Errno;

use super::explain::too_small;
use crate::error::SysError;
use crate::memory::SharedMemory;

/// An unnamed POSIX semaphore placed in shared memory with `pshared = 1`,
/// so every process that maps the memory (here: forked children) uses the
/// same one. The value that initialised it destroys it when dropped.
#[derive(Debug)]
pub struct UnnamedSemaphore<'m> {
    sem: NonNull<libc::sem_t>,
    memory: PhantomData<&'m ()>,
}

impl<'m> UnnamedSemaphore<'m> {
    /// Where in the memory it goes: after the 4-byte counter and the
    /// 4-byte pid of its holder (see `crate::race::counter`), 8-aligned.
    pub const OFFSET: usize = 8;
    /// How much memory the counter and the semaphore need together.
    pub const MEMORY_LEN: usize = Self::OFFSET + size_of::<libc::sem_t>();

    /// `sem_init(sem, 1, 1)` at [`Self::OFFSET`] in `memory`: a semaphore
    /// shared between processes, initially free.
    pub fn init_in(memory: &'m impl SharedMemory) -> Result<Self, SysError> {
        let call = format!("sem_init(shm_p + {}, 1, 1)", Self::OFFSET);
        if memory.len() < Self::MEMORY_LEN {
            return Err(too_small(call, Self::MEMORY_LEN));
        }
        // SAFETY: OFFSET + size_of::<sem_t>() <= len (checked above), so
        // the pointer stays inside the memory; the memory is page-aligned,
        // so start + 8 is aligned for sem_t (alignment 8).
        let sem = unsafe { memory.start().add(Self::OFFSET) }.cast::<libc::sem_t>();
        // SAFETY: `sem` points to memory we may write, that lives for 'm and
        // that no one uses as a semaphore yet.
        if unsafe { libc::sem_init(sem.as_ptr(), 1, 1) } == -1 {
            return Err(SysError::new(call, Errno::last()));
        }
        Ok(UnnamedSemaphore {
            sem,
            memory: PhantomData,
        })
    }
}

impl UnnamedSemaphore<'_> {
    /// `sem_wait(sem)`: wait until the semaphore is free, then take it.
    pub fn wait(&self) -> Result<(), SysError> {
        sem_wait(self.sem, "sem_wait(sem)")
    }

    /// `sem_timedwait`: wait at most `timeout` for it, and take it;
    /// `Ok(false)` if it is still taken.
    pub fn wait_for(&self, timeout: Duration) -> Result<bool, SysError> {
        sem_wait_for(self.sem, timeout, "sem_timedwait(sem)")
    }

    /// Whether it is free right now (`sem_getvalue`).
    pub fn is_free(&self) -> bool {
        sem_is_free(self.sem)
    }

    /// `sem_post(sem)`: give it back.
    pub fn post(&self) -> Result<(), SysError> {
        sem_post(self.sem, "sem_post(sem)")
    }
}

impl Drop for UnnamedSemaphore<'_> {
    fn drop(&mut self) {
        // SAFETY: initialised by sem_init in `init_in`; the memory outlives
        // `self` ('m). Destroying a semaphore other processes still wait on
        // is undefined in POSIX, which is why the parent destroys it only
        // after every child is gone.
        unsafe { libc::sem_destroy(self.sem.as_ptr()) };
    }
}

/// `sem_wait`, retried when a signal interrupts it. The named POSIX
/// semaphore (`crate::posix::semaphore`) is taken the same way.
pub(crate) fn sem_wait(sem: NonNull<libc::sem_t>, call: &str) -> Result<(), SysError> {
    loop {
        // SAFETY: `sem` is a live, initialised semaphore (the caller's value
        // guarantees it for as long as it lives).
        if unsafe { libc::sem_wait(sem.as_ptr()) } == 0 {
            return Ok(());
        }
        match Errno::last() {
            Errno::EINTR => continue,
            errno => return Err(SysError::new(call, errno)),
        }
    }
}

/// `sem_timedwait(sem, now + timeout)`, retried when a signal interrupts
/// it: `Ok(true)` once taken, `Ok(false)` if `timeout` passed first.
pub(crate) fn sem_wait_for(
    sem: NonNull<libc::sem_t>,
    timeout: Duration,
    call: &str,
) -> Result<bool, SysError> {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `now` is a valid timespec to write to. CLOCK_REALTIME is
    // the clock sem_timedwait measures its deadline on.
    unsafe { libc::clock_gettime(libc::CLOCK_REALTIME, &mut now) };
    let nanos = i64::from(now.tv_nsec as i32) + i64::from(timeout.subsec_nanos());
    let deadline = libc::timespec {
        tv_sec: now.tv_sec
            + timeout.as_secs() as libc::time_t
            + (nanos / 1_000_000_000) as libc::time_t,
        tv_nsec: (nanos % 1_000_000_000) as libc::c_long,
    };
    loop {
        // SAFETY: `sem` is a live, initialised semaphore (the caller's
        // value guarantees it for as long as it lives); `deadline` is valid.
        if unsafe { libc::sem_timedwait(sem.as_ptr(), &deadline) } == 0 {
            return Ok(true);
        }
        match Errno::last() {
            Errno::EINTR => continue,
            Errno::ETIMEDOUT => return Ok(false),
            errno => return Err(SysError::new(call, errno)),
        }
    }
}

/// `sem_getvalue(sem) > 0`: whether it is free right now.
pub(crate) fn sem_is_free(sem: NonNull<libc::sem_t>) -> bool {
    let mut value = 0;
    // SAFETY: as in `sem_wait`; `value` is a valid int to write.
    unsafe { libc::sem_getvalue(sem.as_ptr(), &mut value) == 0 && value > 0 }
}

/// `sem_post`.
pub(crate) fn sem_post(sem: NonNull<libc::sem_t>, call: &str) -> Result<(), SysError> {
    // SAFETY: as in `sem_wait`.
    if unsafe { libc::sem_post(sem.as_ptr()) } == -1 {
        return Err(SysError::new(call, Errno::last()));
    }
    Ok(())
}
