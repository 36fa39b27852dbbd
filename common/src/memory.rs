//! What every kind of shared memory has in common: a run of bytes at an
//! address, which other processes may be writing at the same moment.
//!
//! A `mmap` mapping ([`crate::Mapping`]), a System V attachment
//! ([`crate::xsi::Attachment`]) and a mapped POSIX object are different ways
//! to get such bytes; [`crate::SharedCounter`] only needs the bytes.

use std::ptr::NonNull;

/// Shared bytes, valid for `len()` bytes from `start()` while `self` lives.
///
/// Sealed: only this crate's owned types implement it, because their
/// promise (the range stays mapped as long as the value lives) is what makes
/// the `unsafe` views of it sound.
pub trait SharedMemory: sealed::Sealed {
    /// The first byte; page-aligned.
    fn start(&self) -> NonNull<u8>;
    /// How many bytes.
    fn len(&self) -> usize;
    /// Never true: shared memory has at least one byte.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

pub(crate) mod sealed {
    pub trait Sealed {}
}
