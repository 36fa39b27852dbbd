//! System V ("XSI") shared memory: keys, segments, attachments.
//!
//! The article compares the three names involved with files:
//!
//! | System V | like a file's | lives |
//! |---|---|---|
//! | key (`ftok(path, proj_id)`) | path: a name every process can agree on | as long as the segment |
//! | shmid (`shmget`) | open file descriptor, but system-wide | as long as the segment |
//! | attachment (`shmat`) | `mmap` of the open file | until `shmdt` or exit |
//!
//! A segment outlives every process that used it: `shmdt` (or exit) only
//! detaches; the segment goes away on `shmctl(IPC_RMID)` or `ipcrm`, or at
//! reboot. So here the value that *created* a segment owns it, and removes
//! it when dropped — on success, on error, and on Ctrl-C alike.
//!
//! nix has no System V wrappers (nix issue #1718), so this module calls libc.
//! Every `unsafe` block is one such call.

use std::cell::Cell;
use std::ffi::CString;
use std::fmt;
use std::marker::PhantomData;
use std::mem::MaybeUninit;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::ptr::NonNull;

use nix::errno::Errno;
use nix::unistd::{Uid, User};

use crate::error::SysError;
use crate::memory::{SharedMemory, sealed};

/// A System V IPC key: the name under which unrelated processes find the
/// same segment. Printed as `ipcs` prints it: `0xd20002e1`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Key {
    raw: libc::key_t,
    /// The `ftok` arguments it came from, to suggest another key if it is taken.
    origin: Option<(PathBuf, i32)>,
}

impl Key {
    /// `IPC_PRIVATE`: not a name at all. `shmget` always creates a new
    /// segment that only its shmid (passed on by `fork`) can reach.
    pub const PRIVATE: Key = Key {
        raw: libc::IPC_PRIVATE,
        origin: None,
    };

    /// `ftok(path, proj_id)`.
    ///
    /// ftok does not hash the *name*: it `stat`s the file and combines the
    /// low 8 bits of `proj_id`, the low 8 bits of the file's device number
    /// and the low 16 bits of its inode number. Two names for one inode (a
    /// hard link) give the same key; a file deleted and created again
    /// usually gets a new inode, and so a new key.
    ///
    /// A path that is a different file in every process (`/proc/self/…`)
    /// is refused: each process would compute a different key, and the
    /// children would never find the parent's segment.
    pub fn ftok(path: &Path, proj_id: i32) -> Result<Key, SysError> {
        let call = format!("ftok(\"{}\", {proj_id})", path.display());
        if let Some(real) = per_process(path) {
            return Err(SysError::new(call, Errno::EINVAL).hint(format!(
                "{} is {} here: this process's own file, a different file in\n\
                 every process. Each child's ftok would give another key, and none would find\n\
                 the parent's segment. Use a file every process sees as the same, e.g. --path /etc/passwd.",
                path.display(),
                real.display()
            )));
        }
        let c_path = CString::new(path.as_os_str().as_bytes()).map_err(|_| {
            SysError::new(call.clone(), Errno::EINVAL).hint("the path contains a NUL byte.")
        })?;
        // SAFETY: `c_path` is a valid NUL-terminated string that outlives
        // the call; ftok only reads it.
        let raw = unsafe { libc::ftok(c_path.as_ptr(), proj_id) };
        if raw == -1 {
            let errno = Errno::last();
            let err = SysError::new(call, errno);
            return Err(match errno {
                Errno::ENOENT | Errno::ENOTDIR => err.hint(format!(
                    "{} does not exist. ftok needs an existing file: the key is made from\n\
                     its inode and device numbers, not its name. Any file every user of the\n\
                     key can see will do, e.g. --path /etc/passwd (the article's choice).",
                    path.display()
                )),
                Errno::EACCES => err.hint(format!(
                    "a directory on the way to {} cannot be searched by this user.\n\
                     Pick a file everyone can reach, e.g. --path /etc/passwd.",
                    path.display()
                )),
                _ => err,
            });
        }
        Ok(Key {
            raw,
            origin: Some((path.to_owned(), proj_id)),
        })
    }

