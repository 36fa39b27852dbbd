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
use std::path::PathBuf;
use std::ptr::NonNull;

use nix::errno::Errno;

use super::explain::explain_sem_open;
use super::name::ShmName;
use crate::error::SysError;
use crate::mmap::semaphore::{sem_post, sem_wait};

/// A named POSIX semaphore: on Linux a small file `/dev/shm/sem.NAME`
/// that `sem_open` maps. The value that created it unlinks the name when
/// dropped (if the name still leads to the file it created).
#[derive(Debug)]
pub struct NamedSemaphore {
    name: ShmName,
    sem: NonNull<libc::sem_t>,
    /// (device, inode) of the file it created, if it created one.
    created: Option<(u64, u64)>,
}

impl NamedSemaphore {
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
        let created = std::fs::symlink_metadata(&path)
            .ok()
            .map(|m| (m.dev(), m.ino()));
        // Owned from here: an error below unlinks the name again.
        let sem = NamedSemaphore {
            name: name.clone(),
            sem,
            created,
        };
        // glibc creates the file with open(), so the umask took bits off
        // 0600 (umask 0277 leaves 0400, and no child could open it). Set
        // the mode again, on the file we just created and no other.
        if created.is_some() {
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).map_err(
                |e| {
                    SysError::new(
                        format!("chmod(\"{}\", 0600)", path.display()),
                        Errno::from_raw(e.raw_os_error().unwrap_or(0)),
                    )
                },
            )?;
        }
        Ok(sem)
    }

    /// `sem_open(name, 0)`: the semaphore another process created.
    pub fn open(name: &ShmName) -> Result<NamedSemaphore, SysError> {
        let call = format!("sem_open(\"{name}\", 0)");
        let c_name =
            CString::new(name.as_str()).map_err(|_| SysError::new(call.clone(), Errno::EINVAL))?;
        // SAFETY: a valid C string and no O_CREAT, so no further arguments.
        let sem = unsafe { libc::sem_open(c_name.as_ptr(), 0) };
        let sem = NonNull::new(sem)
            .filter(|s| s.as_ptr() != libc::SEM_FAILED)
            .ok_or_else(|| explain_sem_open(call, Errno::last(), name))?;
        Ok(NamedSemaphore {
            name: name.clone(),
            sem,
            created: None,
        })
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

    /// `sem_post(sem)`: give it back.
    pub fn post(&self) -> Result<(), SysError> {
        sem_post(self.sem, "sem_post(sem)")
    }
}

impl Drop for NamedSemaphore {
    fn drop(&mut self) {
        // SAFETY: `sem` came from a successful sem_open and is closed once.
        unsafe { libc::sem_close(self.sem.as_ptr()) };
        let Some((dev, ino)) = self.created else {
            return;
        };
        let ours = std::fs::metadata(self.path()).is_ok_and(|m| (m.dev(), m.ino()) == (dev, ino));
        if ours {
            if let Ok(c_name) = CString::new(self.name.as_str()) {
                // SAFETY: a valid C string.
                unsafe { libc::sem_unlink(c_name.as_ptr()) };
            }
        }
    }
}
