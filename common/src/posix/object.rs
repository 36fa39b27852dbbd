//! POSIX shared memory objects: `shm_open`, `ftruncate`, `mmap`,
//! `shm_unlink`, the mechanism of the article's section "POSIX共享内存".
//!
//! On Linux, `shm_open("/shm", ...)` is `open("/dev/shm/shm", ...)` with a
//! check on the name, and `/dev/shm` is a tmpfs: a file system whose files
//! live in memory. So the object is an ordinary file (`ls -l /dev/shm`,
//! `stat`, `rm` all work on it); `ftruncate` sets its size, `mmap` with
//! `MAP_SHARED` maps it, `close` closes it, and `shm_unlink` is `unlink`.
//! Like a System V segment it outlives its processes until it is unlinked,
//! so the value that created it unlinks it when dropped.
//!
//! What a failure means is worked out in `explain.rs`, next to this file.

use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::os::unix::fs::MetadataExt;

use nix::errno::Errno;
use nix::fcntl::{FallocateFlags, Flock, FlockArg, OFlag, fallocate};
use nix::sys::mman::{shm_open, shm_unlink};
use nix::sys::stat::{Mode, SFlag, fchmod, fstat};
use nix::unistd::ftruncate;

use super::explain::{
    another_object, explain_open, explain_size, removed_meanwhile, replaced_meanwhile,
};
use super::name::ShmName;
use crate::error::{Failure, SysError};
use crate::mmap::Mapping;

/// Which object a run works on: the device and inode of its file in
/// /dev/shm. A child compares the object it opens with this
/// ([`PosixShm::must_be`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ObjectId {
    pub dev: u64,
    pub ino: u64,
}

/// An open POSIX shared memory object. If this value created it, dropping
/// the value unlinks the name (the memory goes once nobody maps it).
#[derive(Debug)]
pub struct PosixShm {
    name: ShmName,
    fd: OwnedFd,
    /// What fstat said when it was opened.
    stat: libc::stat,
    owned: bool,
    /// The creator's shared flock on the object, held as long as the value
    /// lives: it tells a run in progress from a leftover (see `explain::taken`).
    _in_use: Option<Flock<OwnedFd>>,
}

impl PosixShm {
    /// `shm_open(name, O_CREAT|O_EXCL|O_RDWR, mode)`: a new object, or
    /// `EEXIST` if the name is taken. (The article's `O_TRUNC` instead of
    /// `O_EXCL` would quietly zero whatever object already had the name.)
    ///
    /// `shm_open` is `open`, so the umask takes bits off `mode`: with umask
    /// 0277 the object would be 0400, and every child's `O_RDWR` open would
    /// fail with EACCES. So the mode is set again with `fchmod`, which the
    /// umask does not touch (PostgreSQL does the same for its segments).
    pub fn create_exclusive(name: &ShmName, mode: u32) -> Result<PosixShm, SysError> {
        let call = format!("shm_open(\"{name}\", O_CREAT|O_EXCL|O_RDWR, {mode:04o})");
        let fd = shm_open(
            name.as_str(),
            OFlag::O_CREAT | OFlag::O_EXCL | OFlag::O_RDWR,
            Mode::from_bits_truncate(mode),
        )
        .map_err(|errno| explain_open(call, errno, name))?;
        let stat =
            fstat(&fd).map_err(|errno| SysError::new(format!("fstat({})", raw(&fd)), errno))?;
        // Owned from here: an error below unlinks the name again.
        let mut shm = PosixShm {
            name: name.clone(),
            fd,
            stat,
            owned: true,
            _in_use: None,
        };
        fchmod(&shm.fd, Mode::from_bits_truncate(mode)).map_err(|errno| {
            SysError::new(format!("fchmod({}, {mode:04o})", raw(&shm.fd)), errno)
        })?;
        // Not in the article: a shared flock for as long as this run lives,
        // so that another run meeting the name can tell "in use" from
        // "left over". (A flock belongs to the open file, which the
        // children share; the kernel drops it when the last of them ends,
        // even after SIGKILL.)
        let dup = shm.fd.try_clone().map_err(|e| {
            SysError::new(
                format!("dup({})", raw(&shm.fd)),
                Errno::from_raw(e.raw_os_error().unwrap_or(0)),
            )
        })?;
        let held = Flock::lock(dup, FlockArg::LockSharedNonblock).map_err(|(_, errno)| {
            SysError::new(format!("flock({}, LOCK_SH|LOCK_NB)", raw(&shm.fd)), errno)
        })?;
        shm._in_use = Some(held);
        Ok(shm)
    }

    /// `shm_open(name, O_RDWR, 0)`: the object another process created.
    pub fn open(name: &ShmName) -> Result<PosixShm, SysError> {
        // No call text unless it failed: the children all call this.
        let fd = shm_open(name.as_str(), OFlag::O_RDWR, Mode::empty()).map_err(|errno| {
            explain_open(format!("shm_open(\"{name}\", O_RDWR, 0)"), errno, name)
        })?;
        let stat =
            fstat(&fd).map_err(|errno| SysError::new(format!("fstat({})", raw(&fd)), errno))?;
        Ok(PosixShm {
            name: name.clone(),
            fd,
            stat,
            owned: false,
            _in_use: None,
        })
    }

