//! Huge pages for `SHM_HUGETLB`: how many a segment needs. (Whether the
//! pool has them is checked in `explain.rs`, `check_the_pool`; `--reserve`
//! is `reserve.rs`.)
//!
//! Huge pages do not come from the general pool of memory. Root reserves a
//! number of them in advance (`echo N > /proc/sys/vm/nr_hugepages`; the
//! article reserves 2048), and a `SHM_HUGETLB` segment takes its pages
//! from that reserve. A fresh machine reserves none, so the article's
//! xsi_shm_mem_huge.c fails with `shmget(): Cannot allocate memory` unless
//! the reader did that step first. Each huge page is 2 MiB on x86-64 (see
//! `Hugepagesize` in /proc/meminfo), so a segment's size is rounded up to a
//! whole number of them.

use crate::system::meminfo::Meminfo;
use crate::terminal::output::size_text;

/// Where root sets the size of the huge page pool.
pub(super) const NR_HUGEPAGES: &str = "/proc/sys/vm/nr_hugepages";

/// What a segment of a given size needs from the huge page pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Plan {
    /// What the user asked for.
    pub requested: u64,
    /// Rounded up to whole huge pages: what the segment really gets.
    pub bytes: u64,
    pub page_bytes: u64,
    pub pages: u64,
}

impl Plan {
    /// Round `requested` up to whole huge pages of the size in `info`.
    pub fn new(requested: u64, info: &Meminfo) -> Plan {
        let page_bytes = info.huge_page_bytes().max(1);
        let pages = requested.div_ceil(page_bytes);
        Plan {
            requested,
            bytes: pages * page_bytes,
            page_bytes,
            pages,
        }
    }

    /// A sentence if rounding changed the size.
    /// What /proc/meminfo's huge page lines show while the segment is
    /// held (`untouched`: `--no-touch`, so no page was written yet).
    pub fn pool_line(&self, untouched: bool) -> String {
        let pool = if untouched {
            format!(
                "HugePages_Rsvd is up by {}: promised, not yet used",
                self.pages
            )
        } else {
            format!("HugePages_Free is down by {}", self.pages)
        };
        format!("grep -i huge /proc/meminfo      {pool}")
    }

    pub fn rounding_note(&self) -> Option<String> {
        (self.bytes != self.requested).then(|| {
            format!(
                "rounded {} up to {}: a huge page segment is a whole number of {} pages",
                size_text(self.requested),
                size_text(self.bytes),
                size_text(self.page_bytes)
            )
        })
    }

    /// What nr_hugepages must be for this plan to fit.
    pub(super) fn target(&self, info: &Meminfo) -> u64 {
        info.huge_total + self.pages.saturating_sub(info.huge_available())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::xsi::reserve::Reservation;

    fn info(total: u64, free: u64, rsvd: u64) -> Meminfo {
        Meminfo {
            mem_available_kib: 16 << 20,
            huge_total: total,
            huge_free: free,
            huge_rsvd: rsvd,
            huge_page_kib: 2048,
            ..Meminfo::default()
        }
    }

    #[test]
    fn sizes_round_up_to_whole_huge_pages() {
        let plan = Plan::new(2046 << 20, &info(0, 0, 0));
        assert_eq!((plan.pages, plan.bytes), (1023, 2046 << 20));
        assert_eq!(plan.rounding_note(), None);
        let odd = Plan::new(3 << 20, &info(0, 0, 0));
        assert_eq!((odd.pages, odd.bytes), (2, 4 << 20));
        assert_eq!(
            odd.rounding_note().unwrap(),
            "rounded 3 MiB up to 4 MiB: a huge page segment is a whole number of 2 MiB pages"
        );
    }

    #[test]
    fn a_shortage_names_the_exact_nr_hugepages_command() {
        let plan = Plan::new(64 << 20, &info(0, 0, 0));
        let failure = super::super::explain::check_the_pool(&plan, &info(10, 6, 2)).unwrap_err();
        let err = anyhow::Error::new(failure);
        assert!(
            err.to_string()
                .starts_with("64 MiB needs 32 huge pages of 2 MiB; only 4 are available"),
            "{err}"
        );
        let hint = crate::error::hint_of(&err).unwrap();
        // 10 reserved, 4 of them available, 32 needed: 28 more.
        assert!(
            hint.contains("echo 38 > /proc/sys/vm/nr_hugepages"),
            "{hint}"
        );
        assert!(
            hint.contains("echo 10 > /proc/sys/vm/nr_hugepages"),
            "{hint}"
        );
        assert!(super::super::explain::check_the_pool(&plan, &info(40, 40, 0)).is_ok());
    }

    #[test]
    fn surplus_pages_the_kernel_may_still_allocate_count_as_available() {
        let plan = Plan::new(64 << 20, &info(0, 0, 0));
        let overcommit = |surp| Meminfo {
            huge_overcommit: 64,
            huge_surp: surp,
            ..info(0, 0, 0)
        };
        assert!(super::super::explain::check_the_pool(&plan, &overcommit(0)).is_ok());
        let err = super::super::explain::check_the_pool(&plan, &overcommit(40))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("only 24 are available (HugePages_Total 0, Free 0, Rsvd 0, Surp 40; nr_overcommit_hugepages 64)"),
            "{err}"
        );
    }

    #[test]
    fn more_than_memory_can_hold_is_refused_without_a_reservation_command() {
        // 16 GiB available: 100000 GiB of huge pages cannot be reserved.
        let plan = Plan::new(100_000 << 30, &info(0, 0, 0));
        let err = anyhow::Error::new(
            super::super::explain::check_the_pool(&plan, &info(0, 0, 0)).unwrap_err(),
        );
        assert!(
            err.to_string()
                .contains("but only 16 GiB of memory is available"),
            "{err}"
        );
        let hint = crate::error::hint_of(&err).unwrap();
        assert!(!hint.contains("nr_hugepages"), "{hint}");
        assert!(hint.contains("--size 8192M"), "{hint}");
        let refused = Reservation::ensure(&plan, &info(0, 0, 0)).unwrap_err();
        assert!(refused.to_string().contains("more reserved"), "{refused}");
    }
}
