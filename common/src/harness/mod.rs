//! The frame every program runs in — none of it is in the article's C:
//! parse the flags ([`flags`]), install the stopping signals' handler, run,
//! report a race's results ([`report`](mod@report)), and turn an error into
//! one line, a hint and an exit status.
//!
//! Which file holds what is mapped, once for the whole crate, in
//! docs/architecture.md.

pub mod flags;
pub mod report;

use std::process::ExitCode;

use crate::error::{Usage, report, set_program_name};
use crate::terminal::output::note;
use crate::terminal::signals::{self, Interrupted};

/// The `main` of every program: parse the flags, run, report.
///
/// - `--help` prints to stdout and exits 0; a usage error prints clap's
///   message (which names the flag and the rule) to stderr and exits 2,
///   before the program has created anything.
/// - SIGINT, SIGTERM, SIGHUP and SIGQUIT are caught (see [`signals`]); a
///   run they stop exits 128 + the signal number after everything is
///   released.
/// - A [`Usage`] error from `program` (flags that cannot go together) is
///   printed the way clap prints its own and exits 2.
/// - Any other error from `program` is printed by [`report()`](crate::error::report) and exits 1.
///
/// ```no_run
/// use clap::Parser;
///
/// #[derive(Parser)]
/// struct Args {}
///
/// fn main() -> std::process::ExitCode {
///     common::run(|_args: Args| Ok(()))
/// }
/// ```
pub fn run<A: clap::Parser>(program: impl FnOnce(A) -> anyhow::Result<()>) -> ExitCode {
    set_program_name(A::command().get_name());
    let args = match A::try_parse() {
        Ok(args) => args,
        Err(usage) => {
            let _ = usage.print();
            return ExitCode::from(u8::try_from(usage.exit_code()).unwrap_or(2));
        }
    };
    if let Err(err) = signals::install() {
        report(&err.into());
        return ExitCode::FAILURE;
    }
    let outcome = program(args);
    // What a Drop could not remove is said, whatever the outcome (an
    // interruption says it in its own line).
    let interrupted = outcome
        .as_ref()
        .err()
        .is_some_and(|err| err.chain().any(|e| e.is::<Interrupted>()));
    let left = crate::error::unreleased();
    if !left.is_empty() && !interrupted {
        note(format!(
            "{}: could not remove what this run created: {}",
            crate::error::program_name(),
            left.join(", ")
        ));
    }
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) if err.chain().any(|e| e.is::<Usage>()) => {
            // In clap's words and with its exit status, as if clap had said it.
            let usage = err.chain().find_map(|e| e.downcast_ref::<Usage>());
            if let Some(usage) = usage {
                note(format!(
                    "error: {usage}\n\nFor more information, try '--help'."
                ));
            }
            ExitCode::from(2)
        }
        Err(err) => {
            report(&err);
            match err.chain().find_map(|e| e.downcast_ref::<Interrupted>()) {
                Some(interrupted) => ExitCode::from(interrupted.exit_status()),
                None => ExitCode::FAILURE,
            }
        }
    }
}
