//! Processes: fork N children that each run a closure, and wait for every
//! one of them — the `fork()` and `wait(NULL)` loops of the racing programs.
//!
//! Which file holds what is mapped, once for the whole crate, in
//! docs/architecture.md.

pub mod children;
mod explain;

pub use children::{Children, fork_children, say_once};
pub use explain::PANIC_STATUS;
