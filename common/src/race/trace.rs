//! `--trace`: see the race child by child.
//!
//! Each child writes down, in the shared memory itself (after the int and
//! whatever the lock keeps there), the value it read, the value it wrote,
//! and when (`CLOCK_MONOTONIC`). It does so inside the counter's own read
//! and write ([`SharedCounter::get`](super::SharedCounter::get) and
//! [`set`](super::SharedCounter::set)), so `do_child` stays the article's
//! four statements. After the result, the parent reads the records and
//! tells which updates were lost and why ([`report`]).
//!
//! Why an update is lost, from the records alone: every write is the value
//! its child read, plus one. The int ends at the value of the last write;
//! that write's child read a value some earlier child wrote, and so on back
//! to 0. Those children — a *chain* as long as the final value — are the
//! updates that count. Every other child's update was lost, in one of two
//! ways:
//!
//! - it read the same value as a child of the chain, so both wrote the same
//!   number: of each such group only one update counts;
//! - it counted, but a child of the chain that had read an older value
//!   wrote after it, putting the int back: a late write undid it.
//!
//! The records add no kernel object: they live in the run's own memory,
//! which is made bigger for them, and go with it.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicI32, AtomicU32, AtomicU64, Ordering::Relaxed};

use crate::memory::SharedMemory;

/// Where the records start in the memory: after the int (0), a POSIX
/// semaphore holder's pid (4) and racing_mmap's `sem_t` (8 to 40).
pub const OFFSET: usize = 64;

/// The most children a trace records.
pub const MAX_CHILDREN: usize = 10_000;

/// "trce": the memory holds a trace set up by the parent.
const MAGIC: u32 = 0x7472_6365;

/// The header at [`OFFSET`], then the slots.
#[repr(C)]
struct Header {
    magic: AtomicU32,
    /// How many slots follow (a power of two).
    slots: AtomicU32,
    /// The parent's pid: only its children record.
    owner: AtomicI32,
    _unused: AtomicU32,
}

/// One child's record, found by its pid (open addressing).
#[repr(C)]
struct Slot {
    pid: AtomicI32,
    read: AtomicI32,
    written: AtomicI32,
    /// Bit 0: read recorded; bit 1: write recorded.
    state: AtomicU32,
    read_ns: AtomicU64,
    write_ns: AtomicU64,
}

const READ: u32 = 1;
const WRITTEN: u32 = 2;

/// How many slots a trace of `count` children has: twice as many, rounded
/// up to a power of two, so that finding a free one takes a step or two.
fn slots_for(count: usize) -> usize {
    (count.max(1) * 2).next_power_of_two()
}

/// How big the memory must be for the int, the lock's room (`base`) and a
/// trace of `count` children.
pub fn memory_len(base: usize, count: usize) -> usize {
    base.max(OFFSET) + size_of::<Header>() + slots_for(count) * size_of::<Slot>()
}

/// Whether memory of `len` bytes has the size of a traced run's: the int
/// and the lock's room (64 bytes), the header, and a power of two of slots.
pub fn is_traced_size(len: u64) -> bool {
    let fixed = (OFFSET + size_of::<Header>()) as u64;
    let slot = size_of::<Slot>() as u64;
    len > fixed && (len - fixed) % slot == 0 && ((len - fixed) / slot).is_power_of_two()
}

/// `--count` beyond [`MAX_CHILDREN`] with `--trace`: a usage error.
pub fn check_count(count: usize) -> Result<(), crate::error::Usage> {
    if count > MAX_CHILDREN {
        return Err(crate::error::Usage::invalid(
            "--count <N>",
            &count.to_string(),
            &format!(
                "--trace records every child, and records at most {MAX_CHILDREN}; \
                 trace fewer, or leave out --trace"
            ),
        ));
    }
    Ok(())
}

/// The trace in a run's memory, as every process that maps it sees it.
#[derive(Debug, Clone, Copy)]
pub struct Trace<'m> {
    header: &'m Header,
    slots: &'m [Slot],
}

impl std::fmt::Debug for Header {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("trace header")
    }
}

impl std::fmt::Debug for Slot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("trace slot")
    }
}