    /// The key as `shmget` takes it.
    pub fn raw(&self) -> libc::key_t {
        self.raw
    }

    /// The three parts ftok packed into the key: proj_id's low 8 bits,
    /// the device's low 8 bits, the inode's low 16 bits.
    pub fn ftok_parts(&self) -> (u8, u8, u16) {
        let bits = self.raw as u32;
        ((bits >> 24) as u8, (bits >> 16) as u8, bits as u16)
    }

    /// One line for the student: which key, and what ftok made it from.
    ///
    /// `key 0xd20002e1 = ftok("/etc/passwd", 1234): proj_id 1234 → 0xd2 (ftok keeps only its low 8 bits), device → 0x00, inode → 0x02e1`
    pub fn explain(&self) -> String {
        let Some((path, proj_id)) = &self.origin else {
            return format!("key {self}");
        };
        let (proj, dev, ino) = self.ftok_parts();
        let kept = if i64::from(*proj_id) == i64::from(proj) {
            ""
        } else {
            " (ftok keeps only its low 8 bits)"
        };
        format!(
            "key {self} = ftok(\"{}\", {proj_id}): proj_id {proj_id} → {proj:#04x}{kept}, \
             device → {dev:#04x}, inode → {ino:#06x}",
            path.display()
        )
    }

    /// A proj_id near the one this key came from whose key no segment and
    /// no semaphore set uses, to offer when this key is taken.
    fn free_neighbour(&self) -> Option<(i32, Key)> {
        let (path, proj_id) = self.origin.as_ref()?;
        let taken: Vec<libc::key_t> = segments()
            .iter()
            .map(|s| s.key)
            .chain(crate::semaphore::semaphore_sets().iter().map(|s| s.key))
            .collect();
        (1..=255)
            .map(|step| proj_id.wrapping_add(step))
            .filter(|candidate| candidate & 0xff != 0)
            .filter_map(|candidate| Key::ftok(path, candidate).ok().map(|key| (candidate, key)))
            .find(|(_, key)| !taken.contains(&key.raw))
    }

    /// "another key: --proj-id 1235 (key 0xd30002e1 is free)"
    pub(crate) fn another_key_hint(&self) -> String {
        match self.free_neighbour() {
            Some((proj_id, key)) => format!("another key: --proj-id {proj_id} (key {key} is free)"),
            None => String::from("another key with --proj-id"),
        }
    }
}

/// Where `path` really leads, if that is inside this process's own
/// /proc/PID directory (`/proc/self`, `/proc/thread-self`).
fn per_process(path: &Path) -> Option<PathBuf> {
    let real = std::fs::canonicalize(path).ok()?;
    real.starts_with(Path::new("/proc").join(std::process::id().to_string()))
        .then_some(real)
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.raw == libc::IPC_PRIVATE {
            f.write_str("IPC_PRIVATE")
        } else {
            write!(f, "{:#010x}", self.raw as u32)
        }
    }
}

/// A System V shared memory segment, by shmid.
///
/// A segment this value created (`create_*`) is removed with `IPC_RMID`
/// when the value is dropped; one merely opened by key is left alone.
#[derive(Debug)]
pub struct Segment {
    id: libc::c_int,
    key: Key,
    size: usize,
    owned: bool,
    /// IPC_RMID was already asked for (see [`Segment::mark_for_removal`]).
    marked: Cell<bool>,
    /// The shmget call that made or found it, for reports.
    call: String,
}

/// Whether a new segment uses ordinary pages or huge pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pages {
    /// 4 KiB pages, swappable, counted in free's "shared".
    Normal,
    /// `SHM_HUGETLB`: pages from the reserved huge page pool
    /// (vm.nr_hugepages), never swapped, invisible to free.
    Huge,
}

impl Segment {
    fn new(id: libc::c_int, key: Key, size: usize, owned: bool, call: String) -> Segment {
        Segment {
            id,
            key,
            size,
            owned,
            marked: Cell::new(false),
            call,
        }
    }

