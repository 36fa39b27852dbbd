//! Semaphores, one per family of shared memory, to close the article's race.
//!
//! The article ends its racing programs with "we will fix this with
//! semaphores in a later chapter". Each family has its own:
//!
//! | family | semaphore | lives | on the holder's death |
//! |---|---|---|---|
//! | `mmap` (racing_mmap) | unnamed POSIX, `sem_init(sem, pshared=1, 1)` *inside* the shared mapping | as long as the mapping | stays taken |
//! | System V (racing_xsi_shm) | a set of one, `semget(key, 1, ...)`, same ftok key | until `IPC_RMID` (`ipcs -s`) | released: `SEM_UNDO` |
//! | POSIX (racing_posix_shm) | named, `sem_open("/shm", ...)` | until `sem_unlink` (`/dev/shm/sem.shm`) | stays taken |
//!
//! The last column is the robustness lesson: the kernel keeps an undo
//! record for a System V `semop` with `SEM_UNDO` and reverses it when the
//! process dies; a POSIX semaphore is just a counter in shared memory, and
//! a holder that dies never posts it. (So the parent does not wait forever
//! for children stuck behind it: see `Children::wait_all_unless_stuck`.)
//!
//! nix wraps none of these calls; each type here owns one object and its
//! `Drop` releases it, like the shared memory types.

use std::ffi::CString;
use std::marker::PhantomData;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::ptr::NonNull;

use nix::errno::Errno;
use nix::unistd::Uid;

use crate::error::SysError;
use crate::memory::SharedMemory;
use crate::posix::ShmName;
use crate::xsi::{Key, user_name};

/// Taking and giving back a semaphore, whichever kind.
pub trait Semaphore {
    /// Wait until the semaphore is free, then take it (P, "down", -1).
    fn wait(&self) -> Result<(), SysError>;
    /// Give it back (V, "up", +1).
    fn post(&self) -> Result<(), SysError>;
}

// ---------------------------------------------------------------------------
// Unnamed POSIX semaphore inside shared memory.

/// An unnamed POSIX semaphore placed in shared memory with `pshared = 1`,
/// so every process that maps the memory (here: forked children) uses the
/// same one. The value that initialised it destroys it when dropped.
#[derive(Debug)]
pub struct UnnamedSemaphore<'m> {
    sem: NonNull<libc::sem_t>,
    memory: PhantomData<&'m ()>,
}

impl<'m> UnnamedSemaphore<'m> {
    /// Where in the memory it goes: after the 4-byte counter, 8-aligned.
    pub const OFFSET: usize = 8;
    /// How much memory the counter and the semaphore need together.
    pub const MEMORY_LEN: usize = Self::OFFSET + size_of::<libc::sem_t>();

    /// `sem_init(sem, 1, 1)` at [`Self::OFFSET`] in `memory`: a semaphore
    /// shared between processes, initially free.
    pub fn init_in(memory: &'m impl SharedMemory) -> Result<Self, SysError> {
        let call = format!("sem_init(shm_p + {}, 1, 1)", Self::OFFSET);
        if memory.len() < Self::MEMORY_LEN {
            return Err(SysError::new(call, Errno::EINVAL)
                .hint(format!("the memory must hold {} bytes", Self::MEMORY_LEN)));
        }
        // SAFETY: OFFSET + size_of::<sem_t>() <= len (checked above), so
        // the pointer stays inside the memory; the memory is page-aligned,
        // so start + 8 is aligned for sem_t (alignment 8).
        let sem = unsafe { memory.start().add(Self::OFFSET) }.cast::<libc::sem_t>();
        // SAFETY: `sem` points to memory we may write, that lives for 'm and
        // that no one uses as a semaphore yet.
        if unsafe { libc::sem_init(sem.as_ptr(), 1, 1) } == -1 {
            return Err(SysError::new(call, Errno::last()));
        }
        Ok(UnnamedSemaphore {
            sem,
            memory: PhantomData,
        })
    }
}

impl Semaphore for UnnamedSemaphore<'_> {
    fn wait(&self) -> Result<(), SysError> {
        sem_wait(self.sem, "sem_wait(sem)")
    }

    fn post(&self) -> Result<(), SysError> {
        sem_post(self.sem, "sem_post(sem)")
    }
}

impl Drop for UnnamedSemaphore<'_> {
    fn drop(&mut self) {
        // SAFETY: initialised by sem_init in `init_in`; the memory outlives
        // `self` ('m). Destroying a semaphore other processes still wait on
        // is undefined in POSIX, which is why the parent destroys it only
        // after every child is gone.
        unsafe { libc::sem_destroy(self.sem.as_ptr()) };
    }
}

fn sem_wait(sem: NonNull<libc::sem_t>, call: &str) -> Result<(), SysError> {
    loop {
        // SAFETY: `sem` is a live, initialised semaphore (the caller's value
        // guarantees it for as long as it lives).
        if unsafe { libc::sem_wait(sem.as_ptr()) } == 0 {
            return Ok(());
        }
        match Errno::last() {
            Errno::EINTR => continue,
            errno => return Err(SysError::new(call, errno)),
        }
    }
}

