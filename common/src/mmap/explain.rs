//! Why an `mmap` failed, in words a student can act on.

use std::path::Path;

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

/// `--file PATH` could not be created.
pub(super) fn explain_file_create(call: String, errno: Errno, path: &Path) -> SysError {
    let err = SysError::new(call, errno);
    let path = path.display();
    match errno {
        Errno::EEXIST => err.hint(format!(
            "{path} exists already, left by an earlier run or not a counter at all; it is not\n\
             overwritten. Join it: racing_mmap --attach --file {path}\n\
             or, if it is an old counter of yours, remove it: rm {path}"
        )),
        Errno::ENOENT | Errno::ENOTDIR => {
            let dir = Path::new(&path.to_string())
                .parent()
                .map_or_else(|| String::from("."), |d| d.display().to_string());
            let why = if Path::new(&dir).is_dir() {
                format!("{dir} lets no file be created in it (a special file system, like /proc)")
            } else {
                format!("{dir}, the directory it would go in, does not exist")
            };
            err.hint(format!(
                "{why}; pick a path in an ordinary directory, e.g. --file /tmp/FILE"
            ))
        }
        Errno::EACCES | Errno::EROFS => err.hint(format!(
            "this user may not create {path}; pick a path in a directory of your own,\n\
             e.g. --file $HOME/FILE"
        )),
        _ => err,
    }
}

/// `--attach --file PATH` could not open it.
pub(super) fn explain_file_open(call: String, errno: Errno, path: &Path) -> SysError {
    let err = SysError::new(call, errno);
    let path = path.display();
    match errno {
        Errno::ENOENT => err.hint(format!(
            "nothing to join: {path} does not exist. Create it first, in another terminal:\n\
             racing_mmap --file {path}"
        )),
        Errno::EACCES => err.hint(format!(
            "this user may not read and write {path} (ls -l {path} shows whose it is)."
        )),
        Errno::ELOOP => err.hint(format!(
            "{path} is a symbolic link, which is not followed; give the file itself."
        )),
        _ => err,
    }
}

/// `--attach --file PATH` found something that cannot hold the counter.
pub(super) fn not_a_counter(path: &Path, regular: bool, size: usize, needed: usize) -> SysError {
    let what = if regular {
        format!("only {size} bytes long, and the counter needs {needed}")
    } else {
        String::from("not a regular file")
    };
    SysError::new(format!("mmap of \"{}\"", path.display()), Errno::EINVAL).hint(format!(
        "{} is {what}: not a counter racing_mmap --file made.",
        path.display()
    ))
}

/// The new file could not be given its size: a full disk, or a limit.
pub(super) fn explain_file_size(call: String, errno: Errno, path: &Path) -> SysError {
    let err = SysError::new(call, errno);
    let dir = path
        .parent()
        .map_or_else(|| String::from("."), |d| d.display().to_string());
    match errno {
        Errno::ENOSPC => err.hint(format!(
            "the file system of {dir} has no room for it (df -h {dir}); the file was removed.\n\
             Ask for less with --size, or put the file elsewhere."
        )),
        Errno::EFBIG => err.hint(
            "more than this process may write to a file (ulimit -f); raise it: ulimit -f unlimited",
        ),
        Errno::EOPNOTSUPP => err.hint(format!(
            "the file system of {dir} cannot reserve a file's blocks (fallocate); use a file\n\
             on an ordinary local file system (ext4, xfs, btrfs, tmpfs)."
        )),
        _ => err,
    }
}