impl<'m> Trace<'m> {
    /// In the parent, before the first fork: set up a trace of `count`
    /// children in `memory`, which must be [`memory_len`] long and fresh
    /// (all zero).
    pub fn start(memory: &'m impl SharedMemory, count: usize) -> Option<Trace<'m>> {
        let slots = slots_for(count);
        let trace = Trace::at(memory, slots)?;
        trace.header.slots.store(slots as u32, Relaxed);
        trace.header.owner.store(std::process::id() as i32, Relaxed);
        trace.header.magic.store(MAGIC, Relaxed);
        Some(trace)
    }

    /// The trace the parent set up in `memory`, if it did.
    pub fn find(memory: &'m impl SharedMemory) -> Option<Trace<'m>> {
        if memory.len() < OFFSET + size_of::<Header>() {
            return None;
        }
        // SAFETY: OFFSET + size_of::<Header>() bytes are inside the memory
        // (checked above), which is page-aligned, so the header at OFFSET
        // (a multiple of 8) is aligned; it lives as long as `memory`, and
        // every process touches it only through these atomics.
        let header = unsafe { &*memory.start().as_ptr().add(OFFSET).cast::<Header>() };
        if header.magic.load(Relaxed) != MAGIC {
            return None;
        }
        Trace::at(memory, header.slots.load(Relaxed) as usize)
    }

    /// The header and `slots` slots in `memory`, if they fit.
    fn at(memory: &'m impl SharedMemory, slots: usize) -> Option<Trace<'m>> {
        let need = OFFSET + size_of::<Header>() + slots * size_of::<Slot>();
        if slots == 0 || memory.len() < need {
            return None;
        }
        let base = memory.start().as_ptr();
        // SAFETY: all `need` bytes are inside the memory (checked above);
        // OFFSET and the header's size are multiples of 8, so header and
        // slots are aligned in page-aligned memory. They live as long as
        // `memory` ('m), and every process touches them only through
        // these atomics, for which any bit pattern is valid.
        let (header, slots) = unsafe {
            (
                &*base.add(OFFSET).cast::<Header>(),
                std::slice::from_raw_parts(
                    base.add(OFFSET + size_of::<Header>()).cast::<Slot>(),
                    slots,
                ),
            )
        };
        Some(Trace { header, slots })
    }

    /// In a child: record that it read `value`, now. Only the parent's own
    /// children record (a process that joined with `--attach` forks
    /// children of its own, who do not). Nothing here allocates.
    pub(super) fn read(&self, value: i32) {
        let Some(slot) = self.slot(true) else {
            return;
        };
        slot.read.store(value, Relaxed);
        slot.read_ns.store(now_ns(), Relaxed);
        slot.state.fetch_or(READ, Relaxed);
    }

    /// In a child: record that it wrote `value`, now.
    pub(super) fn wrote(&self, value: i32) {
        let Some(slot) = self.slot(false) else {
            return;
        };
        slot.write_ns.store(now_ns(), Relaxed);
        slot.written.store(value, Relaxed);
        slot.state.fetch_or(WRITTEN, Relaxed);
    }

    /// This child's slot: found by its pid, or (`claim`) taken if it has none.
    fn slot(&self, claim: bool) -> Option<&'m Slot> {
        // SAFETY: getppid(2) and getpid(2) take nothing and touch no memory.
        let (parent, pid) = unsafe { (libc::getppid(), libc::getpid()) };
        if parent != self.header.owner.load(Relaxed) {
            return None;
        }
        let mask = self.slots.len() - 1;
        let mut at = (pid as usize).wrapping_mul(0x9E37_79B9) & mask;
        for _ in 0..self.slots.len() {
            let slot = &self.slots[at];
            let holder = slot.pid.load(Relaxed);
            if holder == pid {
                return Some(slot);
            }
            if holder == 0 && claim {
                match slot.pid.compare_exchange(0, pid, Relaxed, Relaxed) {
                    Ok(_) => return Some(slot),
                    Err(taken) if taken == pid => return Some(slot),
                    Err(_) => {}
                }
            }
            at = (at + 1) & mask;
        }
        None
    }

    /// In the parent, once every child has been waited for: the records.
    pub fn records(&self) -> Vec<Record> {
        self.slots
            .iter()
            .filter(|s| s.pid.load(Relaxed) != 0)
            .map(|s| {
                let state = s.state.load(Relaxed);
                Record {
                    pid: s.pid.load(Relaxed),
                    read: (state & READ != 0)
                        .then(|| (s.read.load(Relaxed), s.read_ns.load(Relaxed))),
                    wrote: (state & WRITTEN != 0)
                        .then(|| (s.written.load(Relaxed), s.write_ns.load(Relaxed))),
                }
            })
            .collect()
    }
}

impl Trace<'_> {
    /// In the parent, after the result: the explanation, on stderr.
    /// `numbers` maps the children's pids to their numbers
    /// ([`crate::process::Children::pids`]); `got` is the int printed.
    pub fn tell(&self, count: usize, numbers: &[(usize, i32)], got: i32) {
        let text = report(count, &self.records(), numbers, got, Style::of_stderr());
        crate::terminal::output::note(text.trim_end());
    }
}

/// `CLOCK_MONOTONIC`, in nanoseconds (a vDSO call: no system call).
fn now_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes `ts`, a valid timespec.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    (ts.tv_sec as u64) * 1_000_000_000 + ts.tv_nsec as u64
}

