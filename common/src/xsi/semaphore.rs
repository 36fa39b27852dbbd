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

use std::time::Duration;

use nix::errno::Errno;

use super::explain::{another_set, explain_semget, foreign_set, no_set_to_join};
use super::key::Key;
use crate::error::{Failure, SysError};
use crate::system::sysvipc::semaphore_sets;

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

    /// `semget(key, 1, 0)`: the set another process created, which must
    /// be the set `expected` (the one the parent made or joined): a child
    /// that finds another set under the key (the run's was removed, and
    /// someone made a new one) refuses it.
    pub fn open_as(key: &Key, expected: libc::c_int) -> Result<XsiSemaphore, Failure> {
        let set = XsiSemaphore::open(key).map_err(|e| Failure::new(e.to_string()))?;
        if set.id != expected {
            return Err(another_set(key, set.id, expected));
        }
        Ok(set)
    }

    /// `semget(key, 1, 0)` for `--attach --lock semaphore`: the set of the
    /// run being joined, which must belong to `owner` (the owner of the
    /// segment joined) and hold one semaphore. A set another user made
    /// under the key is refused, whatever its value: waiting on it would
    /// wait for them.
    pub fn join(key: &Key, owner: u32) -> anyhow::Result<XsiSemaphore> {
        let set = XsiSemaphore::open(key).map_err(|err| {
            if err.errno() == Errno::ENOENT {
                anyhow::Error::new(no_set_to_join(key))
            } else {
                anyhow::Error::new(err)
            }
        })?;
        let info = semaphore_sets().into_iter().find(|s| s.id == set.id);
        match info {
            Some(info) if info.uid == owner && info.nsems == 1 => Ok(set),
            Some(info) => Err(foreign_set(key, &info, owner).into()),
            None => Err(no_set_to_join(key).into()),
        }
    }

    /// `semget(key, 1, 0)`.
    fn open(key: &Key) -> Result<XsiSemaphore, SysError> {
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

    /// `semtimedop(semid, {0, op, SEM_UNDO}, 1, timeout)`, retried if a
    /// signal interrupts: `Ok(false)` if `timeout` passed first.
    fn semop(&self, op: i16, timeout: Option<Duration>) -> Result<bool, SysError> {
        let mut buf = libc::sembuf {
            sem_num: 0,
            sem_op: op,
            sem_flg: libc::SEM_UNDO as i16,
        };
        let limit = timeout.map(|t| libc::timespec {
            tv_sec: t.as_secs() as libc::time_t,
            tv_nsec: libc::c_long::from(t.subsec_nanos() as i32),
        });
        let limit_ptr = limit
            .as_ref()
            .map_or(std::ptr::null(), |t| t as *const libc::timespec);
        loop {
            // SAFETY: `buf` is one valid sembuf, nsops is 1, and the
            // timeout is null or a valid timespec that outlives the call.
            if unsafe { semtimedop(self.id, &mut buf, 1, limit_ptr) } == 0 {
                return Ok(true);
            }
            match Errno::last() {
                Errno::EINTR => continue,
                Errno::EAGAIN if timeout.is_some() => return Ok(false),
                errno => {
                    return Err(SysError::new(
                        format!("semop({}, {{0, {op:+}, SEM_UNDO}}, 1)", self.id),
                        errno,
                    ));
                }
            }
        }
    }

    /// `semctl(semid, 0, cmd)` for GETVAL or GETPID.
    fn get(&self, cmd: libc::c_int) -> Option<libc::c_int> {
        // SAFETY: GETVAL and GETPID take no fourth argument.
        let value = unsafe { libc::semctl(self.id, 0, cmd) };
        (value != -1).then_some(value)
    }
}

impl XsiSemaphore {
    /// `semtimedop(semid, {0, -1, SEM_UNDO}, 1, timeout)`: wait at most
    /// `timeout` for it to be free, and take it; `Ok(false)` if it is
    /// still taken.
    pub fn wait_for(&self, timeout: Duration) -> Result<bool, SysError> {
        self.semop(-1, Some(timeout))
    }

    /// `semop(semid, {0, +1, SEM_UNDO}, 1)`: give it back.
    pub fn post(&self) -> Result<(), SysError> {
        self.semop(1, None).map(|_| ())
    }

    /// Whether it is free right now (`semctl(GETVAL)` > 0).
    pub fn is_free(&self) -> bool {
        self.get(libc::GETVAL).is_some_and(|v| v > 0)
    }

    /// Who holds it: while its value is 0, the pid of the last `semop`
    /// (`semctl(GETPID)`), which took it. `None` while it is free.
    pub fn holder(&self) -> Option<libc::pid_t> {
        match self.get(libc::GETVAL) {
            Some(0) => self.get(libc::GETPID).filter(|pid| *pid > 0),
            _ => None,
        }
    }
}

unsafe extern "C" {
    /// `semop` with a timeout (glibc has it; the libc crate does not
    /// declare it): `man 2 semtimedop`.
    fn semtimedop(
        semid: libc::c_int,
        sops: *mut libc::sembuf,
        nsops: libc::size_t,
        timeout: *const libc::timespec,
    ) -> libc::c_int;
}

impl Drop for XsiSemaphore {
    fn drop(&mut self) {
        if self.owned {
            // SAFETY: IPC_RMID takes no further argument.
            if unsafe { libc::semctl(self.id, 0, libc::IPC_RMID) } == -1 {
                let errno = Errno::last();
                // EINVAL: someone removed it already; it is gone.
                if errno != Errno::EINVAL {
                    crate::error::not_released(format!(
                        "semaphore set {} (semctl IPC_RMID failed: {})",
                        self.id,
                        crate::error::errno_text(errno)
                    ));
                }
            }
        }
    }
}