    /// `shmget(key, size, IPC_CREAT|IPC_EXCL|mode)`: a new segment, or an
    /// error if one with this key exists already. `IPC_EXCL` is what keeps a
    /// run from silently sharing a leftover segment (or a classmate's).
    pub fn create_exclusive(key: Key, size: usize, mode: u32) -> Result<Segment, SysError> {
        let flags = libc::IPC_CREAT | libc::IPC_EXCL | (mode & 0o777) as libc::c_int;
        let call = format!("shmget(key={key}, size={size}, IPC_CREAT|IPC_EXCL|{mode:04o})");
        let id = shmget(&key, size, flags)
            .map_err(|errno| explain_shmget(call.clone(), errno, &key, size, Pages::Normal))?;
        Ok(Segment::new(id, key, size, true, call))
    }

    /// `shmget(IPC_PRIVATE, size, mode)` (with `SHM_HUGETLB` for huge
    /// pages): a new segment with no key, reachable only through its shmid.
    /// The article's memory demos use this.
    pub fn create_private(size: usize, mode: u32, pages: Pages) -> Result<Segment, SysError> {
        let (huge_flag, huge_name) = match pages {
            Pages::Normal => (0, ""),
            Pages::Huge => (libc::SHM_HUGETLB, "SHM_HUGETLB|"),
        };
        let flags = libc::IPC_CREAT | huge_flag | (mode & 0o777) as libc::c_int;
        let call = format!("shmget(IPC_PRIVATE, {size}, {huge_name}{mode:04o})");
        let key = Key::PRIVATE;
        let id = shmget(&key, size, flags)
            .map_err(|errno| explain_shmget(call.clone(), errno, &key, size, pages))?;
        Ok(Segment::new(id, key, size, true, call))
    }

    /// `shmget(key, size, 0)`: the segment that already has this key. The
    /// article's children find the parent's segment this way.
    pub fn open(key: Key, size: usize) -> Result<Segment, SysError> {
        let call = format!("shmget(key={key}, size={size}, 0)");
        let id = shmget(&key, size, 0)
            .map_err(|errno| explain_shmget(call.clone(), errno, &key, size, Pages::Normal))?;
        Ok(Segment::new(id, key, size, false, call))
    }

    /// `shmget(IPC_PRIVATE, 67108864, 0600) = shmid 7`: for the demos' reports.
    pub fn created(&self) -> String {
        format!("{} = shmid {}", self.call, self.id)
    }

    /// Whether IPC_RMID was asked for already ([`Segment::mark_for_removal`]).
    pub fn is_marked(&self) -> bool {
        self.marked.get()
    }

    /// The shmid, as `ipcs -m` lists it.
    pub fn id(&self) -> libc::c_int {
        self.id
    }

    pub fn key(&self) -> &Key {
        &self.key
    }

    /// `shmctl(shmid, IPC_STAT, &buf)`: owner, mode, size, attach count.
    pub fn stat(&self) -> Result<SegmentInfo, SysError> {
        let mut buf = MaybeUninit::<libc::shmid_ds>::zeroed();
        // SAFETY: `buf` is a writable shmid_ds; IPC_STAT fills it in.
        let rc = unsafe { libc::shmctl(self.id, libc::IPC_STAT, buf.as_mut_ptr()) };
        if rc == -1 {
            return Err(SysError::new(
                format!("shmctl({}, IPC_STAT, &buf)", self.id),
                Errno::last(),
            ));
        }
        // SAFETY: shmctl returned success, so it initialised the buffer
        // (and it was zeroed before, so even padding is initialised).
        let ds = unsafe { buf.assume_init() };
        Ok(SegmentInfo {
            key: ds.shm_perm.__key,
            id: self.id,
            mode: u32::from(ds.shm_perm.mode),
            size: ds.shm_segsz,
            creator_pid: ds.shm_cpid,
            attached: ds.shm_nattch,
            uid: ds.shm_perm.uid,
        })
    }

