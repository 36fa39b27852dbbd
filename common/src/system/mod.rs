//! What the programs read about the machine: /proc, /etc/passwd, sysconf.
//!
//! These readers serve every family and the test kit alike, so they live
//! apart from the system calls that create things. None of them creates or
//! changes anything; a file that cannot be read gives "nothing known"
//! (`None`, an empty list), never an error of its own.
//!
//! Which file holds what is mapped, once for the whole crate, in
//! docs/architecture.md; this table says which command shows the same
//! numbers as each reader.
//!
//! | reader | file | `free`/`ipcs` shows it as |
//! |---|---|---|
//! | [`meminfo::Meminfo`] | /proc/meminfo | `free`'s shared, buff/cache; `HugePages_*` |
//! | [`cgroup::limit`] | /proc/self/cgroup, mountinfo; memory.max or memory.limit_in_bytes | `systemctl status`'s Memory line, `docker stats`' LIMIT |
//! | [`sysvipc::segments`], [`sysvipc::semaphore_sets`] | /proc/sysvipc/shm, sem | `ipcs -m`, `ipcs -s` |
//! | [`sysctl`] | /proc/sys/… | `sysctl kernel.shmmax`, `ipcs -l` |
//! | [`users::user_name`] | /etc/passwd (via getpwuid) | the owner column of `ls -l`, `ipcs` |
//! | [`procs`] | /proc/PID/comm, /proc/locks, /proc/PID/maps | `ps`, `lslocks`, `lsof` |
//! | [`page_size`] | sysconf(_SC_PAGESIZE) | `getconf PAGESIZE` |

pub mod cgroup;
pub mod meminfo;
pub mod procs;
pub mod sysvipc;
pub mod users;

use nix::unistd::{SysconfVar, sysconf};

/// The size of an ordinary page in bytes: 4096 on x86-64, 16384 or 65536
/// on some arm64 machines. kernel.shmall counts in these pages, and each
/// one is a page fault the first time it is touched.
pub fn page_size() -> u64 {
    match sysconf(SysconfVar::PAGE_SIZE) {
        Ok(Some(size)) => u64::try_from(size).unwrap_or(4096),
        // POSIX requires PAGE_SIZE; Linux always has it.
        _ => 4096,
    }
}

/// A number from /proc/sys: `sysctl("kernel/shmmax")`, `sysctl("vm/nr_hugepages")`.
/// `None` if the file is missing or unreadable.
pub fn sysctl(name: &str) -> Option<u64> {
    std::fs::read_to_string(format!("/proc/sys/{name}"))
        .ok()?
        .trim()
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_size_is_a_power_of_two_of_at_least_4_kib() {
        let page = page_size();
        assert!(page >= 4096 && page.is_power_of_two(), "{page}");
    }

    #[test]
    fn sysctls_read_as_numbers() {
        assert!(sysctl("kernel/shmmni").is_some_and(|n| n > 0));
        assert_eq!(sysctl("no/such/setting"), None);
    }
}
