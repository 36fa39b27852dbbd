//! Errors a student can act on: what failed, and what to do about it.
//!
//! The article's C programs call `perror("shmget()")` and `exit(1)`, which
//! prints `shmget(): File exists` — no arguments, no errno name, no idea what
//! to do next. Ours print one line that names the call, its arguments and the
//! errno by name, then a hint with the command that fixes it:
//!
//! ```text
//! racing_mmap: mmap(NULL, 4, PROT_READ|PROT_WRITE, MAP_SHARED|MAP_ANONYMOUS, -1, 0) failed: ENOMEM (Cannot allocate memory)
//! hint: ...
//! ```
//!
//! Two error types carry a hint: [`SysError`] for a failed system call and
//! [`Failure`] for everything else (a child that died, a limit we check
//! ourselves). Programs return them inside `anyhow::Error`, and [`report`]
//! finds the hint wherever it sits in the chain.
//!
//! This is the bottom layer of the crate: it imports nothing of ours, and
//! everything else may import it.

use std::fmt;
use std::sync::{Mutex, OnceLock};

use nix::errno::Errno;

/// A system call that failed, described the way its C call would be written.
#[derive(Debug)]
pub struct SysError {
    call: String,
    detail: Option<String>,
    errno: Errno,
    hint: Option<String>,
}

impl SysError {
    /// `call` is the call as C would write it, with its arguments:
    /// `"mmap(NULL, 4, PROT_READ|PROT_WRITE, MAP_SHARED|MAP_ANONYMOUS, -1, 0)"`.
    pub fn new(call: impl Into<String>, errno: Errno) -> Self {
        SysError {
            call: call.into(),
            detail: None,
            errno,
            hint: None,
        }
    }

    /// Where in the program it failed, printed after "failed":
    /// `fork() failed after 37 of 100 children had started: EAGAIN (...)`.
    pub fn detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }

    /// What the user can do about it; printed on its own `hint:` line(s).
    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// The errno, for callers that explain some errnos better than others.
    pub fn errno(&self) -> Errno {
        self.errno
    }
}

impl fmt::Display for SysError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} failed", self.call)?;
        if let Some(detail) = &self.detail {
            write!(f, " {detail}")?;
        }
        write!(f, ": {}", errno_text(self.errno))
    }
}

/// `EEXIST (File exists)`: the errno's name, then the C library's message for
/// it — the same words `perror` prints in the article's programs.
///
/// Not `Errno::desc()`: nix's texts are the kernel headers' comments ("Try
/// again" for EAGAIN, "Out of memory" for ENOMEM), not what `perror` prints
/// ("Resource temporarily unavailable", "Cannot allocate memory").
pub fn errno_text(errno: Errno) -> String {
    let code = errno as i32;
    // std's message for an OS error is strerror's text plus " (os error N)".
    let full = std::io::Error::from_raw_os_error(code).to_string();
    let message = full
        .strip_suffix(&format!(" (os error {code})"))
        .unwrap_or(&full);
    // Errno's Debug is its name: EEXIST, ENOMEM, EAGAIN.
    format!("{errno:?} ({message})")
}

impl std::error::Error for SysError {}

/// An error that is not one system call, with an optional hint.
#[derive(Debug)]
pub struct Failure {
    message: String,
    hint: Option<String>,
}

impl Failure {
    pub fn new(message: impl Into<String>) -> Self {
        Failure {
            message: message.into(),
            hint: None,
        }
    }

    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Failure {}

/// Flags that clap accepted one by one but that cannot go together
/// (`--count 0` without `--attach`). Reported as clap reports a usage
/// error, and exits 2, before anything is created.
#[derive(Debug)]
pub struct Usage(pub String);

impl Usage {
    /// `invalid value '0' for '--count <N>': 0 children cannot race; …`,
    /// in clap's words.
    pub fn invalid(arg: &str, value: &str, message: &str) -> Usage {
        Usage(format!("invalid value '{value}' for '{arg}': {message}"))
    }
}

impl fmt::Display for Usage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Usage {}

/// A step only root may take, worded for whoever runs the program:
/// `raise it: CMD` for root, `ask root to raise it: CMD` for anyone else.
/// A hint never tells a user to run a command that would fail for them.
pub fn by_root(step: &str, command: &str) -> String {
    if nix::unistd::Uid::effective().is_root() {
        format!("{step}: {command}")
    } else {
        format!("ask root to {step}: {command}")
    }
}

/// The first hint anywhere in the error's chain; for a failed system call
/// that has none of its own, what its errno means for a user in general
/// ([`general_hint`]).
pub fn hint_of(err: &anyhow::Error) -> Option<&str> {
    let own = err.chain().find_map(|cause| {
        if let Some(sys) = cause.downcast_ref::<SysError>() {
            sys.hint.as_deref()
        } else if let Some(failure) = cause.downcast_ref::<Failure>() {
            failure.hint.as_deref()
        } else {
            None
        }
    });
    own.or_else(|| {
        err.chain()
            .find_map(|cause| cause.downcast_ref::<SysError>())
            .and_then(|sys| general_hint(sys.errno))
    })
}

/// The errnos a user can cause in any call, by a limit of their shell or
/// a full machine, and what to do about each.
pub fn general_hint(errno: Errno) -> Option<&'static str> {
    Some(match errno {
        Errno::ENOMEM => {
            "not enough memory for it, or this process's address-space limit is too low:\n\
             see `ulimit -v` (unlimited is usual) and MemAvailable in /proc/meminfo."
        }
        Errno::EMFILE => {
            "this process has as many files open as it may (`ulimit -n`); raise it: ulimit -n 1024"
        }
        Errno::ENFILE => {
            "the whole machine has as many files open as it may (fs.file-max); try again later."
        }
        Errno::EFBIG => {
            "the file would be bigger than this process may write (`ulimit -f`); raise it: ulimit -f unlimited"
        }
        Errno::ENOSPC => {
            "no room left: /dev/shm is full (df -h /dev/shm), or a kernel limit is reached (ipcs -l)."
        }
        Errno::EAGAIN => "a resource is exhausted for now; try again, or with less.",
        Errno::EACCES | Errno::EPERM => {
            "this user may not do that; ls -l /dev/shm or ipcs -m -c shows whose the object is."
        }
        _ => return None,
    })
}

