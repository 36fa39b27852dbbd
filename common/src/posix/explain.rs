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
use crate::harness::output::{age_text, shell_word};
use crate::system::users::user_name;

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
        path.display()
    ))
}

/// `shm_unlink` found the name leading to another object than ours.
pub(super) fn replaced_meanwhile(call: String, path: &Path) -> SysError {
    SysError::new(call, Errno::ESTALE).hint(format!(
        "{} is no longer the object this run created: someone replaced it\n\
         meanwhile. It was left alone; remove it yourself if it is stale: rm {}",
        path.display(),
        path.display()
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
        free_neighbour(name).map_or_else(|| String::from("/NAME"), |n| n.to_string())
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

/// Whether a run is using the object behind `name` right now: every run
/// of ours holds a shared flock on its object for as long as it lives (see
/// [`PosixShm::create_exclusive`]), so an exclusive, non-blocking flock
/// fails exactly while one does. `None` if this user cannot open the file
/// to ask.
fn in_use(name: &ShmName) -> Option<bool> {
    let fd = nix::fcntl::open(
        &name.path(),
        OFlag::O_RDONLY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .ok()?;
    match Flock::lock(fd, FlockArg::LockExclusiveNonblock) {
        Ok(_free) => Some(false),
        Err((_, Errno::EWOULDBLOCK)) => Some(true),
        Err(_) => None,
    }
}

/// What /dev/shm says about the file behind a name.
fn describe(name: &ShmName) -> Option<(u32, String)> {
    let meta = std::fs::metadata(name.path()).ok()?;
    let age = meta
        .modified()
        .ok()
        .and_then(|t| SystemTime::now().duration_since(t).ok())
        .map_or_else(String::new, |d| {
            format!(", last written {} ago", age_text(d.as_secs()))
        });
    Some((
        meta.uid(),
        format!(
            "owner {}, mode {:04o}, {} bytes{age}",
            user_name(meta.uid()),
            meta.mode() & 0o777,
            meta.len()
        ),
    ))
}

/// A name like this one that no object has yet, to offer when it is taken.
fn free_neighbour(name: &ShmName) -> Option<ShmName> {
    (2..100)
        .filter_map(|n| ShmName::parse(&format!("{name}-{n}")).ok())
        .find(|candidate| !candidate.path().exists())
}

pub(super) fn explain_open(call: String, errno: Errno, name: &ShmName) -> SysError {
    let err = SysError::new(call, errno);
    let path = name.path();
    let another = free_neighbour(name).map_or_else(
        || String::from("another name with --name"),
        |n| format!("another name: --name {n}"),
    );
    match errno {
        Errno::EEXIST => {
            let Some((uid, facts)) = describe(name) else {
                return err.hint(format!("{} exists already. Use {another}", path.display()));
            };
            let me = Uid::effective();
            let path = path.display();
            let hint = match (uid != me.as_raw() && !me.is_root(), in_use(name)) {
                (true, _) => format!(
                    "{path} already exists ({facts}).\nOnly its owner or root can remove it \
                     (/dev/shm is sticky, like /tmp).\nUse {another}"
                ),
                (false, Some(true)) => format!(
                    "{path} already exists ({facts}),\nand a run is using it right now: it holds a lock on it. \
                     Removing it would break that run.\nWait for it to end, or use {another}"
                ),
                (false, _) => format!(
                    "{path} already exists ({facts}),\nand no run holds a lock on it: a run that was killed left it, \
                     or a program\nthat takes no lock, like the article's C.\n\
                     Remove it with: rm {path}\nor use {another}"
                ),
            };
            err.hint(hint)
        }
        Errno::EACCES => {
            let whose = describe(name).map_or_else(|| String::from("another user's"), |(_, facts)| facts);
            err.hint(format!(
                "{} may not be opened for reading and writing by this user ({whose}).\nUse {another}",
                path.display()
            ))
        }
        Errno::ENOENT => err.hint(format!(
            "{} does not exist: it was never created, or it was removed (rm, shm_unlink) meanwhile.",
            path.display()
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
