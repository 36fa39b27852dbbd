//! `--lock`: close the race, or leave it open as the article does.
//!
//! The lost updates come from one thing: a child's read and its write are
//! two steps, and other children get in between. There are two cures:
//!
//! - make the read-modify-write *one* step: `--lock atomic` (`fetch_add`);
//! - let only one child at a time be between its read and its write: a
//!   lock around the critical section — `--lock flock` (the article's "a
//!   file lock would do") or `--lock semaphore` (what the article promises
//!   for a later chapter; each family has its own: [`crate::mmap::semaphore`],
//!   [`crate::xsi::semaphore`], [`crate::posix::semaphore`]).
//!
//! The parent creates the lock object ([`Lock`]); each child opens its own
//! handle to it ([`Lock::open_in_child`]), as an unrelated process would,
//! and does its increment through it ([`ChildLock::increment`]): that one
//! function decides, for every mode, what happens around the article's
//! read, pause, write.

use std::os::fd::OwnedFd;
use std::time::Duration;

use nix::errno::Errno;
use nix::fcntl::{Flock, FlockArg};

use super::counter::SharedCounter;
use super::lock_file::LockFile;
use crate::error::{Failure, SysError};
use crate::mmap::{Mapping, UnnamedSemaphore};
use crate::posix::{NamedSemaphore, ShmName};
use crate::xsi::{Key, XsiSemaphore};

/// How the children's critical section is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum LockMode {
    /// No protection: the article's race.
    #[default]
    None,
    /// The increment becomes one atomic fetch_add; the pause stays outside.
    Atomic,
    /// An exclusive flock(2) on a lock file around read, pause, write.
    Flock,
    /// This program's own kind of semaphore around read, pause, write.
    Semaphore,
}

/// The lock object of a run, owned by the parent; dropping it removes what
/// it created (lock file, semaphore set, semaphore name).
#[derive(Debug)]
pub enum Lock<'m> {
    None,
    Atomic,
    Flock(LockFile),
    Unnamed(UnnamedSemaphore<'m>),
    Xsi { set: XsiSemaphore, key: Key },
    Named(NamedSemaphore),
}

