//! What a System V failure means, and what to do about it: the hints for
//! `shmget`, `shmat`, `shmctl(IPC_RMID)` and `semget`, the kernel's limits
//! checked ahead (`ipcs -l`), the free key offered when one is taken, and
//! the huge page pool's shortages.
//!
//! The mechanism these explain is in `segment.rs`, `semaphore.rs` and
//! `hugepages.rs`, next to this file. (`ftok`'s own failures are explained
//! in `key.rs`: this file offers free keys, which takes `ftok`, so it sits
//! above keys and cannot also be below them.)

use nix::errno::Errno;
use nix::unistd::Uid;

use super::hugepages::{NR_HUGEPAGES, Plan};
use super::key::Key;
use crate::error::{Failure, SysError, by_root};
use crate::system::meminfo::Meminfo;
use crate::system::procs;
use crate::system::sysvipc::{SemaphoreSetInfo, segment_with_key, segments, semaphore_sets};
use crate::system::users::user_name;
use crate::system::{page_size, sysctl};
use crate::terminal::output::{shell_word, size_text};

// ---- keys ----------------------------------------------------------------------

/// A proj_id near the one `key` came from whose key no segment and no
/// semaphore set uses, to offer when `key` is taken.
fn free_neighbour(key: &Key) -> Option<(i32, Key)> {
    let (path, proj_id) = key.origin()?;
    let taken: Vec<libc::key_t> = segments()
        .iter()
        .map(|s| s.key)
        .chain(semaphore_sets().iter().map(|s| s.key))
        .collect();
    (1..=255)
        .map(|step| proj_id.wrapping_add(step))
        .filter(|candidate| candidate & 0xff != 0)
        .filter_map(|candidate| Key::ftok(path, candidate).ok().map(|key| (candidate, key)))
        .find(|(_, key)| !taken.contains(&key.raw()))
}

/// "another key: --proj-id 1235 (key 0xd30002e1 is free)"
fn another_key_hint(key: &Key) -> String {
    match free_neighbour(key) {
        Some((proj_id, key)) => format!("another key: --proj-id {proj_id} (key {key} is free)"),
        None => String::from("another key with --proj-id"),
    }
}

// ---- segments: shmget, shmat, IPC_RMID, and the limits -----------------------

/// The kernel's limits on System V shared memory (`ipcs -l` shows them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// kernel.shmmax: the largest segment, in bytes.
    pub shmmax: u64,
    /// kernel.shmall: all segments together, in pages.
    pub shmall: u64,
    /// kernel.shmmni: how many segments may exist.
    pub shmmni: u64,
}

impl Limits {
    /// Refuse a new segment of `size` bytes that a limit would stop, naming
    /// the limit and the command that raises it — before creating anything.
    pub fn check(&self, size: u64) -> Result<(), Failure> {
        let page = page_size();
        if size > self.shmmax {
            return Err(Failure::new(format!(
                "{} is more than one segment may hold: kernel.shmmax is {} bytes",
                size_text(size),
                self.shmmax
            ))
            .hint(format!(
                "{}\nor ask for less with --size",
                by_root("raise it", &format!("sysctl -w kernel.shmmax={size}"))
            )));
        }
        let in_use: u64 = segments()
            .iter()
            .map(|s| (s.size as u64).div_ceil(page))
            .sum();
        let pages = size.div_ceil(page);
        if in_use + pages > self.shmall {
            return Err(Failure::new(format!(
                "{} is {pages} pages; with the {in_use} pages other segments hold, that is more than kernel.shmall = {} pages",
                size_text(size),
                self.shmall
            ))
            .hint(format!(
                "{}\nor remove your leftover segments (ipcs -m, ipcrm), or ask for less with --size",
                by_root(
                    "raise it",
                    &format!("sysctl -w kernel.shmall={}", in_use + pages)
                )
            )));
        }
        let count = segments().len() as u64;
        if count >= self.shmmni {
            return Err(Failure::new(format!(
                "{count} segments exist already, the most kernel.shmmni = {} allows",
                self.shmmni
            ))
            .hint(format!(
                "remove your leftovers (ipcs -m, ipcrm -m SHMID), or {}",
                by_root(
                    "raise it",
                    &format!("sysctl -w kernel.shmmni={}", count + 1)
                )
            )));
        }
        Ok(())
    }

