//! Processes: fork N children that each run a closure, and wait for every
//! one of them — the `fork()` and `wait(NULL)` loops of the racing programs.
//!
//! | file | what |
//! |---|---|
//! | [`children`] | `fork`, `_exit`, `waitpid`: [`fork_children`], [`Children`] |
//! | `explain.rs` | how failed children and a failed `fork` are put into words |

pub mod children;
mod explain;

pub use children::{Children, fork_children, say_once};
pub use explain::PANIC_STATUS;
