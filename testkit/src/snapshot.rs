//! What the machine holds that tests care about (`ipcs -m`, `ipcs -s`,
//! `ls /dev/shm`, vm.nr_hugepages), and what a test left behind.

use std::collections::BTreeSet;
use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;
use std::process::Command;

use common::system::sysvipc;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    pub segments: BTreeSet<SegmentRow>,
    pub semaphores: BTreeSet<SemaphoreRow>,
    pub dev_shm: BTreeSet<DevShmEntry>,
    pub nr_hugepages: u64,
}

/// A segment, with the pid and uid that created it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct SegmentRow {
    pub key: i32,
    pub id: i64,
    pub cpid: i32,
    pub cuid: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct SemaphoreRow {
    pub key: i32,
    pub id: i64,
    pub cuid: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct DevShmEntry {
    pub name: String,
    pub inode: u64,
    pub uid: u32,
}

impl Snapshot {
    /// The machine now, read with `common`'s readers (the programs' own).
    pub fn take() -> Snapshot {
        let segments = sysvipc::segments().into_iter().map(|s| SegmentRow {
            key: s.key,
            id: i64::from(s.id),
            cpid: s.creator_pid,
            cuid: s.creator_uid,
        });
        let semaphores = sysvipc::semaphore_sets().into_iter().map(|s| SemaphoreRow {
            key: s.key,
            id: i64::from(s.id),
            cuid: s.creator_uid,
        });
        let dev_shm = crate::entries("/dev/shm".as_ref()).filter_map(|e| {
            let meta = e.path().symlink_metadata().ok()?;
            let name = e.file_name().to_string_lossy().into_owned();
            Some(DevShmEntry {
                name,
                inode: meta.ino(),
                uid: meta.uid(),
            })
        });
        Snapshot {
            segments: segments.collect(),
            semaphores: semaphores.collect(),
            dev_shm: dev_shm.collect(),
            nr_hugepages: crate::probe::nr_hugepages(),
        }
    }

    /// Every System V key in use.
    pub(crate) fn keys(&self) -> BTreeSet<i32> {
        let segments = self.segments.iter().map(|s| s.key);
        let semaphores = self.semaphores.iter().map(|s| s.key);
        segments.chain(semaphores).collect()
    }
}

/// One object a test left on the machine.
#[derive(Debug)]
pub(crate) enum Leftover {
    Segment(i32, i64),
    Semaphore(i32, i64),
    DevShm(String),
    HugePages(u64, u64),
    File(PathBuf),
}

impl Leftover {
    /// The object, and the command that removes it by hand.
    pub(crate) fn describe(&self) -> String {
        match self {
            Leftover::Segment(key, id) => {
                let key = *key as u32;
                format!("System V segment key {key:#010x} shmid {id} (ipcrm -m {id})")
            }
            Leftover::Semaphore(key, id) => {
                let key = *key as u32;
                format!("System V semaphore set key {key:#010x} semid {id} (ipcrm -s {id})")
            }
            Leftover::DevShm(name) => format!("/dev/shm/{name} (rm /dev/shm/{name})"),
            Leftover::HugePages(was, now) => format!(
                "vm.nr_hugepages is {now}, was {was} (echo {was} > /proc/sys/vm/nr_hugepages)"
            ),
            Leftover::File(path) => format!("{} in the programs' TMPDIR", path.display()),
        }
    }

    pub(crate) fn remove(&self) {
        let _ = match self {
            Leftover::Segment(_, id) => ipcrm("-m", *id),
            Leftover::Semaphore(_, id) => ipcrm("-s", *id),
            Leftover::DevShm(name) => std::fs::remove_file(format!("/dev/shm/{name}")),
            Leftover::HugePages(was, _) => {
                std::fs::write("/proc/sys/vm/nr_hugepages", was.to_string())
            }
            Leftover::File(path) => std::fs::remove_file(path),
        };
    }
}

/// `ipcrm -m ID` (a segment) or `ipcrm -s ID` (a semaphore set).
pub(crate) fn ipcrm(flag: &str, id: i64) -> std::io::Result<()> {
    let out = Command::new("ipcrm").args([flag, &id.to_string()]).output();
    out.map(drop)
}