    /// kernel.shmmax, shmall and shmmni now; `None` if /proc/sys is unreadable.
    pub fn read() -> Option<Limits> {
        Some(Limits {
            shmmax: sysctl("kernel/shmmax")?,
            shmall: sysctl("kernel/shmall")?,
            shmmni: sysctl("kernel/shmmni")?,
        })
    }
}

/// Turn a failed `shmget` into an error that says which situation it is.
pub(super) fn explain_shmget(
    call: String,
    errno: Errno,
    key: &Key,
    size: usize,
    huge: bool,
) -> SysError {
    let err = SysError::new(call, errno);
    if huge {
        match errno {
            Errno::ENOMEM => {
                return err.hint(shortage_hint(size as u64));
            }
            Errno::EPERM => {
                return err.hint(permission_hint());
            }
            _ => {}
        }
    }
    let existing = segment_with_key(key.raw());
    let me = Uid::effective();
    match errno {
        Errno::EEXIST => {
            let Some(seg) = existing else {
                return err.hint(format!("a segment with key {key} exists (see ipcs -m)."));
            };
            let facts = format!(
                "a segment with this key already exists ({})",
                seg.describe()
            );
            let another = another_key_hint(key);
            // ipcrm only for what is provably this user's own leftover of
            // racing_xsi_shm (the one program that creates segments under a
            // key): its segment of one int, that nobody attaches.
            let hint = if seg.uid != me.as_raw() {
                format!(
                    "{facts}:\n{}'s, not yours; it is left alone. Use {another}",
                    user_name(seg.uid)
                )
            } else if seg.attached > 0 {
                format!(
                    "{facts},\nand in use right now: {} attached (creator pid {}{}). Removing it would\n\
                     break that run. Wait for it to end, or use {another}",
                    seg.attached,
                    seg.creator_pid,
                    procs::name_of(seg.creator_pid).map_or_else(String::new, |n| format!(", {n}"))
                )
            } else if seg.size == size_of::<i32>() {
                format!(
                    "{facts},\nand nothing is attached: a run that was killed left it. Remove it with: ipcrm -M {key}\nor use {another}"
                )
            } else {
                format!(
                    "{facts}:\nnot something this program left (its segments are one int, 4 bytes), so it is\n\
                     left alone. Use {another}"
                )
            };
            err.hint(hint)
        }
        Errno::EACCES => {
            let whose = existing.map_or_else(
                || String::from("another user"),
                |seg| format!("{} with mode {:04o}", user_name(seg.uid), seg.mode & 0o777),
            );
            err.hint(format!(
                "the segment with key {key} belongs to {whose}: this user may not use it.\nUse {}",
                another_key_hint(key)
            ))
        }
        Errno::ENOENT => err.hint(format!(
            "no segment has key {key}: it was never created, or it was removed (ipcrm?) meanwhile."
        )),
        Errno::EINVAL => {
            let shmmax = Limits::read().map_or_else(|| String::from("?"), |l| l.shmmax.to_string());
            match existing {
                Some(seg) if seg.size < size => err.hint(format!(
                    "the existing segment with key {key} is only {} bytes, smaller than the {size} asked for.",
                    seg.size
                )),
                _ => err.hint(format!(
                    "{size} bytes is outside what one segment may be: at least 1 byte,\n\
                     at most kernel.shmmax = {shmmax} bytes (/proc/sys/kernel/shmmax)."
                )),
            }
        }
        Errno::ENOSPC => {
            let (shmmni, shmall) = Limits::read().map_or((0, 0), |l| (l.shmmni, l.shmall));
            err.hint(format!(
                "not disk space: a System V limit is reached. Either kernel.shmmni = {shmmni} segments\n\
                 exist already ({} now), or all segments together would pass kernel.shmall = {shmall} pages.\n\
                 See ipcs -m and ipcs -l; remove leftovers with ipcrm.",
                segments().len()
            ))
        }
        Errno::ENOMEM => err.hint(
            "not enough memory for a segment of that size (see MemAvailable in /proc/meminfo).",
        ),
        _ => err,
    }
}