/// What one child recorded: (value, when in ns) of its read and its write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Record {
    pub pid: i32,
    pub read: Option<(i32, u64)>,
    pub wrote: Option<(i32, u64)>,
}

/// A child's record with its number (1 = forked first).
#[derive(Debug, Clone, Copy)]
struct Child {
    number: usize,
    read: i32,
    read_ns: u64,
    wrote: i32,
    write_ns: u64,
}

/// How each child's update fared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fate {
    /// In the chain: it counts.
    Kept,
    /// Read the same value as a kept child (group index).
    SameRead,
    /// Undone by the late write of this kept child (its index in `children`).
    UndoneBy(usize),
}

/// What the records say, ready to print.
#[derive(Debug)]
struct Analysis {
    children: Vec<Child>,
    fates: Vec<Fate>,
    /// Children (indices) that read each value read by two or more, one of
    /// them kept; in the order of the value.
    groups: Vec<(i32, Vec<usize>)>,
    /// Children that recorded a read but no write (they died mid-way).
    unfinished: Vec<usize>,
    /// The value the chain ends at, and whether it goes back to 0 through
    /// this run's children only.
    chain_end: i32,
    chain_whole: bool,
}

/// Work out, from the records, which updates count and why the others were
/// lost. `numbers` maps each child's pid to its number.
///
/// The times are read just after each load and store, so a child
/// descheduled in between records them late: values decide first, times
/// only between children that wrote the same value.
fn analyse(records: &[Record], numbers: &[(usize, i32)], got: i32) -> Analysis {
    let number_of = |pid: i32| numbers.iter().find(|(_, p)| *p == pid).map(|(n, _)| *n);
    let mut children: Vec<Child> = Vec::new();
    let mut unfinished = Vec::new();
    let mut rows: Vec<(usize, &Record)> = records
        .iter()
        .filter_map(|r| number_of(r.pid).map(|n| (n, r)))
        .collect();
    rows.sort_by_key(|(n, _)| *n);
    for (number, record) in rows {
        match (record.read, record.wrote) {
            (Some((read, read_ns)), Some((wrote, write_ns))) => children.push(Child {
                number,
                read,
                read_ns,
                wrote,
                write_ns,
            }),
            (Some(_), None) => unfinished.push(number),
            _ => {}
        }
    }
    let mut fates = vec![Fate::SameRead; children.len()];
    // The chain: from the last write back to a read of 0.
    let mut kept = vec![false; children.len()];
    let mut chain_end = 0;
    let mut chain_whole = true;
    // The write that left the int as printed: the last of those that
    // wrote that value.
    let last = (0..children.len())
        .filter(|&i| children[i].wrote == got)
        .max_by_key(|&i| children[i].write_ns)
        .or_else(|| (0..children.len()).max_by_key(|&i| children[i].write_ns));
    if let Some(mut at) = last {
        chain_end = children[at].wrote;
        loop {
            kept[at] = true;
            let c = children[at];
            if c.read == 0 {
                break;
            }
            // The child whose write this one read: the last to write that
            // value before the read (or, if the times say none did, the
            // first to write it).
            let writers =
                || (0..children.len()).filter(|&i| !kept[i] && children[i].wrote == c.read);
            let producer = writers()
                .filter(|&i| children[i].write_ns <= c.read_ns)
                .max_by_key(|&i| children[i].write_ns)
                .or_else(|| writers().min_by_key(|&i| children[i].write_ns));
            match producer {
                Some(p) => at = p,
                None => {
                    chain_whole = false;
                    break;
                }
            }
        }
    }
    for i in 0..children.len() {
        if kept[i] {
            fates[i] = Fate::Kept;
        }
    }
    // Lost: the same value as a kept child, or undone by a late write.
    let kept_reads: Vec<i32> = (0..children.len())
        .filter(|&i| kept[i])
        .map(|i| children[i].read)
        .collect();
    for i in 0..children.len() {
        if kept[i] || kept_reads.contains(&children[i].read) {
            continue;
        }
        // The first kept write after this child's write put the int back.
        let undoer = (0..children.len())
            .filter(|&k| kept[k] && children[k].write_ns >= children[i].write_ns)
            .min_by_key(|&k| children[k].write_ns);
        fates[i] = match undoer {
            Some(k) => Fate::UndoneBy(k),
            None => Fate::SameRead,
        };
    }
    let mut groups: Vec<(i32, Vec<usize>)> = Vec::new();
    for (i, child) in children.iter().enumerate() {
        let value = child.read;
        if !kept_reads.contains(&value) {
            continue;
        }
        match groups.iter_mut().find(|(v, _)| *v == value) {
            Some((_, members)) => members.push(i),
            None => groups.push((value, vec![i])),
        }
    }
    groups.retain(|(_, members)| members.len() > 1);
    groups.sort_by_key(|(v, _)| *v);
    Analysis {
        children,
        fates,
        groups,
        unfinished,
        chain_end,
        chain_whole,
    }
}

