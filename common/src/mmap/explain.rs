//! Why an `mmap` failed, in words a student can act on; and, for a file
//! given by its path, what is there and what may be done with it.

use std::os::unix::fs::{FileExt, FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use nix::errno::Errno;
use nix::unistd::{AccessFlags, Uid, access};

use super::header::{COUNTER_HEADER, counter_header};
use crate::error::{Failure, SysError};
use crate::system::{page_size, procs, users::user_name};
use crate::terminal::output::{age_text, shell_word};

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

/// What is at a path, found without opening anything but a regular file
/// (opening a FIFO blocks, opening a device can start it).
#[derive(Debug)]
pub(super) enum There {
    Nothing,
    /// Cannot be looked at (a directory on the way this user may not search).
    Unknown(Errno),
    SymbolicLink,
    /// A directory, a FIFO, a device, a socket.
    Special(&'static str),
    /// A regular file; `counter` if its first page is racing_mmap's header.
    File {
        owner: u32,
        size: u64,
        age: Option<u64>,
        counter: Option<Counter>,
        /// Its first bytes, for a file that is not a counter.
        begins: Option<String>,
    },
}

/// What a counter file holds, and who has it mapped.
#[derive(Debug)]
pub(super) struct Counter {
    value: Option<i32>,
    /// The processes that map it now (those this user may see).
    users: Vec<libc::pid_t>,
}

/// Look at `path` without following a symbolic link and without opening
/// anything that is not a regular file.
pub(super) fn what_is_there(path: &Path) -> There {
    let meta = match std::fs::symlink_metadata(path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return There::Nothing,
        Err(e) => return There::Unknown(Errno::from_raw(e.raw_os_error().unwrap_or(0))),
    };
    let kind = meta.file_type();
    let special = if kind.is_symlink() {
        return There::SymbolicLink;
    } else if kind.is_dir() {
        "a directory"
    } else if kind.is_fifo() {
        "a FIFO (a named pipe)"
    } else if kind.is_char_device() {
        "a character device"
    } else if kind.is_block_device() {
        "a block device"
    } else if kind.is_socket() {
        "a socket"
    } else {
        "a regular file"
    };
    if !kind.is_file() {
        return There::Special(special);
    }
    let age = meta
        .modified()
        .ok()
        .and_then(|t| SystemTime::now().duration_since(t).ok())
        .map(|d| d.as_secs());
    let (counter, begins) = match read_start(path, &meta) {
        Some(start) if start.starts_with(&counter_header()) => {
            let value = start
                .get(page_size() as usize..page_size() as usize + 4)
                .map(|b| i32::from_ne_bytes(b.try_into().unwrap_or([0; 4])));
            let users = std::fs::canonicalize(path)
                .map(|real| procs::mapping(&real))
                .unwrap_or_default();
            (Some(Counter { value, users }), None)
        }
        Some(start) => (None, Some(first_bytes(&start))),
        None => (None, None),
    };
    There::File {
        owner: meta.uid(),
        size: meta.len(),
        age,
        counter,
        begins,
    }
}

/// The header page and the int of a regular file, if this user may read
/// it and it is still the file `meta` describes.
fn read_start(path: &Path, meta: &std::fs::Metadata) -> Option<Vec<u8>> {
    use std::os::unix::fs::OpenOptionsExt;
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)
        .ok()?;
    let now = file.metadata().ok()?;
    if (now.dev(), now.ino()) != (meta.dev(), meta.ino()) || !now.file_type().is_file() {
        return None;
    }
    let mut buf = vec![0; page_size() as usize + 4];
    let mut done = 0;
    while done < buf.len() {
        match file.read_at(&mut buf[done..], done as u64) {
            Ok(0) | Err(_) => break,
            Ok(n) => done += n,
        }
    }
    buf.truncate(done);
    Some(buf)
}

/// `"Dear diary…"`: a file's first bytes, for a person to recognise it.
fn first_bytes(start: &[u8]) -> String {
    let head: String = String::from_utf8_lossy(&start[..start.len().min(24)])
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if start.is_empty() {
        String::from("it is empty")
    } else if start.len() > 24 {
        format!("it begins \"{}…\"", head.trim_end())
    } else {
        format!("it holds \"{}\"", head.trim_end())
    }
}

/// A path where nothing is yet, to offer instead of `path`: beside it
/// (`counter-2` for `counter`) when `beside` and its directory is this
/// user's to write in; otherwise a new `counter` in the current
/// directory, or in $HOME. Never one derived from a file that is not
/// ours (`/etc/passwd-2`).
fn fresh_path(path: &Path, beside: bool) -> Option<PathBuf> {
    fresh_path_named(path, beside, "counter")
}

/// [`fresh_path`], with `name` for a new name (`memdemo` for mmap_mem).
fn fresh_path_named(path: &Path, beside: bool, name: &str) -> Option<PathBuf> {
    let writable = |dir: &Path| access(dir, AccessFlags::W_OK | AccessFlags::X_OK).is_ok();
    let free = |p: &PathBuf| std::fs::symlink_metadata(p).is_err();
    let numbered = |dir: &Path, stem: &str, ext: &str| {
        std::iter::once(dir.join(format!("{stem}{ext}")))
            .chain((2..100).map(|n| dir.join(format!("{stem}-{n}{ext}"))))
            .find(free)
    };
    if beside {
        let name = path.file_name()?.to_string_lossy().into_owned();
        let (stem, ext) = match name.rsplit_once('.') {
            Some((stem, ext)) if !stem.is_empty() => (stem.to_owned(), format!(".{ext}")),
            _ => (name.clone(), String::new()),
        };
        let dir = match path.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir,
            _ => Path::new(""),
        };
        let probe = if dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            dir
        };
        if writable(probe) {
            return numbered(dir, &stem, &ext);
        }
    }
    if writable(Path::new(".")) {
        return numbered(Path::new(""), name, "");
    }
    let home = PathBuf::from(std::env::var_os("HOME")?);
    writable(&home).then(|| numbered(&home, name, "")).flatten()
}

