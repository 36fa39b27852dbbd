//! What the tests read from /proc about a running program and the machine.

use common::system::meminfo::Meminfo;
use common::system::sysctl;
use nix::unistd::Pid;

/// `/proc/PID/FILE`, if the process is still there.
fn proc(pid: Pid, file: &str) -> Option<String> {
    std::fs::read_to_string(format!("/proc/{pid}/{file}")).ok()
}

pub fn child_pids(pid: Pid) -> Vec<Pid> {
    let children = proc(pid, &format!("task/{pid}/children")).unwrap_or_default();
    let pids = children.split_whitespace().filter_map(|p| p.parse().ok());
    pids.map(Pid::from_raw).collect()
}

pub fn children_of(pid: Pid) -> usize {
    child_pids(pid).len()
}

/// Whether process `pid` runs the program `name` (its comm): a program
/// started through the lab's wrapper script is `sh` for a moment.
pub fn runs(pid: Pid, name: &str) -> bool {
    proc(pid, "comm").is_some_and(|comm| comm.trim_end() == name)
}

/// Whether process `pid` is asleep (state S), as a demo is while it holds
/// its memory, and not while it zeroes it.
pub fn sleeping(pid: Pid) -> bool {
    let stat = proc(pid, "stat").unwrap_or_default();
    let state = stat.rsplit(')').next().map(str::trim_start);
    state.is_some_and(|state| state.starts_with('S'))
}

/// Whether `pid` is asleep in nanosleep/clock_nanosleep right now: in a
/// racing child, that is the pause *inside* the critical section.
pub fn in_nanosleep(pid: Pid) -> bool {
    let sleeps = [nix::libc::SYS_clock_nanosleep, nix::libc::SYS_nanosleep];
    let syscall = proc(pid, "syscall").unwrap_or_default();
    let number = syscall.split_whitespace().next();
    let number = number.and_then(|n| n.parse().ok());
    number.is_some_and(|n: i64| sleeps.contains(&n))
}

/// /proc/meminfo now, read as the programs read it.
pub fn meminfo() -> Meminfo {
    Meminfo::read().expect("/proc/meminfo is readable")
}

/// Shmem from /proc/meminfo, in MiB.
pub fn shmem_mib() -> i64 {
    (meminfo().shmem_kib / 1024) as i64
}

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
    let real_uid = |task: &std::fs::DirEntry| {
        let status = std::fs::read_to_string(task.path().join("status")).ok()?;
        let uids = status.lines().find_map(|l| l.strip_prefix("Uid:"))?;
        uids.split_whitespace().next()?.parse::<u32>().ok()
    };
    let procs = crate::entries("/proc".as_ref());
    let tasks = procs.flat_map(|proc| crate::entries(&proc.path().join("task")));
    tasks.filter(|task| real_uid(task) == Some(me)).count() as u64
}

/// Whether `path` is on a tmpfs (memory), not a disk.
pub fn on_tmpfs(path: &std::path::Path) -> bool {
    let fs = nix::sys::statfs::statfs(path);
    fs.is_ok_and(|fs| fs.filesystem_type() == nix::sys::statfs::TMPFS_MAGIC)
}