    /// Its device and inode, for the children to check against.
    pub fn identity(&self) -> ObjectId {
        ObjectId {
            dev: self.stat.st_dev,
            ino: self.stat.st_ino,
        }
    }

    /// Not in the C: refuse an object that is not `expected`. A child opens
    /// the object again by its name, as the article's do; but if the run's
    /// object was removed and another process made a new one under the
    /// name, the child has found someone else's memory, and must not write
    /// to it.
    pub fn must_be(&self, expected: &ObjectId) -> Result<(), Failure> {
        if self.identity() == *expected {
            Ok(())
        } else {
            Err(another_object(&self.name, &self.stat, expected.ino))
        }
    }

    /// The owner, the size in bytes, and whether it is a regular file,
    /// as fstat saw them when it was opened.
    pub fn facts(&self) -> (u32, u64, bool) {
        let regular =
            SFlag::from_bits_truncate(self.stat.st_mode) & SFlag::S_IFMT == SFlag::S_IFREG;
        (
            self.stat.st_uid,
            u64::try_from(self.stat.st_size).unwrap_or(0),
            regular,
        )
    }

    /// Its size in bytes, as fstat saw it when it was opened.
    pub fn size(&self) -> usize {
        usize::try_from(self.stat.st_size).unwrap_or(0)
    }

    pub fn name(&self) -> &ShmName {
        &self.name
    }

    /// `ftruncate(fd, len)`: a new object is 0 bytes long; this sets its size.
    ///
    /// Then `fallocate(fd, 0, 0, len)`, which the article does not do:
    /// `ftruncate` only sets the size, and a tmpfs gives a file its pages
    /// when they are first written. If /dev/shm is full by then, the write
    /// is a store through a mapping, which cannot return an error: the
    /// kernel kills the process with SIGBUS, and the object is left behind.
    /// Allocating the pages here turns a full /dev/shm into an ENOSPC
    /// error, while the program can still report it and unlink the name
    /// (PostgreSQL's dsm_impl.c does the same, for the same reason).
    pub fn set_len(&self, len: usize) -> Result<(), SysError> {
        let fd = raw(&self.fd);
        let len_t = libc::off_t::try_from(len)
            .map_err(|_| SysError::new(format!("ftruncate({fd}, {len})"), Errno::EFBIG))?;
        ftruncate(&self.fd, len_t)
            .map_err(|errno| explain_size(format!("ftruncate({fd}, {len})"), errno, len))?;
        fallocate(&self.fd, FallocateFlags::empty(), 0, len_t)
            .map_err(|errno| explain_size(format!("fallocate({fd}, 0, 0, {len})"), errno, len))
    }

    /// `ftruncate(fd, len)` alone, as the article does: the object has its
    /// size, but tmpfs gives it pages only as they are written (`mmap_mem
    /// --no-touch`, which writes none).
    pub fn set_size_only(&self, len: usize) -> Result<(), SysError> {
        let fd = raw(&self.fd);
        let len_t = libc::off_t::try_from(len)
            .map_err(|_| SysError::new(format!("ftruncate({fd}, {len})"), Errno::EFBIG))?;
        ftruncate(&self.fd, len_t)
            .map_err(|errno| explain_size(format!("ftruncate({fd}, {len})"), errno, len))
    }

    /// `mmap(NULL, len, PROT_READ|PROT_WRITE, MAP_SHARED, fd, 0)`.
    pub fn map(&self, len: usize) -> Result<Mapping, SysError> {
        Mapping::shared_file(self.fd.as_fd(), len)
    }

    /// `shm_unlink(name)`: remove the name now. Processes that have the
    /// object mapped keep their memory until they unmap it.
    ///
    /// If the name no longer leads to *this* object (someone removed it and
    /// another program created a new one meanwhile), that object is not
    /// ours to delete: it is left alone and the error says so.
    pub fn unlink(mut self) -> Result<(), SysError> {
        self.owned = false;
        let call = format!("shm_unlink(\"{}\")", self.name);
        let path = self.name.path();
        if !path.exists() {
            return Err(removed_meanwhile(call, &path));
        }
        if !still_ours(&self.fd, &self.name) {
            return Err(replaced_meanwhile(call, &path));
        }
        shm_unlink(self.name.as_str()).map_err(|errno| SysError::new(call, errno))
    }
}

impl Drop for PosixShm {
    fn drop(&mut self) {
        // Unlink only if the name still leads to *our* object: if someone
        // removed it and another run created a new one meanwhile, that one
        // is not ours to delete.
        if self.owned && still_ours(&self.fd, &self.name) {
            if let Err(errno) = shm_unlink(self.name.as_str()) {
                if errno != Errno::ENOENT {
                    crate::error::not_released(format!(
                        "{} (shm_unlink failed: {})",
                        crate::terminal::output::shell_word(&self.name.path()),
                        crate::error::errno_text(errno)
                    ));
                }
            }
        }
    }
}

fn still_ours(fd: &OwnedFd, name: &ShmName) -> bool {
    match (fstat(fd), std::fs::metadata(name.path())) {
        (Ok(mine), Ok(there)) => mine.st_ino == there.ino() && mine.st_dev == there.dev(),
        _ => false,
    }
}

fn raw(fd: &OwnedFd) -> i32 {
    fd.as_raw_fd()
}
