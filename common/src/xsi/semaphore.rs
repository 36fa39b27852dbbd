//! The semaphore of racing_xsi_shm's `--lock semaphore`: a System V
//! semaphore set of one, under the same ftok key as the segment.
//!
//! It lives, like a segment, until `IPC_RMID` (`ipcs -s` lists it). Each
//! `semop` passes `SEM_UNDO`: the kernel keeps an undo record and reverses
//! it when the process dies, so a child killed while holding the semaphore
//! releases it — which the POSIX semaphores of the other two programs
//! cannot do.
//!
//! nix wraps none of these calls; each `unsafe` block is one of them.

use nix::errno::Errno;

use super::explain::explain_semget;
use super::key::Key;
use crate::error::SysError;

/// The fourth argument of `semctl`, which the caller must define (glibc
/// does not): `man 2 semctl`.
#[repr(C)]
#[allow(non_camel_case_types, dead_code)]
union semun {
    val: libc::c_int,
    buf: *mut libc::semid_ds,
    array: *mut libc::c_ushort,
}

/// A System V semaphore set of one semaphore, found by key like a segment.
/// The value that created it removes it (`IPC_RMID`) when dropped.
#[derive(Debug)]
pub struct XsiSemaphore {
    id: libc::c_int,
    owned: bool,
}

impl XsiSemaphore {
    /// `semget(key, 1, IPC_CREAT|IPC_EXCL|0600)` then
    /// `semctl(semid, 0, SETVAL, 1)`: a new set whose one semaphore is free.
    pub fn create(key: &Key) -> Result<XsiSemaphore, SysError> {
        let call = format!("semget(key={key}, 1, IPC_CREAT|IPC_EXCL|0600)");
        // SAFETY: plain integer arguments.
        let id = unsafe { libc::semget(key.raw(), 1, libc::IPC_CREAT | libc::IPC_EXCL | 0o600) };
        if id == -1 {
            return Err(explain_semget(call, Errno::last(), key));
        }
        // Owned from here: an error below removes the new set again.
        let set = XsiSemaphore { id, owned: true };
        // SETVAL reads a `union semun` from the variable arguments, so a
        // union is what is passed: the C ABI then places `val` where
        // semctl looks for it, on every architecture.
        let one = semun { val: 1 };
        // SAFETY: SETVAL on a set we own, with the argument it expects.
        if unsafe { libc::semctl(id, 0, libc::SETVAL, one) } == -1 {
            return Err(SysError::new(
                format!("semctl({id}, 0, SETVAL, 1)"),
                Errno::last(),
            ));
        }
        Ok(set)
    }

    /// `semget(key, 1, 0)`: the set another process created.
    pub fn open(key: &Key) -> Result<XsiSemaphore, SysError> {
        let call = format!("semget(key={key}, 1, 0)");
        // SAFETY: plain integer arguments.
        let id = unsafe { libc::semget(key.raw(), 1, 0) };
        if id == -1 {
            return Err(explain_semget(call, Errno::last(), key));
        }
        Ok(XsiSemaphore { id, owned: false })
    }

    /// The semid, as `ipcs -s` lists it.
    pub fn id(&self) -> libc::c_int {
        self.id
    }

    /// `semop(semid, {0, op, SEM_UNDO}, 1)`, retried if a signal interrupts.
    fn semop(&self, op: i16) -> Result<(), SysError> {
        let mut buf = libc::sembuf {
            sem_num: 0,
            sem_op: op,
            sem_flg: libc::SEM_UNDO as i16,
        };
        loop {
            // SAFETY: `buf` is one valid sembuf and nsops is 1.
            if unsafe { libc::semop(self.id, &mut buf, 1) } == 0 {
                return Ok(());
            }
            match Errno::last() {
                Errno::EINTR => continue,
                errno => {
                    return Err(SysError::new(
                        format!("semop({}, {{0, {op:+}, SEM_UNDO}}, 1)", self.id),
                        errno,
                    ));
                }
            }
        }
    }
}

impl XsiSemaphore {
    /// `semop(semid, {0, -1, SEM_UNDO}, 1)`: wait until it is free, take it.
    pub fn wait(&self) -> Result<(), SysError> {
        self.semop(-1)
    }

    /// `semop(semid, {0, +1, SEM_UNDO}, 1)`: give it back.
    pub fn post(&self) -> Result<(), SysError> {
        self.semop(1)
    }
}

impl Drop for XsiSemaphore {
    fn drop(&mut self) {
        if self.owned {
            // SAFETY: IPC_RMID takes no further argument.
            unsafe { libc::semctl(self.id, 0, libc::IPC_RMID) };
        }
    }
}
