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
//! [`Report`] prints the fields the article looks at, before and after, with
//! the change, so the observation is on screen without a second terminal.

use std::fmt::Write as _;

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
        info.huge_overcommit = std::fs::read_to_string("/proc/sys/vm/nr_overcommit_hugepages")
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(0);
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

/// Which rows a demo shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rows {
    /// MemFree, Shmem, Cached.
    Normal,
    /// The same, plus HugePages_Free.
    Huge,
}

/// `2046 MiB`, or `3 KiB`, or `100 bytes`: the largest unit that divides `bytes`.
pub fn size_text(bytes: u64) -> String {
    const KIB: u64 = 1024;
    match bytes {
        b if b >= KIB * KIB * KIB && b % (KIB * KIB * KIB) == 0 => {
            format!("{} GiB", b / (KIB * KIB * KIB))
        }
        b if b >= KIB * KIB && b % (KIB * KIB) == 0 => format!("{} MiB", b / (KIB * KIB)),
        b if b >= KIB && b % KIB == 0 => format!("{} KiB", b / KIB),
        b => format!("{b} bytes"),
    }
}

/// The before/after table:
///
/// ```text
///                     before        after       change
/// MemFree          22718 MiB    20669 MiB    -2049 MiB
/// Shmem                8 MiB     2054 MiB    +2046 MiB   free's "shared"
/// Cached            1074 MiB     3120 MiB    +2046 MiB   in free's "buff/cache"
/// ```
pub fn table(before: &Meminfo, after: &Meminfo, rows: Rows) -> String {
    let mut text = format!(
        "{:<16}{:>10}{:>13}{:>13}\n",
        "", "before", "after", "change"
    );
    let mib = |kib: u64| kib as i64 / 1024;
    let mut row = |name: &str, b: i64, a: i64, unit: &str, note: &str| {
        let change = a - b;
        let line = format!(
            "{name:<16}{:>10}{:>13}{:>13}   {note}",
            format!("{b} {unit}"),
            format!("{a} {unit}"),
            format!("{change:+} {unit}")
        );
        let _ = writeln!(text, "{}", line.trim_end());
    };
    row(
        "MemFree",
        mib(before.mem_free_kib),
        mib(after.mem_free_kib),
        "MiB",
        "",
    );
    row(
        "Shmem",
        mib(before.shmem_kib),
        mib(after.shmem_kib),
        "MiB",
        "free's \"shared\"",
    );
    row(
        "Cached",
        mib(before.cached_kib),
        mib(after.cached_kib),
        "MiB",
        "in free's \"buff/cache\"",
    );
    if rows == Rows::Huge {
        row(
            "HugePages_Free",
            before.huge_free as i64,
            after.huge_free as i64,
            "pages",
            &format!(
                "of {} KiB each; free does not show them",
                after.huge_page_kib
            ),
        );
        row(
            "HugePages_Rsvd",
            before.huge_rsvd as i64,
            after.huge_rsvd as i64,
            "pages",
            "promised to a segment, not yet touched",
        );
    }
    text
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

    #[test]
    fn the_table_shows_changes_in_mib_and_pages() {
        let before = Meminfo::parse(SAMPLE);
        let after = Meminfo {
            shmem_kib: before.shmem_kib + 64 * 1024,
            huge_free: 0,
            ..before
        };
        let text = table(&before, &after, Rows::Huge);
        let shmem = text.lines().find(|l| l.starts_with("Shmem")).unwrap();
        assert!(
            shmem.contains("8 MiB") && shmem.contains("72 MiB") && shmem.contains("+64 MiB"),
            "{text}"
        );
        let huge = text
            .lines()
            .find(|l| l.starts_with("HugePages_Free"))
            .unwrap();
        assert!(huge.contains("-30 pages"), "{text}");
    }

    #[test]
    fn sizes_use_the_largest_whole_unit() {
        assert_eq!(size_text(2046 << 20), "2046 MiB");
        assert_eq!(size_text(2 << 30), "2 GiB");
        assert_eq!(size_text(4096), "4 KiB");
        assert_eq!(size_text(100), "100 bytes");
        assert_eq!(size_text((1 << 20) + 1), "1048577 bytes");
    }
}
