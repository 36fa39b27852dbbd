//! What the tests read from /proc about a running program and the machine.

use common::system::meminfo::Meminfo;
use common::system::sysctl;
use nix::unistd::Pid;

/// The children of `pid`, by pid.
pub fn child_pids(pid: Pid) -> Vec<Pid> {
    std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children"))
        .map(|s| {
            s.split_whitespace()
                .filter_map(|p| p.parse().ok())
                .map(Pid::from_raw)
                .collect()
        })
        .unwrap_or_default()
}

/// How many child processes `pid` has right now.
pub fn children_of(pid: Pid) -> usize {
    child_pids(pid).len()
}

/// Whether process `pid` runs the program `name` (its /proc/PID/comm): a
/// program started through the lab's wrapper script is `sh` for a moment.
pub fn runs(pid: Pid, name: &str) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/comm")).is_ok_and(|comm| comm.trim_end() == name)
}

/// Whether process `pid` is asleep (state S), as a demo is while it holds
/// its memory, and not while it zeroes it.
pub fn sleeping(pid: Pid) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|stat| {
            stat.rsplit(')')
                .next()
                .map(|rest| rest.trim_start().starts_with('S'))
        })
        .unwrap_or(false)
}

/// Whether `pid` is asleep in nanosleep/clock_nanosleep right now: in a
/// racing child, that is the pause *inside* the critical section.
pub fn in_nanosleep(pid: Pid) -> bool {
    let sleeps = [nix::libc::SYS_clock_nanosleep, nix::libc::SYS_nanosleep];
    std::fs::read_to_string(format!("/proc/{pid}/syscall"))
        .ok()
        .and_then(|s| {
            s.split_whitespace()
                .next()
                .and_then(|n| n.parse::<i64>().ok())
        })
        .is_some_and(|n| sleeps.contains(&n))
}

/// /proc/meminfo now, read as the programs read it.
pub fn meminfo() -> Meminfo {
    Meminfo::read().expect("/proc/meminfo is readable")
}

/// Shmem from /proc/meminfo, in MiB.
pub fn shmem_mib() -> i64 {
    (meminfo().shmem_kib / 1024) as i64
}

/// vm.nr_hugepages now.
pub fn nr_hugepages() -> u64 {
    sysctl("vm/nr_hugepages").unwrap_or(0)
}

/// Huge pages free and not promised to a mapping yet.
pub fn huge_available() -> i64 {
    let info = meminfo();
    info.huge_free as i64 - info.huge_rsvd as i64
}

/// How many tasks (processes and threads) this user has now: what
/// RLIMIT_NPROC counts against.
pub fn my_tasks() -> u64 {
    let me = nix::unistd::Uid::current().as_raw();
    let Ok(procs) = std::fs::read_dir("/proc") else {
        return 0;
    };
    let mut count = 0;
    for proc in procs.flatten() {
        let Ok(tasks) = std::fs::read_dir(proc.path().join("task")) else {
            continue;
        };
        for task in tasks.flatten() {
            let real_uid = std::fs::read_to_string(task.path().join("status"))
                .ok()
                .and_then(|status| {
                    status
                        .lines()
                        .find_map(|l| l.strip_prefix("Uid:"))
                        .and_then(|ids| ids.split_whitespace().next()?.parse::<u32>().ok())
                });
            if real_uid == Some(me) {
                count += 1;
            }
        }
    }
    count
}

/// Whether `path` is on a tmpfs (memory), not a disk.
pub fn on_tmpfs(path: &std::path::Path) -> bool {
    nix::sys::statfs::statfs(path)
        .is_ok_and(|fs| fs.filesystem_type() == nix::sys::statfs::TMPFS_MAGIC)
}
