//! What the terminal's failures mean: every hint of `terminal/` is
//! written here.

use nix::errno::Errno;

use crate::error::{Failure, SysError};

/// The result could not be written to stdout: why, for the errnos a user
/// can cause (a closed pipe, a full disk).
pub(crate) fn result_not_written(err: SysError) -> SysError {
    match err.errno() {
        Errno::EPIPE => err.hint(
            "stdout is a pipe whose reader has gone (like `| head -0`), so the result\n\
             could not be printed.",
        ),
        Errno::ENOSPC => err.hint(
            "stdout goes to a file or device that is full (`df -h` on where it was\n\
             redirected), so the result could not be printed.",
        ),
        _ => err,
    }
}

/// A child's report of a handled SIGBUS: what it wrote reached nobody.
pub fn truncated_under_child() -> Failure {
    Failure::new(
        "the shared memory went away under this child's mapping (SIGBUS: its file or /dev/shm \
         object was truncated by another process); what it wrote reached nobody",
    )
    .hint(
        "someone truncated the object while the run went on (truncate -s 0, ftruncate, or a\n\
         program that opens it with O_TRUNC, like the article's C). The run is stopped.",
    )
}
