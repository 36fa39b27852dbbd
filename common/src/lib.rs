//! Everything the teaching programs share, and the only crate of the workspace
//! that talks to the kernel through `unsafe`.
//!
//! Each program's `main.rs` reads like the article's C program, one step per
//! line. The steps that need care in Rust live here, laid out like the
//! article: one folder per family of shared memory, each with its
//! mechanism (the system calls, the types that own what they create, and
//! the `Drop` that removes it) apart from its explanation (`explain.rs`:
//! hints, limits checked ahead, a free name to offer).
//!
//! | the article's section | folder | what is there |
//! |---|---|---|
//! | mmap内存共享映射 | [`mmap`] | `mmap`/`munmap` ([`mmap::Mapping`]); the unnamed semaphore in the mapping |
//! | XSI共享内存 | [`xsi`] | `ftok` ([`xsi::Key`]); `shmget`/`shmat`/`shmdt`/`IPC_RMID` ([`xsi::Segment`]); `semget`/`semop`; `SHM_HUGETLB`'s pool |
//! | POSIX共享内存 | [`posix`] | `shm_open`/`ftruncate`/`shm_unlink` ([`posix::PosixShm`]); `sem_open` |
//! | the `fork()` and `wait()` loops | [`process`] | [`process::fork_children`], [`process::Children`] |
//! | `*shm_p` and its race | [`race`] | the shared int ([`race::SharedCounter`]); `--lock` |
//! | `bzero`, `free`, `sleep(3000)` | [`memory`], [`demo`] | zeroing any shared memory; the memory demos' report and hold |
//!
//! Around them, in the order they are built on:
//!
//! - [`error`]: a failed system call carries its call, its arguments, the
//!   errno *name* and a hint. It imports nothing of ours.
//! - [`system`]: readers of /proc and /etc/passwd (`free`'s and `ipcs`'s
//!   numbers, owners' names, the page size), shared with the tests.
//! - [`harness`]: the frame each program runs in — [`run`], the shared
//!   flags, the stopping signals, stdout and stderr, and what a race's
//!   result means.
//!
//! Imports only go down this list (error ← system ← harness's signals and
//! output ← the families and processes ← race and demo ← harness's flags,
//! verdict and `run`), never through the re-exports below, which are for the
//! programs.
//!
//! The `unsafe` blocks are here and nowhere else: the workspace denies
//! `unsafe_code`, and only this crate allows it again. Each block carries a
//! `// SAFETY:` comment (clippy's `undocumented_unsafe_blocks` is an error).

#![allow(unsafe_code)]

// The article is about Linux: System V and POSIX shared memory exist
// elsewhere too, but /dev/shm, /proc/meminfo, /proc/sysvipc, huge pages
// and the `free` columns it reads do not. Say so once, instead of a wall
// of unresolved symbols: elsewhere the crate holds this error and nothing
// else, so it is the only message.
#[cfg(not(target_os = "linux"))]
compile_error!(
    "Linux only: this workspace teaches Linux shared memory (/dev/shm, /proc/meminfo, \
     System V IPC as Linux does it). On macOS or Windows, run it in a Linux VM, a \
     container, or WSL 2."
);

#[cfg(target_os = "linux")]
pub mod demo;
#[cfg(target_os = "linux")]
pub mod error;
#[cfg(target_os = "linux")]
pub mod harness;
#[cfg(target_os = "linux")]
pub mod memory;
#[cfg(target_os = "linux")]
pub mod mmap;
#[cfg(target_os = "linux")]
pub mod posix;
#[cfg(target_os = "linux")]
pub mod process;
#[cfg(target_os = "linux")]
pub mod race;
#[cfg(target_os = "linux")]
pub mod system;
#[cfg(target_os = "linux")]
pub mod terminal;
#[cfg(target_os = "linux")]
pub mod xsi;

#[cfg(target_os = "linux")]
pub use error::{Failure, SysError};
#[cfg(target_os = "linux")]
pub use harness::run;
#[cfg(target_os = "linux")]
pub use memory::SharedMemory;
#[cfg(target_os = "linux")]
pub use mmap::{Mapping, Sharing};
#[cfg(target_os = "linux")]
pub use process::{Children, fork_children};
#[cfg(target_os = "linux")]
pub use race::SharedCounter;
#[cfg(target_os = "linux")]
pub use terminal::output::{note, result_line};
