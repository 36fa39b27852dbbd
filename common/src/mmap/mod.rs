//! The article's section "mmap内存共享映射": anonymous `MAP_SHARED` memory,
//! shared with the children forked after the `mmap` (racing_mmap, mmap_mem).
//!
//! | file | what |
//! |---|---|
//! | [`mapping`] | `mmap`/`munmap`: [`Mapping`], anonymous or of an open file |
//! | [`file`](mod@file) | a regular file to map, created or joined by its path (`--file`) |
//! | [`header`] | the first page of racing_mmap's counter file, which says what it is |
//! | [`semaphore`] | `--lock semaphore`: an unnamed POSIX semaphore in the mapping |
//! | `explain.rs` | what a failed `mmap` means |
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