/// A child found another segment than its run's (see `Segment::must_be`).
pub(super) fn another_segment(
    id: libc::c_int,
    key: &Key,
    expected_id: libc::c_int,
    expected_key: &Key,
) -> Failure {
    let whose = |id: libc::c_int| {
        segments()
            .into_iter()
            .find(|s| s.id == id)
            .map_or_else(String::new, |s| {
                format!(
                    " (owner {}, created by pid {}{})",
                    user_name(s.uid),
                    s.creator_pid,
                    procs::name_of(s.creator_pid).map_or_else(String::new, |n| format!(", {n}"))
                )
            })
    };
    if key.raw() != expected_key.raw() {
        let path = key.origin().map_or_else(
            || String::from("the --path file"),
            |(path, _)| shell_word(path),
        );
        Failure::new(format!(
            "ftok now gives key {key}, not key {}, the one this run's segment has: \
             {path} was replaced (a new inode makes a new key); this child left shmid {id}{} alone",
            expected_key,
            whose(id)
        ))
        .hint(
            "the file behind --path changed while the run went on. Use a file nobody replaces,\n\
             in a directory only you (or root) can write, e.g. --path /etc/passwd.",
        )
    } else {
        Failure::new(format!(
            "key {key} names shmid {id}{} now, not shmid {}, the segment this run works on: \
             it was removed and another made under the key meanwhile; this child left it alone",
            whose(id),
            expected_id
        ))
        .hint(
            "someone removed the run's segment (ipcrm) and created a new one with the same key\n\
             while the children were starting. Run again; to keep out of others' way, use\n\
             a key of your own: --path a file of yours, or another --proj-id.",
        )
    }
}

/// A failed `shmat`.
pub(super) fn explain_shmat(call: String, errno: Errno, id: libc::c_int, size: usize) -> SysError {
    let err = SysError::new(call, errno);
    match errno {
        Errno::EACCES => {
            let whose = segments().into_iter().find(|s| s.id == id).map_or_else(
                || String::from("another user"),
                |s| format!("{}, mode {:04o}", user_name(s.uid), s.mode & 0o777),
            );
            err.hint(format!(
                "the segment belongs to {whose}: only its owner's processes\n\
                 (and root) may read and write it. Join a run of your own: start one with a key of\n\
                 yours (--path a file of yours, or another --proj-id), then --attach with the same."
            ))
        }
        Errno::EINVAL => err.hint(format!(
            "shmid {id} no longer names a segment: it was removed (ipcrm?) meanwhile."
        )),
        Errno::ENOMEM => err.hint(format!(
            "this process has no room for {size} more bytes of address space: its limit\n\
             (`ulimit -v`, in KiB) is too low. Raise it (ulimit -v unlimited), or ask for less with --size."
        )),
        _ => err,
    }
}

/// A failed `shmctl(id, IPC_RMID, NULL)`.
pub(super) fn explain_rmid(id: libc::c_int, errno: Errno) -> SysError {
    let err = SysError::new(format!("shmctl({id}, IPC_RMID, NULL)"), errno);
    match errno {
        Errno::EPERM => err.hint("only the segment's owner, its creator or root may remove it."),
        Errno::EINVAL => {
            err.hint("the segment is already gone (removed by someone else, e.g. ipcrm).")
        }
        _ => err,
    }
}

// ---- semaphore sets ------------------------------------------------------------

