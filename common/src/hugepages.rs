//! Huge pages for `SHM_HUGETLB`: how many, whether they are free, and a
//! reservation that gives itself back.
//!
//! Huge pages do not come from the general pool of memory. Root reserves a
//! number of them in advance (`echo N > /proc/sys/vm/nr_hugepages`; the
//! article reserves 2048), and a `SHM_HUGETLB` segment takes its pages
//! from that reserve. A fresh machine reserves none, so the article's
//! xsi_shm_mem_huge.c fails with `shmget(): Cannot allocate memory` unless
//! the reader did that step first. Each huge page is 2 MiB on x86-64 (see
//! `Hugepagesize` in /proc/meminfo), so a segment's size is rounded up to a
//! whole number of them.

use crate::error::Failure;
use crate::meminfo::{Meminfo, size_text};
use crate::signals;

const NR_HUGEPAGES: &str = "/proc/sys/vm/nr_hugepages";

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

    /// Refuse, before anything is created, if the pool has too few pages
    /// available. The hint has the exact command that reserves enough.
    pub fn check_available(&self, info: &Meminfo) -> Result<(), Failure> {
        if info.huge_available() >= self.pages {
            return Ok(());
        }
        self.check_reservable(info)?;
        let overcommit = if info.huge_overcommit > 0 {
            format!(
                ", Surp {}; nr_overcommit_hugepages {}",
                info.huge_surp, info.huge_overcommit
            )
        } else {
            String::new()
        };
        Err(Failure::new(format!(
            "{} needs {} huge pages of {}; only {} are available (HugePages_Total {}, Free {}, Rsvd {}{overcommit})",
            size_text(self.bytes),
            self.pages,
            size_text(self.page_bytes),
            info.huge_available(),
            info.huge_total,
            info.huge_free,
            info.huge_rsvd
        ))
        .hint(reserve_hint(self.pages, info)))
    }

    /// Refuse a plan whose missing huge pages could not even be reserved:
    /// reserving takes ordinary memory, and asking the kernel for more than
    /// there is would turn everything it can find into huge pages.
    fn check_reservable(&self, info: &Meminfo) -> Result<(), Failure> {
        let missing = self.pages.saturating_sub(info.huge_available()) * self.page_bytes;
        let available = info.mem_available_kib * 1024;
        if missing > available / 2 {
            let most = (info.huge_available() * self.page_bytes + available / 2) >> 20;
            return Err(Failure::new(format!(
                "{} of huge pages would need {} more reserved, but only {} of memory is available",
                size_text(self.bytes),
                size_text(missing),
                size_text(available >> 20 << 20)
            ))
            .hint(format!(
                "reserving huge pages takes them out of ordinary memory; ask for less,\n\
                 e.g. --size {}M (the free huge pages plus half the available memory).",
                most / 2 * 2
            )));
        }
        Ok(())
    }

    /// What nr_hugepages must be for this plan to fit.
    fn target(&self, info: &Meminfo) -> u64 {
        info.huge_total + self.pages.saturating_sub(info.huge_available())
    }
}

/// How to get the missing pages: the commands, and who may run them.
fn reserve_hint(pages: u64, info: &Meminfo) -> String {
    let target = info.huge_total + pages.saturating_sub(info.huge_available());
    let total = info.huge_total;
    if nix::unistd::Uid::effective().is_root() {
        format!(
            "reserve them: echo {target} > {NR_HUGEPAGES}\n\
             and give them back afterwards: echo {total} > {NR_HUGEPAGES}\n\
             or run with --reserve, which does both for this run."
        )
    } else {
        format!(
            "only root can reserve huge pages. Ask root (sudo) to run: echo {target} > {NR_HUGEPAGES}\n\
             and to give them back afterwards: echo {total} > {NR_HUGEPAGES}\n\
             (--reserve does both for one run, but only when the program runs as root.)"
        )
    }
}

