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
//! The parent creates the lock object ([`Lock`]). Each child's `do_child`
//! (in the program's main.rs, where the article's read, pause and write
//! are) takes it before its critical section ([`Lock::enter`], through a
//! handle of the child's own, as an unrelated process would) and gives it
//! back after ([`Held::leave`]); `--lock atomic` is the one branch there
//! that makes the three steps one `fetch_add` instead.

use std::os::fd::OwnedFd;
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::fcntl::{Flock, FlockArg};

use super::counter::SharedCounter;
use super::explain;
use super::lock_file::LockFile;
use super::mode::{Family, LockMode};
use crate::error::{Failure, SysError};
use crate::mmap::{Mapping, UnnamedSemaphore};
use crate::posix::{NamedSemaphore, ShmName};
use crate::process::say_once;
use crate::system::procs;
use crate::terminal::output::{note, shell_word};
use crate::xsi::{Key, XsiSemaphore};

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

/// Where a family keeps its `--lock semaphore`: in the shared mapping
/// (`&Mapping`, racing_mmap), under the segment's key (`&Key`,
/// racing_xsi_shm), under the memory's name (`&ShmName`,
/// racing_posix_shm). The argument of [`Lock::create`] and [`Lock::join`].
pub trait SemaphorePlace<'m> {
    /// Whose semaphore this is.
    fn family(&self) -> Family;
    /// Make the semaphore here (`--lock semaphore` in a run that creates).
    fn make(self) -> Result<Lock<'m>, SysError>;
    /// Find the creator's semaphore here, which must belong to `owner`.
    fn find(self, owner: u32) -> anyhow::Result<Lock<'m>>;
}

impl<'m> SemaphorePlace<'m> for &'m Mapping {
    fn family(&self) -> Family {
        Family::Mmap
    }
    fn make(self) -> Result<Lock<'m>, SysError> {
        Ok(Lock::Unnamed(UnnamedSemaphore::init_in(self)?))
    }
    fn find(self, _: u32) -> anyhow::Result<Lock<'m>> {
        Err(explain::cannot_join(
            LockMode::Semaphore,
            "the creator's unnamed semaphore belongs to its own run and has no name",
            Family::Mmap,
        )
        .into())
    }
}

impl<'m> SemaphorePlace<'m> for &Key {
    fn family(&self) -> Family {
        Family::Xsi
    }
    fn make(self) -> Result<Lock<'m>, SysError> {
        Ok(Lock::Xsi {
            set: XsiSemaphore::create(self)?,
            key: self.clone(),
        })
    }
    fn find(self, owner: u32) -> anyhow::Result<Lock<'m>> {
        Ok(Lock::Xsi {
            set: XsiSemaphore::join(self, owner)?,
            key: self.clone(),
        })
    }
}

impl<'m> SemaphorePlace<'m> for &ShmName {
    fn family(&self) -> Family {
        Family::Posix
    }
    fn make(self) -> Result<Lock<'m>, SysError> {
        Ok(Lock::Named(NamedSemaphore::create(self)?))
    }
    fn find(self, owner: u32) -> anyhow::Result<Lock<'m>> {
        Ok(Lock::Named(NamedSemaphore::join(self, owner)?))
    }
}

impl<'m> Lock<'m> {
    /// Create the lock object `mode` asks for; `semaphore` is where this
    /// program's family keeps its semaphore.
    pub fn create(
        mode: LockMode,
        semaphore: impl SemaphorePlace<'m>,
    ) -> Result<Lock<'m>, SysError> {
        Ok(match mode {
            LockMode::None => Lock::None,
            LockMode::Atomic => Lock::Atomic,
            LockMode::Flock => Lock::Flock(LockFile::create_for_run()?),
            LockMode::Semaphore => semaphore.make()?,
        })
    }

    /// The lock of a run this process joins (`--attach`): the creator's
    /// semaphore, found by the same key or name, never created and never
    /// removed here. It must belong to `owner`, the owner of the memory
    /// joined: a semaphore someone else planted under the key or name is
    /// refused (waiting on it would wait for them). A flock cannot be
    /// joined: the creator's lock file is its own.
    pub fn join(
        mode: LockMode,
        semaphore: impl SemaphorePlace<'m>,
        owner: u32,
    ) -> anyhow::Result<Lock<'m>> {
        Ok(match mode {
            LockMode::None => Lock::None,
            LockMode::Atomic => Lock::Atomic,
            LockMode::Flock => {
                return Err(explain::cannot_join(
                    mode,
                    "its lock file is its own, made for its own children",
                    semaphore.family(),
                )
                .into());
            }
            LockMode::Semaphore => semaphore.find(owner)?,
        })
    }

    /// The `--lock` mode this lock serves.
    pub fn mode(&self) -> LockMode {
        match self {
            Lock::None => LockMode::None,
            Lock::Atomic => LockMode::Atomic,
            Lock::Flock(_) => LockMode::Flock,
            Lock::Unnamed(_) | Lock::Xsi { .. } | Lock::Named(_) => LockMode::Semaphore,
        }
    }

    /// What protects the critical section, for the explanation.
    pub fn describe(&self) -> String {
        match self {
            Lock::None => LockMode::None.protects().to_owned(),
            Lock::Atomic => LockMode::Atomic.protects().to_owned(),
            Lock::Flock(file) => format!(
                "{} {} (this run's own file, which it removes at its end)",
                LockMode::Flock.protects(),
                shell_word(file.path())
            ),
            Lock::Unnamed(_) => Family::Mmap.describe(""),
            Lock::Xsi { set, key } => {
                Family::Xsi.describe(&format!("{} under key {key}", set.id()))
            }
            Lock::Named(sem) => Family::Posix.describe(&shell_word(&sem.path())),
        }
    }
}

