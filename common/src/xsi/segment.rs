//! System V shared memory segments and attachments: `shmget`, `shmat`,
//! `shmdt`, `shmctl(IPC_RMID)`, the mechanism of the article's section
//! "XSI共享内存".
//!
//! The article compares the three names involved with files:
//!
//! | System V | like a file's | lives |
//! |---|---|---|
//! | key (`ftok(path, proj_id)`, [`super::Key`]) | path: a name every process can agree on | as long as the segment |
//! | shmid (`shmget`) | open file descriptor, but system-wide | as long as the segment |
//! | attachment (`shmat`) | `mmap` of the open file | until `shmdt` or exit |
//!
//! A segment outlives every process that used it: `shmdt` (or exit) only
//! detaches; the segment goes away on `shmctl(IPC_RMID)` or `ipcrm`, or at
//! reboot. So here the value that *created* a segment owns it, and removes
//! it when dropped — on success, on error, and on Ctrl-C alike.
//!
//! nix has no System V wrappers (nix issue #1718), so this module calls libc.
//! Every `unsafe` block is one such call. What a failure means is worked
//! out in `explain.rs`, next to this file.

use std::cell::Cell;
use std::marker::PhantomData;
use std::ptr::NonNull;

use nix::errno::Errno;

use super::explain::{another_segment, explain_rmid, explain_shmat, explain_shmget};
use super::key::Key;
use crate::error::{Failure, SysError};
use crate::memory::{SharedMemory, sealed};

/// A System V shared memory segment, by shmid.
///
/// A segment this value created (`create_*`) is removed with `IPC_RMID`
/// when the value is dropped; one merely opened by key is left alone.
#[derive(Debug)]
pub struct Segment {
    id: libc::c_int,
    key: Key,
    /// The size asked for, or (once [`Segment::must_be`] has recognised the
    /// run's segment) the size the run created it with.
    size: Cell<usize>,
    owned: bool,
    /// IPC_RMID was already asked for (see [`Segment::mark_for_removal`]).
    marked: Cell<bool>,
    /// The shmget call that made or found it, for reports.
    call: String,
}

