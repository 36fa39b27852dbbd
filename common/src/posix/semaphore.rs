//! The semaphore of racing_posix_shm's `--lock semaphore`: a named POSIX
//! semaphore, `sem_open("/shm", ...)`. On Linux it is a small file,
//! `/dev/shm/sem.NAME`, that `sem_open` maps; it lives until `sem_unlink`.
//!
//! Like the unnamed one of racing_mmap (whose `sem_wait`/`sem_post` it
//! shares, see [`crate::mmap::semaphore`]) it is only a counter in shared
//! memory: a holder that dies never posts it.
//!
//! nix wraps none of these calls; each `unsafe` block is one of them.

use std::ffi::CString;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::ptr::NonNull;
use std::time::Duration;

use nix::errno::Errno;

use super::explain::{
    another_semaphore, explain_sem_open, foreign_semaphore, no_semaphore_to_join,
};
use super::name::ShmName;
use super::object::ObjectId;
use crate::error::{Failure, SysError};
use crate::mmap::semaphore::{sem_is_free, sem_post, sem_wait, sem_wait_for};
use crate::terminal::output::{c_string, shell_word};

/// A named POSIX semaphore: on Linux a small file `/dev/shm/sem.NAME`
/// that `sem_open` maps. The value that created it unlinks the name when
/// dropped (if the name still leads to the file it created).
#[derive(Debug)]
pub struct NamedSemaphore {
    name: ShmName,
    sem: NonNull<libc::sem_t>,
    /// The file it opened, as the path showed it around `sem_open`.
    id: Option<ObjectId>,
    /// Whether this value created the file (and so unlinks it).
    created: bool,
}

impl NamedSemaphore {
    /// How much of the object racing_posix_shm makes with `--lock
    /// semaphore`: the int, and after it the pid of the child that holds
    /// the semaphore. A POSIX semaphore does not know who holds it; the
    /// holder writes its pid there, so that a waiter can tell a slow
    /// holder from a dead one (see `crate::race::lock`).
    pub const MEMORY_LEN: usize = 8;

