//! What the exercises share: their flags, read without ceremony, so that
//! a student's file holds the lesson and nothing else.

use std::path::PathBuf;
use std::time::Duration;

/// `--NAME VALUE` from the command line, if given.
pub fn flag(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|at| args.get(at + 1).cloned())
}

/// `--count N` (default 100): how many children.
pub fn count() -> usize {
    flag("--count").and_then(|v| v.parse().ok()).unwrap_or(100)
}

/// `--sleep-us N` (default 1): the pause between a child's read and write.
pub fn pause() -> Duration {
    Duration::from_micros(flag("--sleep-us").and_then(|v| v.parse().ok()).unwrap_or(1))
}

/// `--path PATH` (default /etc/passwd): the file ftok makes the key from.
pub fn path() -> PathBuf {
    PathBuf::from(flag("--path").unwrap_or_else(|| String::from("/etc/passwd")))
}

/// `--proj-id N` (default 1234).
pub fn proj_id() -> i32 {
    flag("--proj-id")
        .and_then(|v| v.parse().ok())
        .unwrap_or(1234)
}

/// `--name NAME` (default /shm): a POSIX shared memory name.
pub fn name() -> common::posix::ShmName {
    let text = flag("--name").unwrap_or_else(|| String::from("/shm"));
    common::posix::ShmName::parse(&text).unwrap_or_else(|e| {
        eprintln!("--name: {e}");
        std::process::exit(2)
    })
}

/// Any command line: each exercise reads the flags it needs itself.
#[derive(Debug, clap::Parser)]
#[command(name = "exercise")]
pub struct AnyArgs {
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, hide = true)]
    _rest: Vec<String>,
}

/// Run an exercise as the programs run: errors printed in one line with a
/// hint, exit 1; Ctrl-C, SIGTERM, SIGHUP and SIGQUIT caught (they set a
/// flag the hold and the fork loop look at, see `common::terminal::signals`).
pub fn run(exercise: impl FnOnce() -> anyhow::Result<()>) -> std::process::ExitCode {
    common::run(|_: AnyArgs| exercise())
}
