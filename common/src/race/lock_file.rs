//! The lock file of `--lock flock`: one per run, this run's own.

use std::os::fd::OwnedFd;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::fcntl::{OFlag, open};
use nix::sys::stat::{Mode, fchmod, fstat};

use super::explain;
use crate::error::SysError;
use crate::terminal::output::{c_string, shell_word};

/// The file `--lock flock` locks: `$TMPDIR/PROGRAM.RANDOM.lock` (`/tmp`
/// when TMPDIR is not set), made by this run for its own children and
/// removed again when the value is dropped — at the end, on an error, or
/// on a stopping signal.
///
/// One file per run, not one per program: two runs at once (a class of
/// thirty, or one student's two terminals) never share a lock file, so the
/// first to finish cannot delete the file under the other. And a name
/// nobody can guess: /tmp belongs to everyone, and a name made from the
/// pid (`racing_mmap.4242.lock`) can be taken in advance by anyone who
/// creates files for the next few hundred pids, which would make other
/// users' runs fail. The lock only has to keep *this run's* children
/// apart; each run has its own counter anyway.
#[derive(Debug)]
pub struct LockFile {
    path: PathBuf,
    id: (u64, u64),
    /// Kept open for as long as the run lives: while it is open, its inode
    /// number cannot be given to another file, so `id` names it alone.
    _fd: OwnedFd,
}

/// The first part of a lock file's name: the running program's executable
/// name, so `ls /tmp` says whose file it is. A program rebuilt while it
/// runs still has its name.
fn program() -> String {
    std::env::current_exe()
        .ok()
        .and_then(|exe| exe.file_name().map(|n| n.to_string_lossy().into_owned()))
        .map(|name| name.trim_end_matches(" (deleted)").to_owned())
        .unwrap_or_else(|| String::from("shm-lessons"))
}

/// Ten random letters and digits from the kernel's random numbers
/// (`getrandom`), for a name nobody can guess.
fn random_word() -> String {
    const LETTERS: &[u8; 32] = b"abcdefghijkmnpqrstuvwxyz23456789";
    let mut bytes = [0u8; 10];
    // SAFETY: the buffer is valid for its length; getrandom only writes it.
    let got = unsafe { libc::getrandom(bytes.as_mut_ptr().cast(), bytes.len(), 0) };
    if got != bytes.len() as isize {
        // No getrandom (very old kernels): std's hasher keys come from the
        // OS's random numbers too.
        use std::hash::{BuildHasher, Hasher};
        let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
        hasher.write_u32(std::process::id());
        bytes[..8].copy_from_slice(&hasher.finish().to_ne_bytes());
    }
    bytes
        .iter()
        .map(|b| LETTERS[usize::from(*b) % LETTERS.len()] as char)
        .collect()
}

impl LockFile {
    /// Create this run's lock file: `open(path, O_CREAT|O_EXCL|O_RDWR|O_NOFOLLOW,
    /// 0600)` at a random name, then `fchmod(fd, 0600)`, so the mode is
    /// 0600 whatever the umask (a umask such as 0277 would otherwise leave
    /// the owner unable to open it for writing). A name that is taken is
    /// never touched: the next random one is tried.
    pub fn create_for_run() -> Result<LockFile, SysError> {
        LockFile::create_in(&std::env::temp_dir())
    }

    fn create_in(dir: &Path) -> Result<LockFile, SysError> {
        let mut last = None;
        for _ in 0..100 {
            let path = dir.join(format!("{}.{}.lock", program(), random_word()));
            match LockFile::create(&path) {
                Err(err) if err.errno() == Errno::EEXIST => last = Some(err),
                other => return other,
            }
        }
        Err(last.expect("100 attempts were made"))
    }

    fn create(path: &Path) -> Result<LockFile, SysError> {
        let call = format!(
            "open({}, O_CREAT|O_EXCL|O_RDWR|O_NOFOLLOW, 0600)",
            c_string(path)
        );
        let fd = open(
            path,
            OFlag::O_CREAT | OFlag::O_EXCL | OFlag::O_RDWR | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
            Mode::from_bits_truncate(0o600),
        )
        .map_err(|errno| {
            explain::lock_file_not_created(SysError::new(call, errno), path, &program())
        })?;
        let meta = fstat(&fd)
            .map_err(|errno| SysError::new(format!("fstat({})", c_string(path)), errno))?;
        // Ours from here on: an error below removes the file again.
        let file = LockFile {
            path: path.to_owned(),
            id: (meta.st_dev, meta.st_ino),
            _fd: fd,
        };
        fchmod(&file._fd, Mode::from_bits_truncate(0o600))
            .map_err(|errno| SysError::new(format!("fchmod({}, 0600)", c_string(path)), errno))?;
        Ok(file)
    }