    /// `shmat(shmid, NULL, 0)`: map the segment into this process. The
    /// attachment borrows the segment, so it is detached before the segment
    /// value can be dropped (and the segment removed), as in the article.
    pub fn attach(&self) -> Result<Attachment<'_>, SysError> {
        // SAFETY: with a null address the kernel chooses a free range, so
        // no existing Rust object is affected; the new range is owned by
        // the returned Attachment alone.
        let addr = unsafe { libc::shmat(self.id, std::ptr::null(), 0) };
        if addr as isize == -1 {
            let errno = Errno::last();
            let err = SysError::new(format!("shmat({}, NULL, 0)", self.id), errno);
            return Err(match errno {
                Errno::EACCES => err.hint(
                    "this user may not read and write the segment (see its perms in ipcs -m).",
                ),
                Errno::EINVAL => err.hint(format!(
                    "shmid {} no longer names a segment: it was removed (ipcrm?) meanwhile.",
                    self.id
                )),
                Errno::ENOMEM => err.hint(format!(
                    "this process has no room for {} more bytes of address space: its limit\n\
                     (`ulimit -v`, in KiB) is too low. Raise it (ulimit -v unlimited), or ask for less with --size.",
                    self.size
                )),
                _ => err,
            });
        }
        let start = NonNull::new(addr)
            .ok_or_else(|| SysError::new(format!("shmat({}, NULL, 0)", self.id), Errno::EFAULT))?;
        Ok(Attachment {
            start,
            len: self.size,
            segment: PhantomData,
        })
    }

    /// `shmctl(shmid, IPC_RMID, NULL)`: remove the segment now. The
    /// kernel destroys it once the last process has detached; until then
    /// `ipcs -m` shows it with status `dest`.
    pub fn remove(mut self) -> Result<(), SysError> {
        self.owned = false;
        if self.marked.get() {
            // Asked for already; the kernel destroyed it at the last detach.
            return Ok(());
        }
        rmid(self.id)
    }

    /// `shmctl(shmid, IPC_RMID, NULL)` *now*, while still attached: the
    /// segment loses its key, `ipcs -m` shows it as `dest`, and the kernel
    /// destroys it when the last process detaches — even a process killed
    /// with SIGKILL, which runs no cleanup code, detaches as it dies. New
    /// processes can no longer attach it.
    pub fn mark_for_removal(&self) -> Result<(), SysError> {
        if !self.marked.get() {
            rmid(self.id)?;
            self.marked.set(true);
        }
        Ok(())
    }
}

impl Drop for Segment {
    fn drop(&mut self) {
        if self.owned && !self.marked.get() {
            let _ = rmid(self.id);
        }
    }
}

fn shmget(key: &Key, size: usize, flags: libc::c_int) -> Result<libc::c_int, Errno> {
    // SAFETY: shmget takes plain integers and touches no memory of ours.
    let id = unsafe { libc::shmget(key.raw, size, flags) };
    if id == -1 { Err(Errno::last()) } else { Ok(id) }
}

fn rmid(id: libc::c_int) -> Result<(), SysError> {
    // SAFETY: IPC_RMID ignores the buffer argument, so NULL is allowed.
    let rc = unsafe { libc::shmctl(id, libc::IPC_RMID, std::ptr::null_mut()) };
    if rc == -1 {
        let errno = Errno::last();
        let err = SysError::new(format!("shmctl({id}, IPC_RMID, NULL)"), errno);
        return Err(match errno {
            Errno::EPERM => {
                err.hint("only the segment's owner, its creator or root may remove it.")
            }
            Errno::EINVAL => {
                err.hint("the segment is already gone (removed by someone else, e.g. ipcrm).")
            }
            _ => err,
        });
    }
    Ok(())
}

/// The segment attached to this process's memory; `shmdt` on drop.
#[derive(Debug)]
pub struct Attachment<'s> {
    start: NonNull<libc::c_void>,
    len: usize,
    segment: PhantomData<&'s Segment>,
}

impl Attachment<'_> {
    /// `shmdt(shm_p)`: unmap the segment from this process. The segment
    /// itself stays, with its contents, until it is removed.
    pub fn detach(self) -> Result<(), SysError> {
        let this = std::mem::ManuallyDrop::new(self);
        shmdt(this.start)
    }
}

