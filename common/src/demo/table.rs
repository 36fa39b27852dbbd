//! The memory demos' before/after table of /proc/meminfo.

use std::fmt::Write as _;

use crate::system::meminfo::Meminfo;

/// Which rows a demo shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rows {
    /// MemFree, Shmem, Cached.
    Normal,
    /// The same, plus HugePages_Free and HugePages_Rsvd.
    Huge,
    /// The same as Normal, plus Dirty and Writeback: a file on disk.
    File,
    /// The same as Normal, plus what `df /dev/shm` counts: a POSIX object.
    DevShm,
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
    if rows == Rows::File {
        row(
            "Dirty",
            mib(before.dirty_kib),
            mib(after.dirty_kib),
            "MiB",
            "written in memory, not yet on disk",
        );
        row(
            "Writeback",
            mib(before.writeback_kib),
            mib(after.writeback_kib),
            "MiB",
            "being written to disk",
        );
    }
    if rows == Rows::DevShm {
        row(
            "/dev/shm",
            mib(before.dev_shm_used_kib),
            mib(after.dev_shm_used_kib),
            "MiB",
            "used, as df -h /dev/shm counts",
        );
    }
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

    #[test]
    fn the_table_shows_changes_in_mib_and_pages() {
        let before = Meminfo {
            mem_free_kib: 23266100,
            shmem_kib: 8788,
            cached_kib: 1100164,
            huge_free: 30,
            huge_page_kib: 2048,
            ..Meminfo::default()
        };
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
}
