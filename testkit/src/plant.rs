//! What a test plants under a key or a name before a program looks there,
//! as a classmate on the same server would: a semaphore set or a named
//! semaphore already taken (value 0), another user's when the test runs as
//! root. Dropping one removes it, and only it.

use std::ffi::CString;
use std::io::Error;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use common::xsi::Key;
use nix::libc;

/// `semctl`'s fourth argument, which the caller defines (`man 2 semctl`).
#[repr(C)]
#[allow(dead_code)]
union Semun {
    val: libc::c_int,
    buf: *mut libc::semid_ds,
}

/// A System V semaphore set of one, made by the test under a key.
#[derive(Debug)]
pub struct PlantedSet {
    id: libc::c_int,
}

/// Plant a set of one semaphore with `value` under `key`, owned by `owner`
/// (`IPC_SET`, root only) or by the test's user.
pub fn semaphore_set(key: &Key, value: i32, owner: Option<u32>) -> PlantedSet {
    // SAFETY: plain integer arguments.
    let id = unsafe { libc::semget(key.raw(), 1, libc::IPC_CREAT | libc::IPC_EXCL | 0o600) };
    assert!(id >= 0, "semget({key}): {}", Error::last_os_error());
    let set = PlantedSet { id };
    // SAFETY: SETVAL reads `val` from the union.
    let rc = unsafe { libc::semctl(id, 0, libc::SETVAL, Semun { val: value }) };
    assert_eq!(rc, 0, "SETVAL: {}", Error::last_os_error());
    if let Some(uid) = owner {
        // SAFETY: a zeroed semid_ds is a valid buffer for IPC_STAT to fill.
        let mut ds: libc::semid_ds = unsafe { std::mem::zeroed() };
        // SAFETY: IPC_STAT and IPC_SET read and write `ds` through the union.
        unsafe {
            let rc = libc::semctl(id, 0, libc::IPC_STAT, Semun { buf: &mut ds });
            assert_eq!(rc, 0, "IPC_STAT: {}", Error::last_os_error());
            ds.sem_perm.uid = uid;
            let rc = libc::semctl(id, 0, libc::IPC_SET, Semun { buf: &mut ds });
            assert_eq!(rc, 0, "IPC_SET: {}", Error::last_os_error());
        }
    }
    set
}

impl PlantedSet {
    pub fn id(&self) -> libc::c_int {
        self.id
    }

    /// Its semaphore's value now (`GETVAL`).
    pub fn value(&self) -> i32 {
        // SAFETY: GETVAL takes no fourth argument.
        unsafe { libc::semctl(self.id, 0, libc::GETVAL) }
    }
}

impl Drop for PlantedSet {
    fn drop(&mut self) {
        // SAFETY: IPC_RMID takes no fourth argument.
        unsafe { libc::semctl(self.id, 0, libc::IPC_RMID) };
    }
}

/// A named POSIX semaphore, /dev/shm/sem.NAME, made by the test. Its inode
/// tells it from one someone else made under the name after it was gone.
#[derive(Debug)]
pub struct PlantedSemaphore {
    name: CString,
    path: PathBuf,
    ino: u64,
}

/// Plant the named semaphore `name` (`/NAME`) with `value`, owned by
/// `owner` (`chown`, root only) or by the test's user.
pub fn named_semaphore(name: &str, value: u32, owner: Option<u32>) -> PlantedSemaphore {
    let c_name = CString::new(name).unwrap();
    let mode: libc::c_uint = 0o600;
    // SAFETY: a valid C string; with O_CREAT, a mode and a value follow.
    let sem = unsafe { libc::sem_open(c_name.as_ptr(), libc::O_CREAT | libc::O_EXCL, mode, value) };
    let error = Error::last_os_error();
    assert!(sem != libc::SEM_FAILED, "sem_open({name}): {error}");
    // SAFETY: `sem` came from sem_open and is closed once.
    unsafe { libc::sem_close(sem) };
    let path = PathBuf::from(format!("/dev/shm/sem.{}", name.trim_start_matches('/')));
    if let Some(uid) = owner {
        std::os::unix::fs::chown(&path, Some(uid), None).expect("chown the planted semaphore");
    }
    let ino = std::fs::metadata(&path).unwrap().ino();
    PlantedSemaphore {
        name: c_name,
        path,
        ino,
    }
}

impl PlantedSemaphore {
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Its value now (`sem_getvalue`).
    pub fn value(&self) -> i32 {
        // SAFETY: a valid C string, no O_CREAT.
        let sem = unsafe { libc::sem_open(self.name.as_ptr(), 0) };
        assert!(sem != libc::SEM_FAILED, "the planted semaphore is gone");
        let mut value = -1;
        // SAFETY: `sem` is open; `value` is a valid int to write.
        unsafe {
            libc::sem_getvalue(sem, &mut value);
            libc::sem_close(sem);
        }
        value
    }
}

impl Drop for PlantedSemaphore {
    fn drop(&mut self) {
        if std::fs::metadata(&self.path).is_ok_and(|m| m.ino() == self.ino) {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}
