//! What a program shares with the terminal it runs in: the lines it writes
//! ([`output`]), the signals the terminal sends to stop it ([`signals`]:
//! Ctrl-C, a closed window), and the memory demos' wait for one of them
//! ([`hold`](mod@hold)).
//!
//! Every other folder may use these; they use only [`crate::error`] and
//! [`crate::system`].

pub mod explain;
pub mod hold;
pub mod output;
pub mod signals;
