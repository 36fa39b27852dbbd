//! The article's section "mmap内存共享映射": anonymous `MAP_SHARED` memory,
//! shared with the children forked after the `mmap` (racing_mmap, mmap_mem).
//!
//! Which file holds what is mapped, once for the whole crate, in
//! docs/architecture.md.
//!
//! Anonymous memory has no name: nobody but this process and its later
//! children can find it. The System V ([`crate::xsi`]) and POSIX
//! ([`crate::posix`]) families exist to give shared memory a name.

mod explain;
pub mod file;
pub mod header;
pub mod mapping;
pub mod semaphore;

pub use file::MappedFile;
pub use mapping::{Mapping, Sharing};
pub use semaphore::UnnamedSemaphore;
