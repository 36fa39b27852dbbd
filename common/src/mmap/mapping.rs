//! A memory mapping that unmaps itself: the mechanism of the article's
//! section "mmap内存共享映射".
//!
//! The article's first method: `mmap(NULL, size, PROT_READ|PROT_WRITE,
//! MAP_SHARED|MAP_ANONYMOUS, -1, 0)` gives memory backed by no file. Because
//! it is `MAP_SHARED`, a child made by `fork` sees the *same* pages, not a
//! copy-on-write copy, so what one process writes the others read. Only
//! related processes can share it this way: nobody else can name it.
//!
//! With `MAP_PRIVATE` instead, a child's first write to a page gives it its
//! own copy of that page (copy-on-write) and nobody else sees the write:
//! racing_mmap's `--private` shows that.
//!
//! [`Mapping`] owns the mapping and calls `munmap` when dropped, on every
//! path out of the program, so no `munmap` line is needed in `main`.

use std::num::NonZeroUsize;
use std::os::fd::{AsRawFd, BorrowedFd};
use std::ptr::NonNull;

use nix::sys::mman::{MapFlags, ProtFlags, mmap, mmap_anonymous, munmap};

use super::explain::{explain_mmap, zero_length};
use crate::error::SysError;
use crate::memory::{SharedMemory, sealed};
use crate::terminal::signals;

/// Whether forked children share the pages or get their own copies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sharing {
    /// `MAP_SHARED`: one set of pages; every process sees every write.
    Shared,
    /// `MAP_PRIVATE`: copy-on-write; each process's writes stay its own.
    Private,
}

/// Memory this process can read and write; with [`Sharing::Shared`], its
/// forked children read and write the same bytes.
#[derive(Debug)]
pub struct Mapping {
    start: NonNull<libc::c_void>,
    len: usize,
}

impl Mapping {
    /// `mmap(NULL, len, PROT_READ|PROT_WRITE, MAP_SHARED|MAP_ANONYMOUS, -1, 0)`
    /// (or `MAP_PRIVATE`).
    ///
    /// The memory starts zeroed, page-aligned, and is not yet backed by RAM:
    /// the kernel allocates each page the first time it is touched.
    pub fn anonymous(len: usize, sharing: Sharing) -> Result<Self, SysError> {
        let (flags, flag_names) = match sharing {
            Sharing::Shared => (MapFlags::MAP_SHARED, "MAP_SHARED|MAP_ANONYMOUS"),
            Sharing::Private => (MapFlags::MAP_PRIVATE, "MAP_PRIVATE|MAP_ANONYMOUS"),
        };
        let call = format!("mmap(NULL, {len}, PROT_READ|PROT_WRITE, {flag_names}, -1, 0)");
        let Some(size) = NonZeroUsize::new(len) else {
            return Err(zero_length(call));
        };
        // SAFETY: with no address hint the kernel picks a range that overlaps
        // nothing this process already uses, so no existing Rust object is
        // affected. The new address range is owned by the returned value
        // alone; with MAP_SHARED, the children forked later share its
        // bytes, which are only ever accessed through raw pointers and
        // atomics, never plain references.
        let start = unsafe {
            mmap_anonymous(
                None,
                size,
                ProtFlags::PROT_READ | ProtFlags::PROT_WRITE,
                flags,
            )
        }
        .map_err(|errno| explain_mmap(call, errno))?;
        Ok(Mapping { start, len })
    }

    /// `mmap(NULL, len, PROT_READ|PROT_WRITE, MAP_SHARED, fd, 0)`: map the
    /// first `len` bytes of an open file — a POSIX shared memory object is
    /// one, in the tmpfs at /dev/shm. The mapping stays valid after `fd` is
    /// closed.
    pub fn shared_file(fd: BorrowedFd<'_>, len: usize) -> Result<Self, SysError> {
        Mapping::file(fd, 0, len, Sharing::Shared)
    }

    /// `mmap(NULL, len, PROT_READ|PROT_WRITE, MAP_SHARED, fd, offset)` (or
    /// `MAP_PRIVATE`): `len` bytes of an open file from `offset`, a
    /// multiple of the page size. Shared, what one process stores goes to
    /// the file and every process mapping it sees it; private, each
    /// process's stores stay its own copy.
    pub fn file(
        fd: BorrowedFd<'_>,
        offset: usize,
        len: usize,
        sharing: Sharing,
    ) -> Result<Self, SysError> {
        let (flags, flag_name) = match sharing {
            Sharing::Shared => (MapFlags::MAP_SHARED, "MAP_SHARED"),
            Sharing::Private => (MapFlags::MAP_PRIVATE, "MAP_PRIVATE"),
        };
        // No call text unless it failed: the children all call this.
        let call = || {
            format!(
                "mmap(NULL, {len}, PROT_READ|PROT_WRITE, {flag_name}, {}, {offset})",
                fd.as_raw_fd()
            )
        };
        let Some(size) = NonZeroUsize::new(len) else {
            return Err(zero_length(call()));
        };
        // SAFETY: as in `anonymous`, the kernel picks a fresh address range.
        // The file's pages may change under us (other processes write them);
        // the memory is only ever accessed through atomics, never through
        // references to plain data, so that is not undefined behaviour.
        let start = unsafe {
            mmap(
                None,
                size,
                ProtFlags::PROT_READ | ProtFlags::PROT_WRITE,
                flags,
                fd,
                libc::off_t::try_from(offset).unwrap_or(libc::off_t::MAX),
            )
        }
        .map_err(|errno| SysError::new(call(), errno))?;
        // A file can be truncated under its mapping: SIGBUS is handled.
        signals::watch_mapping(start.as_ptr() as usize, len);
        Ok(Mapping { start, len })
    }
}

impl SharedMemory for Mapping {
    fn start(&self) -> NonNull<u8> {
        self.start.cast()
    }

    fn len(&self) -> usize {
        self.len
    }
}

impl sealed::Sealed for Mapping {}

impl Drop for Mapping {
    fn drop(&mut self) {
        // SAFETY: `start`/`len` describe exactly the mapping made in
        // `anonymous` or `file` (a SIGBUS may have put private zero pages
        // over part of it, inside the same range), and nothing borrows it
        // any more (borrows of `self` have ended). munmap can only fail for a range that is not a
        // mapping, which cannot happen here; there is nothing to do if it did.
        let _ = unsafe { munmap(self.start, self.len) };
        signals::unwatch_mapping(self.start.as_ptr() as usize);
    }
}
