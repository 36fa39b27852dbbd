//! System V keys: the name under which unrelated processes find the same
//! segment (or semaphore set). The article makes one with `ftok`.
//!
//! What `ftok`'s failures mean is at the end of this file rather than in
//! `explain.rs`, which builds on keys (it offers a free one when a key is
//! taken).

use std::fmt;
use std::path::{Path, PathBuf};

use std::os::unix::ffi::OsStrExt;

use nix::NixPath;
use nix::errno::Errno;

use crate::error::SysError;

/// A System V IPC key. Printed as `ipcs` prints it: `0xd20002e1`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Key {
    raw: libc::key_t,
    /// The `ftok` arguments it came from, to suggest another key if it is taken.
    origin: Option<(KeptPath, i32)>,
}

/// A path kept inside the value when it is short, as `--path` almost
/// always is (`/etc/passwd`): every child makes its key with `ftok`, and a
/// heap allocation would cost each of them page faults (copy-on-write of
/// the allocator's pages) that the C's children do not pay.
#[derive(Debug, Clone, PartialEq, Eq)]
enum KeptPath {
    Short {
        len: u8,
        bytes: [u8; KeptPath::SHORT],
    },
    Long(PathBuf),
}

impl KeptPath {
    const SHORT: usize = 110;

    fn new(path: &Path) -> KeptPath {
        let raw = path.as_os_str().as_bytes();
        if raw.len() <= Self::SHORT {
            let mut bytes = [0; Self::SHORT];
            bytes[..raw.len()].copy_from_slice(raw);
            KeptPath::Short {
                len: raw.len() as u8,
                bytes,
            }
        } else {
            KeptPath::Long(path.to_owned())
        }
    }

    fn as_path(&self) -> &Path {
        match self {
            KeptPath::Short { len, bytes } => {
                Path::new(std::ffi::OsStr::from_bytes(&bytes[..usize::from(*len)]))
            }
            KeptPath::Long(path) => path,
        }
    }
}

impl Key {
    /// `IPC_PRIVATE`: not a name at all. `shmget` always creates a new
    /// segment that only its shmid (passed on by `fork`) can reach.
    pub const PRIVATE: Key = Key {
        raw: libc::IPC_PRIVATE,
        origin: None,
    };

    /// `ftok(path, proj_id)`.
    ///
    /// ftok does not hash the *name*: it `stat`s the file and combines the
    /// low 8 bits of `proj_id`, the low 8 bits of the file's device number
    /// and the low 16 bits of its inode number. Two names for one inode (a
    /// hard link) give the same key; a file deleted and created again
    /// usually gets a new inode, and so a new key.
    ///
    /// A path that is a different file in every process (`/proc/self/…`)
    /// is refused: each process would compute a different key, and the
    /// children would never find the parent's segment.
    pub fn ftok(path: &Path, proj_id: i32) -> Result<Key, SysError> {
        // The call's text is made only for an error: each of a hundred
        // children calls this, and formatting costs them page faults.
        let call = || {
            format!(
                "ftok({}, {proj_id})",
                crate::terminal::output::c_string(path)
            )
        };
        let raw = path
            .with_nix_path(|c_path| {
                // SAFETY: `c_path` is a valid NUL-terminated string that
                // outlives the call; ftok only reads it.
                unsafe { libc::ftok(c_path.as_ptr(), proj_id) }
            })
            .map_err(|_| {
                SysError::new(call(), Errno::EINVAL).hint("the path contains a NUL byte.")
            })?;
        if raw == -1 {
            return Err(explain_ftok(call(), Errno::last(), path));
        }
        if let Some(real) = per_process(path) {
            return Err(refuse_per_process(call(), path, &real));
        }
        Ok(Key {
            raw,
            origin: Some((KeptPath::new(path), proj_id)),
        })
    }

    /// A key given as a number (`ipcs` shows it so), with no `ftok` origin.
    pub fn from_raw(raw: libc::key_t) -> Key {
        Key { raw, origin: None }
    }

    /// The key as `shmget` takes it.
    pub fn raw(&self) -> libc::key_t {
        self.raw
    }

    /// The `ftok` arguments it came from (`None` for IPC_PRIVATE).
    pub(super) fn origin(&self) -> Option<(&Path, i32)> {
        self.origin.as_ref().map(|(path, id)| (path.as_path(), *id))
    }

    /// The three parts ftok packed into the key: proj_id's low 8 bits,
    /// the device's low 8 bits, the inode's low 16 bits.
    pub fn ftok_parts(&self) -> (u8, u8, u16) {
        let bits = self.raw as u32;
        ((bits >> 24) as u8, (bits >> 16) as u8, bits as u16)
    }

    /// One line for the student: which key, and what ftok made it from.
    ///
    /// `key 0xd20002e1 = ftok("/etc/passwd", 1234): proj_id 1234 → 0xd2 (ftok keeps only its low 8 bits), device → 0x00, inode → 0x02e1`
    pub fn explain(&self) -> String {
        let Some((path, proj_id)) = self.origin() else {
            return format!("key {self}");
        };
        let (proj, dev, ino) = self.ftok_parts();
        let kept = if i64::from(proj_id) == i64::from(proj) {
            ""
        } else {
            " (ftok keeps only its low 8 bits)"
        };
        format!(
            "key {self} = ftok({}, {proj_id}): proj_id {proj_id} → {proj:#04x}{kept}, \
             device → {dev:#04x}, inode → {ino:#06x}",
            crate::terminal::output::c_string(path)
        )
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.raw == libc::IPC_PRIVATE {
            f.write_str("IPC_PRIVATE")
        } else {
            write!(f, "{:#010x}", self.raw as u32)
        }
    }
}

