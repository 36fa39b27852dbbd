//! What mmap_mem puts behind its memory: the article's anonymous mapping,
//! a POSIX object in /dev/shm, or a file on disk. All three are mapped
//! `MAP_SHARED` and zeroed the same way; the before/after table shows where
//! the kernel books each one.
//!
//! | backing | Shmem (`free`'s "shared") | Cached | also moves |
//! |---|---|---|---|
//! | anonymous (`MAP_SHARED\|MAP_ANONYMOUS`) | up | up | — |
//! | POSIX object (`--posix NAME`) | up | up | `df /dev/shm` |
//! | file on disk (`--file PATH`) | — | up | Dirty, then Writeback |
//!
//! The first two are the same tmpfs memory underneath (the article's
//! "how is shared memory implemented?"); a disk file's pages are page
//! cache too, but with a disk behind them they are not Shmem.

use std::path::PathBuf;

use super::table::Rows;
use crate::error::SysError;
use crate::mmap::file::Removal;
use crate::mmap::{MappedFile, Mapping, Sharing};
use crate::posix::{PosixShm, ShmName};
use crate::terminal::output::{shell_word, size_text};

/// Where the memory comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Backing {
    /// `mmap(NULL, size, ..., MAP_SHARED|MAP_ANONYMOUS, -1, 0)`: the article's.
    Anonymous,
    /// `shm_open(NAME)`, `ftruncate`, `mmap(..., MAP_SHARED, fd, 0)`.
    Posix(Box<ShmName>),
    /// `open(PATH, O_CREAT|O_EXCL)`, `ftruncate`, `mmap(..., MAP_SHARED, fd, 0)`.
    File(PathBuf),
}

/// The memory, and the object or file behind it (removed when dropped).
#[derive(Debug)]
pub struct Backed {
    /// Declared first, so it is unmapped before its object goes.
    pub memory: Mapping,
    object: Option<PosixShm>,
    file: Option<MappedFile>,
    created: String,
}

impl Backing {
    /// Create and map `size` bytes of this backing. With `allocate`, an
    /// object or file is given its pages or blocks now (`fallocate`), so
    /// that a full /dev/shm or disk is an error here, not a SIGBUS while
    /// zeroing; without it (`--no-touch`), it only gets its size
    /// (`ftruncate`), and nothing needs memory or disk until written.
    pub fn map(&self, size: usize, allocate: bool) -> Result<Backed, SysError> {
        let mib = size_text(size as u64);
        Ok(match self {
            Backing::Anonymous => Backed {
                memory: Mapping::anonymous(size, Sharing::Shared)?,
                object: None,
                file: None,
                created: Backing::anonymous_created(size as u64),
            },
            Backing::Posix(name) => {
                let object = PosixShm::create_exclusive(name, 0o600)?;
                if allocate {
                    object.set_len(size)?;
                } else {
                    object.set_size_only(size)?;
                }
                Backed {
                    memory: object.map(size)?,
                    created: format!(
                        "shm_open(\"{name}\"), ftruncate, mmap(NULL, {size}, PROT_READ|PROT_WRITE, MAP_SHARED, fd, 0): {mib} of {} mapped",
                        name.path().display()
                    ),
                    object: Some(object),
                    file: None,
                }
            }
            Backing::File(path) => {
                let file = MappedFile::create_scratch(path, size, allocate)?;
                Backed {
                    memory: file.map(size, Sharing::Shared)?,
                    created: format!(
                        "open(\"{}\", O_CREAT|O_EXCL), ftruncate, mmap(NULL, {size}, PROT_READ|PROT_WRITE, MAP_SHARED, fd, 0): {mib} mapped",
                        path.display()
                    ),
                    object: None,
                    file: Some(file),
                }
            }
        })
    }

    /// The report's first line for the article's anonymous memory: the call that made it.
    pub fn anonymous_created(size: u64) -> String {
        format!(
            "mmap(NULL, {size}, PROT_READ|PROT_WRITE, MAP_SHARED|MAP_ANONYMOUS, -1, 0): {} mapped",
            size_text(size)
        )
    }

    /// The rows of /proc/meminfo (and df) this backing moves.
    pub fn rows(&self) -> Rows {
        match self {
            Backing::Anonymous => Rows::Normal,
            Backing::Posix(_) => Rows::DevShm,
            Backing::File(_) => Rows::File,
        }
    }

    /// What to look at from another terminal while `size` bytes are held
    /// (`touched`: zeroed, so every page has memory).
    pub fn watch(&self, size: u64, touched: bool) -> Vec<String> {
        let free = match self {
            Backing::File(_) if touched => format!(
                "free -m          \"buff/cache\" is up by {}, \"shared\" is not: a disk file",
                size_text(size)
            ),
            _ => super::free_line(size, touched),
        };
        let mut lines = vec![free];
        match self {
            Backing::Anonymous => {
                lines.push(String::from(super::MEMINFO_GREP));
            }
            Backing::Posix(name) => {
                lines.push(format!(
                    "ls -l {}     the object, a file in a tmpfs",
                    shell_word(&name.path())
                ));
                lines.push(String::from(
                    "df -h /dev/shm          its size counts as used there",
                ));
            }
            Backing::File(path) => {
                lines.push(format!("ls -l {}", shell_word(path)));
                lines.push(String::from(
                    "grep -E '^(Shmem|Cached|Dirty|Writeback):' /proc/meminfo",
                ));
            }
        }
        lines
    }
}

impl Backed {
    /// The report's first line: the calls that made it.
    pub fn created(&self) -> &str {
        &self.created
    }

    /// `munmap`, then `shm_unlink` or `unlink` the object or file: what
    /// the release did, for the last line. A file someone else removed or
    /// replaced meanwhile is said to be so, and another file at its path
    /// is left alone.
    pub fn release(self) -> Result<String, SysError> {
        let Backed {
            memory,
            object,
            file,
            ..
        } = self;
        drop(memory);
        if let Some(object) = object {
            object.unlink()?;
            return Ok(String::from("munmap, shm_unlink"));
        }
        if let Some(file) = file {
            let path = shell_word(file.path());
            return Ok(match file.remove()? {
                Removal::Removed => String::from("munmap, unlink"),
                Removal::AlreadyGone => {
                    format!("munmap; {path} had been removed by someone else meanwhile")
                }
                Removal::Replaced => {
                    format!("munmap; {path} is another file now (someone replaced it), left alone")
                }
            });
        }
        Ok(String::from("munmap"))
    }
}