/// "Pick a path where nothing is yet: --file counter-2".
fn pick_another(path: &Path, beside: bool, name: &str) -> String {
    match fresh_path_named(path, beside, name) {
        Some(p) => format!(
            "Pick a path where nothing is yet: --file {}",
            shell_word(&p)
        ),
        None => String::from("Pick a path where nothing is yet, in a directory of your own."),
    }
}

/// `--file PATH` could not be created. For racing_mmap (`counter`), an
/// earlier run's counter may be joined, or removed if it is this user's
/// and nobody maps it; nothing else is ever offered for joining or
/// removing: the path is somebody's file, or not a file at all.
pub(super) fn explain_file_create(
    call: String,
    errno: Errno,
    path: &Path,
    counter: bool,
) -> SysError {
    let err = SysError::new(call, errno);
    let q = shell_word(path);
    match errno {
        Errno::EEXIST => err.hint(existing_hint(path, counter)),
        Errno::ENOENT | Errno::ENOTDIR => {
            let dir = match path.parent() {
                Some(d) if !d.as_os_str().is_empty() => d.to_owned(),
                _ => PathBuf::from("."),
            };
            let why = if dir.is_dir() {
                format!(
                    "{} lets no file be created in it (a special file system, like /proc)",
                    shell_word(&dir)
                )
            } else {
                format!(
                    "{}, the directory it would go in, does not exist",
                    shell_word(&dir)
                )
            };
            err.hint(format!(
                "{why}; pick a path in an ordinary directory, e.g. --file /tmp/FILE"
            ))
        }
        Errno::EACCES | Errno::EROFS => err.hint(format!(
            "this user may not create {q}; pick a path in a directory of your own,\n\
             e.g. --file $HOME/FILE"
        )),
        _ => err,
    }
}

