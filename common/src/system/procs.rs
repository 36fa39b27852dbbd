//! Processes, as /proc shows them: a process's name, who holds a `flock`
//! on a file, and who has a file mapped. Each process may read its own
//! user's /proc entries (root: everyone's), so counts are of the processes
//! this user can see.

use std::path::Path;

/// `racing_posix_shm`: the program process `pid` runs (the file name of
/// its `argv[0]`; /proc/PID/comm would cut it to 15 bytes), if it still
/// exists and this user may read it.
pub fn name_of(pid: libc::pid_t) -> Option<String> {
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
    let argv0 = cmdline.split(|b| *b == 0).next()?;
    let name = String::from_utf8_lossy(argv0);
    let name = name.rsplit('/').next()?.to_owned();
    (!name.is_empty()).then_some(name)
}

/// The processes holding a `flock` on the file with this device and inode
/// number, from /proc/locks (`1: FLOCK ADVISORY READ 4242 00:1b:49 0 EOF`).
pub fn flock_holders(dev: u64, ino: u64) -> Vec<libc::pid_t> {
    let want = format!(
        "{:02x}:{:02x}:{ino}",
        libc::major(dev as libc::dev_t),
        libc::minor(dev as libc::dev_t)
    );
    let Ok(locks) = std::fs::read_to_string("/proc/locks") else {
        return Vec::new();
    };
    locks
        .lines()
        .filter(|line| line.contains(" FLOCK "))
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let at = fields.iter().position(|f| *f == "FLOCK")?;
            // FLOCK ADVISORY READ|WRITE PID MAJ:MIN:INODE ...
            (fields.get(at + 4) == Some(&want.as_str()))
                .then(|| fields.get(at + 3)?.parse().ok())
                .flatten()
        })
        .collect()
}

/// The processes that have `path` mapped (a line of /proc/PID/maps ends
/// with it), in pid order.
pub fn mapping(path: &Path) -> Vec<libc::pid_t> {
    let suffix = format!(" {}", path.display());
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    let mut pids: Vec<libc::pid_t> = entries
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse().ok())
        .filter(|pid: &libc::pid_t| {
            std::fs::read_to_string(format!("/proc/{pid}/maps"))
                .is_ok_and(|maps| maps.lines().any(|l| l.ends_with(&suffix)))
        })
        .collect();
    pids.sort_unstable();
    pids
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_has_a_name() {
        let me = std::process::id() as libc::pid_t;
        assert!(name_of(me).is_some_and(|n| !n.is_empty()));
    }

    #[test]
    fn a_flock_names_its_holder() {
        use std::os::unix::fs::MetadataExt;
        let path = std::env::temp_dir().join(format!("shm-lessons-flock-{}", std::process::id()));
        let file = std::fs::File::create(&path).unwrap();
        let meta = file.metadata().unwrap();
        let held = nix::fcntl::Flock::lock(file, nix::fcntl::FlockArg::LockSharedNonblock).unwrap();
        let holders = flock_holders(meta.dev(), meta.ino());
        drop(held);
        let _ = std::fs::remove_file(&path);
        assert_eq!(holders, vec![std::process::id() as libc::pid_t]);
    }
}