impl Drop for Attachment<'_> {
    fn drop(&mut self) {
        let _ = shmdt(self.start);
    }
}

fn shmdt(start: NonNull<libc::c_void>) -> Result<(), SysError> {
    // SAFETY: `start` is the address shmat returned, and the Attachment
    // that held it is being consumed or dropped, so nothing can use the
    // range afterwards.
    let rc = unsafe { libc::shmdt(start.as_ptr()) };
    if rc == -1 {
        return Err(SysError::new(format!("shmdt({start:p})"), Errno::last()));
    }
    Ok(())
}

impl SharedMemory for Attachment<'_> {
    fn start(&self) -> NonNull<u8> {
        self.start.cast()
    }

    fn len(&self) -> usize {
        self.len
    }
}

impl sealed::Sealed for Attachment<'_> {}

/// What `ipcs -m` shows about one segment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SegmentInfo {
    pub key: libc::key_t,
    pub id: libc::c_int,
    /// Permission bits, plus SHM_DEST (0o1000) once IPC_RMID was asked for
    /// while still attached.
    pub mode: u32,
    pub size: usize,
    pub creator_pid: libc::pid_t,
    pub attached: libc::shmatt_t,
    pub uid: libc::uid_t,
}

impl SegmentInfo {
    /// "shmid 32769, owner uid 0 (root), mode 0600, 4 bytes, 0 attached"
    pub fn describe(&self) -> String {
        format!(
            "shmid {}, owner {}, mode {:04o}, {} bytes, {} attached",
            self.id,
            user_name(self.uid),
            self.mode & 0o777,
            self.size,
            self.attached
        )
    }
}

/// `uid 1000 (alice)`, or just `uid 1000` if it has no name.
pub fn user_name(uid: libc::uid_t) -> String {
    match User::from_uid(Uid::from_raw(uid)) {
        Ok(Some(user)) => format!("uid {uid} ({})", user.name),
        _ => format!("uid {uid}"),
    }
}

/// The rows of a /proc/sysvipc table (`shm`, `sem` or `msg`), each as
/// (column name → value). Every user may read these files, so a program can
/// describe an object it has no permission to open. An unreadable file
/// gives no rows.
pub fn sysvipc_table(which: &str) -> Vec<std::collections::HashMap<String, String>> {
    let Ok(text) = std::fs::read_to_string(format!("/proc/sysvipc/{which}")) else {
        return Vec::new();
    };
    let mut lines = text.lines();
    let columns: Vec<String> = lines
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .map(str::to_owned)
        .collect();
    lines
        .map(|line| {
            columns
                .iter()
                .cloned()
                .zip(line.split_whitespace().map(str::to_owned))
                .collect()
        })
        .collect()
}

/// Every segment on the system, from /proc/sysvipc/shm.
pub fn segments() -> Vec<SegmentInfo> {
    sysvipc_table("shm")
        .into_iter()
        .filter_map(|row| {
            let field = |name: &str| row.get(name).map(String::as_str);
            Some(SegmentInfo {
                key: field("key")?.parse().ok()?,
                id: field("shmid")?.parse().ok()?,
                mode: u32::from_str_radix(field("perms")?, 8).ok()?,
                size: field("size")?.parse().ok()?,
                creator_pid: field("cpid")?.parse().ok()?,
                attached: field("nattch")?.parse().ok()?,
                uid: field("uid")?.parse().ok()?,
            })
        })
        .collect()
}

/// The segment that has this key, if any.
pub fn find(key: &Key) -> Option<SegmentInfo> {
    if key.raw == libc::IPC_PRIVATE {
        return None;
    }
    segments().into_iter().find(|s| s.key == key.raw)
}

/// The kernel's limits on System V shared memory (`ipcs -l` shows them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// kernel.shmmax: the largest segment, in bytes.
    pub shmmax: u64,
    /// kernel.shmall: all segments together, in pages.
    pub shmall: u64,
    /// kernel.shmmni: how many segments may exist.
    pub shmmni: u64,
}