// ---- what ftok's failures mean ---------------------------------------------

/// Where `path` really leads, if that is inside this process's own
/// /proc/PID directory (`/proc/self`, `/proc/thread-self`). Only a file
/// on the same file system as /proc can be: that is checked first, with
/// two `stat` calls and no allocation.
fn per_process(path: &Path) -> Option<PathBuf> {
    // /proc's device, looked up once: forked children inherit the answer.
    static PROC: std::sync::OnceLock<Option<libc::dev_t>> = std::sync::OnceLock::new();
    let device = |p: &Path| nix::sys::stat::stat(p).ok().map(|st| st.st_dev);
    let proc = (*PROC.get_or_init(|| device(Path::new("/proc/self"))))?;
    if device(path)? != proc {
        return None;
    }
    let real = std::fs::canonicalize(path).ok()?;
    real.starts_with(Path::new("/proc").join(std::process::id().to_string()))
        .then_some(real)
}

/// `ftok` refused for a path that is a different file in every process.
fn refuse_per_process(call: String, path: &Path, real: &Path) -> SysError {
    SysError::new(call, Errno::EINVAL).hint(format!(
        "{} is {} here: this process's own file, a different file in\n\
         every process. Each child's ftok would give another key, and none would find\n\
         the parent's segment. Use a file every process sees as the same, e.g. --path /etc/passwd.",
        crate::terminal::output::shell_word(path),
        crate::terminal::output::shell_word(real)
    ))
}

/// A failed `ftok`.
fn explain_ftok(call: String, errno: Errno, path: &Path) -> SysError {
    let err = SysError::new(call, errno);
    match errno {
        Errno::ENOENT | Errno::ENOTDIR => err.hint(format!(
            "{} does not exist. ftok needs an existing file: the key is made from\n\
             its inode and device numbers, not its name. Any file every user of the\n\
             key can see will do, e.g. --path /etc/passwd (the article's choice).",
            crate::terminal::output::shell_word(path)
        )),
        Errno::EACCES => err.hint(format!(
            "a directory on the way to {} cannot be searched by this user.\n\
             Pick a file everyone can reach, e.g. --path /etc/passwd.",
            crate::terminal::output::shell_word(path)
        )),
        _ => err,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ftok_packs_proj_id_device_and_inode_into_the_key() {
        use std::os::unix::fs::MetadataExt;
        let meta = std::fs::metadata("/etc/passwd").unwrap();
        let key = Key::ftok(Path::new("/etc/passwd"), 1234).unwrap();
        let (proj, dev, ino) = key.ftok_parts();
        assert_eq!(proj, 0xd2, "1234 = 0x4d2, of which ftok keeps 0xd2");
        assert_eq!(dev, meta.dev() as u8);
        assert_eq!(ino, meta.ino() as u16);
        // Only the low 8 bits of proj_id count: 1234 and 0xd2 give one key.
        assert_eq!(
            Key::ftok(Path::new("/etc/passwd"), 0xd2).unwrap().raw(),
            key.raw()
        );
    }

    #[test]
    fn ftok_on_a_missing_path_names_it() {
        let err = Key::ftok(Path::new("/no/such/file"), 1).unwrap_err();
        assert_eq!(err.errno(), Errno::ENOENT);
        assert!(
            err.to_string()
                .starts_with("ftok(\"/no/such/file\", 1) failed: ENOENT"),
            "{err}"
        );
    }

    #[test]
    fn a_path_that_differs_per_process_is_refused() {
        for path in ["/proc/self/status", "/proc/thread-self/comm"] {
            let err = Key::ftok(Path::new(path), 1).unwrap_err();
            assert_eq!(err.errno(), Errno::EINVAL, "{path}");
            let err = anyhow::Error::new(err);
            let hint = crate::error::hint_of(&err).unwrap();
            assert!(
                hint.contains("a different file in\nevery process"),
                "{hint}"
            );
            assert!(
                hint.contains(&format!("/proc/{}/", std::process::id())),
                "{hint}"
            );
        }
    }

    #[test]
    fn the_explanation_shows_the_low_byte_of_proj_id() {
        let key = Key::ftok(Path::new("/etc/passwd"), 1234).unwrap();
        let text = key.explain();
        assert!(
            text.starts_with(&format!(
                "key {key} = ftok(\"/etc/passwd\", 1234): proj_id 1234 → 0xd2 ("
            )),
            "{text}"
        );
    }

    #[test]
    fn keys_print_like_ipcs() {
        let key = Key {
            raw: 0xd20002e1_u32 as libc::key_t,
            origin: None,
        };
        assert_eq!(key.to_string(), "0xd20002e1");
        assert_eq!(Key::PRIVATE.to_string(), "IPC_PRIVATE");
    }
}
