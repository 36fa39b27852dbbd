//! Everything the teaching programs share, and the only crate of the workspace
//! that talks to the kernel through `unsafe`.
//!
//! Each program's `main.rs` reads like the article's C program, one step per
//! line. The steps that need care in Rust live here: one folder per family
//! of shared memory ([`mmap`], [`xsi`], [`posix`]), each with its mechanism
//! (the system calls, the types that own what they create, and the `Drop`
//! that removes it) apart from its explanation (`explain.rs`: hints, limits
//! checked ahead, a free name to offer).
//!
//! The folders stand on four floors, and imports only go down. Which
//! folder is on which floor, and which file holds which of the article's
//! steps, is mapped once, in docs/architecture.md; `common/tests/layout.rs`
//! checks that map against the code.
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

// The few items the programs import from the root; everything else is
// imported from its own module.
#[cfg(target_os = "linux")]
pub use error::SysError;
#[cfg(target_os = "linux")]
pub use harness::run;
#[cfg(target_os = "linux")]
pub use memory::SharedMemory;
#[cfg(target_os = "linux")]
pub use race::SharedCounter;
#[cfg(target_os = "linux")]
pub use terminal::output::note;
