//! What a POSIX failure means, and what to do about it: the hints for
//! `shm_open`, `ftruncate`/`fallocate`, `shm_unlink` and `sem_open`, whether
//! a run is using an object right now, and a free name to offer when one
//! is taken.
//!
//! The mechanism these explain is in `object.rs` and `semaphore.rs`, next
//! to this file.

use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::time::SystemTime;

use nix::errno::Errno;
use nix::fcntl::{Flock, FlockArg, OFlag};
use nix::sys::stat::Mode;
use nix::unistd::Uid;

use super::name::ShmName;
use crate::error::{Failure, SysError, by_root};
use crate::system::procs;
use crate::system::users::user_name;
use crate::terminal::output::{age_text, shell_word};

/// Why a size could not be given to the object.
pub(super) fn explain_size(call: String, errno: Errno, len: usize) -> SysError {
    let err = SysError::new(call, errno);
    match errno {
        Errno::ENOSPC => err.hint(format!(
            "the tmpfs at /dev/shm has no room left for {len} more bytes (not a disk: memory).\n\
             See what fills it with: df -h /dev/shm; ls -la /dev/shm\n\
             Remove what is yours and stale, or {}",
            by_root("enlarge it", "mount -o remount,size=1G /dev/shm")
        )),
        Errno::EFBIG => err.hint(format!(
            "{len} bytes is more than this process may write to a file: its file size limit\n\
             (ulimit -f, in blocks of 1 KiB) is lower. Raise it: ulimit -f unlimited"
        )),
        _ => err,
    }
}

/// `shm_unlink` found the name gone: someone else removed it.
pub(super) fn removed_meanwhile(call: String, path: &Path) -> SysError {
    SysError::new(call, Errno::ENOENT).hint(format!(
        "{} was removed by someone else while the run went on (rm, or another\n\
         program's shm_unlink). Nothing is left to clean up.",
        shell_word(path)
    ))
}

/// `shm_unlink` found the name leading to another object than ours.
pub(super) fn replaced_meanwhile(call: String, path: &Path) -> SysError {
    SysError::new(call, Errno::ESTALE).hint(format!(
        "{} is no longer the object this run created: someone replaced it\n\
         meanwhile. It is not this run's, so it was left alone.",
        shell_word(path)
    ))
}

/// A child opened another object than its run's (see `PosixShm::must_be`).
pub(super) fn another_object(name: &ShmName, found: &libc::stat, expected_ino: u64) -> Failure {
    let path = shell_word(&name.path());
    Failure::new(format!(
        "{path} is another object now (inode {}, owner {}), not the one this run works on \
         (inode {}): it was removed and made again meanwhile; this child left it alone",
        found.st_ino,
        user_name(found.st_uid),
        expected_ino
    ))
    .hint(format!(
        "someone removed the run's object (rm, shm_unlink) and created a new one with the\n\
         same name while the children were starting. Run again; to keep out of others' way,\n\
         use a name of your own, e.g. {} {}",
        name_flag(),
        free_neighbour(name).map_or_else(|| String::from("/NAME"), |n| n.shell_word())
    ))
}

/// A child found another semaphore under the name than its run's.
pub(super) fn another_semaphore(name: &ShmName, expected_ino: u64) -> Failure {
    Failure::new(format!(
        "{} is another semaphore now, not the one this run uses (inode {}): it was removed and \
         made again meanwhile; this child left it alone",
        shell_word(&name.semaphore_path()),
        expected_ino
    ))
    .hint(format!(
        "someone removed the run's semaphore and created a new one with the same name while\n\
         the children were starting. Run again, with a name of your own ({}).",
        name_flag()
    ))
}

/// `--attach --lock semaphore`, and the run joined has no semaphore.
pub(super) fn no_semaphore_to_join(name: &ShmName) -> Failure {
    Failure::new(format!(
        "--lock semaphore cannot join the run: {} does not exist",
        shell_word(&name.semaphore_path())
    ))
    .hint(
        "the run you join was started without --lock semaphore (or its semaphore was removed).\n\
         Join it with --lock atomic, which needs no lock object; or start the run to join\n\
         with --lock semaphore.",
    )
}

/// `--attach --lock semaphore` found a file at the semaphore's name that
/// is not the joined run's semaphore.
pub(super) fn foreign_semaphore(name: &ShmName, meta: &std::fs::Metadata, owner: u32) -> Failure {
    let why = if !meta.file_type().is_file() {
        String::from("it is not a regular file")
    } else if meta.uid() != owner {
        format!(
            "it belongs to {}, and the object to {}",
            user_name(meta.uid()),
            user_name(owner)
        )
    } else {
        format!("it is {} bytes, not one sem_t", meta.len())
    };
    Failure::new(format!(
        "--lock semaphore cannot join the run: {} is not the semaphore its creator made: {why}; \
         it was left alone",
        shell_word(&name.semaphore_path())
    ))
    .hint(
        "waiting on a semaphore someone else controls could wait forever. Join with --lock\n\
         atomic, which needs no lock object, or use a name of your own (--name).",
    )
}

/// The flag that names the object in the running program: `--name` in
/// racing_posix_shm, `--posix` in mmap_mem.
pub(super) fn name_flag() -> &'static str {
    if crate::error::program_name() == "mmap_mem" {
        "--posix"
    } else {
        "--name"
    }
}

/// What /dev/shm says about the file behind a name.
fn describe(name: &ShmName) -> Option<(u32, String)> {
    let meta = std::fs::metadata(name.path()).ok()?;
    Some((meta.uid(), facts_of(&meta)))
}

