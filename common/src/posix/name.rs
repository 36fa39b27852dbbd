//! POSIX shared memory names: `/NAME`, which is the file /dev/shm/NAME.
//!
//! POSIX asks for one leading `/` and no other. glibc strips any leading
//! slashes, so the article's `"shm"` and our `/shm` are the same object,
//! `/dev/shm/shm`.

use std::fmt;
use std::path::PathBuf;

/// Where glibc keeps POSIX shared memory objects.
pub const DEV_SHM: &str = "/dev/shm";

/// The longest name, in bytes, after the leading `/`. A file name in
/// /dev/shm may have 255, but `--lock semaphore` also makes the named
/// semaphore `/dev/shm/sem.NAME`, four bytes longer: every object made
/// from the name must fit.
pub const NAME_MAX: usize = 255 - "sem.".len();

/// A valid POSIX shared memory name, kept with its one leading `/`.
///
/// Kept inside the value, not on the heap: each child that opens the
/// object keeps a copy, and a heap allocation would cost each of them page
/// faults (copy-on-write of the allocator's pages) that the C's children
/// do not pay.
#[derive(Clone, PartialEq, Eq)]
pub struct ShmName {
    len: u8,
    bytes: [u8; 1 + NAME_MAX],
}

impl fmt::Debug for ShmName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("ShmName").field(&self.as_str()).finish()
    }
}

impl ShmName {
    /// Check a name as glibc's shm_open and sem_open will: after any
    /// leading `/`s, 1 to [`NAME_MAX`] (251) bytes, no `/`, and not `.` or
    /// `..`. The message states the rule, for use as a flag's usage error.
    pub fn parse(text: &str) -> Result<ShmName, String> {
        let rule = "a POSIX shared memory name is '/' then 1 to 251 bytes with no other '/' (it becomes /dev/shm/NAME, and its semaphore /dev/shm/sem.NAME)";
        let bare = text.trim_start_matches('/');
        if bare.is_empty() {
            return Err(format!("the name is empty; {rule}"));
        }
        if bare.contains('/') {
            return Err(format!("'{text}' has a '/' inside; {rule}"));
        }
        if bare.len() > NAME_MAX {
            return Err(format!("the name is {} bytes long; {rule}", bare.len()));
        }
        if bare == "." || bare == ".." || bare.contains('\0') {
            return Err(format!("'{text}' is not a file name; {rule}"));
        }
        let mut bytes = [0; 1 + NAME_MAX];
        bytes[0] = b'/';
        bytes[1..=bare.len()].copy_from_slice(bare.as_bytes());
        Ok(ShmName {
            len: (1 + bare.len()) as u8,
            bytes,
        })
    }

    /// `/shm`
    pub fn as_str(&self) -> &str {
        // Always valid: copied from a `&str` whole, in `parse`.
        std::str::from_utf8(&self.bytes[..usize::from(self.len)]).unwrap_or("/")
    }

    /// `/dev/shm/shm`
    pub fn path(&self) -> PathBuf {
        PathBuf::from(format!("{DEV_SHM}{}", self.as_str()))
    }

    /// The name as one shell word, for a command a hint prints: `/shm`,
    /// or `'/my shm'`.
    pub fn shell_word(&self) -> String {
        crate::terminal::output::shell_word(std::path::Path::new(self.as_str()))
    }

    /// `/dev/shm/sem.shm`: where `sem_open` keeps the semaphore of this name.
    pub fn semaphore_path(&self) -> PathBuf {
        PathBuf::from(format!("{DEV_SHM}/sem.{}", &self.as_str()[1..]))
    }
}

impl fmt::Display for ShmName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_get_one_leading_slash() {
        assert_eq!(ShmName::parse("shm").unwrap().as_str(), "/shm");
        assert_eq!(ShmName::parse("/shm").unwrap().as_str(), "/shm");
        assert_eq!(
            ShmName::parse("//shm").unwrap().as_str(),
            "/shm",
            "glibc strips them all"
        );
        assert_eq!(
            ShmName::parse("/shm").unwrap().path(),
            PathBuf::from("/dev/shm/shm")
        );
    }

    #[test]
    fn bad_names_are_refused_with_the_rule() {
        for bad in ["", "/", "/a/b", "a/b", ".", "/.."] {
            let msg = ShmName::parse(bad).unwrap_err();
            assert!(msg.contains("'/' then 1 to 251 bytes"), "{bad:?}: {msg}");
        }
        // 252 bytes would do for the object, but not for sem.NAME (256).
        let long = "x".repeat(252);
        assert!(
            ShmName::parse(&long)
                .unwrap_err()
                .contains("252 bytes long")
        );
        assert!(ShmName::parse(&"x".repeat(251)).is_ok());
    }
}
