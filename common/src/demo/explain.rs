//! What the memory demos tell the student before anything is created: a
//! size the machine cannot hold is refused, with a size that fits. Every
//! hint of `demo/` is written here.

use crate::error::Failure;
use crate::system::cgroup::{self, Limit};
use crate::system::meminfo::Meminfo;
use crate::terminal::output::size_text;

/// Refuse a size the machine cannot hold in ordinary memory (when it will
/// be touched) before anything is created: meeting the OOM killer halfway
/// through a 2 GiB `bzero` teaches nothing, and in a memory cgroup it also
/// leaves the segment or /dev/shm object behind, still charged to the
/// cgroup.
///
/// The room is the tighter of MemAvailable and what this process's memory
/// cgroup has left ([`cgroup::limit`]): in a container or a systemd slice
/// the cgroup's limit is reached long before the machine's memory. Huge
/// pages come from their own pool, which MemAvailable leaves out and the
/// memory cgroup is not charged for: xsi_shm_mem_huge checks the pool.
pub fn refuse_what_does_not_fit(size: u64, touch: bool) -> anyhow::Result<()> {
    if touch {
        let available = Meminfo::read()?.mem_available_kib * 1024;
        if let Some(refusal) = refusal(size, available, cgroup::limit()) {
            return Err(refusal.into());
        }
    }
    Ok(())
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