    /// Where it is: `/tmp/racing_mmap.k3x9mqa2fz.lock`.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// `open(path, O_RDWR|O_NOFOLLOW)`: each child needs its own open file,
    /// because flock locks belong to an open file, and children sharing the
    /// parent's would all "hold" the same lock at once. The file opened
    /// must be the one the parent made: if someone replaced it meanwhile
    /// (a TMPDIR others may write to), locking theirs would protect nothing.
    pub fn open(&self) -> anyhow::Result<OwnedFd> {
        let fd = open(
            &self.path,
            OFlag::O_RDWR | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
            Mode::empty(),
        )
        .map_err(|errno| {
            SysError::new(
                format!("open({}, O_RDWR|O_NOFOLLOW)", c_string(&self.path)),
                errno,
            )
        })?;
        let meta = fstat(&fd)
            .map_err(|errno| SysError::new(format!("fstat({})", c_string(&self.path)), errno))?;
        if (meta.st_dev, meta.st_ino) != self.id {
            return Err(explain::lock_file_replaced(&self.path, &program()).into());
        }
        Ok(fd)
    }
}

impl Drop for LockFile {
    fn drop(&mut self) {
        // Only if the path still leads to the file this run created.
        let same =
            std::fs::symlink_metadata(&self.path).is_ok_and(|m| (m.dev(), m.ino()) == self.id);
        if same {
            if let Err(e) = std::fs::remove_file(&self.path) {
                if e.kind() != std::io::ErrorKind::NotFound {
                    crate::error::not_released(format!("{} ({e})", shell_word(&self.path)));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A private directory for one test, removed at the end.
    struct Dir(PathBuf);

    impl Dir {
        fn new(what: &str) -> Dir {
            let dir = std::env::temp_dir().join(format!(
                "shm-lessons-unit-{}-{}-{what}",
                nix::unistd::Uid::effective(),
                std::process::id()
            ));
            std::fs::create_dir(&dir).expect("a fresh directory");
            Dir(dir)
        }
    }

    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    #[test]
    fn the_lock_file_is_this_runs_own_0600_file_at_a_random_name_and_goes_when_dropped() {
        let dir = Dir::new("own");
        let file = LockFile::create_in(&dir.0).unwrap();
        let name = file.path.file_name().unwrap().to_str().unwrap().to_owned();
        let word = name
            .strip_prefix(&format!("{}.", program()))
            .and_then(|rest| rest.strip_suffix(".lock"))
            .unwrap_or_else(|| panic!("{name}"));
        assert_eq!(word.len(), 10, "{name}");
        assert!(
            !word.contains(&std::process::id().to_string()),
            "not the pid: {name}"
        );
        let mode = std::fs::metadata(&file.path).unwrap().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let other = LockFile::create_in(&dir.0).unwrap();
        assert_ne!(other.path, file.path, "every run its own name");
        drop(file);
        assert!(!dir.0.join(&name).exists(), "removed when dropped");
    }

    /// Files planted at every name made from the pid (as someone would to
    /// block other users' runs) change nothing: the name is random.
    #[test]
    fn files_planted_at_pid_names_do_not_block_a_run() {
        let dir = Dir::new("planted");
        let stem = format!("{}.{}", program(), std::process::id());
        std::fs::create_dir(dir.0.join(format!("{stem}.lock"))).unwrap();
        for n in 1..100 {
            std::fs::write(dir.0.join(format!("{stem}.{n}.lock")), "planted").unwrap();
        }
        let file = LockFile::create_in(&dir.0).unwrap();
        assert!(
            !file.path.to_str().unwrap().contains(&stem),
            "{}",
            file.path.display()
        );
        drop(file);
        assert!(dir.0.join(format!("{stem}.lock")).is_dir());
        assert_eq!(
            std::fs::read_to_string(dir.0.join(format!("{stem}.1.lock"))).unwrap(),
            "planted"
        );
    }

    /// A lock file replaced after the parent made it is refused by the
    /// child that opens it, and left alone.
    #[test]
    fn a_replaced_lock_file_is_refused() {
        let dir = Dir::new("replaced");
        let file = LockFile::create_in(&dir.0).unwrap();
        std::fs::remove_file(&file.path).unwrap();
        std::fs::write(&file.path, "someone else's").unwrap();
        let err = file.open().unwrap_err();
        assert!(
            err.to_string().ends_with("is another file now, not the lock file this run made: someone replaced it; this child left it alone"),
            "{err}"
        );
        drop(file);
        assert!(
            dir.0.read_dir().unwrap().next().is_some(),
            "the other file stays"
        );
    }

    #[test]
    fn a_directory_that_does_not_exist_is_one_error_naming_it_and_tmpdir() {
        let dir = Dir::new("missing");
        let err = LockFile::create_in(&dir.0.join("nope")).unwrap_err();
        assert_eq!(err.errno(), Errno::ENOENT);
        let err = anyhow::Error::new(err);
        let hint = crate::error::hint_of(&err).unwrap();
        assert!(hint.contains("nope does not exist."), "{hint}");
        assert!(hint.contains("TMPDIR=$HOME"), "{hint}");
    }
}