/// What this run created and could not remove again, in the words of
/// [`not_released`]. The programs are single-threaded; the lock is only
/// there because a static needs one.
static NOT_RELEASED: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// Record that something this run created is still there after its
/// owner tried to remove it (`what`: the object and why, e.g.
/// `shmid 5 (shmctl(5, IPC_RMID, NULL) failed: EPERM)`). A `Drop` cannot
/// return an error; this is how a line that says "released" stays true.
pub fn not_released(what: String) {
    if let Ok(mut list) = NOT_RELEASED.lock() {
        list.push(what);
    }
}

/// Everything [`not_released`] recorded so far.
pub fn unreleased() -> Vec<String> {
    NOT_RELEASED.lock().map(|l| l.clone()).unwrap_or_default()
}

/// `everything this run created has been released`, or what was not.
pub fn release_summary() -> String {
    let left = unreleased();
    if left.is_empty() {
        String::from("everything this run created has been released")
    } else {
        format!(
            "everything this run created has been released except {}",
            left.join(", ")
        )
    }
}

static PROGRAM: OnceLock<String> = OnceLock::new();

/// Name the program for [`report`]'s first word; `crate::run` does this
/// once, from the program's clap command name.
pub fn set_program_name(name: &str) {
    let _ = PROGRAM.set(name.to_owned());
}

/// The running program's name (`"racing_mmap"`), for error messages.
pub fn program_name() -> &'static str {
    PROGRAM.get().map_or("shm-demo", String::as_str)
}

/// Print `PROGRAM: error` and its hint to stderr, the way every program and
/// every child reports a failure. A hint of several lines is indented under
/// the first so it reads as one block.
pub fn report(err: &anyhow::Error) {
    use std::io::Write;
    let mut text = format!("{}: {err:#}\n", program_name());
    if let Some(hint) = hint_of(err) {
        text.push_str("hint: ");
        text.push_str(&hint.replace('\n', "\n      "));
        text.push('\n');
    }
    // One write, so lines from several processes do not interleave mid-line.
    // If stderr itself is gone there is nobody left to tell.
    let _ = std::io::stderr().write_all(text.as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sys_error_names_the_call_its_arguments_and_the_errno() {
        let err = SysError::new(
            "shmget(key=0xd20002e1, size=4, IPC_CREAT|IPC_EXCL|0600)",
            Errno::EEXIST,
        );
        assert_eq!(
            err.to_string(),
            "shmget(key=0xd20002e1, size=4, IPC_CREAT|IPC_EXCL|0600) failed: EEXIST (File exists)"
        );
    }

    #[test]
    fn a_detail_goes_between_failed_and_the_errno() {
        let err =
            SysError::new("fork()", Errno::EAGAIN).detail("after 3 of 10 children had started");
        assert_eq!(
            err.to_string(),
            "fork() failed after 3 of 10 children had started: EAGAIN (Resource temporarily unavailable)"
        );
    }

    #[test]
    fn the_hint_is_found_under_added_context() {
        let err = anyhow::Error::new(SysError::new("mmap()", Errno::ENOMEM).hint("use less"))
            .context("mapping the counter");
        assert_eq!(hint_of(&err), Some("use less"));
        let plain = anyhow::anyhow!("no hint here");
        assert_eq!(hint_of(&plain), None);
        let failure = anyhow::Error::new(Failure::new("3 children failed").hint("look above"));
        assert_eq!(hint_of(&failure), Some("look above"));
    }
}
