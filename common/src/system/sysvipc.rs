//! The System V objects on the machine, as `ipcs` lists them, read from
//! /proc/sysvipc/shm and /proc/sysvipc/sem.
//!
//! Every user may read these files, so a program can describe an object it
//! has no permission to open: whose it is, its mode, who is attached.

use std::collections::HashMap;

use super::users::user_name;

/// The rows of a /proc/sysvipc table (`shm`, `sem` or `msg`), each as
/// (column name → value). An unreadable file gives no rows.
pub fn sysvipc_table(which: &str) -> Vec<HashMap<String, String>> {
    let Ok(text) = std::fs::read_to_string(format!("/proc/sysvipc/{which}")) else {
        return Vec::new();
    };
    let mut lines = text.lines();
    let columns: Vec<String> = lines
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .map(str::to_owned)
        .collect();
    lines
        .map(|line| {
            columns
                .iter()
                .cloned()
                .zip(line.split_whitespace().map(str::to_owned))
                .collect()
        })
        .collect()
}

/// What `ipcs -m` shows about one segment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SegmentInfo {
    pub key: libc::key_t,
    pub id: libc::c_int,
    /// Permission bits, plus SHM_DEST (0o1000) once IPC_RMID was asked for
    /// while still attached.
    pub mode: u32,
    pub size: usize,
    pub creator_pid: libc::pid_t,
    pub attached: libc::shmatt_t,
    /// The owner (who may remove it), and who created it.
    pub uid: libc::uid_t,
    pub creator_uid: libc::uid_t,
}

impl SegmentInfo {
    /// "shmid 32769, owner uid 0 (root), mode 0600, 4 bytes, 0 attached"
    pub fn describe(&self) -> String {
        format!(
            "shmid {}, owner {}, mode {:04o}, {} bytes, {} attached",
            self.id,
            user_name(self.uid),
            self.mode & 0o777,
            self.size,
            self.attached
        )
    }
}

impl SegmentInfo {
    /// "owner uid 0 (root), created by pid 4242 (racing_xsi_shm)"
    pub fn describe_owner(&self) -> String {
        let name =
            super::procs::name_of(self.creator_pid).map_or_else(String::new, |n| format!(" ({n})"));
        format!(
            "owner {}, created by pid {}{name}",
            user_name(self.uid),
            self.creator_pid
        )
    }
}

/// Every segment on the system.
pub fn segments() -> Vec<SegmentInfo> {
    sysvipc_table("shm")
        .into_iter()
        .filter_map(|row| {
            let field = |name: &str| row.get(name).map(String::as_str);
            Some(SegmentInfo {
                key: field("key")?.parse().ok()?,
                id: field("shmid")?.parse().ok()?,
                mode: u32::from_str_radix(field("perms")?, 8).ok()?,
                size: field("size")?.parse().ok()?,
                creator_pid: field("cpid")?.parse().ok()?,
                attached: field("nattch")?.parse().ok()?,
                uid: field("uid")?.parse().ok()?,
                creator_uid: field("cuid")?.parse().ok()?,
            })
        })
        .collect()
}

/// The segment that has this key, if any (never one for IPC_PRIVATE, which
/// is not a key but the absence of one).
pub fn segment_with_key(key: libc::key_t) -> Option<SegmentInfo> {
    if key == libc::IPC_PRIVATE {
        return None;
    }
    segments().into_iter().find(|s| s.key == key)
}

/// What `ipcs -s` shows about one semaphore set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SemaphoreSetInfo {
    pub key: libc::key_t,
    pub id: i32,
    /// Permission bits.
    pub mode: u32,
    /// How many semaphores the set holds.
    pub nsems: u32,
    /// The owner, and who created it.
    pub uid: libc::uid_t,
    pub creator_uid: libc::uid_t,
}

/// Every System V semaphore set on the system.
pub fn semaphore_sets() -> Vec<SemaphoreSetInfo> {
    sysvipc_table("sem")
        .into_iter()
        .filter_map(|row| {
            let field = |name: &str| row.get(name).map(String::as_str);
            Some(SemaphoreSetInfo {
                key: field("key")?.parse().ok()?,
                id: field("semid")?.parse().ok()?,
                mode: u32::from_str_radix(field("perms")?, 8).ok()?,
                nsems: field("nsems")?.parse().ok()?,
                uid: field("uid")?.parse().ok()?,
                creator_uid: field("cuid")?.parse().ok()?,
            })
        })
        .collect()
}
