//! The frame around the article's memory demos: what is measured before,
//! what is reported after, what the reader is told while the memory is
//! held, and what is checked once it is released.
//!
//! Each demo's `main.rs` keeps only the article's steps (create, zero,
//! sleep, release) and calls these around them. The report goes to stdout
//! (it is the demo's result); the guidance goes to stderr.
//!
//! | file | what |
//! |---|---|
//! | this one | before, report, hold, released: the frame of mmap_mem, xsi_shm_mem, xsi_shm_mem_huge |
//! | [`backing`] | mmap_mem's memory: anonymous, a POSIX object, or a file on disk |
//! | [`hold`](mod@hold) | the article's `sleep(3000)`, ended by a signal or a timeout |
//! | [`table`](mod@table) | the before/after table of /proc/meminfo |

pub mod backing;
pub mod table;

use crate::error::Failure;
use crate::memory::Zeroing;
use crate::system::cgroup::{self, Limit};
use crate::system::meminfo::Meminfo;
use crate::terminal::hold::{Held, Hold, hold};
use crate::terminal::output::{note, result_line, size_text};
use crate::xsi::Segment;
use table::{Rows, table};

/// Read /proc/meminfo for the "before" column, and refuse a size the
/// machine cannot hold in ordinary memory (when it will be touched)
/// before anything is created: meeting the OOM killer halfway through a
/// 2 GiB `bzero` teaches nothing, and in a memory cgroup it also leaves
/// the segment or /dev/shm object behind, still charged to the cgroup.
///
/// The room is the tighter of MemAvailable and what this process's memory
/// cgroup has left ([`cgroup::limit`]): in a container or a systemd slice
/// the cgroup's limit is reached long before the machine's memory. Huge
/// pages come from their own pool, which MemAvailable leaves out and the
/// memory cgroup is not charged for: xsi_shm_mem_huge checks the pool.
pub fn before(size: u64, touch: bool) -> anyhow::Result<Meminfo> {
    let info = Meminfo::read()?;
    if touch {
        if let Some(refusal) = refusal(size, info.mem_available_kib * 1024, cgroup::limit()) {
            return Err(refusal.into());
        }
    }
    Ok(info)
}

/// Why `size` does not fit, naming the tighter of the machine's
/// MemAvailable (`available`, bytes) and the cgroup's `limit`, with a
/// `--size` that does; `None` if it fits.
fn refusal(size: u64, available: u64, limit: Option<Limit>) -> Option<Failure> {
    const MIB: u64 = 1 << 20;
    let (room, failure, pushes) = match limit {
        Some(limit) if limit.room() < available => (
            limit.room(),
            Failure::new(format!(
                "{} is more than this process's memory cgroup has room for ({} {}, {} MiB in use: {})",
                size_text(size),
                limit.setting,
                size_text(limit.limit / MIB * MIB),
                limit.in_use() / MIB,
                limit.dir.display()
            )),
            "this cgroup into swap or its OOM killer",
        ),
        _ => (
            available,
            Failure::new(format!(
                "{} is more than this machine has available (MemAvailable {})",
                size_text(size),
                size_text(available / MIB * MIB)
            )),
            "the machine into swap or the OOM killer",
        ),
    };
    if size <= room {
        return None;
    }
    let fits = room / 2 / MIB;
    let less = if fits > 0 {
        format!("Ask for less,\ne.g. --size {fits}M, or add")
    } else {
        String::from("Nothing fits now: free some memory,\nor add")
    };
    Some(failure.hint(format!(
        "zeroing it would push {pushes}. {less} --no-touch to map it without using it."
    )))
}

/// Print what was created, what zeroing it cost, and the before/after
/// table. Returns the "after" snapshot.
pub fn report(
    created: &str,
    zeroing: Option<Zeroing>,
    page_bytes: u64,
    before: &Meminfo,
    rows: Rows,
) -> anyhow::Result<Meminfo> {
    let after = Meminfo::read()?;
    let mut text = format!("{created}\n");
    match zeroing {
        Some(z) => text.push_str(&z.describe(page_bytes)),
        None => {
            text.push_str("not zeroed (--no-touch): no page was written, so none needed memory yet")
        }
    }
    text.push('\n');
    text.push_str(&table(before, &after, rows));
    result_line(text.trim_end())?;
    Ok(after)
}

/// The report's first line for a System V demo:
/// `shmget(IPC_PRIVATE, 67108864, 0600) = shmid 7, attached with shmat: 64 MiB`.
pub fn segment_created(segment: &Segment, size: u64) -> String {
    let marked = if segment.is_marked() {
        "; IPC_RMID already (--rmid-early)"
    } else {
        ""
    };
    format!(
        "{}, attached with shmat: {}{marked}",
        segment.created(),
        size_text(size)
    )
}

/// How a System V demo's segment goes away, for [`released`]: named now,
/// before `remove` consumes the segment.
pub fn segment_release(segment: &Segment) -> String {
    if segment.is_marked() {
        format!(
            "shmdt; shmid {} was marked IPC_RMID at the start, so the kernel freed it at that detach",
            segment.id()
        )
    } else {
        format!("shmdt, IPC_RMID on shmid {}", segment.id())
    }
}

