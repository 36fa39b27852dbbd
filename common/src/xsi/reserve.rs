//! `--reserve`: raise vm.nr_hugepages for one run, and give back exactly
//! what this run added when it ends.

use super::explain;
use super::explain::{pool_lock_held, reserve_needs_root, too_fragmented};
use super::hugepages::{NR_HUGEPAGES, Plan};
use crate::error::Failure;
use crate::system::meminfo::Meminfo;
use crate::system::sysctl;
use crate::terminal::output::note;
use crate::terminal::signals;

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
    /// only; for anyone else, `Ok(None)` if enough pages are available).
    /// Root's reservation holds the pool's lock until the segment is made,
    /// even when it added no page.
    ///
    /// A stopping signal while the kernel gathers the pages makes it stop
    /// early; that is reported as [`crate::terminal::signals::Interrupted`], and the
    /// pages added so far are given back.
    pub fn ensure(plan: &Plan, info: &Meminfo) -> anyhow::Result<Option<Reservation>> {
        if info.huge_available() < plan.pages {
            explain::check_reservable(plan, info)?;
        }
        if !nix::unistd::Uid::effective().is_root() {
            if info.huge_available() >= plan.pages {
                return Ok(None);
            }
            return Err(reserve_needs_root(plan.target(info)).into());
        }
        // Even when enough pages look free, look again under the lock: they
        // may be the pages another --reserve run has just added for its own
        // segment, which it has not created yet.
        let lock = PoolLock::take()?;
        let info = Meminfo::read()?;
        let missing = plan.pages.saturating_sub(info.huge_available());
        if missing > 0 {
            explain::check_reservable(plan, &info)?;
        }
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
            return Err(too_fragmented(target, got).into());
        }
        note(format!(
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
        note(format!("--reserve: nr_hugepages {now} → {back} again"));
        self.added = 0;
        Ok(())
    }
}

impl Drop for Reservation {
    fn drop(&mut self) {
        if !self.restored {
            let added = self.added;
            if let Err(err) = self.give_back() {
                crate::error::not_released(format!("{added} huge pages of {NR_HUGEPAGES} ({err})"));
            }
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
                return Err(pool_lock_held(Self::WAIT));
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
    }
}

fn read_nr() -> Result<u64, Failure> {
    sysctl("vm/nr_hugepages").ok_or_else(|| Failure::new(format!("cannot read {NR_HUGEPAGES}")))
}

fn write_nr(pages: u64) -> Result<(), Failure> {
    std::fs::write(NR_HUGEPAGES, pages.to_string())
        .map_err(|e| Failure::new(format!("writing {pages} to {NR_HUGEPAGES} failed: {e}")))
}
