//! The racing programs' experiment, the same in all three families: a
//! shared int ([`counter`]), and what `--lock` puts around each child's
//! increment ([`lock`], with `--lock flock`'s file in [`lock_file`]).
//!
//! Which file holds what is mapped, once for the whole crate, in
//! docs/architecture.md.

pub mod counter;
pub mod explain;
pub mod lock;
pub mod lock_file;
pub mod meet;
pub mod mode;
pub mod trace;

pub use counter::SharedCounter;
pub use lock::{Held, Lock, SemaphorePlace};
pub use mode::{Family, LockMode, lock_help};