/// `line`, indented by two spaces, broken at spaces so that no line is
/// wider than `width` (continuations indented by four).
fn wrap(out: &mut String, line: &str, width: usize) {
    wrap_indented(out, line, width, "  ");
}

/// [`wrap`], with the first line indented by `indent`.
fn wrap_indented(out: &mut String, line: &str, width: usize, indent: &str) {
    let mut current = String::from(indent);
    let mut fresh = true;
    for word in line.split(' ') {
        let len = current.chars().count();
        if !fresh && len + 1 + word.chars().count() > width {
            out.push_str(&current);
            out.push('\n');
            current = String::from("    ");
            fresh = true;
        }
        if !fresh {
            current.push(' ');
        }
        current.push_str(word);
        fresh = false;
    }
    out.push_str(&current);
    out.push('\n');
}

/// "1", "1 and 2", "1, 2 and 3", "3 and 6–15": runs of three or more
/// consecutive numbers as a range.
fn list(numbers: &[usize]) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut i = 0;
    while i < numbers.len() {
        let mut j = i;
        while j + 1 < numbers.len() && numbers[j + 1] == numbers[j] + 1 {
            j += 1;
        }
        if j >= i + 2 {
            parts.push(format!("{}–{}", numbers[i], numbers[j]));
        } else {
            parts.extend(numbers[i..=j].iter().map(usize::to_string));
        }
        i = j + 1;
    }
    match parts.as_slice() {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

fn updates(n: usize) -> &'static str {
    if n == 1 { "update" } else { "updates" }
}

/// How the timeline is drawn.
#[derive(Debug, Clone, Copy)]
pub struct Style {
    /// Columns the lines may take.
    pub width: usize,
    /// ANSI colours (a terminal, and no `NO_COLOR`).
    pub colour: bool,
}

impl Style {
    /// For stderr: its terminal's width and colours, or 80 columns and
    /// none when it is not a terminal; never colours with `NO_COLOR` set.
    pub fn of_stderr() -> Style {
        // SAFETY: isatty(3) on a descriptor number.
        let terminal = unsafe { libc::isatty(libc::STDERR_FILENO) } == 1;
        let mut width = 80;
        if terminal {
            let mut size = libc::winsize {
                ws_row: 0,
                ws_col: 0,
                ws_xpixel: 0,
                ws_ypixel: 0,
            };
            // SAFETY: TIOCGWINSZ fills a winsize.
            if unsafe { libc::ioctl(libc::STDERR_FILENO, libc::TIOCGWINSZ, &mut size) } == 0
                && size.ws_col >= 40
            {
                width = usize::from(size.ws_col);
            }
        }
        let no_colour = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        Style {
            width,
            colour: terminal && !no_colour,
        }
    }
}

