//! The article's other use of `mmap`: a file. "mmap内存共享映射" begins with
//! mapping "a specific file"; only the anonymous form is in its programs.
//!
//! A file mapped `MAP_SHARED` is memory with a name: every process that
//! opens the path and maps it sees the same pages (the page cache), and the
//! bytes stay in the file after the last process is gone. racing_mmap's
//! `--file PATH` races on such a file, and `--attach --file PATH` joins it
//! from a process that is nobody's child.
//!
//! A path names whatever is there, so joining by path trusts nothing it
//! finds: racing_mmap's counter file begins with one page of text that
//! says what it is ([`super::header`]), the int comes after that page,
//! and `--attach` maps a file only if its first page is exactly that
//! header. A student's `notes.txt`, `/etc/passwd` or a FIFO is refused
//! before anything is mapped, and left byte for byte as it was.

use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::{Path, PathBuf};

use nix::fcntl::{FallocateFlags, OFlag, fallocate, open};
use nix::sys::stat::{Mode, fchmod, fstat};
use nix::unistd::ftruncate;

use super::explain::{
    explain_file_create, explain_file_open, explain_file_size, not_a_counter, what_is_there,
};
use super::header::counter_header;
use super::mapping::{Mapping, Sharing};
use crate::error::SysError;
use crate::terminal::output::c_string;

/// A regular file opened to be mapped.
#[derive(Debug)]
pub struct MappedFile {
    path: PathBuf,
    fd: OwnedFd,
    /// (device, inode): the file this value made or opened, to tell it
    /// from whatever the path leads to later.
    id: (u64, u64),
    /// Where the mapped memory begins in the file: after the header page
    /// of a counter, 0 for a memory demo's file.
    offset: usize,
    /// Unlink the file when dropped (a memory demo's file is scaffolding;
    /// a counter is removed too unless its run finished, see [`MappedFile::keep`]).
    remove: bool,
}

/// What happened to a file this run made, at its end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Removal {
    /// This run unlinked it.
    Removed,
    /// Someone removed it before the end.
    AlreadyGone,
    /// The path now leads to another file, which was left alone.
    Replaced,
}

impl MappedFile {
    /// racing_mmap's `--file PATH`: a new counter file, its header page and
    /// `len` zero bytes after it (the int, and the semaphore of `--lock
    /// semaphore`). It is removed again when dropped, unless the run ends
    /// well and calls [`MappedFile::keep`]: a count cut short by an error
    /// or a signal is no result to keep.
    pub fn create_counter(path: &Path, len: usize) -> Result<MappedFile, SysError> {
        let header = counter_header();
        let file = MappedFile::create_file(path, header.len(), len, true)?;
        std::fs::File::from(file.fd.try_clone().map_err(|e| io_error("dup", path, &e))?)
            .write_all_at(&header, 0)
            .map_err(|e| io_error("pwrite", path, &e))?;
        Ok(file)
    }

    /// A memory demo's file (`mmap_mem --file PATH`): `len` zero bytes,
    /// removed when dropped. With `allocate`, `fallocate` gives the file
    /// its blocks now, so that a full disk is an `ENOSPC` error here and
    /// not a SIGBUS at the first store; without it (`--no-touch`) the file
    /// only has its size.
    pub fn create_scratch(path: &Path, len: usize, allocate: bool) -> Result<MappedFile, SysError> {
        MappedFile::create_file(path, 0, len, allocate)
    }

    /// `open(path, O_RDWR|O_CREAT|O_EXCL|O_NOFOLLOW, 0600)`, `fchmod` to
    /// 0600 whatever the umask, `ftruncate(fd, offset + len)` and, with
    /// `allocate`, `fallocate`. An existing path is refused: it is not
    /// ours to overwrite. If a later step fails, the new file is removed.
    fn create_file(
        path: &Path,
        offset: usize,
        len: usize,
        allocate: bool,
    ) -> Result<MappedFile, SysError> {
        let counter = offset > 0;
        let call = format!(
            "open({}, O_RDWR|O_CREAT|O_EXCL|O_NOFOLLOW|O_CLOEXEC, 0600)",
            c_string(path)
        );
        let fd = open(
            path,
            OFlag::O_RDWR | OFlag::O_CREAT | OFlag::O_EXCL | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
            Mode::from_bits_truncate(0o600),
        )
        .map_err(|errno| explain_file_create(call, errno, path, counter))?;
        let meta = fstat(&fd)
            .map_err(|errno| SysError::new(format!("fstat({})", c_string(path)), errno))?;
        // Ours from here on: an error below removes it again.
        let file = MappedFile {
            path: path.to_owned(),
            fd,
            id: (meta.st_dev, meta.st_ino),
            offset,
            remove: true,
        };
        fchmod(&file.fd, Mode::from_bits_truncate(0o600))
            .map_err(|errno| SysError::new(format!("fchmod({}, 0600)", c_string(path)), errno))?;
        let total = offset + len;
        let total_t = libc::off_t::try_from(total).unwrap_or(libc::off_t::MAX);
        ftruncate(&file.fd, total_t).map_err(|errno| {
            explain_file_size(
                format!("ftruncate({}, {total})", c_string(path)),
                errno,
                path,
                counter,
            )
        })?;
        if allocate {
            fallocate(&file.fd, FallocateFlags::empty(), 0, total_t).map_err(|errno| {
                explain_file_size(
                    format!("fallocate({}, 0, 0, {total})", c_string(path)),
                    errno,
                    path,
                    counter,
                )
            })?;
        }
        Ok(file)
    }

