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

/// Whether process `pid` is still running: it exists and is not a zombie
/// (a process that has died and waits for its parent to collect it). A
/// process this user may not see in /proc counts as alive if `kill(pid,
/// 0)` finds it.
pub fn is_alive(pid: libc::pid_t) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => !matches!(state_and_parent(&stat), Some(('Z' | 'X', _))),
        Err(_) => match nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None) {
            Ok(()) | Err(nix::errno::Errno::EPERM) => true,
            Err(_) => false,
        },
    }
}

/// Whether process `pid` runs this program: the same executable as this
/// one (/proc/PID/exe), or one of the same name (a copy, another build);
/// `None` if this user may not look (another user's process).
pub fn runs_this_program(pid: libc::pid_t) -> Option<bool> {
    let exe = |p: &str| {
        std::fs::read_link(format!("/proc/{p}/exe"))
            .ok()
            .map(|path| {
                path.to_string_lossy()
                    .trim_end_matches(" (deleted)")
                    .to_owned()
            })
    };
    let (theirs, mine) = (exe(&pid.to_string())?, exe("self")?);
    let name = |path: &str| path.rsplit('/').next().map(str::to_owned);
    Some(theirs == mine || name(&theirs) == name(&mine))
}

/// The parent of process `pid`, if /proc shows it.
pub fn parent_of(pid: libc::pid_t) -> Option<libc::pid_t> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    state_and_parent(&stat).map(|(_, parent)| parent)
}

/// The state letter and the parent pid from a /proc/PID/stat line, whose
/// second field (the name, in parentheses) may itself hold spaces and ')'.
fn state_and_parent(stat: &str) -> Option<(char, libc::pid_t)> {
    let rest = &stat[stat.rfind(')')? + 1..];
    let mut fields = rest.split_whitespace();
    let state = fields.next()?.chars().next()?;
    let parent = fields.next()?.parse().ok()?;
    Some((state, parent))
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

/// The processes that have the file at `path` mapped, in pid order.
///
/// Matched by device and inode, not by the name /proc/PID/maps prints:
/// a file can be mapped under another name (glibc's `sem_open` creates
/// `sem.XXXXXX`, maps it, then links it to `sem.NAME`, so maps says
/// `/dev/shm/sem.XXXXXX (deleted)`), and a name can be replaced.
pub fn mapping(path: &Path) -> Vec<libc::pid_t> {
    use std::os::unix::fs::MetadataExt;
    match std::fs::metadata(path) {
        Ok(meta) => mapping_file(meta.dev(), meta.ino()),
        Err(_) => Vec::new(),
    }
}

/// The processes that map the file with this device and inode number
/// (a line of /proc/PID/maps: `addr perms offset MAJ:MIN INODE path`).
pub fn mapping_file(dev: u64, ino: u64) -> Vec<libc::pid_t> {
    let want = format!(
        "{:02x}:{:02x}",
        libc::major(dev as libc::dev_t),
        libc::minor(dev as libc::dev_t)
    );
    let ino = ino.to_string();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    let mut pids: Vec<libc::pid_t> = entries
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse().ok())
        .filter(|pid: &libc::pid_t| {
            std::fs::read_to_string(format!("/proc/{pid}/maps")).is_ok_and(|maps| {
                maps.lines().any(|l| {
                    let mut fields = l.split_whitespace().skip(3);
                    fields.next() == Some(want.as_str()) && fields.next() == Some(ino.as_str())
                })
            })
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
    fn this_process_is_alive_and_has_a_parent() {
        let me = std::process::id() as libc::pid_t;
        assert!(is_alive(me));
        assert_eq!(parent_of(me), Some(nix::unistd::getppid().as_raw()));
        assert_eq!(
            state_and_parent("42 (a) b) S 7 42"),
            Some(('S', 7)),
            "a name with ') ' in it"
        );
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