/// One child's handle on the run's lock.
// It lives on one child's stack for one critical section; boxing the large
// variant would cost every child a heap allocation.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
enum ChildLock<'l, 'm> {
    None,
    Flock(OwnedFd),
    Unnamed(&'l UnnamedSemaphore<'m>),
    Xsi(XsiSemaphore),
    Named(NamedSemaphore),
}

/// The lock, held by one child around its critical section: taken by
/// [`Lock::enter`], given back by [`Held::leave`] (or, if the child never
/// gets there, when the value is dropped).
#[derive(Debug)]
pub struct Held<'l, 'm, 'c> {
    lock: ChildLock<'l, 'm>,
    /// The flock held, or `None` for the other locks.
    flock: Option<Flock<OwnedFd>>,
    /// Where a POSIX semaphore's holder writes its pid (after the int).
    shm_p: SharedCounter<'c>,
    left: bool,
}

impl<'m> Lock<'m> {
    /// `--lock atomic`: the child makes its read, add and write one
    /// `fetch_add` instead, and takes no lock.
    pub fn is_atomic(&self) -> bool {
        matches!(self, Lock::Atomic)
    }

    /// In a child, before its critical section: take the run's lock
    /// through a handle of the child's own, as an unrelated process would
    /// (open the lock file, `semget` the key, `sem_open` the name; the
    /// unnamed semaphore is in memory the child already shares), checked to
    /// be the parent's very lock object and not another that took its name
    /// meanwhile. With `--lock none` this takes nothing: the article's race.
    ///
    /// - flock: `flock(fd, LOCK_EX)`. A flock goes with its holder's open
    ///   file: the kernel frees it when the holder dies, so this wait ends.
    /// - a semaphore: `sem_wait` or `semop(-1, SEM_UNDO)`, a second at a
    ///   time: a waiter whose holder has died says so and ends, instead of
    ///   waiting forever (see `take` in this file).
    ///
    /// Taking and giving back the lock orders the memory accesses: what one
    /// holder stored, the next holder loads. (For a POSIX semaphore that is
    /// the atomic operations inside `sem_wait`/`sem_post`, which make no
    /// system call while nobody waits; for the others, `semop` and `flock`.)
    pub fn enter<'c>(&self, shm_p: SharedCounter<'c>) -> anyhow::Result<Held<'_, 'm, 'c>> {
        let lock = self.open_in_child()?;
        let mut flock = None;
        match &lock {
            ChildLock::None => {}
            ChildLock::Flock(fd) => {
                let fd = fd.try_clone().map_err(|e| {
                    SysError::new(
                        "dup(lock_fd)",
                        Errno::from_raw(e.raw_os_error().unwrap_or(0)),
                    )
                })?;
                flock = Some(
                    Flock::lock(fd, FlockArg::LockExclusive)
                        .map_err(|(_, errno)| SysError::new("flock(fd, LOCK_EX)", errno))?,
                );
            }
            ChildLock::Unnamed(sem) => {
                let what = "the unnamed semaphore in the mapping";
                take(
                    Family::Mmap,
                    what,
                    |t| sem.wait_for(t),
                    || sem.is_free(),
                    || shm_p.holder(),
                )?;
                shm_p.set_holder(true);
            }
            ChildLock::Xsi(set) => {
                let what = format!("semaphore set {}", set.id());
                take(
                    Family::Xsi,
                    &what,
                    |t| set.wait_for(t),
                    || set.is_free(),
                    || set.holder(),
                )?;
            }
            ChildLock::Named(sem) => {
                let what = shell_word(&sem.path());
                take(
                    Family::Posix,
                    &what,
                    |t| sem.wait_for(t),
                    || sem.is_free(),
                    || shm_p.holder(),
                )?;
                shm_p.set_holder(true);
            }
        }
        Ok(Held {
            lock,
            flock,
            shm_p,
            left: false,
        })
    }

    /// A handle of the child's own on the lock object (see [`Lock::enter`]).
    fn open_in_child(&self) -> anyhow::Result<ChildLock<'_, 'm>> {
        Ok(match self {
            Lock::None | Lock::Atomic => ChildLock::None,
            Lock::Flock(file) => ChildLock::Flock(file.open()?),
            Lock::Unnamed(sem) => ChildLock::Unnamed(sem),
            Lock::Xsi { key, set } => ChildLock::Xsi(XsiSemaphore::open_as(key, set.id())?),
            Lock::Named(sem) => {
                let Some(id) = sem.identity() else {
                    return Err(Failure::new(format!(
                        "{} could not be told apart from another file: it changed while it was opened",
                        shell_word(&sem.path())
                    ))
                    .into());
                };
                ChildLock::Named(NamedSemaphore::open_as(sem.name(), id)?)
            }
        })
    }
}

