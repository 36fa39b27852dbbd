//! The article's section "POSIX共享内存": shared memory with a name,
//! `/shm`, which on Linux is the file /dev/shm/shm in a tmpfs
//! (racing_posix_shm).
//!
//! Which file holds what is mapped, once for the whole crate, in
//! docs/architecture.md.
//!
//! An object is mapped with the mmap family's [`crate::mmap::Mapping`]:
//! POSIX shared memory is a file you `mmap`.

mod explain;
pub mod name;
pub mod object;
pub mod semaphore;

pub use name::{DEV_SHM, NAME_MAX, ShmName};
pub use object::{ObjectId, PosixShm};
pub use semaphore::NamedSemaphore;
