//! Where the programs write — the result on stdout, the explanation on
//! stderr — and how they write sizes.
//!
//! stdout carries exactly what the article's program prints (`shm_p: 17`), so
//! `racing_mmap 2>/dev/null` looks like the article's terminal and a script
//! can read the number. Everything said *about* the result goes to stderr.
//!
//! `println!` panics when stdout is a closed pipe (`racing_mmap | true`);
//! [`result_line`] returns that as an error instead, and [`note`] gives up
//! quietly, because a lost explanation is no reason to fail.

use std::fmt::Display;
use std::io::Write;

use nix::errno::Errno;

use crate::error::SysError;

/// Write one result line to stdout and flush it.
///
/// The flush matters when the program forks afterwards: a line still in
/// the buffer would be copied into every child.
pub fn result_line(line: impl Display) -> Result<(), SysError> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{line}")
        .and_then(|()| out.flush())
        .map_err(|e| {
            let errno = Errno::from_raw(e.raw_os_error().unwrap_or(0));
            let err = SysError::new("write(1, result)", errno);
            match errno {
                Errno::EPIPE => err.hint(
                    "stdout is a pipe whose reader has gone (like `| head -0`), so the result\n\
                 could not be printed. Everything the run created has been released.",
                ),
                _ => err,
            }
        })
}

/// Write one explanation line to stderr (best effort).
pub fn note(line: impl Display) {
    let _ = writeln!(std::io::stderr(), "{line}");
}

/// `2046 MiB`, or `3 KiB`, or `100 bytes`: the largest unit that divides `bytes`.
pub fn size_text(bytes: u64) -> String {
    const KIB: u64 = 1024;
    match bytes {
        b if b >= KIB * KIB * KIB && b % (KIB * KIB * KIB) == 0 => {
            format!("{} GiB", b / (KIB * KIB * KIB))
        }
        b if b >= KIB * KIB && b % (KIB * KIB) == 0 => format!("{} MiB", b / (KIB * KIB)),
        b if b >= KIB && b % KIB == 0 => format!("{} KiB", b / KIB),
        b => format!("{b} bytes"),
    }
}

#[cfg(test)]
mod tests {
    use super::size_text;

    #[test]
    fn sizes_use_the_largest_whole_unit() {
        assert_eq!(size_text(2046 << 20), "2046 MiB");
        assert_eq!(size_text(2 << 30), "2 GiB");
        assert_eq!(size_text(4096), "4 KiB");
        assert_eq!(size_text(100), "100 bytes");
        assert_eq!(size_text((1 << 20) + 1), "1048577 bytes");
    }
}