/// The most rows the timeline shows.
pub const ROWS: usize = 40;

/// The whole explanation: who lost what, the total, and the timeline.
/// `count` children were forked; `numbers` maps their pids to numbers;
/// `got` is the int the parent printed.
pub fn report(
    count: usize,
    records: &[Record],
    numbers: &[(usize, i32)],
    got: i32,
    style: Style,
) -> String {
    let a = analyse(records, numbers, got);
    let mut out = String::new();
    let recorded = a.children.len();
    wrap_indented(
        &mut out,
        &format!("--trace: {recorded} of {count} children recorded their read and their write."),
        style.width,
        "",
    );
    let mut text = String::new();
    for (value, members) in &a.groups {
        let numbers: Vec<usize> = members.iter().map(|&i| a.children[i].number).collect();
        let lost = members.len() - 1;
        let kept = members
            .iter()
            .find(|&&i| a.fates[i] == Fate::Kept)
            .map_or(0, |&i| a.children[i].number);
        let _ = writeln!(
            text,
            "children {} {} read {value} and wrote {}: {lost} {} lost (child {kept}'s counts)",
            list(&numbers),
            if numbers.len() == 2 { "both" } else { "all" },
            value.wrapping_add(1),
            updates(lost)
        );
    }
    // Lost with no kept child beside them and no later kept write (records
    // that do not add up: another process wrote meanwhile).
    let stray: Vec<usize> = (0..a.children.len())
        .filter(|&i| a.fates[i] == Fate::SameRead && !a.groups.iter().any(|(_, m)| m.contains(&i)))
        .map(|i| a.children[i].number)
        .collect();
    if !stray.is_empty() {
        let _ = writeln!(
            text,
            "children {}: lost, and no kept child explains it",
            list(&stray)
        );
    }
    // Late writes, by the kept child that made them.
    for k in 0..a.children.len() {
        let undone: Vec<usize> = (0..a.children.len())
            .filter(|&i| a.fates[i] == Fate::UndoneBy(k))
            .map(|i| a.children[i].number)
            .collect();
        if undone.is_empty() {
            continue;
        }
        let c = a.children[k];
        let _ = writeln!(
            text,
            "child {} read {} and wrote {} after {} {} had written: a late write, {} {} lost",
            c.number,
            c.read,
            c.wrote,
            if undone.len() == 1 {
                "child"
            } else {
                "children"
            },
            list(&undone),
            undone.len(),
            updates(undone.len())
        );
    }
    let lost_same = a.fates.iter().filter(|f| **f == Fate::SameRead).count();
    let lost_late = a
        .fates
        .iter()
        .filter(|f| matches!(f, Fate::UndoneBy(_)))
        .count();
    let lost = lost_same + lost_late;
    let kept = recorded - lost;
    if lost == 0 {
        let _ = writeln!(
            text,
            "No update was lost: each child read the value the one before it wrote."
        );
    } else {
        let _ = writeln!(
            text,
            "{lost} {} lost: {lost_same} by reading a value another child also read, \
             {lost_late} by a late write.",
            updates(lost)
        );
    }
    if !a.unfinished.is_empty() {
        let _ = writeln!(
            text,
            "children {} read but never wrote: they ended before their write.",
            list(&a.unfinished)
        );
    }
    if !a.chain_whole || i64::from(a.chain_end) != i64::from(got) || kept as i64 != i64::from(got) {
        let _ = writeln!(
            text,
            "The int is {got}, not {kept}: a process outside this run's children changed it \
             meanwhile, so the trace cannot account for every update."
        );
    } else if recorded == count {
        let _ = writeln!(
            text,
            "{count} children − {lost} lost = {got}: the shm_p printed."
        );
    }
    for line in text.lines() {
        wrap(&mut out, line, style.width);
    }
    timeline(&mut out, &a, style);
    out
}

