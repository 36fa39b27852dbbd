//! The article's section "XSI共享内存": System V shared memory, found by a
//! key that unrelated processes agree on (racing_xsi_shm), or private to
//! one process and its children (xsi_shm_mem, xsi_shm_mem_huge).
//!
//! Which file holds what is mapped, once for the whole crate, in
//! docs/architecture.md.
//!
//! Each owning type (segment, attachment, semaphore set, reservation)
//! undoes itself in its `Drop`; the list of what exists on the machine is
//! read from /proc/sysvipc by [`crate::system::sysvipc`].

pub mod explain;
pub mod hugepages;
pub mod key;
pub mod reserve;
pub mod segment;
pub mod semaphore;

pub use explain::Limits;
pub use key::Key;
pub use segment::{Attachment, Pages, Segment, SegmentId};
pub use semaphore::XsiSemaphore;