impl Limits {
    /// Refuse a new segment of `size` bytes that a limit would stop, naming
    /// the limit and the command that raises it — before creating anything.
    pub fn check(&self, size: u64) -> Result<(), crate::error::Failure> {
        use crate::error::{Failure, by_root};
        use crate::meminfo::size_text;
        let page = page_size();
        if size > self.shmmax {
            return Err(Failure::new(format!(
                "{} is more than one segment may hold: kernel.shmmax is {} bytes",
                size_text(size),
                self.shmmax
            ))
            .hint(format!(
                "{}\nor ask for less with --size",
                by_root("raise it", &format!("sysctl -w kernel.shmmax={size}"))
            )));
        }
        let in_use: u64 = segments()
            .iter()
            .map(|s| (s.size as u64).div_ceil(page))
            .sum();
        let pages = size.div_ceil(page);
        if in_use + pages > self.shmall {
            return Err(Failure::new(format!(
                "{} is {pages} pages; with the {in_use} pages other segments hold, that is more than kernel.shmall = {} pages",
                size_text(size),
                self.shmall
            ))
            .hint(format!(
                "{}\nor remove your leftover segments (ipcs -m, ipcrm), or ask for less with --size",
                by_root(
                    "raise it",
                    &format!("sysctl -w kernel.shmall={}", in_use + pages)
                )
            )));
        }
        let count = segments().len() as u64;
        if count >= self.shmmni {
            return Err(Failure::new(format!(
                "{count} segments exist already, the most kernel.shmmni = {} allows",
                self.shmmni
            ))
            .hint(format!(
                "remove your leftovers (ipcs -m, ipcrm -m SHMID), or {}",
                by_root(
                    "raise it",
                    &format!("sysctl -w kernel.shmmni={}", count + 1)
                )
            )));
        }
        Ok(())
    }

    pub fn read() -> Option<Limits> {
        let read = |name: &str| -> Option<u64> {
            std::fs::read_to_string(format!("/proc/sys/kernel/{name}"))
                .ok()?
                .trim()
                .parse()
                .ok()
        };
        Some(Limits {
            shmmax: read("shmmax")?,
            shmall: read("shmall")?,
            shmmni: read("shmmni")?,
        })
    }
}

/// The system's page size, the unit of kernel.shmall.
fn page_size() -> u64 {
    // SAFETY: sysconf only reads a configuration value.
    let size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    u64::try_from(size).unwrap_or(4096)
}

