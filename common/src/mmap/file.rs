//! The article's other use of `mmap`: a file. "mmap内存共享映射" begins with
//! mapping "a specific file"; only the anonymous form is in its programs.
//!
//! A file mapped `MAP_SHARED` is memory with a name: every process that
//! opens the path and maps it sees the same pages (the page cache), and the
//! bytes stay in the file after the last process is gone. racing_mmap's
//! `--file PATH` races on such a file, and `--attach --file PATH` joins it
//! from a process that is nobody's child.

use std::os::fd::{AsFd, OwnedFd};
use std::path::{Path, PathBuf};

use nix::fcntl::{FallocateFlags, OFlag, fallocate, open};
use nix::sys::stat::{Mode, SFlag, fchmod, fstat};
use nix::unistd::ftruncate;

use super::explain::{explain_file_create, explain_file_open, explain_file_size, not_a_counter};
use super::mapping::{Mapping, Sharing};
use crate::error::SysError;

/// A regular file opened to be mapped.
#[derive(Debug)]
pub struct MappedFile {
    path: PathBuf,
    fd: OwnedFd,
    /// Unlink the file when dropped (a memory demo's file is scaffolding;
    /// racing_mmap's counter is the result, and stays).
    remove: bool,
}

impl MappedFile {
    /// `open(path, O_RDWR|O_CREAT|O_EXCL|O_NOFOLLOW, 0600)`, `fchmod` to
    /// 0600 whatever the umask, `ftruncate(fd, len)` and `fallocate(fd, 0,
    /// 0, len)`: a new file of `len` zero bytes whose blocks exist, so that
    /// a full disk is an `ENOSPC` error here and not a SIGBUS at the first
    /// store. An existing path is refused: it is not ours to overwrite
    /// (join it with `--attach` instead). If a later step fails, the new
    /// file is removed again.
    pub fn create(path: &Path, len: usize) -> Result<MappedFile, SysError> {
        let call = format!(
            "open(\"{}\", O_RDWR|O_CREAT|O_EXCL|O_NOFOLLOW|O_CLOEXEC, 0600)",
            path.display()
        );
        let fd = open(
            path,
            OFlag::O_RDWR | OFlag::O_CREAT | OFlag::O_EXCL | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
            Mode::from_bits_truncate(0o600),
        )
        .map_err(|errno| explain_file_create(call, errno, path))?;
        let mut file = MappedFile {
            path: path.to_owned(),
            fd,
            remove: true,
        };
        fchmod(&file.fd, Mode::from_bits_truncate(0o600)).map_err(|errno| {
            SysError::new(format!("fchmod(\"{}\", 0600)", path.display()), errno)
        })?;
        let len_t = libc::off_t::try_from(len).unwrap_or(libc::off_t::MAX);
        ftruncate(&file.fd, len_t).map_err(|errno| {
            explain_file_size(
                format!("ftruncate(\"{}\", {len})", path.display()),
                errno,
                path,
            )
        })?;
        fallocate(&file.fd, FallocateFlags::empty(), 0, len_t).map_err(|errno| {
            explain_file_size(
                format!("fallocate(\"{}\", 0, 0, {len})", path.display()),
                errno,
                path,
            )
        })?;
        // Made: it stays unless the caller asks otherwise.
        file.remove = false;
        Ok(file)
    }

    /// `open(path, O_RDWR|O_NOFOLLOW)`: a file another run created, which
    /// must be a regular file of at least `len` bytes.
    pub fn open(path: &Path, len: usize) -> Result<MappedFile, SysError> {
        let call = format!("open(\"{}\", O_RDWR|O_NOFOLLOW|O_CLOEXEC)", path.display());
        let fd = open(
            path,
            OFlag::O_RDWR | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
            Mode::empty(),
        )
        .map_err(|errno| explain_file_open(call, errno, path))?;
        let stat = fstat(&fd)
            .map_err(|errno| SysError::new(format!("fstat(\"{}\")", path.display()), errno))?;
        let regular = SFlag::from_bits_truncate(stat.st_mode) & SFlag::S_IFMT == SFlag::S_IFREG;
        let size = usize::try_from(stat.st_size).unwrap_or(0);
        if !regular || size < len {
            return Err(not_a_counter(path, regular, size, len));
        }
        Ok(MappedFile {
            path: path.to_owned(),
            fd,
            remove: false,
        })
    }

    /// Unlink the file when this value is dropped (if the path still leads
    /// to this file), on every way out of the program.
    pub fn removed_at_the_end(mut self) -> MappedFile {
        self.remove = true;
        self
    }

    /// `mmap(NULL, len, PROT_READ|PROT_WRITE, MAP_SHARED, fd, 0)` (or
    /// `MAP_PRIVATE`).
    pub fn map(&self, len: usize, sharing: Sharing) -> Result<Mapping, SysError> {
        Mapping::file(self.fd.as_fd(), len, sharing)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for MappedFile {
    fn drop(&mut self) {
        if !self.remove {
            return;
        }
        let ours = match (fstat(&self.fd), std::fs::symlink_metadata(&self.path)) {
            (Ok(mine), Ok(there)) => {
                use std::os::unix::fs::MetadataExt;
                mine.st_ino == there.ino() && mine.st_dev == there.dev()
            }
            _ => false,
        };
        if ours {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}
