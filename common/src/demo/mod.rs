//! The frame around the article's memory demos: what is refused before
//! anything is made (explain.rs), what is reported after, what the reader
//! is told while the memory is held, and what is checked once it is
//! released.
//!
//! Each demo's `main.rs` keeps only the article's steps (create, zero,
//! sleep, release) and calls these around them. The report goes to stdout
//! (it is the demo's result); the guidance goes to stderr.
//!
//! Which file holds what is mapped, once for the whole crate, in
//! docs/architecture.md.

pub mod backing;
pub mod explain;
pub mod table;

pub use explain::refuse_what_does_not_fit;

use crate::memory::Zeroing;
use crate::system::meminfo::Meminfo;
use crate::terminal::hold::{Held, Hold, hold_then_release};
use crate::terminal::output::{note, result_line, size_text};
use crate::xsi::Segment;
use table::{Rows, table};

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
    hold_then_release(how)
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