/// The hint for `shmget(SHM_HUGETLB)` failing with ENOMEM.
pub fn shortage_hint(size: u64) -> String {
    match Meminfo::read() {
        Ok(info) => {
            let plan = Plan::new(size, &info);
            format!(
                "not enough free huge pages: {} needs {}, {} are available.\n{}",
                size_text(plan.bytes),
                plan.pages,
                info.huge_available(),
                reserve_hint(plan.pages, &info)
            )
        }
        Err(_) => String::from("not enough free huge pages: see HugePages_Free in /proc/meminfo."),
    }
}

/// The hint for `shmget(SHM_HUGETLB)` failing with EPERM.
pub fn permission_hint() -> String {
    let group = std::fs::read_to_string("/proc/sys/vm/hugetlb_shm_group")
        .map(|s| s.trim().to_owned())
        .unwrap_or_else(|_| String::from("?"));
    format!(
        "SHM_HUGETLB needs the CAP_IPC_LOCK capability (root has it), or membership of the\n\
         group whose id is in /proc/sys/vm/hugetlb_shm_group (now {group}). Run as root, or\n\
         {} (GID: a group you are in, see `id`).",
        crate::error::by_root("allow a group", "echo GID > /proc/sys/vm/hugetlb_shm_group")
    )
}

/// nr_hugepages raised for one run; the pages this run added are given
/// back when the value is dropped — on success, on error and on every
/// stopping signal alike (not on SIGKILL: nothing runs then).
///
/// Several runs may reserve at once (a class, two terminals), so each one
/// changes the pool by *its own* pages only: it adds what it is missing,
/// and at the end subtracts what it added from the pool as it is then —
/// never putting back an old value that would take away pages another
/// run still counts on. The read-modify-write of nr_hugepages happens
/// under a machine-wide lock ([`PoolLock`]), which a run holds until its
/// segment has claimed its pages ([`Reservation::segment_made`]): without
/// it, a second run could take the pages the first just reserved.
#[derive(Debug)]
pub struct Reservation {
    added: u64,
    lock: std::cell::RefCell<Option<PoolLock>>,
    restored: bool,
}

impl Reservation {
    /// Make sure `plan` fits, raising nr_hugepages if it does not (root
    /// only). `Ok(None)` if enough pages were available already.
    ///
    /// A stopping signal while the kernel gathers the pages makes it stop
    /// early; that is reported as [`crate::signals::Interrupted`], and the
    /// pages added so far are given back.
    pub fn ensure(plan: &Plan, info: &Meminfo) -> anyhow::Result<Option<Reservation>> {
        if info.huge_available() >= plan.pages {
            return Ok(None);
        }
        plan.check_reservable(info)?;
        let target = plan.target(info);
        if !nix::unistd::Uid::effective().is_root() {
            return Err(Failure::new(format!(
                "--reserve must write {NR_HUGEPAGES}, which only root may do"
            ))
            .hint(format!(
                "run it as root (sudo), or ask root to reserve the pages: echo {target} > {NR_HUGEPAGES}"
            ))
            .into());
        }
        let lock = PoolLock::take()?;
        // Again, under the lock: another run may have changed the pool.
        let info = Meminfo::read()?;
        let missing = plan.pages.saturating_sub(info.huge_available());
        // From here on, Drop gives back whatever this run added.
        let mut reservation = Reservation {
            added: 0,
            lock: std::cell::RefCell::new(Some(lock)),
            restored: false,
        };
        if missing == 0 {
            return Ok(Some(reservation));
        }
        let old = read_nr()?;
        let target = old + missing;
        let written = write_nr(target);
        reservation.added = read_nr()?.saturating_sub(old);
        written?;
        signals::check(|| format!("while reserving {target} huge pages"))?;
        let got = old + reservation.added;
        if got < target {
            return Err(Failure::new(format!(
                "asked the kernel for {target} huge pages, it found only {got}: free memory is too fragmented"
            ))
            .hint(format!(
                "try a smaller --size, free some memory (echo 3 > /proc/sys/vm/drop_caches may help),\n\
                 or reserve at boot with hugepages={target} on the kernel command line."
            ))
            .into());
        }
        crate::note(format!(
            "--reserve: nr_hugepages {old} → {got} for this run"
        ));
        Ok(Some(reservation))
    }