    /// `sem_open(name, O_CREAT|O_EXCL, 0600, 1)`.
    pub fn create(name: &ShmName) -> Result<NamedSemaphore, SysError> {
        let call = format!("sem_open(\"{name}\", O_CREAT|O_EXCL, 0600, 1)");
        let c_name =
            CString::new(name.as_str()).map_err(|_| SysError::new(call.clone(), Errno::EINVAL))?;
        let mode: libc::c_uint = 0o600;
        let value: libc::c_uint = 1;
        // SAFETY: `c_name` is a valid C string; with O_CREAT sem_open reads
        // exactly two more arguments, a mode and an unsigned initial value.
        let sem =
            unsafe { libc::sem_open(c_name.as_ptr(), libc::O_CREAT | libc::O_EXCL, mode, value) };
        let sem = NonNull::new(sem)
            .filter(|s| s.as_ptr() != libc::SEM_FAILED)
            .ok_or_else(|| explain_sem_open(call, Errno::last(), name))?;
        let path = name.semaphore_path();
        let id = file_id(&path);
        // Owned from here: an error below unlinks the name again.
        let sem = NamedSemaphore {
            name: name.clone(),
            sem,
            id,
            created: true,
        };
        // glibc creates the file with open(), so the umask took bits off
        // 0600 (umask 0277 leaves 0400, and no child could open it). Set
        // the mode again, on the file we just created and no other.
        if id.is_some() {
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).map_err(
                |e| {
                    SysError::new(
                        format!("chmod({}, 0600)", c_string(&path)),
                        Errno::from_raw(e.raw_os_error().unwrap_or(0)),
                    )
                },
            )?;
        }
        Ok(sem)
    }

    /// `sem_open(name, 0)`: the semaphore another process created.
    fn open(name: &ShmName) -> Result<NamedSemaphore, SysError> {
        let call = format!("sem_open(\"{name}\", 0)");
        let c_name =
            CString::new(name.as_str()).map_err(|_| SysError::new(call.clone(), Errno::EINVAL))?;
        let before = file_id(&name.semaphore_path());
        // SAFETY: a valid C string and no O_CREAT, so no further arguments.
        let sem = unsafe { libc::sem_open(c_name.as_ptr(), 0) };
        let sem = NonNull::new(sem)
            .filter(|s| s.as_ptr() != libc::SEM_FAILED)
            .ok_or_else(|| explain_sem_open(call, Errno::last(), name))?;
        // The same file before and after: the one sem_open mapped.
        let after = file_id(&name.semaphore_path());
        Ok(NamedSemaphore {
            name: name.clone(),
            sem,
            id: before.filter(|b| Some(*b) == after),
            created: false,
        })
    }

    /// `sem_open(name, 0)` in a child: the semaphore its parent made or
    /// joined, `expected`, and no other. If the name leads to another file
    /// now (the run's was removed, and someone made a new one), the child
    /// refuses it rather than wait on someone else's semaphore.
    pub fn open_as(name: &ShmName, expected: ObjectId) -> Result<NamedSemaphore, Failure> {
        let sem = NamedSemaphore::open(name).map_err(|e| Failure::new(e.to_string()))?;
        if sem.id != Some(expected) {
            return Err(another_semaphore(name, expected.ino));
        }
        Ok(sem)
    }

    /// `sem_open(name, 0)` for `--attach --lock semaphore`: the semaphore
    /// of the run being joined. Before it is opened, its file must be what
    /// sem_open makes: a regular file of one `sem_t`, belonging to `owner`
    /// (the owner of the object joined). One another user planted under
    /// the name is refused, whatever its value: waiting on it would wait
    /// for them.
    pub fn join(name: &ShmName, owner: u32) -> anyhow::Result<NamedSemaphore> {
        let path = name.semaphore_path();
        let Ok(meta) = std::fs::symlink_metadata(&path) else {
            return Err(no_semaphore_to_join(name).into());
        };
        let size = size_of::<libc::sem_t>() as u64;
        if !meta.file_type().is_file() || meta.uid() != owner || meta.len() != size {
            return Err(foreign_semaphore(name, &meta, owner).into());
        }
        let sem = NamedSemaphore::open(name)?;
        if sem.id
            != Some(ObjectId {
                dev: meta.dev(),
                ino: meta.ino(),
            })
        {
            return Err(another_semaphore(name, meta.ino()).into());
        }
        Ok(sem)
    }

    /// The file it opened, for the children to check against.
    pub fn identity(&self) -> Option<ObjectId> {
        self.id
    }

    pub fn name(&self) -> &ShmName {
        &self.name
    }

    /// The file behind it, `/dev/shm/sem.NAME`.
    pub fn path(&self) -> PathBuf {
        self.name.semaphore_path()
    }
}

impl NamedSemaphore {
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

impl Drop for NamedSemaphore {
    fn drop(&mut self) {
        // SAFETY: `sem` came from a successful sem_open and is closed once.
        unsafe { libc::sem_close(self.sem.as_ptr()) };
        let Some(id) = self.id.filter(|_| self.created) else {
            return;
        };
        // Only the file it created: another at the name is not ours.
        if file_id(&self.path()) == Some(id) {
            if let Ok(c_name) = CString::new(self.name.as_str()) {
                // SAFETY: a valid C string.
                if unsafe { libc::sem_unlink(c_name.as_ptr()) } == -1
                    && file_id(&self.path()) == Some(id)
                {
                    crate::error::not_released(format!(
                        "{} (sem_unlink failed: {})",
                        shell_word(&self.path()),
                        crate::error::errno_text(Errno::last())
                    ));
                }
            }
        }
    }
}

/// The device and inode of the file at `path`, not following a link.
fn file_id(path: &Path) -> Option<ObjectId> {
    std::fs::symlink_metadata(path).ok().map(|m| ObjectId {
        dev: m.dev(),
        ino: m.ino(),
    })
}