    /// racing_mmap's `--attach --file PATH`: the counter file another run
    /// made, and nothing else. Before anything is opened for writing, the
    /// path must be a regular file (a FIFO, a device, a directory or a
    /// symbolic link is never opened); once open, it must be the same file,
    /// hold the int after its header page, and its first page must be
    /// exactly [`counter_header`]. Anything else is refused, untouched.
    pub fn join_counter(path: &Path) -> anyhow::Result<MappedFile> {
        let meta = match std::fs::symlink_metadata(path) {
            Ok(meta) if meta.file_type().is_file() => meta,
            Ok(_) => return Err(not_a_counter(path, &what_is_there(path)).into()),
            Err(e) => {
                let errno = nix::errno::Errno::from_raw(e.raw_os_error().unwrap_or(0));
                return Err(
                    explain_file_open(format!("lstat({})", c_string(path)), errno, path).into(),
                );
            }
        };
        // First read-only, to look at the header: a file that is not a
        // counter is refused as such, whoever may write it.
        let flags = OFlag::O_NOFOLLOW | OFlag::O_NONBLOCK | OFlag::O_NOCTTY | OFlag::O_CLOEXEC;
        let look = open(path, OFlag::O_RDONLY | flags, Mode::empty()).map_err(|errno| {
            explain_file_open(
                format!(
                    "open({}, O_RDONLY|O_NOFOLLOW|O_NONBLOCK|O_NOCTTY)",
                    c_string(path)
                ),
                errno,
                path,
            )
        })?;
        let stat = fstat(&look)
            .map_err(|errno| SysError::new(format!("fstat({})", c_string(path)), errno))?;
        // Swapped between the look and the open: not what was looked at.
        let id = (stat.st_dev, stat.st_ino);
        if id != (meta.dev(), meta.ino()) {
            return Err(not_a_counter(path, &what_is_there(path)).into());
        }
        let header = counter_header();
        let mut first = vec![0; header.len()];
        let read = read_up_to(&std::fs::File::from(look), &mut first);
        let size = usize::try_from(stat.st_size).unwrap_or(0);
        if first[..read] != header[..] || size < header.len() + size_of::<i32>() {
            return Err(not_a_counter(path, &what_is_there(path)).into());
        }
        // A counter: now for writing, and it must still be the same file.
        let call = format!(
            "open({}, O_RDWR|O_NOFOLLOW|O_NONBLOCK|O_NOCTTY)",
            c_string(path)
        );
        let fd = open(path, OFlag::O_RDWR | flags, Mode::empty())
            .map_err(|errno| explain_file_open(call, errno, path))?;
        let now = fstat(&fd)
            .map_err(|errno| SysError::new(format!("fstat({})", c_string(path)), errno))?;
        if (now.st_dev, now.st_ino) != id {
            return Err(not_a_counter(path, &what_is_there(path)).into());
        }
        Ok(MappedFile {
            path: path.to_owned(),
            fd,
            id,
            offset: header.len(),
            remove: false,
        })
    }

    /// The run finished: keep the file, holding its result.
    pub fn keep(&mut self) {
        self.remove = false;
    }

    /// `mmap(NULL, len, PROT_READ|PROT_WRITE, MAP_SHARED, fd, offset)` (or
    /// `MAP_PRIVATE`): the memory after the header, if there is one.
    pub fn map(&self, len: usize, sharing: Sharing) -> Result<Mapping, SysError> {
        Mapping::file(self.fd.as_fd(), self.offset, len, sharing)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether the path still leads to this file (nobody removed or
    /// replaced it meanwhile).
    pub fn still_there(&self) -> bool {
        std::fs::symlink_metadata(&self.path).is_ok_and(|m| (m.dev(), m.ino()) == self.id)
    }

    /// Unlink the file now, if the path still leads to it, and say what
    /// happened: another file at the path is not ours to remove.
    pub fn remove(mut self) -> Result<Removal, SysError> {
        self.remove = false;
        self.unlink_if_ours()
    }

    fn unlink_if_ours(&self) -> Result<Removal, SysError> {
        match std::fs::symlink_metadata(&self.path) {
            Err(_) => Ok(Removal::AlreadyGone),
            Ok(m) if (m.dev(), m.ino()) != self.id => Ok(Removal::Replaced),
            Ok(_) => match std::fs::remove_file(&self.path) {
                Ok(()) => Ok(Removal::Removed),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Removal::AlreadyGone),
                Err(e) => Err(io_error("unlink", &self.path, &e)),
            },
        }
    }
}

impl Drop for MappedFile {
    fn drop(&mut self) {
        if self.remove {
            if let Err(err) = self.unlink_if_ours() {
                crate::error::not_released(format!(
                    "{} ({err})",
                    crate::terminal::output::shell_word(&self.path)
                ));
            }
        }
    }
}

/// Read from the start of `file` into `buf` until it is full or the file
/// ends; how many bytes were read.
fn read_up_to(file: &std::fs::File, buf: &mut [u8]) -> usize {
    let mut done = 0;
    while done < buf.len() {
        match file.read_at(&mut buf[done..], done as u64) {
            Ok(0) | Err(_) => break,
            Ok(n) => done += n,
        }
    }
    done
}

/// A failed std::fs call as the system call it made.
fn io_error(call: &str, path: &Path, e: &std::io::Error) -> SysError {
    SysError::new(
        format!("{call}({})", c_string(path)),
        nix::errno::Errno::from_raw(e.raw_os_error().unwrap_or(0)),
    )
}