/// What to say about the thing at `path` that `O_EXCL` refused.
fn existing_hint(path: &Path, counter: bool) -> String {
    let q = shell_word(path);
    let there = what_is_there(path);
    let me = Uid::effective().as_raw();
    let ours = matches!(&there, There::File { owner, counter: Some(_), .. } if *owner == me);
    let another = pick_another(path, ours, if counter { "counter" } else { "memdemo" });
    let left = "it is left as it is";
    match there {
        There::SymbolicLink => format!(
            "{q} is a symbolic link, which is never followed (it could lead anywhere); {left}.\n{another}"
        ),
        There::Special(kind) => {
            format!("{q} is {kind}, not a file this program made; {left}.\n{another}")
        }
        There::File {
            owner,
            counter: Some(found),
            age,
            ..
        } if counter => {
            let value = found
                .value
                .map_or_else(String::new, |v| format!("shm_p {v}, "));
            let age = age.map_or_else(String::new, |a| format!("last written {} ago", age_text(a)));
            let join = format!("racing_mmap --attach --file {q}");
            if owner != me {
                format!(
                    "{q} is a racing_mmap counter of {} ({value}{age}): not yours; {left}.\n{another}",
                    user_name(owner)
                )
            } else if let Some(pid) = found.users.first() {
                let name = procs::name_of(*pid).map_or_else(String::new, |n| format!(" ({n})"));
                format!(
                    "{q} is the counter of a run going on now: pid {pid}{name} maps it; {left}.\n\
                     Join it: {join}\nor {}",
                    lowercase_first(&another)
                )
            } else {
                format!(
                    "{q} is a counter an earlier racing_mmap run left ({value}{age}); {left}.\n\
                     Join it: {join}\nor remove it: rm {q}\nor {}",
                    lowercase_first(&another)
                )
            }
        }
        There::File {
            owner,
            size,
            begins,
            ..
        } => {
            let what = if counter {
                "not a racing_mmap counter"
            } else {
                "not a file this program made"
            };
            let begins = begins.map_or_else(String::new, |b| format!("; {b}"));
            format!(
                "{q} is {what} ({size} bytes, owner {}{begins}); {left}.\n{another}",
                user_name(owner)
            )
        }
        There::Nothing | There::Unknown(_) => format!("something is at {q}; {left}.\n{another}"),
    }
}

fn lowercase_first(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map_or_else(String::new, |c| {
        c.to_lowercase().collect::<String>() + chars.as_str()
    })
}

/// `--attach --file PATH` could not look at it or open it.
pub(super) fn explain_file_open(call: String, errno: Errno, path: &Path) -> SysError {
    let err = SysError::new(call, errno);
    let q = shell_word(path);
    match errno {
        Errno::ENOENT => err.hint(format!(
            "nothing to join: {q} does not exist. Create it first, in another terminal:\n\
             racing_mmap --file {q}"
        )),
        Errno::EACCES | Errno::EPERM => {
            let whose = std::fs::symlink_metadata(path).map_or_else(
                |_| String::new(),
                |m| {
                    format!(
                        " (owner {}, mode {:04o})",
                        user_name(m.uid()),
                        m.mode() & 0o777
                    )
                },
            );
            err.hint(format!(
                "this user may not write {q}{whose}: a counter is joined only by its\n\
                 owner's runs (and root's). Make a counter of your own: racing_mmap --file {}",
                fresh_path(path, false).map_or_else(|| String::from("FILE"), |p| shell_word(&p))
            ))
        }
        Errno::ELOOP => err.hint(format!(
            "{q} is a symbolic link, which is not followed; give the file itself."
        )),
        _ => err,
    }
}

/// `--attach --file PATH` found something that is not a counter
/// racing_mmap made: refused, and nothing was written to it.
pub(super) fn not_a_counter(path: &Path, there: &There) -> Failure {
    let what = match there {
        There::SymbolicLink => String::from("a symbolic link, which is not followed"),
        There::Special(kind) => (*kind).to_owned(),
        There::File { size, begins, .. } => {
            let begins = begins
                .as_ref()
                .map_or_else(String::new, |b| format!(", and {b}"));
            format!(
                "a file of {size} bytes that does not begin with the line \"{COUNTER_HEADER}\"{begins}"
            )
        }
        There::Nothing => String::from("gone: it was removed while being opened"),
        There::Unknown(errno) => format!("a path this user cannot look at ({errno:?})"),
    };
    Failure::new(format!(
        "{} is not a racing_mmap counter: {what}; nothing was written to it",
        shell_word(path)
    ))
    .hint(format!(
        "--attach joins only a file that racing_mmap --file made: its first page says\n\
         \"{COUNTER_HEADER}\", and the int follows it. Make one: racing_mmap --file {}",
        fresh_path(path, false).map_or_else(|| String::from("FILE"), |p| shell_word(&p))
    ))
}

/// The new file could not be given its size: a full disk, or a limit.
/// (`counter`: racing_mmap's file, whose size is not the user's to choose.)
pub(super) fn explain_file_size(
    call: String,
    errno: Errno,
    path: &Path,
    counter: bool,
) -> SysError {
    let err = SysError::new(call, errno);
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => shell_word(d),
        _ => String::from("."),
    };
    let less = if counter {
        "Put the file on another file system."
    } else {
        "Ask for less with --size, or put the file elsewhere."
    };
    match errno {
        Errno::ENOSPC => err.hint(format!(
            "the file system of {dir} has no room for it (df -h {dir}); the file was removed.\n{less}"
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
