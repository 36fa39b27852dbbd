//! What a program shares with the terminal it runs in: the lines it writes
//! ([`output`]), the signals the terminal sends to stop it ([`signals`]:
//! Ctrl-C, a closed window), and the memory demos' wait for one of them
//! ([`hold`](mod@hold)).
//!
//! Every other folder may use these; they use only [`crate::error`] and
//! [`crate::system`]. Which file holds what is mapped, once for the whole
//! crate, in docs/architecture.md.

pub mod explain;
pub mod hold;
pub mod output;
pub mod signals;