fn sem_post(sem: NonNull<libc::sem_t>, call: &str) -> Result<(), SysError> {
    // SAFETY: as in `sem_wait`.
    if unsafe { libc::sem_post(sem.as_ptr()) } == -1 {
        return Err(SysError::new(call, Errno::last()));
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// System V semaphore set.

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
        // SETVAL reads a `union semun` from the variable arguments. Its
        // `val` member is the union's first bytes; on a 64-bit
        // little-endian machine a u64 holding 1 passes exactly that.
        let one: libc::c_ulong = 1;
        // SAFETY: SETVAL on a set we own, with the value argument it expects.
        if unsafe { libc::semctl(id, 0, libc::SETVAL, one) } == -1 {
            return Err(SysError::new(
                format!("semctl({id}, 0, SETVAL, 1)"),
                Errno::last(),
            ));
        }
        Ok(set)
    }

    /// `semget(key, 1, 0)`: the set another process created.
    pub fn open(key: &Key) -> Result<XsiSemaphore, SysError> {
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

    /// `semop(semid, {0, op, SEM_UNDO}, 1)`, retried if a signal interrupts.
    fn semop(&self, op: i16) -> Result<(), SysError> {
        let mut buf = libc::sembuf {
            sem_num: 0,
            sem_op: op,
            sem_flg: libc::SEM_UNDO as i16,
        };
        loop {
            // SAFETY: `buf` is one valid sembuf and nsops is 1.
            if unsafe { libc::semop(self.id, &mut buf, 1) } == 0 {
                return Ok(());
            }
            match Errno::last() {
                Errno::EINTR => continue,
                errno => {
                    return Err(SysError::new(
                        format!("semop({}, {{0, {op:+}, SEM_UNDO}}, 1)", self.id),
                        errno,
                    ));
                }
            }
        }
    }
}

impl Semaphore for XsiSemaphore {
    fn wait(&self) -> Result<(), SysError> {
        self.semop(-1)
    }

    fn post(&self) -> Result<(), SysError> {
        self.semop(1)
    }
}

impl Drop for XsiSemaphore {
    fn drop(&mut self) {
        if self.owned {
            // SAFETY: IPC_RMID takes no further argument.
            unsafe { libc::semctl(self.id, 0, libc::IPC_RMID) };
        }
    }
}

fn explain_semget(call: String, errno: Errno, key: &Key) -> SysError {
    let err = SysError::new(call, errno);
    match errno {
        Errno::EEXIST => {
            let existing = semaphore_sets()
                .into_iter()
                .find(|set| set.key == key.raw());
            let facts = existing.as_ref().map_or_else(String::new, |set| {
                format!(
                    " (semid {}, owner {}, mode {:04o})",
                    set.id,
                    user_name(set.uid),
                    set.mode & 0o777
                )
            });
            let another = key.another_key_hint();
            let me = Uid::effective();
            let foreign = existing.is_some_and(|set| set.uid != me.as_raw());
            if foreign && !me.is_root() {
                err.hint(format!(
                    "a semaphore set with key {key} already exists{facts}.\n\
                     Only its owner or root can remove it. Use {another}"
                ))
            } else {
                err.hint(format!(
                    "a semaphore set with key {key} already exists{facts}, probably left by\n\
                     an earlier run. Remove it with: ipcrm -S {key}\n\
                     or use {another}"
                ))
            }
        }
        Errno::ENOENT => err.hint(format!(
            "no semaphore set has key {key}: it was removed (ipcrm?) meanwhile."
        )),
        Errno::ENOSPC => err.hint(
            "the system-wide limit on semaphore sets is reached (kernel.sem, see ipcs -ls);\n\
             remove leftovers with ipcrm -s SEMID.",
        ),
        _ => err,
    }
}

/// What `ipcs -s` shows about one semaphore set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SemaphoreSetInfo {
    pub key: libc::key_t,
    pub id: i32,
    /// Permission bits.
    pub mode: u32,
    pub uid: libc::uid_t,
}

/// Every System V semaphore set, from /proc/sysvipc/sem.
pub fn semaphore_sets() -> Vec<SemaphoreSetInfo> {
    crate::xsi::sysvipc_table("sem")
        .into_iter()
        .filter_map(|row| {
            let field = |name: &str| row.get(name).map(String::as_str);
            Some(SemaphoreSetInfo {
                key: field("key")?.parse().ok()?,
                id: field("semid")?.parse().ok()?,
                mode: u32::from_str_radix(field("perms")?, 8).ok()?,
                uid: field("uid")?.parse().ok()?,
            })
        })
        .collect()
}

// ---------------------------------------------------------------------------
// Named POSIX semaphore.

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
        let path = sem_path(name);
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
    pub fn path(&self) -> std::path::PathBuf {
        sem_path(&self.name)
    }
}

fn sem_path(name: &ShmName) -> std::path::PathBuf {
    std::path::PathBuf::from(format!(
        "{}/sem.{}",
        crate::posix::DEV_SHM,
        &name.as_str()[1..]
    ))
}

impl Semaphore for NamedSemaphore {
    fn wait(&self) -> Result<(), SysError> {
        sem_wait(self.sem, "sem_wait(sem)")
    }

    fn post(&self) -> Result<(), SysError> {
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

fn explain_sem_open(call: String, errno: Errno, name: &ShmName) -> SysError {
    let err = SysError::new(call, errno);
    let path = sem_path(name);
    match errno {
        Errno::EEXIST => {
            let owner = std::fs::symlink_metadata(&path).ok().map(|m| m.uid());
            let facts =
                owner.map_or_else(String::new, |uid| format!(" (owner {})", user_name(uid)));
            let me = Uid::effective();
            if owner.is_some_and(|uid| uid != me.as_raw()) && !me.is_root() {
                err.hint(format!(
                    "{} already exists{facts}.\n\
                     Only its owner or root can remove it (/dev/shm is sticky, like /tmp).\n\
                     Use another name with --name",
                    path.display()
                ))
            } else {
                err.hint(format!(
                    "{} already exists{facts}, probably left by an earlier run.\n\
                     Remove it with: rm {}\nor use another name with --name",
                    path.display(),
                    path.display()
                ))
            }
        }
        Errno::ENOENT => err.hint(format!(
            "{} does not exist: it was removed (rm, sem_unlink) meanwhile.",
            path.display()
        )),
        _ => err,
    }
}