/// What to look at while a System V demo holds its segment: `looks` (what
/// `free -m` and /proc/meminfo show), then the segment in `ipcs -m`.
pub fn segment_watch(segment: &Segment, size: u64, looks: [String; 2]) -> Vec<String> {
    let status = if segment.is_marked() {
        ", status dest"
    } else {
        ""
    };
    let mut lines = Vec::from(looks);
    lines.push(format!(
        "ipcs -m          shmid {}: {size} bytes, 1 attached{status}",
        segment.id()
    ));
    lines
}

/// The /proc/meminfo line of the ordinary memory demos.
pub const MEMINFO_GREP: &str = "grep -E '^(MemFree|Shmem|Cached):' /proc/meminfo";

/// What `free -m` shows while ordinary shared memory is held: up by its
/// size once touched, unchanged while no page has been written.
pub fn free_line(size: u64, touched: bool) -> String {
    if touched {
        format!(
            "free -m          \"shared\" and \"buff/cache\" are up by {}",
            size_text(size)
        )
    } else {
        String::from(
            "free -m          \"shared\" and \"buff/cache\" have not moved: no page was written (--no-touch)",
        )
    }
}

/// Hold the memory as `how` says, telling the reader what to look at
/// (`watch`: one line per command) and how to end it. Returns why the
/// hold ended; a signal is the normal end of `--hold forever`.
pub fn hold_for_the_reader(how: Hold, size: u64, watch: &[String]) -> Held {
    if how == Hold::For(std::time::Duration::ZERO) {
        return Held::TimeUp;
    }
    let until = match how {
        Hold::Forever => String::from("until Ctrl-C (or SIGTERM, or the terminal closing)"),
        Hold::For(d) => format!("for {} s (Ctrl-C ends it sooner)", d.as_secs()),
    };
    let mut text = format!(
        "Holding {} {until}. In another terminal, look at it:",
        size_text(size)
    );
    for line in watch {
        text.push_str("\n  ");
        text.push_str(line);
    }
    note(text);
    let held = hold(how);
    match held {
        Held::Signal(signal) => note(format!("{signal}: releasing.")),
        Held::TimeUp => note("Time is up: releasing."),
    }
    held
}

/// After the release: say what was done and show that the memory went back.
pub fn released(how: &str, before: &Meminfo, rows: Rows) {
    let now = Meminfo::read().unwrap_or_default();
    let mut text = format!(
        "released ({how}): Shmem is {} MiB now, {} MiB before the run",
        now.shmem_kib / 1024,
        before.shmem_kib / 1024
    );
    if rows == Rows::Huge {
        text.push_str(&format!(
            "; HugePages_Free {} now, {} before",
            now.huge_free, before.huge_free
        ));
    }
    note(text);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::system::cgroup::Version;
    use std::path::PathBuf;

    const MIB: u64 = 1 << 20;

    fn limited(limit: u64, usage: u64, reclaimable: u64) -> Limit {
        Limit {
            version: Version::V2,
            dir: PathBuf::from("/sys/fs/cgroup/box"),
            setting: "memory.max",
            limit,
            usage,
            reclaimable,
        }
    }

    /// What `report` prints: the message, then its hint.
    fn text(failure: Failure) -> String {
        let err = anyhow::Error::new(failure);
        format!("{err}\nhint: {}", crate::error::hint_of(&err).unwrap())
    }

    #[test]
    fn the_cgroup_is_named_when_it_has_less_room_than_the_machine() {
        let limit = limited(256 * MIB, 16 * MIB, 2 * MIB);
        let refused = refusal(512 * MIB, 20_000 * MIB, Some(limit)).expect("refused");
        assert_eq!(
            text(refused),
            "512 MiB is more than this process's memory cgroup has room for \
             (memory.max 256 MiB, 14 MiB in use: /sys/fs/cgroup/box)\n\
             hint: zeroing it would push this cgroup into swap or its OOM killer. Ask for less,\n\
             e.g. --size 121M, or add --no-touch to map it without using it."
        );
        let limit = limited(256 * MIB, 16 * MIB, 2 * MIB);
        assert!(
            refusal(242 * MIB, 20_000 * MIB, Some(limit)).is_none(),
            "242 MiB fits"
        );
    }

    #[test]
    fn the_machine_is_named_when_it_has_less_room_than_the_cgroup() {
        for limit in [None, Some(limited(64_000 * MIB, 0, 0))] {
            let refused = refusal(1 << 40, 1000 * MIB + 5, limit).expect("refused");
            assert_eq!(
                text(refused),
                "1024 GiB is more than this machine has available (MemAvailable 1000 MiB)\n\
                 hint: zeroing it would push the machine into swap or the OOM killer. Ask for less,\n\
                 e.g. --size 500M, or add --no-touch to map it without using it."
            );
        }
    }

    #[test]
    fn a_full_cgroup_offers_no_size_of_0() {
        let refused = refusal(MIB, 20_000 * MIB, Some(limited(256 * MIB, 256 * MIB, 0)));
        let text = text(refused.expect("refused"));
        assert!(
            text.contains("(memory.max 256 MiB, 256 MiB in use: "),
            "{text}"
        );
        assert!(!text.contains("--size"), "{text}");
        assert!(text.contains("Nothing fits now"), "{text}");
    }
}