pub(super) fn explain_semget(call: String, errno: Errno, key: &Key) -> SysError {
    let err = SysError::new(call, errno);
    match errno {
        Errno::EEXIST => {
            let existing = semaphore_sets()
                .into_iter()
                .find(|set| set.key == key.raw());
            let facts = existing.as_ref().map_or_else(String::new, |set| {
                format!(
                    " (semid {}, owner {}, mode {:04o}, {} semaphores)",
                    set.id,
                    user_name(set.uid),
                    set.mode & 0o777,
                    set.nsems
                )
            });
            let another = another_key_hint(key);
            let me = Uid::effective().as_raw();
            match existing {
                Some(set) if set.uid != me => err.hint(format!(
                    "a semaphore set with key {key} already exists{facts}:\n{}'s, not yours; it is left \
                     alone. Use {another}",
                    user_name(set.uid)
                )),
                Some(set) if set.nsems == 1 => err.hint(format!(
                    "a semaphore set with key {key} already exists{facts},\n\
                     left by an earlier run (this run's segment with the key is new, so no run uses it).\n\
                     Remove it with: ipcrm -S {key}\nor use {another}"
                )),
                _ => err.hint(format!(
                    "a semaphore set with key {key} already exists{facts}: not one this program\n\
                     makes, so it is left alone. Use {another}"
                )),
            }
        }
        Errno::ENOENT => err.hint(format!(
            "no semaphore set has key {key}: it was removed (ipcrm?) meanwhile."
        )),
        Errno::ENOSPC => err.hint(
            "the system-wide limit on semaphore sets is reached (kernel.sem, see ipcs -ls);\n\
             remove leftovers with ipcrm -s SEMID.",
        ),
        _ => err,
    }
}

/// A child found another semaphore set under the key than its run's.
pub(super) fn another_set(key: &Key, found: libc::c_int, expected: libc::c_int) -> Failure {
    Failure::new(format!(
        "key {key} names semaphore set {found} now, not set {expected}, the one this run uses: \
         it was removed and another made under the key meanwhile; this child left it alone"
    ))
    .hint(
        "someone removed the run's semaphore set (ipcrm) and created a new one with the same\n\
         key while the children were starting. Run again, with a key of your own (--proj-id).",
    )
}

/// `--attach --lock semaphore`, and the run joined has no semaphore set.
pub(super) fn no_set_to_join(key: &Key) -> Failure {
    Failure::new(format!(
        "--lock semaphore cannot join the run: no semaphore set has key {key}"
    ))
    .hint(
        "the run you join was started without --lock semaphore (or its set was removed).\n\
         Join it with --lock atomic, which needs no lock object; or start the run to join\n\
         with --lock semaphore.",
    )
}

/// `--attach --lock semaphore` found a set that is not the joined run's.
pub(super) fn foreign_set(key: &Key, set: &SemaphoreSetInfo, owner: u32) -> Failure {
    let why = if set.uid != owner {
        format!(
            "it belongs to {}, and the segment to {}",
            user_name(set.uid),
            user_name(owner)
        )
    } else {
        format!("it holds {} semaphores, not 1", set.nsems)
    };
    Failure::new(format!(
        "--lock semaphore cannot join the run: the semaphore set with key {key} (semid {}) is not \
         the one its creator made: {why}; it was left alone",
        set.id
    ))
    .hint(
        "waiting on a set someone else controls could wait forever. Join with --lock atomic,\n\
         which needs no lock object, or use a key of your own (--proj-id).",
    )
}

// ---- huge pages ------------------------------------------------------------------

/// Refuse, before anything is created, if the pool has too few pages
/// available. The hint has the exact command that reserves enough.
pub fn check_the_pool(plan: &Plan, info: &Meminfo) -> Result<(), Failure> {
    if info.huge_available() >= plan.pages {
        return Ok(());
    }
    check_reservable(plan, info)?;
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
        size_text(plan.bytes),
        plan.pages,
        size_text(plan.page_bytes),
        info.huge_available(),
        info.huge_total,
        info.huge_free,
        info.huge_rsvd
    ))
    .hint(reserve_hint(plan.pages, info)))
}

