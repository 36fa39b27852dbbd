//! Why an `mmap` failed, in words a student can act on.

use nix::errno::Errno;

use crate::error::SysError;

/// A failed `mmap` call, with a hint for the errnos a user can cause.
pub(super) fn explain_mmap(call: String, errno: Errno) -> SysError {
    let err = SysError::new(call, errno);
    match errno {
        Errno::ENOMEM => err.hint(
            "the kernel would not reserve that much address space or memory.\n\
             See MemAvailable in /proc/meminfo and `ulimit -v`.",
        ),
        _ => err,
    }
}

/// `mmap` of 0 bytes, refused before the call (the kernel says EINVAL).
pub(super) fn zero_length(call: String) -> SysError {
    SysError::new(call, Errno::EINVAL).hint("a mapping needs at least one byte.")
}

/// Memory too small to hold the counter and the semaphore after it.
pub(super) fn too_small(call: String, needed: usize) -> SysError {
    SysError::new(call, Errno::EINVAL).hint(format!("the memory must hold {needed} bytes"))
}
