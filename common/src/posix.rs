//! POSIX shared memory: a named object that is really a file in /dev/shm.
//!
//! On Linux, `shm_open("/shm", ...)` is `open("/dev/shm/shm", ...)` with a
//! check on the name, and `/dev/shm` is a tmpfs: a file system whose files
//! live in memory. So the object is an ordinary file (`ls -l /dev/shm`,
//! `stat`, `rm` all work on it); `ftruncate` sets its size, `mmap` with
//! `MAP_SHARED` maps it, `close` closes it, and `shm_unlink` is `unlink`.
//! Like a System V segment it outlives its processes until it is unlinked,
//! so the value that created it unlinks it when dropped.
//!
//! Names: POSIX asks for one leading `/` and no other. glibc strips any
//! leading slashes, so the article's `"shm"` and our `/shm` are the same
//! object, `/dev/shm/shm`.

use std::fmt;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;
use std::time::SystemTime;

use nix::errno::Errno;
use nix::fcntl::{FallocateFlags, Flock, FlockArg, OFlag, fallocate};
use nix::sys::mman::{shm_open, shm_unlink};
use nix::sys::stat::{Mode, fchmod, fstat};
use nix::unistd::{Uid, ftruncate};

use crate::error::SysError;
use crate::mapping::Mapping;
use crate::xsi::user_name;

/// Where glibc keeps POSIX shared memory objects.
pub const DEV_SHM: &str = "/dev/shm";

/// The longest name, in bytes, after the leading `/`. A file name in
/// /dev/shm may have 255, but `--lock semaphore` also makes the named
/// semaphore `/dev/shm/sem.NAME`, four bytes longer: every object made
/// from the name must fit.
pub const NAME_MAX: usize = 255 - "sem.".len();

/// A valid POSIX shared memory name, kept with its one leading `/`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShmName(String);

impl ShmName {
    /// Check a name as glibc's shm_open and sem_open will: after any
    /// leading `/`s, 1 to [`NAME_MAX`] (251) bytes, no `/`, and not `.` or
    /// `..`. The message states the rule, for use as a flag's usage error.
    pub fn parse(text: &str) -> Result<ShmName, String> {
        let rule = "a POSIX shared memory name is '/' then 1 to 251 bytes with no other '/' (it becomes /dev/shm/NAME, and its semaphore /dev/shm/sem.NAME)";
        let bare = text.trim_start_matches('/');
        if bare.is_empty() {
            return Err(format!("the name is empty; {rule}"));
        }
        if bare.contains('/') {
            return Err(format!("'{text}' has a '/' inside; {rule}"));
        }
        if bare.len() > NAME_MAX {
            return Err(format!("the name is {} bytes long; {rule}", bare.len()));
        }
        if bare == "." || bare == ".." || bare.contains('\0') {
            return Err(format!("'{text}' is not a file name; {rule}"));
        }
        Ok(ShmName(format!("/{bare}")))
    }

    /// `/shm`
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `/dev/shm/shm`
    pub fn path(&self) -> PathBuf {
        PathBuf::from(format!("{DEV_SHM}{}", self.0))
    }
}

impl fmt::Display for ShmName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An open POSIX shared memory object. If this value created it, dropping
/// the value unlinks the name (the memory goes once nobody maps it).
#[derive(Debug)]
pub struct PosixShm {
    name: ShmName,
    fd: OwnedFd,
    owned: bool,
    /// The creator's shared flock on the object, held as long as the value
    /// lives: it tells a run in progress from a leftover (see `in_use`).
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
        // Owned from here: an error below unlinks the name again.
        let mut shm = PosixShm {
            name: name.clone(),
            fd,
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
        let call = format!("shm_open(\"{name}\", O_RDWR, 0)");
        let fd = shm_open(name.as_str(), OFlag::O_RDWR, Mode::empty())
            .map_err(|errno| explain_open(call, errno, name))?;
        Ok(PosixShm {
            name: name.clone(),
            fd,
            owned: false,
            _in_use: None,
        })
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
            return Err(SysError::new(call, Errno::ENOENT).hint(format!(
                "{} was removed by someone else while the run went on (rm, or another\n\
                 program's shm_unlink). Nothing is left to clean up.",
                path.display()
            )));
        }
        if !still_ours(&self.fd, &self.name) {
            return Err(SysError::new(call, Errno::ESTALE).hint(format!(
                "{} is no longer the object this run created: someone replaced it\n\
                 meanwhile. It was left alone; remove it yourself if it is stale: rm {}",
                path.display(),
                path.display()
            )));
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
            let _ = shm_unlink(self.name.as_str());
        }
    }
}