/// Refuse a plan whose missing huge pages could not even be reserved:
/// reserving takes ordinary memory, and asking the kernel for more than
/// there is would turn everything it can find into huge pages.
pub(super) fn check_reservable(plan: &Plan, info: &Meminfo) -> Result<(), Failure> {
    let missing = plan.pages.saturating_sub(info.huge_available()) * plan.page_bytes;
    let available = info.mem_available_kib * 1024;
    if missing > available / 2 {
        let most = (info.huge_available() * plan.page_bytes + available / 2) >> 20;
        return Err(Failure::new(format!(
            "{} of huge pages would need {} more reserved, but only {} of memory is available",
            size_text(plan.bytes),
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
pub(super) fn shortage_hint(size: u64) -> String {
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
pub(super) fn permission_hint() -> String {
    let group = std::fs::read_to_string("/proc/sys/vm/hugetlb_shm_group")
        .map(|s| s.trim().to_owned())
        .unwrap_or_else(|_| String::from("?"));
    format!(
        "SHM_HUGETLB needs the CAP_IPC_LOCK capability (root has it), or membership of the\n\
         group whose id is in /proc/sys/vm/hugetlb_shm_group (now {group}). Run as root, or\n\
         {} (GID: a group you are in, see `id`).",
        by_root("allow a group", "echo GID > /proc/sys/vm/hugetlb_shm_group")
    )
}

/// `--reserve` run by a user who may not write nr_hugepages.
pub(super) fn reserve_needs_root(target: u64) -> Failure {
    Failure::new(format!(
        "--reserve must write {NR_HUGEPAGES}, which only root may do"
    ))
    .hint(format!(
        "run it as root (sudo), or ask root to reserve the pages: echo {target} > {NR_HUGEPAGES}"
    ))
}

/// The kernel found fewer free huge pages than nr_hugepages asked for.
pub(super) fn too_fragmented(target: u64, got: u64) -> Failure {
    Failure::new(format!(
        "asked the kernel for {target} huge pages, it found only {got}: free memory is too fragmented"
    ))
    .hint(format!(
        "try a smaller --size, free some memory (echo 3 > /proc/sys/vm/drop_caches may help),\n\
         or reserve at boot with hugepages={target} on the kernel command line."
    ))
}

/// Another `--reserve` run kept the pool's lock for too long.
pub(super) fn pool_lock_held(wait: std::time::Duration) -> Failure {
    Failure::new(format!(
        "another --reserve run has held the huge page pool's lock for {} s",
        wait.as_secs()
    ))
    .hint("see which one: ss -xlp | grep nr_hugepages")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The two refusals docs/xsi_shm_mem.md shows, word for word.
    #[test]
    fn the_limits_are_named_with_the_command_that_raises_them() {
        let size = 2046 << 20;
        let shmmax = Limits {
            shmmax: 1073741824,
            shmall: u64::MAX,
            shmmni: 4096,
        };
        let err = anyhow::Error::new(shmmax.check(size).unwrap_err());
        assert_eq!(
            err.to_string(),
            "2046 MiB is more than one segment may hold: kernel.shmmax is 1073741824 bytes"
        );
        assert_eq!(
            crate::error::hint_of(&err).unwrap(),
            format!(
                "{}\nor ask for less with --size",
                by_root("raise it", "sysctl -w kernel.shmmax=2145386496")
            )
        );
        let shmall = Limits {
            shmmax: u64::MAX,
            shmall: 262144,
            shmmni: 4096,
        };
        let in_use: u64 = segments()
            .iter()
            .map(|s| (s.size as u64).div_ceil(page_size()))
            .sum();
        let pages = size.div_ceil(page_size());
        let err = anyhow::Error::new(shmall.check(size).unwrap_err());
        assert_eq!(
            err.to_string(),
            format!(
                "2046 MiB is {pages} pages; with the {in_use} pages other segments hold, that is more than kernel.shmall = 262144 pages"
            )
        );
        assert_eq!(
            crate::error::hint_of(&err).unwrap(),
            format!(
                "{}\nor remove your leftover segments (ipcs -m, ipcrm), or ask for less with --size",
                by_root(
                    "raise it",
                    &format!("sysctl -w kernel.shmall={}", in_use + pages)
                )
            )
        );
    }

    #[test]
    fn limits_are_readable() {
        let limits = Limits::read().expect("/proc/sys/kernel/shm* exist on Linux");
        assert!(limits.shmmni > 0 && limits.shmmax > 0 && limits.shmall > 0);
    }
}
