//! Everything the teaching programs share, and the only crate of the workspace
//! that talks to the kernel through `unsafe`.
//!
//! Each program's `main.rs` should read like the article's C program, one step
//! per line. The steps that need care in Rust live here, once, each explained
//! where it is written:
//!
//! - [`run`]: the `main` every program uses. Usage errors exit 2, runtime
//!   errors print one line and a hint and exit 1; no backtraces for users.
//! - [`error`]: a failed system call carries its call, its arguments, the errno
//!   *name* (`EEXIST`, not `17`) and a hint, like TLPI's `errExit`.
//! - [`process`]: fork N children that each run a closure and end with
//!   `_exit`; wait for every one of them and say which failed.
//! - [`mapping`]: an anonymous mapping that `munmap`s itself when dropped.
//! - [`xsi`]: System V keys (`ftok`), segments (`shmget`; the creator's
//!   value removes it with `IPC_RMID`) and attachments (`shmat`/`shmdt`).
//! - [`posix`]: `shm_open` objects, files in /dev/shm (the creator's value
//!   `shm_unlink`s it).
//! - [`counter`]: the article's `int *shm_p`, viewed as an `AtomicI32` so two
//!   processes touching it is a race *condition* (lost updates) and never a
//!   data race (undefined behaviour).
//! - [`meminfo`]: /proc/meminfo before and after, as the article reads `free`.
//! - [`demo`]: the memory demos' before/after report, hold, and release.
//! - [`hold`]: keep the memory until a stopping signal or a timeout.
//! - [`hugepages`]: the huge page pool: rounding, shortage, `--reserve`.
//! - [`signals`]: Ctrl-C, SIGTERM, a closed terminal (SIGHUP) and `Ctrl-\`
//!   (SIGQUIT) stop a run cleanly, exit 128 + the signal.
//! - [`lock`], [`semaphore`]: `--lock`: an atomic add, a flock, or each
//!   family's own semaphore around the critical section.
//! - [`cli`]: the flags the racing programs share.
//! - [`output`]: the result line on stdout and the explanation on stderr,
//!   without the panics `println!` has on a closed pipe.
//!
//! The `unsafe` blocks are here and nowhere else: the workspace denies
//! `unsafe_code`, and only this crate allows it again. Each block carries a
//! `// SAFETY:` comment (clippy's `undocumented_unsafe_blocks` is an error).

#![allow(unsafe_code)]

pub mod cli;
pub mod counter;
pub mod demo;
pub mod error;
pub mod hold;
pub mod hugepages;
pub mod lock;
pub mod mapping;
pub mod meminfo;
pub mod memory;
pub mod output;
pub mod posix;
pub mod process;
pub mod semaphore;
pub mod signals;
pub mod xsi;

pub use counter::SharedCounter;
pub use error::{Failure, SysError, run};
pub use mapping::{Mapping, Sharing};
pub use memory::SharedMemory;
pub use output::{note, result_line};
pub use process::{Children, fork_children};
