//! `/proc/meminfo`, the numbers `free` is made of, before and after.
//!
//! The article runs `free -g` before and after starting each memory demo
//! and reads two columns: "shared" and "buff/cache". Both come from this
//! file: `free`'s shared is `Shmem`, and its buff/cache is `Buffers +
//! Cached + SReclaimable`, where `Cached` includes `Shmem`. Shared memory
//! is counted there because Linux keeps it in tmpfs pages — page cache with
//! no disk behind it, which is why "cache" here cannot simply be dropped.
//! Huge pages are counted apart, in `HugePages_*`, which `free` ignores.
//!
//! The memory demos print these fields before and after, with the change
//! (see `crate::demo`), so the observation is on screen without a second
//! terminal.

use crate::error::SysError;

/// The fields of /proc/meminfo the demos look at, in KiB (pages for
/// the HugePages_* counts), as the kernel reports them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Meminfo {
    pub mem_free_kib: u64,
    pub mem_available_kib: u64,
    /// free's "shared": tmpfs, System V and shared anonymous memory.
    pub shmem_kib: u64,
    /// Page cache, Shmem included; most of free's "buff/cache".
    pub cached_kib: u64,
    /// File pages written in memory and not yet on disk.
    pub dirty_kib: u64,
    /// File pages being written to disk right now.
    pub writeback_kib: u64,
    /// What `df /dev/shm` counts as used (not in /proc/meminfo: statvfs).
    pub dev_shm_used_kib: u64,
    pub huge_total: u64,
    pub huge_free: u64,
    /// Promised to a mapping but not yet faulted in: free, yet not available.
    pub huge_rsvd: u64,
    /// Surplus pages: allocated beyond nr_hugepages, on demand.
    pub huge_surp: u64,
    /// vm.nr_overcommit_hugepages (a sysctl, not in /proc/meminfo): how
    /// many surplus pages the kernel may allocate when the pool runs out.
    pub huge_overcommit: u64,
    pub huge_page_kib: u64,
}

impl Meminfo {
    /// Read /proc/meminfo now.
    pub fn read() -> Result<Meminfo, SysError> {
        let text = std::fs::read_to_string("/proc/meminfo").map_err(|e| {
            SysError::new(
                "open(\"/proc/meminfo\")",
                nix::errno::Errno::from_raw(e.raw_os_error().unwrap_or(0)),
            )
        })?;
        let mut info = Meminfo::parse(&text);
        info.huge_overcommit = super::sysctl("vm/nr_overcommit_hugepages").unwrap_or(0);
        info.dev_shm_used_kib = dev_shm_used_kib().unwrap_or(0);
        Ok(info)
    }

    /// The fields from the text of /proc/meminfo (missing ones are 0).
    pub fn parse(text: &str) -> Meminfo {
        let mut info = Meminfo::default();
        for line in text.lines() {
            let mut parts = line.split_whitespace();
            let (Some(name), Some(value)) = (parts.next(), parts.next()) else {
                continue;
            };
            let Ok(value) = value.parse::<u64>() else {
                continue;
            };
            let field = match name {
                "MemFree:" => &mut info.mem_free_kib,
                "MemAvailable:" => &mut info.mem_available_kib,
                "Shmem:" => &mut info.shmem_kib,
                "Cached:" => &mut info.cached_kib,
                "Dirty:" => &mut info.dirty_kib,
                "Writeback:" => &mut info.writeback_kib,
                "HugePages_Total:" => &mut info.huge_total,
                "HugePages_Free:" => &mut info.huge_free,
                "HugePages_Rsvd:" => &mut info.huge_rsvd,
                "HugePages_Surp:" => &mut info.huge_surp,
                "Hugepagesize:" => &mut info.huge_page_kib,
                _ => continue,
            };
            *field = value;
        }
        info
    }

    /// Huge pages a new segment can get: those free and not promised to
    /// anyone, plus the surplus pages the kernel may still allocate on
    /// demand (vm.nr_overcommit_hugepages, less those already in use).
    pub fn huge_available(&self) -> u64 {
        self.huge_free.saturating_sub(self.huge_rsvd)
            + self.huge_overcommit.saturating_sub(self.huge_surp)
    }

    /// The huge page size in bytes (2 MiB on x86-64 by default).
    pub fn huge_page_bytes(&self) -> u64 {
        self.huge_page_kib * 1024
    }
}

/// `df /dev/shm`'s "Used", in KiB: blocks in use times the block size.
fn dev_shm_used_kib() -> Option<u64> {
    let stat = nix::sys::statvfs::statvfs("/dev/shm").ok()?;
    let used = stat.blocks().saturating_sub(stat.blocks_free());
    Some(used * stat.fragment_size() / 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "MemTotal:       24684096 kB\nMemFree:        23266100 kB\n\
        MemAvailable:   24187996 kB\nCached:          1100164 kB\nShmem:              8788 kB\n\
        HugePages_Total:      32\nHugePages_Free:       30\nHugePages_Rsvd:        4\n\
        Hugepagesize:       2048 kB\n";

    #[test]
    fn the_fields_free_uses_are_read() {
        let info = Meminfo::parse(SAMPLE);
        assert_eq!(info.mem_free_kib, 23266100);
        assert_eq!(info.mem_available_kib, 24187996);
        assert_eq!(info.cached_kib, 1100164);
        assert_eq!(info.shmem_kib, 8788);
        assert_eq!(
            (info.huge_total, info.huge_free, info.huge_rsvd),
            (32, 30, 4)
        );
        assert_eq!(info.huge_available(), 26);
        assert_eq!(info.huge_page_bytes(), 2 << 20);
    }

    #[test]
    fn the_live_file_parses() {
        let info = Meminfo::read().unwrap();
        assert!(info.mem_free_kib > 0 && info.huge_page_kib > 0);
    }
}
