//! The article's section "POSIX共享内存": shared memory with a name,
//! `/shm`, which on Linux is the file /dev/shm/shm in a tmpfs
//! (racing_posix_shm).
//!
//! | file | what |
//! |---|---|
//! | [`name`] | the rules of a name, and the files it becomes |
//! | [`object`] | `shm_open`, `ftruncate`, `mmap`, `shm_unlink`: [`PosixShm`] |
//! | [`semaphore`] | `--lock semaphore`: `sem_open`, `sem_wait`/`sem_post`, `sem_unlink` |
//! | `explain.rs` | what each failure means: hints, "in use" or "left over", a free name |
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