/// Turn a failed `shmget` into an error that says which situation it is.
fn explain_shmget(call: String, errno: Errno, key: &Key, size: usize, pages: Pages) -> SysError {
    let err = SysError::new(call, errno);
    if pages == Pages::Huge {
        match errno {
            Errno::ENOMEM => {
                return err.hint(crate::hugepages::shortage_hint(size as u64));
            }
            Errno::EPERM => {
                return err.hint(crate::hugepages::permission_hint());
            }
            _ => {}
        }
    }
    let existing = find(key);
    let me = Uid::effective();
    match errno {
        Errno::EEXIST => {
            let Some(seg) = existing else {
                return err.hint(format!("a segment with key {key} exists (see ipcs -m)."));
            };
            let facts = format!(
                "a segment with this key already exists ({})",
                seg.describe()
            );
            let another = key.another_key_hint();
            let hint = if seg.uid != me.as_raw() && !me.is_root() {
                format!("{facts}.\nOnly its owner or root can remove it. Use {another}")
            } else if seg.attached > 0 {
                format!(
                    "{facts},\nand still attached: another run may be going on. If it is stale,\n\
                     remove it with: ipcrm -M {key}\nor use {another}"
                )
            } else {
                format!(
                    "{facts},\nprobably left by an earlier run. Remove it with: ipcrm -M {key}\nor use {another}"
                )
            };
            err.hint(hint)
        }
        Errno::EACCES => {
            let whose = existing.map_or_else(
                || String::from("another user"),
                |seg| format!("{} with mode {:04o}", user_name(seg.uid), seg.mode & 0o777),
            );
            err.hint(format!(
                "the segment with key {key} belongs to {whose}: this user may not use it.\nUse {}",
                key.another_key_hint()
            ))
        }
        Errno::ENOENT => err.hint(format!(
            "no segment has key {key}: it was never created, or it was removed (ipcrm?) meanwhile."
        )),
        Errno::EINVAL => {
            let shmmax = Limits::read().map_or_else(|| String::from("?"), |l| l.shmmax.to_string());
            match existing {
                Some(seg) if seg.size < size => err.hint(format!(
                    "the existing segment with key {key} is only {} bytes, smaller than the {size} asked for.",
                    seg.size
                )),
                _ => err.hint(format!(
                    "{size} bytes is outside what one segment may be: at least 1 byte,\n\
                     at most kernel.shmmax = {shmmax} bytes (/proc/sys/kernel/shmmax)."
                )),
            }
        }
        Errno::ENOSPC => {
            let (shmmni, shmall) = Limits::read().map_or((0, 0), |l| (l.shmmni, l.shmall));
            err.hint(format!(
                "not disk space: a System V limit is reached. Either kernel.shmmni = {shmmni} segments\n\
                 exist already ({} now), or all segments together would pass kernel.shmall = {shmall} pages.\n\
                 See ipcs -m and ipcs -l; remove leftovers with ipcrm.",
                segments().len()
            ))
        }
        Errno::ENOMEM => err.hint(
            "not enough memory for a segment of that size (see MemAvailable in /proc/meminfo).",
        ),
        _ => err,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ftok_packs_proj_id_device_and_inode_into_the_key() {
        use std::os::unix::fs::MetadataExt;
        let meta = std::fs::metadata("/etc/passwd").unwrap();
        let key = Key::ftok(Path::new("/etc/passwd"), 1234).unwrap();
        let (proj, dev, ino) = key.ftok_parts();
        assert_eq!(proj, 0xd2, "1234 = 0x4d2, of which ftok keeps 0xd2");
        assert_eq!(dev, meta.dev() as u8);
        assert_eq!(ino, meta.ino() as u16);
        // Only the low 8 bits of proj_id count: 1234 and 0xd2 give one key.
        assert_eq!(
            Key::ftok(Path::new("/etc/passwd"), 0xd2).unwrap().raw(),
            key.raw()
        );
    }

    #[test]
    fn ftok_on_a_missing_path_names_it() {
        let err = Key::ftok(Path::new("/no/such/file"), 1).unwrap_err();
        assert_eq!(err.errno(), Errno::ENOENT);
        assert!(
            err.to_string()
                .starts_with("ftok(\"/no/such/file\", 1) failed: ENOENT"),
            "{err}"
        );
    }

    #[test]
    fn a_path_that_differs_per_process_is_refused() {
        for path in ["/proc/self/status", "/proc/thread-self/comm"] {
            let err = Key::ftok(Path::new(path), 1).unwrap_err();
            assert_eq!(err.errno(), Errno::EINVAL, "{path}");
            let err = anyhow::Error::new(err);
            let hint = crate::error::hint_of(&err).unwrap();
            assert!(
                hint.contains("a different file in\nevery process"),
                "{hint}"
            );
            assert!(
                hint.contains(&format!("/proc/{}/", std::process::id())),
                "{hint}"
            );
        }
    }

    #[test]
    fn the_explanation_shows_the_low_byte_of_proj_id() {
        let key = Key::ftok(Path::new("/etc/passwd"), 1234).unwrap();
        let text = key.explain();
        assert!(
            text.starts_with(&format!(
                "key {key} = ftok(\"/etc/passwd\", 1234): proj_id 1234 → 0xd2 ("
            )),
            "{text}"
        );
    }

    #[test]
    fn keys_print_like_ipcs() {
        let key = Key {
            raw: 0xd20002e1_u32 as libc::key_t,
            origin: None,
        };
        assert_eq!(key.to_string(), "0xd20002e1");
        assert_eq!(Key::PRIVATE.to_string(), "IPC_PRIVATE");
    }

    #[test]
    fn limits_are_readable() {
        let limits = Limits::read().expect("/proc/sys/kernel/shm* exist on Linux");
        assert!(limits.shmmni > 0 && limits.shmmax > 0 && limits.shmall > 0);
    }
}