/// Which segment a run works on: its shmid and the key (as a number) it
/// was found by. Copied into each child by `fork`, with nothing to allocate.
/// A child compares the segment it finds with this ([`Segment::must_be`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SegmentId {
    pub id: libc::c_int,
    pub key: libc::key_t,
    /// Its size, as created: what a child attaches (with `--trace`, more
    /// than the 4 bytes its `shmget` asks for).
    pub size: usize,
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
            size: Cell::new(size),
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
            .map_err(|errno| explain_shmget(call.clone(), errno, &key, size, false))?;
        Ok(Segment::new(id, key, size, true, call))
    }

    /// `shmget(IPC_PRIVATE, size, mode)` (with `SHM_HUGETLB` for huge
    /// pages): a new segment with no key, reachable only through its shmid.
    /// The article's memory demos use this, with these very flags: no
    /// `IPC_CREAT` is needed, because `IPC_PRIVATE` always creates.
    pub fn create_private(size: usize, mode: u32, pages: Pages) -> Result<Segment, SysError> {
        let (huge_flag, huge_name) = match pages {
            Pages::Normal => (0, ""),
            Pages::Huge => (libc::SHM_HUGETLB, "SHM_HUGETLB|"),
        };
        let flags = huge_flag | (mode & 0o777) as libc::c_int;
        let call = format!("shmget(IPC_PRIVATE, {size}, {huge_name}{mode:04o})");
        let key = Key::PRIVATE;
        let id = shmget(&key, size, flags).map_err(|errno| {
            explain_shmget(call.clone(), errno, &key, size, pages == Pages::Huge)
        })?;
        Ok(Segment::new(id, key, size, true, call))
    }

    /// `shmget(key, size, 0)`: the segment that already has this key. The
    /// article's children find the parent's segment this way.
    pub fn open(key: Key, size: usize) -> Result<Segment, SysError> {
        // No call text unless it failed: the children all call this.
        let id = shmget(&key, size, 0).map_err(|errno| {
            let call = format!("shmget(key={key}, size={size}, 0)");
            explain_shmget(call, errno, &key, size, false)
        })?;
        Ok(Segment::new(id, key, size, false, String::new()))
    }

    /// `shmget(IPC_PRIVATE, 67108864, 0600) = shmid 7`: for the demos' reports.
    pub fn created(&self) -> String {
        if self.call.is_empty() {
            return format!(
                "shmget(key={}, size={}, 0) = shmid {}",
                self.key,
                self.size.get(),
                self.id
            );
        }
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

    /// Its shmid and key, for the children to check against.
    pub fn identity(&self) -> SegmentId {
        SegmentId {
            id: self.id,
            key: self.key.raw(),
            size: self.size.get(),
        }
    }

    /// Not in the C: refuse a segment that is not `expected`. A child finds
    /// the segment again by its key, as the article's do; but a key is a
    /// name anyone may use. If the parent's segment was removed and another
    /// process made a new one under the key, or the file ftok reads was
    /// replaced (a new inode: a new key), the child has found someone
    /// else's memory, and must not write to it.
    pub fn must_be(&self, expected: &SegmentId) -> Result<(), Failure> {
        if self.id == expected.id && self.key.raw() == expected.key {
            // The run's own segment: as big as the run made it.
            self.size.set(self.size.get().max(expected.size));
            Ok(())
        } else {
            Err(another_segment(
                self.id,
                &self.key,
                expected.id,
                &Key::from_raw(expected.key),
            ))
        }
    }

    pub fn key(&self) -> &Key {
        &self.key
    }

    /// `shmat(shmid, NULL, 0)`: map the segment into this process. The
    /// attachment borrows the segment, so it is detached before the segment
    /// value can be dropped (and the segment removed), as in the article.
    pub fn attach(&self) -> Result<Attachment<'_>, SysError> {
        // SAFETY: with a null address the kernel chooses a free range, so
        // no existing Rust object is affected; the new address range is
        // owned by the returned Attachment alone (its bytes are shared with
        // every process that attaches the segment, and only ever accessed
        // through raw pointers and atomics, never plain references).
        let addr = unsafe { libc::shmat(self.id, std::ptr::null(), 0) };
        if addr as isize == -1 {
            let call = format!("shmat({}, NULL, 0)", self.id);
            return Err(explain_shmat(call, Errno::last(), self.id, self.size.get()));
        }
        let start = NonNull::new(addr)
            .ok_or_else(|| SysError::new(format!("shmat({}, NULL, 0)", self.id), Errno::EFAULT))?;
        Ok(Attachment {
            start,
            len: self.size.get(),
            segment: PhantomData,
        })
    }

    /// `shmctl(shmid, IPC_RMID, NULL)`: remove the segment now. The
    /// kernel destroys it once the last process has detached; until then
    /// `ipcs -m` shows it with status `dest`.
    ///
    /// It takes the segment by value, and an [`Attachment`] borrows it, so
    /// removing a segment while this process still has it attached does
    /// not compile (docs/racing_xsi_shm.md shows the compiler's words):
    ///
    /// ```compile_fail,E0505
    /// fn detach_after_remove(segment: common::xsi::Segment) -> Result<(), common::SysError> {
    ///     let attachment = segment.attach()?;
    ///     segment.remove()?;
    ///     attachment.detach()
    /// }
    /// ```
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
            if let Err(err) = rmid(self.id) {
                // EINVAL: someone removed it already; it is gone.
                if err.errno() != Errno::EINVAL {
                    crate::error::not_released(format!("shmid {} ({err})", self.id));
                }
            }
        }
    }
}

fn shmget(key: &Key, size: usize, flags: libc::c_int) -> Result<libc::c_int, Errno> {
    // SAFETY: shmget takes plain integers and touches no memory of ours.
    let id = unsafe { libc::shmget(key.raw(), size, flags) };
    if id == -1 { Err(Errno::last()) } else { Ok(id) }
}

fn rmid(id: libc::c_int) -> Result<(), SysError> {
    // SAFETY: IPC_RMID ignores the buffer argument, so NULL is allowed.
    let rc = unsafe { libc::shmctl(id, libc::IPC_RMID, std::ptr::null_mut()) };
    if rc == -1 {
        return Err(explain_rmid(id, Errno::last()));
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