/// The family's semaphore, made only if `--lock semaphore` asks for it.
#[derive(Debug)]
pub enum SemaphoreKind<'a, 'm> {
    /// racing_mmap: an unnamed semaphore in this shared memory.
    InMemory(&'m Mapping),
    /// racing_xsi_shm: a System V set under this key.
    Xsi(&'a Key),
    /// racing_posix_shm: a named POSIX semaphore with this name.
    Named(&'a ShmName),
}

impl<'m> Lock<'m> {
    /// Create the lock object `mode` asks for; `semaphore` says which kind
    /// of semaphore this program's family uses.
    pub fn create(mode: LockMode, semaphore: SemaphoreKind<'_, 'm>) -> Result<Lock<'m>, SysError> {
        Ok(match mode {
            LockMode::None => Lock::None,
            LockMode::Atomic => Lock::Atomic,
            LockMode::Flock => Lock::Flock(LockFile::create_for_run()?),
            LockMode::Semaphore => match semaphore {
                SemaphoreKind::InMemory(memory) => {
                    Lock::Unnamed(UnnamedSemaphore::init_in(memory)?)
                }
                SemaphoreKind::Xsi(key) => Lock::Xsi {
                    set: XsiSemaphore::create(key)?,
                    key: key.clone(),
                },
                SemaphoreKind::Named(name) => Lock::Named(NamedSemaphore::create(name)?),
            },
        })
    }

    /// The lock of a run this process joins (`--attach`): the creator's
    /// semaphore, found by the same key or name, never created and never
    /// removed here. A flock cannot be joined: the creator's lock file is
    /// its own.
    pub fn join(mode: LockMode, semaphore: SemaphoreKind<'_, 'm>) -> anyhow::Result<Lock<'m>> {
        let cannot = |why: &str, instead: &str| {
            Failure::new(format!(
                "--lock {} cannot join the run: {why}",
                mode_name(mode)
            ))
            .hint(format!(
                "{instead}; a different lock, or none, lets updates be lost."
            ))
        };
        Ok(match mode {
            LockMode::None => Lock::None,
            LockMode::Atomic => Lock::Atomic,
            LockMode::Flock => {
                // racing_mmap's semaphore cannot be joined either: offer
                // only what will work.
                let instead = match semaphore {
                    SemaphoreKind::InMemory(_) => {
                        "join with --lock atomic, which needs no lock object at all"
                    }
                    _ => {
                        "join with the lock the creator uses: --lock semaphore (found by the same key\n\
                         or name) or --lock atomic"
                    }
                };
                return Err(cannot(
                    "its lock file is its own, made for its own children",
                    instead,
                )
                .into());
            }
            LockMode::Semaphore => match semaphore {
                SemaphoreKind::InMemory(_) => {
                    return Err(cannot(
                        "the creator's unnamed semaphore belongs to its own run and has no name",
                        "join with --lock atomic, which needs no lock object at all",
                    )
                    .into());
                }
                SemaphoreKind::Xsi(key) => Lock::Xsi {
                    set: XsiSemaphore::open(key)?,
                    key: key.clone(),
                },
                SemaphoreKind::Named(name) => Lock::Named(NamedSemaphore::open(name)?),
            },
        })
    }

    /// What protects the critical section, for the explanation.
    pub fn describe(&self) -> String {
        match self {
            Lock::None => String::from("nothing"),
            Lock::Atomic => {
                String::from("one atomic fetch_add per child instead of read, pause, write")
            }
            Lock::Flock(file) => format!(
                "an exclusive flock(2) on {} (this run's own file, removed again)",
                file.path().display()
            ),
            Lock::Unnamed(_) => String::from(
                "an unnamed POSIX semaphore in the shared mapping (sem_init pshared=1, sem_wait/sem_post)",
            ),
            Lock::Xsi { set, key } => format!(
                "System V semaphore set {} (key {key}, semop with SEM_UNDO)",
                set.id()
            ),
            Lock::Named(sem) => format!(
                "the named POSIX semaphore {} (sem_open, sem_wait/sem_post)",
                sem.path().display()
            ),
        }
    }

    /// In a child: a handle of its own — open the lock file, `semget` the
    /// key, `sem_open` the name. (The unnamed semaphore is in memory the
    /// child already shares.)
    pub fn open_in_child(&self) -> Result<ChildLock<'_, 'm>, SysError> {
        Ok(match self {
            Lock::None => ChildLock::None,
            Lock::Atomic => ChildLock::Atomic,
            Lock::Flock(file) => ChildLock::Flock(file.open()?),
            Lock::Unnamed(sem) => ChildLock::Unnamed(sem),
            Lock::Xsi { key, .. } => ChildLock::Xsi(XsiSemaphore::open(key)?),
            Lock::Named(sem) => ChildLock::Named(NamedSemaphore::open(sem.name())?),
        })
    }
}

/// One child's handle on the run's lock.
#[derive(Debug)]
pub enum ChildLock<'l, 'm> {
    None,
    Atomic,
    Flock(OwnedFd),
    Unnamed(&'l UnnamedSemaphore<'m>),
    Xsi(XsiSemaphore),
    Named(NamedSemaphore),
}

impl ChildLock<'_, '_> {
    /// One child's `interval = *shm_p; interval++; usleep(1); *shm_p = interval;`
    /// with what `--lock` asked for around it:
    ///
    /// - none: the article's read, pause, write, unprotected — the race;
    /// - atomic: the pause, then one `fetch_add(1)`: nobody can get in
    ///   between a read and a write that are one step;
    /// - flock or a semaphore: the article's read, pause, write with the
    ///   lock held, so only one child at a time is inside. (Taking and
    ///   releasing the lock orders the memory accesses: what one holder
    ///   stored, the next holder loads. For a POSIX semaphore that is the
    ///   atomic operations inside `sem_wait`/`sem_post`, which make no
    ///   system call while nobody waits; for the others, `semop` and
    ///   `flock`.)
    pub fn increment(&self, shm_p: SharedCounter<'_>, pause: Duration) -> Result<(), SysError> {
        match self {
            ChildLock::None => shm_p.racy_increment(pause),
            ChildLock::Atomic => {
                if !pause.is_zero() {
                    std::thread::sleep(pause);
                }
                shm_p.atomic_increment();
            }
            ChildLock::Flock(fd) => {
                let fd = fd.try_clone().map_err(|e| {
                    SysError::new(
                        "dup(lock_fd)",
                        Errno::from_raw(e.raw_os_error().unwrap_or(0)),
                    )
                })?;
                let held = Flock::lock(fd, FlockArg::LockExclusive)
                    .map_err(|(_, errno)| SysError::new("flock(fd, LOCK_EX)", errno))?;
                shm_p.racy_increment(pause);
                held.unlock()
                    .map_err(|(_, errno)| SysError::new("flock(fd, LOCK_UN)", errno))?;
            }
            ChildLock::Unnamed(sem) => {
                sem.wait()?;
                shm_p.racy_increment(pause);
                sem.post()?;
            }
            ChildLock::Xsi(set) => {
                set.wait()?;
                shm_p.racy_increment(pause);
                set.post()?;
            }
            ChildLock::Named(sem) => {
                sem.wait()?;
                shm_p.racy_increment(pause);
                sem.post()?;
            }
        }
        Ok(())
    }
}

/// `semaphore`: the mode as the flag spells it.
fn mode_name(mode: LockMode) -> String {
    use clap::ValueEnum;
    mode.to_possible_value()
        .map(|v| v.get_name().to_owned())
        .unwrap_or_default()
}
