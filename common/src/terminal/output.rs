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
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

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
            super::explain::result_not_written(SysError::new("write(1, result)", errno))
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

/// `5 s`, `10 min`, `3 h`, `2 days`: an age as a person would say it.
pub fn age_text(secs: u64) -> String {
    match secs {
        0..=119 => format!("{secs} s"),
        120..=7199 => format!("{} min", secs / 60),
        7200..=172_799 => format!("{} h", secs / 3600),
        _ => format!("{} days", secs / 86400),
    }
}

/// A path as one shell word that names the same file when pasted back
/// into a shell (bash, zsh, dash): as it is when every byte is safe
/// (`/tmp/counter`), in single quotes otherwise (`'/tmp/my counter'`), and
/// as `$'…'` with escapes when it holds a control character or bytes that
/// are not UTF-8 (`$'/tmp/a\nb'`): printed raw, a newline would cut the
/// hint in two, and a lossy conversion would name another file. A
/// relative path that begins with `-` gets `./`, so that no command takes
/// it for an option.
pub fn shell_word(path: &Path) -> String {
    let mut bytes = path.as_os_str().as_bytes().to_vec();
    if bytes.first() == Some(&b'-') {
        bytes.splice(0..0, *b"./");
    }
    let safe = |b: &u8| b.is_ascii_alphanumeric() || b"/._-+,:@%=^".contains(b);
    if !bytes.is_empty() && bytes.iter().all(safe) {
        return String::from_utf8_lossy(&bytes).into_owned();
    }
    match std::str::from_utf8(&bytes) {
        Ok(text) if !text.chars().any(char::is_control) => {
            format!("'{}'", text.replace('\'', r"'\''"))
        }
        _ => format!("$'{}'", escaped(&bytes, '\'')),
    }
}

/// A path as C would write it in a call, `"/tmp/my counter"`, with C's
/// escapes for quotes, backslashes, control characters and bytes that are
/// not UTF-8, so that an error stays on one line and names the file
/// exactly: `open("/tmp/a\nb", …)`.
pub fn c_string(path: &Path) -> String {
    format!("\"{}\"", escaped(path.as_os_str().as_bytes(), '"'))
}

/// `bytes` with `quote`, `\`, control characters and invalid UTF-8 escaped
/// (`\n`, `\t`, `\xNN`), the rest as it is.
fn escaped(bytes: &[u8], quote: char) -> String {
    let mut out = String::new();
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            match c {
                '\n' => out.push_str("\\n"),
                '\t' => out.push_str("\\t"),
                '\\' => out.push_str("\\\\"),
                c if c == quote => {
                    out.push('\\');
                    out.push(c);
                }
                c if c.is_control() => {
                    let mut buf = [0; 4];
                    for b in c.encode_utf8(&mut buf).bytes() {
                        out.push_str(&format!("\\x{b:02x}"));
                    }
                }
                c => out.push(c),
            }
        }
        for b in chunk.invalid() {
            out.push_str(&format!("\\x{b:02x}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{c_string, shell_word, size_text};
    use std::ffi::OsStr;
    use std::os::unix::ffi::OsStrExt;
    use std::path::Path;

    #[test]
    fn ages_read_like_a_person_would_say_them() {
        assert_eq!(super::age_text(5), "5 s");
        assert_eq!(super::age_text(600), "10 min");
        assert_eq!(super::age_text(3 * 86400), "3 days");
    }

    #[test]
    fn paths_become_one_shell_word_for_the_same_file() {
        let word = |s: &str| shell_word(Path::new(s));
        assert_eq!(word("/tmp/counter"), "/tmp/counter");
        assert_eq!(word("/tmp/my counter"), "'/tmp/my counter'");
        assert_eq!(word("it's"), r"'it'\''s'");
        assert_eq!(word("$HOME"), "'$HOME'");
        assert_eq!(word("/tmp/a\nb"), r"$'/tmp/a\nb'");
        assert_eq!(word("-f"), "./-f");
        assert_eq!(word("计数"), "'计数'");
        let latin1 = Path::new(OsStr::from_bytes(b"/tmp/caf\xe9"));
        assert_eq!(shell_word(latin1), r"$'/tmp/caf\xe9'");
    }

    /// What bash makes of the word is the path itself, byte for byte.
    #[test]
    fn bash_reads_the_word_back_as_the_same_bytes() {
        let paths: [&[u8]; 6] = [
            b"/tmp/my counter",
            b"it's \"quoted\"",
            b"/tmp/a\nb\tc",
            b"/tmp/caf\xe9",
            b"-rf",
            b"$(touch x)",
        ];
        for bytes in paths {
            let word = shell_word(Path::new(OsStr::from_bytes(bytes)));
            let out = std::process::Command::new("bash")
                .args(["-c", &format!("printf %s {word}")])
                .output()
                .expect("bash");
            let mut want = bytes.to_vec();
            if want.first() == Some(&b'-') {
                want.splice(0..0, *b"./");
            }
            assert_eq!(out.stdout, want, "{word}");
        }
    }

    #[test]
    fn c_strings_stay_on_one_line() {
        assert_eq!(c_string(Path::new("/tmp/x")), "\"/tmp/x\"");
        assert_eq!(c_string(Path::new("/tmp/a\nb")), r#""/tmp/a\nb""#);
        assert_eq!(c_string(Path::new("say \"hi\"")), r#""say \"hi\"""#);
    }

    #[test]
    fn sizes_use_the_largest_whole_unit() {
        assert_eq!(size_text(2046 << 20), "2046 MiB");
        assert_eq!(size_text(2 << 30), "2 GiB");
        assert_eq!(size_text(4096), "4 KiB");
        assert_eq!(size_text(100), "100 bytes");
        assert_eq!(size_text((1 << 20) + 1), "1048577 bytes");
    }
}