impl Held<'_, '_, '_> {
    /// After the critical section: give the lock back (`flock(fd,
    /// LOCK_UN)`, `sem_post`, `semop(+1)`).
    pub fn leave(mut self) -> Result<(), SysError> {
        self.left = true;
        self.give_back()
    }

    fn give_back(&mut self) -> Result<(), SysError> {
        if let Some(held) = self.flock.take() {
            held.unlock()
                .map_err(|(_, errno)| SysError::new("flock(fd, LOCK_UN)", errno))?;
        }
        match &self.lock {
            ChildLock::None | ChildLock::Flock(_) => Ok(()),
            ChildLock::Unnamed(sem) => {
                self.shm_p.set_holder(false);
                sem.post()
            }
            ChildLock::Xsi(set) => set.post(),
            ChildLock::Named(sem) => {
                self.shm_p.set_holder(false);
                sem.post()
            }
        }
    }
}

impl Drop for Held<'_, '_, '_> {
    /// A child that returned early (an error, a panic) with the lock held
    /// gives it back all the same: its siblings must not wait for it.
    fn drop(&mut self) {
        if !self.left {
            let _ = self.give_back();
        }
    }
}

/// How long a waiter sleeps in the semaphore before it looks who holds it.
const LOOK_EVERY: Duration = Duration::from_secs(1);

/// How long a semaphore may stay taken with no holder known before the
/// waiter gives up: nobody of ours took it, or its taker died the moment
/// it had it.
const NOBODY_FOR: Duration = Duration::from_secs(5);

/// Take a semaphore (`wait_for` waits at most its argument and says
/// whether it got it), looking every second at who holds it (`holder`):
///
/// - a holder that has died will never give a POSIX semaphore back: say
///   so and end, within two or three seconds, instead of waiting forever;
/// - a live holder of another run (not a sibling of this child) is waited
///   for, with one line, said once for all the waiting children, that
///   names it;
/// - taken, with no holder known, or one that is not this program, for
///   [`NOBODY_FOR`]: something that is not a run of ours holds it (or a
///   new process took a dead holder's pid); say so and end.
fn take(
    family: Family,
    what: &str,
    mut wait_for: impl FnMut(Duration) -> Result<bool, SysError>,
    free: impl Fn() -> bool,
    holder: impl Fn() -> Option<libc::pid_t>,
) -> anyhow::Result<()> {
    let mut strange_since: Option<Instant> = None;
    // A dead holder seen once may be a holder that gave the semaphore back
    // and ended between two looks (a waiter can be kept off the CPU that
    // long): it is dead for good only if, a second later, it is still the
    // holder and the semaphore still taken.
    let mut dead_once: Option<libc::pid_t> = None;
    loop {
        if wait_for(LOOK_EVERY)? {
            return Ok(());
        }
        // Given back just now, and not yet taken again: nothing strange.
        if free() {
            strange_since = None;
            dead_once = None;
            continue;
        }
        let found = holder();
        match found.map(|pid| (pid, who_is(pid))) {
            Some((pid, Who::Dead)) if dead_once == Some(pid) => {
                return Err(explain::holder_died(family, what, pid).into());
            }
            Some((pid, Who::Dead)) => dead_once = Some(pid),
            Some((pid, Who::Ours)) => {
                strange_since = None;
                let sibling = procs::parent_of(pid) == Some(nix::unistd::getppid().as_raw());
                if !sibling && say_once(&format!("waiting for {what} held by {pid}")) {
                    let parent = procs::parent_of(pid)
                        .map_or_else(String::new, |p| format!(", child of pid {p}"));
                    note(format!(
                        "waiting for {what}: pid {pid} ({}{parent}), of another run, holds it; \
                         the children of this one wait until it gives it back",
                        crate::error::program_name()
                    ));
                }
            }
            Some((_, Who::Other)) | None => {
                let since = *strange_since.get_or_insert_with(Instant::now);
                if since.elapsed() >= NOBODY_FOR {
                    return Err(explain::held_by_a_stranger(what, found, NOBODY_FOR).into());
                }
            }
        }
    }
}

/// What the pid a semaphore's holder left is now.
enum Who {
    /// A live process of this program.
    Ours,
    /// Another program: a stranger, or a new process that took the pid.
    Other,
    /// Gone, or a zombie (dead, not yet collected by its parent).
    Dead,
}

fn who_is(pid: libc::pid_t) -> Who {
    if !procs::is_alive(pid) {
        Who::Dead
    } else if procs::runs_this_program(pid).unwrap_or(true) {
        Who::Ours
    } else {
        Who::Other
    }
}
