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
use super::lock_file::LockFile;
use crate::error::{Failure, SysError};
use crate::mmap::{Mapping, UnnamedSemaphore};
use crate::posix::{NamedSemaphore, ShmName};
use crate::process::say_once;
use crate::system::procs;
use crate::terminal::output::{note, shell_word};
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
    /// removed here. It must belong to `owner`, the owner of the memory
    /// joined: a semaphore someone else planted under the key or name is
    /// refused (waiting on it would wait for them). A flock cannot be
    /// joined: the creator's lock file is its own.
    pub fn join(
        mode: LockMode,
        semaphore: SemaphoreKind<'_, 'm>,
        owner: u32,
    ) -> anyhow::Result<Lock<'m>> {
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
                    set: XsiSemaphore::join(key, owner)?,
                    key: key.clone(),
                },
                SemaphoreKind::Named(name) => Lock::Named(NamedSemaphore::join(name, owner)?),
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
                "an exclusive flock(2) on {} (this run's own file, which it removes at its end)",
                shell_word(file.path())
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
                shell_word(&sem.path())
            ),
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
                    Kind::Unnamed,
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
                    Kind::Xsi,
                    &what,
                    |t| set.wait_for(t),
                    || set.is_free(),
                    || set.holder(),
                )?;
            }
            ChildLock::Named(sem) => {
                let what = shell_word(&sem.path());
                take(
                    Kind::Named,
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

/// Which kind of semaphore is waited for: what its holder's death means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// racing_mmap's, in the run's own memory: only its children use it.
    Unnamed,
    /// racing_xsi_shm's: the kernel gives back a dead holder's `SEM_UNDO`.
    Xsi,
    /// racing_posix_shm's, /dev/shm/sem.NAME: runs of several processes share it.
    Named,
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
    kind: Kind,
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
                return Err(holder_died(kind, what, pid).into());
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
                    return Err(held_by_a_stranger(what, found).into());
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

fn holder_died(kind: Kind, what: &str, pid: libc::pid_t) -> Failure {
    match kind {
        Kind::Xsi => Failure::new(format!(
            "{what} is held by pid {pid}, which has died: it took the semaphore without SEM_UNDO, \
             so the kernel did not give it back"
        ))
        .hint(
            "that process was not a run of this program (ours always pass SEM_UNDO). Remove\n\
             the set if it is yours and stale (ipcs -s shows it), or use another --proj-id.",
        ),
        Kind::Unnamed | Kind::Named => {
            let remedy = if kind == Kind::Unnamed {
                "nothing can free it: the run ends, and its memory goes with the semaphore in it."
            } else {
                "nothing can free it: end the run that made it (it removes its semaphore with its\n\
                 object) and start again, or join with --lock atomic, which needs no lock object."
            };
            Failure::new(format!(
                "{what} is held by pid {pid}, which died without giving it back: a POSIX semaphore \
                 is only a counter in memory, and nobody else may post it"
            ))
            .hint(format!(
                "{remedy}\nA System V semaphore with SEM_UNDO (racing_xsi_shm) is given back by the\n\
                 kernel when its holder dies."
            ))
        }
    }
}

fn held_by_a_stranger(what: &str, pid: Option<libc::pid_t>) -> Failure {
    let who = match pid {
        Some(pid) => format!(
            "pid {pid} ({}), which is not a run of this program",
            procs::name_of(pid).unwrap_or_else(|| String::from("?"))
        ),
        None => String::from(
            "a process that did not say who it is: not a child of a run of this program, \
             or one that died the moment it took it",
        ),
    };
    Failure::new(format!(
        "{what} has been taken for {} s by {who}",
        NOBODY_FOR.as_secs()
    ))
    .hint(
        "waiting longer could wait forever. End the run that made the semaphore (it\n\
         removes it) and start again, or join with --lock atomic.",
    )
}

/// `semaphore`: the mode as the flag spells it.
fn mode_name(mode: LockMode) -> String {
    use clap::ValueEnum;
    mode.to_possible_value()
        .map(|v| v.get_name().to_owned())
        .unwrap_or_default()
}
