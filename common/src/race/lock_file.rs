//! The lock file of `--lock flock`: one per run, this run's own.

use std::os::fd::OwnedFd;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::fcntl::{OFlag, open};
use nix::sys::stat::{Mode, fchmod, fstat};

use crate::error::SysError;
use crate::system::users::user_name;

/// The file `--lock flock` locks: `$TMPDIR/PROGRAM.PID.lock` (`/tmp` when
/// TMPDIR is not set), made by this run for its own children and removed
/// again when the value is dropped — at the end, on an error, or on a
/// stopping signal.
///
/// One file per run, not one per program: two runs at once (a class of
/// thirty, or one student's two terminals) never share a lock file, so the
/// first to finish cannot delete the file under the other, and nobody ever
/// meets a file another user left. The lock only has to keep *this run's*
/// children apart; each run has its own counter anyway.
#[derive(Debug)]
pub struct LockFile {
    path: PathBuf,
    id: (u64, u64),
}

/// The first part of a lock file's name: the running program's executable
/// (`racing_mmap`), as /proc/self/exe names it, so that `ls /tmp` shows
/// whose file it is. A program rebuilt while it runs still has its name.
fn program() -> String {
    std::env::current_exe()
        .ok()
        .and_then(|exe| exe.file_name().map(|n| n.to_string_lossy().into_owned()))
        .map(|name| name.trim_end_matches(" (deleted)").to_owned())
        .unwrap_or_else(|| String::from("shm-lessons"))
}

impl LockFile {
    /// Create this run's lock file: `open(path, O_CREAT|O_EXCL|O_RDWR|O_NOFOLLOW,
    /// 0600)`, then `fchmod(fd, 0600)`, so the mode is 0600 whatever the
    /// umask (a umask such as 0277 would otherwise leave the owner unable
    /// to open it for writing). If a file of an earlier run with the same
    /// pid is still there (that run was killed with SIGKILL), the next free
    /// `PROGRAM.PID.N.lock` is used instead: that file is not ours.
    pub fn create_for_run() -> Result<LockFile, SysError> {
        LockFile::create_in(&std::env::temp_dir())
    }

    fn create_in(dir: &Path) -> Result<LockFile, SysError> {
        let stem = format!("{}.{}", program(), std::process::id());
        let mut last = None;
        for n in 0..100 {
            let name = match n {
                0 => format!("{stem}.lock"),
                n => format!("{stem}.{n}.lock"),
            };
            let path = dir.join(name);
            match LockFile::create(&path) {
                Err(err) if err.errno() == Errno::EEXIST => last = Some(err),
                other => return other,
            }
        }
        Err(last.expect("100 attempts were made"))
    }

    fn create(path: &Path) -> Result<LockFile, SysError> {
        let call = format!(
            "open(\"{}\", O_CREAT|O_EXCL|O_RDWR|O_NOFOLLOW, 0600)",
            path.display()
        );
        let fd = open(
            path,
            OFlag::O_CREAT | OFlag::O_EXCL | OFlag::O_RDWR | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
            Mode::from_bits_truncate(0o600),
        )
        .map_err(|errno| explain_create(SysError::new(call, errno), path))?;
        let meta = fstat(&fd)
            .map_err(|errno| SysError::new(format!("fstat(\"{}\")", path.display()), errno))?;
        // Ours from here on: an error below removes the file again.
        let file = LockFile {
            path: path.to_owned(),
            id: (meta.st_dev, meta.st_ino),
        };
        fchmod(&fd, Mode::from_bits_truncate(0o600)).map_err(|errno| {
            SysError::new(format!("fchmod(\"{}\", 0600)", path.display()), errno)
        })?;
        Ok(file)
    }

    /// Where it is: `/tmp/racing_mmap.4242.lock`.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// `open(path, O_RDWR|O_NOFOLLOW)`: each child needs its own open file,
    /// because flock locks belong to an open file, and children sharing the
    /// parent's would all "hold" the same lock at once.
    pub fn open(&self) -> Result<OwnedFd, SysError> {
        open(
            &self.path,
            OFlag::O_RDWR | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
            Mode::empty(),
        )
        .map_err(|errno| {
            SysError::new(
                format!("open(\"{}\", O_RDWR|O_NOFOLLOW)", self.path.display()),
                errno,
            )
        })
    }
}

/// Why this run could not create its lock file, and how to get one: the
/// directory, whose it is, and the `TMPDIR=` that points elsewhere.
fn explain_create(err: SysError, path: &Path) -> SysError {
    let dir = path.parent().unwrap_or(Path::new("/"));
    let elsewhere = "--lock flock keeps its lock file in $TMPDIR (/tmp if unset). Point TMPDIR\n\
                     at a directory of your own, e.g.: TMPDIR=$HOME PROGRAM --lock flock"
        .replace("PROGRAM", &program());
    let about_dir = match std::fs::metadata(dir) {
        Ok(meta) if !meta.is_dir() => format!("{} is not a directory.", dir.display()),
        Ok(meta) => format!(
            "{} belongs to {}, mode {:04o}: this user may not create files in it.",
            dir.display(),
            user_name(meta.uid()),
            meta.mode() & 0o7777
        ),
        Err(_) => format!("{} does not exist.", dir.display()),
    };
    match err.errno() {
        Errno::EACCES | Errno::EPERM | Errno::EROFS | Errno::ENOENT | Errno::ENOTDIR => {
            err.hint(format!("{about_dir}\n{elsewhere}"))
        }
        Errno::EEXIST => err.hint(format!(
            "something is already at that path, left by a run that was killed (SIGKILL)\n\
             with the same pid; 100 other names were taken too. Remove the stale files:\n\
             ls -l {}/{}.*.lock\n{elsewhere}",
            dir.display(),
            program()
        )),
        // EMFILE, ENOSPC, …: a limit, not the directory (see general_hint).
        _ => err,
    }
}

impl Drop for LockFile {
    fn drop(&mut self) {
        // Only if the path still leads to the file this run created.
        let same =
            std::fs::symlink_metadata(&self.path).is_ok_and(|m| (m.dev(), m.ino()) == self.id);
        if same {
            let _ = std::fs::remove_file(&self.path);
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
    fn the_lock_file_is_this_runs_own_0600_file_and_goes_when_dropped() {
        let dir = Dir::new("own");
        let file = LockFile::create_in(&dir.0).unwrap();
        let name = format!("{}.{}.lock", program(), std::process::id());
        assert_eq!(file.path, dir.0.join(&name));
        let mode = std::fs::metadata(&file.path).unwrap().mode() & 0o777;
        assert_eq!(mode, 0o600);
        drop(file);
        assert!(!dir.0.join(&name).exists(), "removed when dropped");
    }

    #[test]
    fn something_planted_at_the_path_is_left_alone_and_the_next_name_used() {
        let dir = Dir::new("planted");
        let stem = format!("{}.{}", program(), std::process::id());
        // A directory where the lock file would go, and a stale file at
        // the next name: neither is ours to touch.
        std::fs::create_dir(dir.0.join(format!("{stem}.lock"))).unwrap();
        std::fs::write(dir.0.join(format!("{stem}.1.lock")), "stale").unwrap();
        let file = LockFile::create_in(&dir.0).unwrap();
        assert_eq!(file.path, dir.0.join(format!("{stem}.2.lock")));
        drop(file);
        assert!(dir.0.join(format!("{stem}.lock")).is_dir());
        assert_eq!(
            std::fs::read_to_string(dir.0.join(format!("{stem}.1.lock"))).unwrap(),
            "stale"
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