    /// The segment exists and has claimed its pages (they count in
    /// HugePages_Rsvd): other runs may reserve now.
    pub fn segment_made(&self) {
        self.lock.borrow_mut().take();
    }

    /// Give this run's pages back now and say so.
    pub fn restore(mut self) -> Result<(), Failure> {
        self.restored = true;
        self.give_back()
    }

    fn give_back(&mut self) -> Result<(), Failure> {
        self.segment_made();
        if self.added == 0 {
            return Ok(());
        }
        // Under the lock, so that no other run's read-modify-write of the
        // pool interleaves with ours; after the deadline, without it:
        // leaving the pages reserved would be worse.
        let _lock = PoolLock::take().ok();
        let now = read_nr()?;
        let back = now.saturating_sub(self.added);
        write_nr(back)?;
        crate::note(format!("--reserve: nr_hugepages {now} → {back} again"));
        self.added = 0;
        Ok(())
    }
}

impl Drop for Reservation {
    fn drop(&mut self) {
        if !self.restored {
            let _ = self.give_back();
        }
    }
}

/// The machine-wide lock of --reserve runs: an abstract Unix socket, a name
/// in the kernel rather than a file, so nothing is left behind and a run
/// that dies (even by SIGKILL) releases it at once.
#[derive(Debug)]
pub struct PoolLock {
    _socket: std::os::unix::net::UnixListener,
}

impl PoolLock {
    const NAME: &'static [u8] = b"shm-lessons/nr_hugepages";
    const WAIT: std::time::Duration = std::time::Duration::from_secs(60);

    /// Wait (up to a minute) until no other run holds it.
    pub fn take() -> Result<PoolLock, Failure> {
        use std::os::linux::net::SocketAddrExt;
        use std::os::unix::net::{SocketAddr, UnixListener};
        let failed = |e: std::io::Error| {
            Failure::new(format!(
                "cannot take the huge page pool's lock (@{}): {e}",
                String::from_utf8_lossy(Self::NAME)
            ))
        };
        let addr = SocketAddr::from_abstract_name(Self::NAME).map_err(failed)?;
        let start = std::time::Instant::now();
        loop {
            match UnixListener::bind_addr(&addr) {
                Ok(socket) => return Ok(PoolLock { _socket: socket }),
                Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => {}
                Err(e) => return Err(failed(e)),
            }
            if start.elapsed() > Self::WAIT {
                return Err(Failure::new(format!(
                    "another --reserve run has held the huge page pool's lock for {} s",
                    Self::WAIT.as_secs()
                ))
                .hint("see which one: ss -xlp | grep nr_hugepages"));
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
    }
}

fn read_nr() -> Result<u64, Failure> {
    std::fs::read_to_string(NR_HUGEPAGES)
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .ok_or_else(|| Failure::new(format!("cannot read {NR_HUGEPAGES}")))
}

fn write_nr(pages: u64) -> Result<(), Failure> {
    std::fs::write(NR_HUGEPAGES, pages.to_string())
        .map_err(|e| Failure::new(format!("writing {pages} to {NR_HUGEPAGES} failed: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let failure = plan.check_available(&info(10, 6, 2)).unwrap_err();
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
        assert!(plan.check_available(&info(40, 40, 0)).is_ok());
    }

    #[test]
    fn surplus_pages_the_kernel_may_still_allocate_count_as_available() {
        let plan = Plan::new(64 << 20, &info(0, 0, 0));
        let overcommit = |surp| Meminfo {
            huge_overcommit: 64,
            huge_surp: surp,
            ..info(0, 0, 0)
        };
        assert!(plan.check_available(&overcommit(0)).is_ok());
        let err = plan
            .check_available(&overcommit(40))
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
        let err = anyhow::Error::new(plan.check_available(&info(0, 0, 0)).unwrap_err());
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