/// Why a size could not be given to the object.
fn explain_size(call: String, errno: Errno, len: usize) -> SysError {
    let err = SysError::new(call, errno);
    match errno {
        Errno::ENOSPC => err.hint(format!(
            "the tmpfs at /dev/shm has no room left for {len} more bytes (not a disk: memory).\n\
             See what fills it with: df -h /dev/shm; ls -la /dev/shm\n\
             Remove what is yours and stale, or {}",
            crate::error::by_root("enlarge it", "mount -o remount,size=1G /dev/shm")
        )),
        Errno::EFBIG => err.hint(format!(
            "{len} bytes is more than this process may write to a file: its file size limit\n\
             (ulimit -f, in blocks of 1 KiB) is lower. Raise it: ulimit -f unlimited"
        )),
        _ => err,
    }
}

fn still_ours(fd: &OwnedFd, name: &ShmName) -> bool {
    match (fstat(fd), std::fs::metadata(name.path())) {
        (Ok(mine), Ok(there)) => mine.st_ino == there.ino() && mine.st_dev == there.dev(),
        _ => false,
    }
}

fn raw(fd: &OwnedFd) -> i32 {
    use std::os::fd::AsRawFd;
    fd.as_raw_fd()
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
            format!(", last written {} ago", human_age(d.as_secs()))
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

fn human_age(secs: u64) -> String {
    match secs {
        0..=119 => format!("{secs} s"),
        120..=7199 => format!("{} min", secs / 60),
        7200..=172_799 => format!("{} h", secs / 3600),
        _ => format!("{} days", secs / 86400),
    }
}

/// A name like this one that no object has yet, to offer when it is taken.
fn free_neighbour(name: &ShmName) -> Option<ShmName> {
    (2..100)
        .filter_map(|n| ShmName::parse(&format!("{name}-{n}")).ok())
        .find(|candidate| !candidate.path().exists())
}

fn explain_open(call: String, errno: Errno, name: &ShmName) -> SysError {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_get_one_leading_slash() {
        assert_eq!(ShmName::parse("shm").unwrap().as_str(), "/shm");
        assert_eq!(ShmName::parse("/shm").unwrap().as_str(), "/shm");
        assert_eq!(
            ShmName::parse("//shm").unwrap().as_str(),
            "/shm",
            "glibc strips them all"
        );
        assert_eq!(
            ShmName::parse("/shm").unwrap().path(),
            PathBuf::from("/dev/shm/shm")
        );
    }

    #[test]
    fn bad_names_are_refused_with_the_rule() {
        for bad in ["", "/", "/a/b", "a/b", ".", "/.."] {
            let msg = ShmName::parse(bad).unwrap_err();
            assert!(msg.contains("'/' then 1 to 251 bytes"), "{bad:?}: {msg}");
        }
        // 252 bytes would do for the object, but not for sem.NAME (256).
        let long = "x".repeat(252);
        assert!(
            ShmName::parse(&long)
                .unwrap_err()
                .contains("252 bytes long")
        );
        assert!(ShmName::parse(&"x".repeat(251)).is_ok());
    }

    #[test]
    fn ages_read_like_a_person_would_say_them() {
        assert_eq!(human_age(5), "5 s");
        assert_eq!(human_age(600), "10 min");
        assert_eq!(human_age(3 * 86400), "3 days");
    }
}