/// "owner uid 0 (root), mode 0600, 4 bytes, last written 3 min ago"
fn facts_of(meta: &std::fs::Metadata) -> String {
    let age = meta
        .modified()
        .ok()
        .and_then(|t| SystemTime::now().duration_since(t).ok())
        .map_or_else(String::new, |d| {
            format!(", last written {} ago", age_text(d.as_secs()))
        });
    format!(
        "owner {}, mode {:04o}, {} bytes{age}",
        user_name(meta.uid()),
        meta.mode() & 0o777,
        meta.len()
    )
}

/// A name like this one that no object has yet, to offer when it is taken.
fn free_neighbour(name: &ShmName) -> Option<ShmName> {
    (2..100)
        .filter_map(|n| ShmName::parse(&format!("{name}-{n}")).ok())
        .find(|candidate| !candidate.path().exists())
}

/// The processes using the file at `path` now, as far as this user can
/// tell: those that map it (/proc/PID/maps) or hold a flock on it.
fn users_of(path: &Path) -> Vec<libc::pid_t> {
    let mut pids = procs::mapping(path);
    if let Ok(meta) = std::fs::symlink_metadata(path) {
        pids.extend(procs::flock_holders(meta.dev(), meta.ino()));
    }
    pids.sort_unstable();
    pids.dedup();
    pids
}

/// "pid 4242 (racing_posix_shm) maps it" for the first of `users`.
fn used_by(users: &[libc::pid_t]) -> String {
    match users.first() {
        Some(pid) => {
            let name = procs::name_of(*pid).map_or_else(String::new, |n| format!(" ({n})"));
            match users.len() {
                1 => format!("pid {pid}{name} uses it"),
                n => format!("pid {pid}{name} and {} more use it", n - 1),
            }
        }
        None => String::from("a run holds a lock on it"),
    }
}

/// How a name the program wanted to create is taken, and what may be done.
/// `rm` is offered only for what is provably this user's own leftover of
/// racing_posix_shm: its owner is this user, nothing uses it, and it has
/// a size that program gives its objects (`sizes`); anything else is left
/// alone, and another name offered.
fn taken(path: &Path, sizes: &[u64], another: &str) -> String {
    let q = shell_word(path);
    let Ok(meta) = std::fs::symlink_metadata(path) else {
        return format!("{q} exists already. Use {another}");
    };
    let facts = facts_of(&meta);
    let me = Uid::effective().as_raw();
    let users = users_of(path);
    let locked = nix::fcntl::open(
        path,
        OFlag::O_RDONLY | OFlag::O_NOFOLLOW | OFlag::O_NONBLOCK | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .ok()
    .is_some_and(|fd| {
        matches!(
            Flock::lock(fd, FlockArg::LockExclusiveNonblock),
            Err((_, Errno::EWOULDBLOCK))
        )
    });
    let ours = crate::error::program_name() == "racing_posix_shm"
        && meta.file_type().is_file()
        && sizes.contains(&meta.len());
    if meta.uid() != me {
        format!(
            "{q} already exists ({facts}): {}'s, not yours; it is left alone.\nUse {another}",
            user_name(meta.uid())
        )
    } else if !users.is_empty() || locked {
        format!(
            "{q} already exists ({facts}),\nand is in use right now: {}. Removing it would break that run.\n\
             Wait for it to end, or use {another}",
            used_by(&users)
        )
    } else if ours {
        format!(
            "{q} already exists ({facts}),\nand nothing uses it: a run that was killed left it, or a program\n\
             that takes no lock, like the article's C.\nRemove it with: rm {q}\nor use {another}"
        )
    } else {
        format!(
            "{q} already exists ({facts}): not something this program left (it makes no {} of\n\
             that size), so it is left alone.\nUse {another}",
            if sizes == SEM_SIZE {
                "semaphore"
            } else {
                "object"
            }
        )
    }
}

/// The size of a named semaphore's file: one `sem_t`.
const SEM_SIZE: &[u64] = &[size_of::<libc::sem_t>() as u64];

/// The sizes racing_posix_shm gives its object: the int, and the int with
/// the holder's pid after it (`--lock semaphore`).
const OBJECT_SIZES: &[u64] = &[4, 8];

pub(super) fn explain_open(call: String, errno: Errno, name: &ShmName) -> SysError {
    let err = SysError::new(call, errno);
    let path = name.path();
    let flag = name_flag();
    let another = free_neighbour(name).map_or_else(
        || format!("another name with {flag}"),
        |n| format!("another name: {flag} {}", n.shell_word()),
    );
    match errno {
        Errno::EEXIST => err.hint(taken(&path, OBJECT_SIZES, &another)),
        Errno::EACCES => {
            let whose = describe(name).map_or_else(|| String::from("another user's"), |(_, facts)| facts);
            err.hint(format!(
                "{} may not be opened for reading and writing by this user ({whose}).\nUse {another}",
                shell_word(&path)
            ))
        }
        Errno::ENOENT => err.hint(format!(
            "{} does not exist: it was never created, or it was removed (rm, shm_unlink) meanwhile.",
            shell_word(&path)
        )),
        Errno::ENAMETOOLONG | Errno::EINVAL => err.hint(
            "a POSIX shared memory name is '/' then 1 to 251 bytes with no other '/'.",
        ),
        _ => err,
    }
}

pub(super) fn explain_sem_open(call: String, errno: Errno, name: &ShmName) -> SysError {
    let err = SysError::new(call, errno);
    let path = name.semaphore_path();
    match errno {
        Errno::EEXIST => err.hint(taken(
            &path,
            SEM_SIZE,
            &format!("another name with {}", name_flag()),
        )),
        Errno::ENOENT => err.hint(format!(
            "{} does not exist: it was removed (rm, sem_unlink) meanwhile.",
            shell_word(&path)
        )),
        _ => err,
    }
}