/// One row per child (the first [`ROWS`], or beyond that the children
/// whose updates were lost and the kept ones that cost them), a bar from
/// its read to its write on one time axis; the rows of one same-read
/// group drawn with one letter.
fn timeline(out: &mut String, a: &Analysis, style: Style) {
    let n = a.children.len();
    if n == 0 {
        return;
    }
    let start = a.children.iter().map(|c| c.read_ns).min().unwrap_or(0);
    let end = a.children.iter().map(|c| c.write_ns).max().unwrap_or(start);
    let span = end.saturating_sub(start).max(1);
    let mark_of = |i: usize| -> u8 {
        match a.groups.iter().position(|(_, m)| m.contains(&i)) {
            Some(g) if g < 26 => b'a' + g as u8,
            Some(_) => b'*',
            None => b'=',
        }
    };
    let mut shown: Vec<usize> = if n <= ROWS {
        (0..n).collect()
    } else {
        let involved = |i: usize| {
            a.fates[i] != Fate::Kept
                || a.groups.iter().any(|(_, m)| m.contains(&i))
                || a.fates.contains(&Fate::UndoneBy(i))
        };
        (0..n).filter(|&i| involved(i)).take(ROWS).collect()
    };
    shown.sort_unstable();
    let digits = a
        .children
        .iter()
        .map(|c| c.number.to_string().len().max(c.wrote.to_string().len()))
        .max()
        .unwrap_or(1);
    // "child 17  41→42 |bar| lost"
    let label = 6 + digits + 2 + digits + 2 + digits + 1;
    let tail = 6;
    let cols = style.width.saturating_sub(label + tail + 2).max(1);
    let header = format!(
        "Timeline, {:.1} ms from the first read to the last write{}:",
        span as f64 / 1e6,
        if shown.len() < n {
            format!(
                " ({} of {n} children: those whose update was lost, and those that cost it)",
                shown.len()
            )
        } else {
            String::new()
        }
    );
    wrap_indented(out, &header, style.width, "");
    let colours = ["31", "32", "33", "34", "35", "36"];
    for &i in &shown {
        let c = a.children[i];
        let from = ((c.read_ns - start) as u128 * (cols as u128 - 1) / span as u128) as usize;
        let to = ((c.write_ns - start) as u128 * (cols as u128 - 1) / span as u128) as usize;
        let mark = mark_of(i) as char;
        let mut bar = String::with_capacity(cols);
        for col in 0..cols {
            bar.push(if col >= from && col <= to { mark } else { ' ' });
        }
        let fate = match a.fates[i] {
            Fate::Kept => "kept",
            _ => "lost",
        };
        let (on, off) = match a.groups.iter().position(|(_, m)| m.contains(&i)) {
            Some(g) if style.colour => (
                format!("\x1b[{}m", colours[g % colours.len()]),
                String::from("\x1b[0m"),
            ),
            _ => (String::new(), String::new()),
        };
        let _ = writeln!(
            out,
            "child {:>w$}  {:>w$}→{:<w$} |{on}{bar}{off}| {fate}",
            c.number,
            c.read,
            c.wrote,
            w = digits
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(pid: i32, read: i32, read_ns: u64, wrote: i32, write_ns: u64) -> Record {
        Record {
            pid,
            read: Some((read, read_ns)),
            wrote: Some((wrote, write_ns)),
        }
    }

    fn numbers(n: usize) -> Vec<(usize, i32)> {
        (1..=n).map(|i| (i, 100 + i as i32)).collect()
    }

    /// Wide enough that no sentence is broken.
    fn plain() -> Style {
        Style {
            width: 300,
            colour: false,
        }
    }

    #[test]
    fn three_children_that_read_0_lose_two_updates() {
        let records = [
            rec(101, 0, 10, 1, 100),
            rec(102, 0, 11, 1, 101),
            rec(103, 0, 12, 1, 102),
        ];
        let text = report(3, &records, &numbers(3), 1, plain());
        assert!(
            text.contains("children 1–3 all read 0 and wrote 1: 2 updates lost (child 3's counts)"),
            "{text}"
        );
        assert!(
            text.contains("3 children − 2 lost = 1: the shm_p printed."),
            "{text}"
        );
        let narrow = report(
            3,
            &records,
            &numbers(3),
            1,
            Style {
                width: 80,
                colour: false,
            },
        );
        assert!(narrow.lines().all(|l| l.chars().count() <= 80), "{narrow}");
    }

    #[test]
    fn a_late_write_undoes_the_updates_made_since_its_read() {
        // 1 reads 0; 2 reads 0 and writes 1; 3 reads 1 and writes 2;
        // then 1 writes 1: the int goes back, 3's update and 2's are lost.
        let records = [
            rec(101, 0, 0, 1, 50),
            rec(102, 0, 1, 1, 10),
            rec(103, 1, 20, 2, 30),
        ];
        let text = report(3, &records, &numbers(3), 1, plain());
        assert!(
            text.contains("children 1 and 2 both read 0 and wrote 1: 1 update lost"),
            "{text}"
        );
        assert!(
            text.contains(
                "child 1 read 0 and wrote 1 after child 3 had written: a late write, 1 update lost"
            ),
            "{text}"
        );
        assert!(
            text.contains(
                "2 updates lost: 1 by reading a value another child also read, 1 by a late write."
            ),
            "{text}"
        );
        assert!(text.contains("3 children − 2 lost = 1"), "{text}");
    }

    #[test]
    fn serialised_children_lose_nothing() {
        let records = [
            rec(101, 0, 0, 1, 10),
            rec(102, 1, 11, 2, 20),
            rec(103, 2, 21, 3, 30),
        ];
        let text = report(3, &records, &numbers(3), 3, plain());
        assert!(text.contains("No update was lost"), "{text}");
        assert!(!text.contains("all read"), "{text}");
        assert!(text.contains("3 children − 0 lost = 3"), "{text}");
    }

    #[test]
    fn another_writer_is_named_when_the_records_cannot_explain_the_int() {
        let records = [rec(101, 0, 0, 1, 10), rec(102, 5, 11, 6, 20)];
        let text = report(2, &records, &numbers(2), 6, plain());
        assert!(
            text.contains("a process outside this run's children changed it"),
            "{text}"
        );
    }

    #[test]
    fn the_timeline_fits_the_width_asked_for() {
        let records: Vec<Record> = (0..100)
            .map(|i| {
                rec(
                    101 + i,
                    i / 3,
                    i as u64 * 1000,
                    i / 3 + 1,
                    i as u64 * 1000 + 5000,
                )
            })
            .collect();
        for width in [40, 80, 132] {
            let text = report(
                100,
                &records,
                &numbers(100),
                34,
                Style {
                    width,
                    colour: false,
                },
            );
            for line in text.lines() {
                assert!(line.chars().count() <= width, "{width}: {line}");
            }
        }
    }

    #[test]
    fn consecutive_children_are_listed_as_a_range() {
        assert_eq!(list(&[3]), "3");
        assert_eq!(list(&[3, 4]), "3 and 4");
        assert_eq!(list(&[3, 6, 7, 8, 9]), "3 and 6–9");
        assert_eq!(list(&[1, 2, 3, 5, 7, 8]), "1–3, 5, 7 and 8");
    }

    #[test]
    fn colour_only_when_asked_for() {
        let records = [rec(101, 0, 10, 1, 100), rec(102, 0, 11, 1, 101)];
        let plain = report(
            2,
            &records,
            &numbers(2),
            1,
            Style {
                width: 80,
                colour: false,
            },
        );
        assert!(!plain.contains('\x1b'), "{plain}");
        let coloured = report(
            2,
            &records,
            &numbers(2),
            1,
            Style {
                width: 80,
                colour: true,
            },
        );
        assert!(coloured.contains("\x1b[31m"), "{coloured}");
    }

    #[test]
    fn a_traced_runs_size_is_recognised() {
        for count in [1, 2, 3, 100, MAX_CHILDREN] {
            for base in [4, 8, 40] {
                assert!(
                    is_traced_size(memory_len(base, count) as u64),
                    "{base} {count}"
                );
            }
        }
        for len in [4, 8, 40, 64, 80, 4096] {
            assert!(!is_traced_size(len), "{len}");
        }
    }
}
