//! Ctrl-C, SIGTERM, a closed terminal and `Ctrl-\` end a run cleanly instead
//! of killing it mid-way.
//!
//! The article's programs die where they stand on any of these. For an
//! anonymous mapping that costs nothing (the kernel frees it with the
//! process), but a System V segment or a `/dev/shm` file outlives the
//! process that made it: killed between `shmget` and `IPC_RMID`, the C
//! program leaks it until someone runs `ipcrm` or the machine reboots.
//!
//! So [`crate::run`] installs a handler for the four signals a person sends
//! to stop a program. The handler records which one came and passes it on
//! to the children of a running fork loop (see "Passing a stopping signal
//! on" below); the rest is done by the program at its next check:
//!
//! | signal | sent when | exit status |
//! |---|---|---|
//! | SIGINT | Ctrl-C | 130 |
//! | SIGTERM | `kill PID`, a shutdown | 143 |
//! | SIGHUP | the terminal (window, ssh session) closes | 129 |
//! | SIGQUIT | `Ctrl-\` | 131 |
//!
//! The program notices at its next check ([`check`]): the fork loop stops
//! forking, the parent waits for the children the signal ended, and an
//! [`Interrupted`] error unwinds out of `main`, dropping — and
//! so removing — everything the run created. The process then exits with
//! 128 + the signal number, as a shell expects of a process killed by it.
//! (A memory demo's hold is *meant* to be ended by a signal: it releases
//! and exits 0; see [`crate::terminal::hold`].)
//!
//! Only SIGKILL (and SIGSTOP) cannot be caught: `kill -9`, the OOM killer
//! and the power cord run no code at all.
//!
//! One exception: a program started under `nohup` (or any parent that
//! ignores SIGHUP) keeps ignoring SIGHUP, because that is what the user
//! asked for: it goes on holding after the terminal closes, and is stopped
//! with SIGTERM or Ctrl-C as usual.
//!
//! The handler is installed without `SA_RESTART`, so a blocking call such as
//! `wait4` returns `EINTR` and the program gets to look at the flag.
//! A forked child keeps the handler, which sees that it runs in a child
//! (another pid) and ends it with the signal's default action: a child has
//! nothing to clean up, and Ctrl-C should stop it on the spot. (Resetting
//! the actions in each child after `fork` instead would leave a moment in
//! which a child only records the signal, and it would cost every child
//! four system calls.)

use std::fmt;
use std::sync::atomic::{
    AtomicBool, AtomicI32, AtomicPtr, AtomicUsize,
    Ordering::{Relaxed, SeqCst},
};
use std::time::Duration;

use nix::errno::Errno;

use nix::sys::signal::{SaFlags, SigAction, SigHandler, SigSet, Signal, sigaction};

use crate::error::SysError;

/// The signals that ask a run to stop.
pub const STOPPING: [Signal; 4] = [
    Signal::SIGINT,
    Signal::SIGTERM,
    Signal::SIGHUP,
    Signal::SIGQUIT,
];

/// The number of the last stopping signal received, or 0.
static CAUGHT: AtomicI32 = AtomicI32::new(0);

extern "C" fn record(signal: libc::c_int) {
    // A forked child inherits this handler. A child has nothing to clean
    // up, and a stopping signal should end it on the spot, as it ends the
    // article's C children: put the default action back and raise it again.
    // (getpid, signal and raise are async-signal-safe.)
    // SAFETY: getpid(2) takes nothing and touches no memory.
    if unsafe { libc::getpid() } != MAIN.load(Relaxed) {
        // SAFETY: signal(2) with SIG_DFL and raise(3) run no code of ours.
        unsafe {
            libc::signal(signal, libc::SIG_DFL);
            libc::raise(signal);
        }
        return;
    }
    // Atomic stores, and the kill(2) calls of `pass_on`: async-signal-safe.
    CAUGHT.store(signal, Relaxed);
    pass_on(signal);
}

/// The pid of the process that installed the handler ([`install`]): the
/// program itself, not one of its forked children.
static MAIN: AtomicI32 = AtomicI32::new(0);

// ---- Passing a stopping signal on to the children --------------------------
//
// The parent of a fork loop waits as the article's C does: blocked in
// wait4(-1, &status, 0, NULL), no WNOHANG, no timer. A stopping signal must
// still end that wait at once, whenever it comes. If `record` only set the
// flag, a signal landing after the parent looked at the flag but before it
// entered wait4 would leave it blocked until some child ended on its own
// (5 s later with --sleep-us 5000000). So the handler itself sends the
// signal on to every child of the loop: they die of it (their default
// action), and wait4 returns as they do. kill(2) is async-signal-safe.
//
// The pids are kept in an array the fork loop owns ([`pass_on_to`]); a slot
// is set right after its fork and cleared right after its wait. Between the
// wait returning and the slot being cleared, the pid is already free, so
// the handler first asks the kernel whether the pid is still a child of
// this process (waitid with WNOWAIT, which reaps nothing) and signals it
// only then. The handler runs on the program's only thread, so nothing
// can reap that child between the question and the kill: a pid that has
// been freed, and may belong to someone else by now, is never signalled.

/// The pids of the children of the running fork loop (0: no child in that
/// slot), and how many slots there are. Null and 0 outside a fork loop.
static CHILDREN: AtomicPtr<AtomicI32> = AtomicPtr::new(std::ptr::null_mut());
static CHILDREN_LEN: AtomicUsize = AtomicUsize::new(0);

/// Until [`pass_on_to_nobody`], a stopping signal is sent on, by the
/// handler itself, to every live pid in `pids` that is still a child of
/// this process. `pids` must stay alive until then (the fork loop's
/// `Children` owns it and calls [`pass_on_to_nobody`] in its Drop).
pub fn pass_on_to(pids: &[AtomicI32]) {
    CHILDREN_LEN.store(0, SeqCst);
    CHILDREN.store(pids.as_ptr().cast_mut(), SeqCst);
    CHILDREN_LEN.store(pids.len(), SeqCst);
}

/// Stop passing signals on: the fork loop's children have all been waited for.
///
/// A handler that another thread runs (a test harness has several; the
/// kernel hands a process's signal to any of its threads) may still be
/// reading the registered pids: this returns only once none is, so the
/// caller may free them. A handler makes only non-blocking calls, so the
/// wait is a few microseconds at most.
pub fn pass_on_to_nobody() {
    CHILDREN_LEN.store(0, SeqCst);
    CHILDREN.store(std::ptr::null_mut(), SeqCst);
    while PASSING.load(SeqCst) > 0 {
        std::hint::spin_loop();
    }
}

/// How many handlers are in [`pass_on`] right now, on any thread.
static PASSING: AtomicUsize = AtomicUsize::new(0);

/// In a handler: send `signal` to every registered pid that is still a
/// child of this process (running, or dead but not yet waited for).
fn pass_on(signal: libc::c_int) {
    PASSING.fetch_add(1, SeqCst);
    let pids = CHILDREN.load(SeqCst);
    let len = CHILDREN_LEN.load(SeqCst);
    if pids.is_null() {
        PASSING.fetch_sub(1, SeqCst);
        return;
    }
    // waitid and kill may set errno; the code the signal interrupted may be
    // about to read it.
    let saved = Errno::last_raw();
    for i in 0..len {
        // SAFETY: `pass_on_to` registered `len` atomics at `pids`, which
        // stay alive until `pass_on_to_nobody` clears the registration.
        let pid = unsafe { &*pids.add(i) }.load(SeqCst);
        if pid > 0 && still_a_child(pid) {
            // SAFETY: kill(2) is async-signal-safe; `pid` is an unreaped
            // child of this process (checked just above), so it is no one else's.
            unsafe { libc::kill(pid, signal) };
        }
    }
    Errno::set_raw(saved);
    PASSING.fetch_sub(1, SeqCst);
}

/// Whether `pid` is a child of this process not yet waited for: waitid
/// with WNOWAIT looks without reaping; a pid that is no child (any more)
/// gives ECHILD.
fn still_a_child(pid: libc::pid_t) -> bool {
    // SAFETY: an all-zero siginfo_t is a valid value for waitid to fill.
    let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
    // SAFETY: waitid(2) is a plain system call writing only `info`.
    unsafe {
        libc::waitid(
            libc::P_PID,
            pid as libc::id_t,
            &mut info,
            libc::WEXITED | libc::WNOHANG | libc::WNOWAIT,
        ) == 0
    }
}

// ---- A stall: children that stopped finishing ------------------------------
//
// Once a child has failed, the others may be stuck for good (in sem_wait on
// a semaphore the dead child held). The parent still blocks in wait4, but
// arms a timer first ([`StallAlarm`]); when it fires, its handler kills the
// children with SIGKILL — in the handler, for the same reason as above: a
// timer that fired just before wait4 would otherwise never end it.

/// Whether the stall alarm went off and killed the children.
static STALLED: AtomicBool = AtomicBool::new(false);

extern "C" fn on_stall(_: libc::c_int) {
    STALLED.store(true, SeqCst);
    pass_on(libc::SIGKILL);
}

/// SIGALRM routed to the stall handler; [`StallAlarm::arm`] sets the
/// timer, and dropping this disarms it. The handler stays: a SIGALRM that
/// fired just before the timer was disarmed may reach another thread a
/// moment later, and the default action would end the process. With no
/// children registered, the handler does nothing.
#[derive(Debug)]
pub struct StallAlarm {
    _private: (),
}

impl StallAlarm {
    pub fn new() -> StallAlarm {
        STALLED.store(false, SeqCst);
        let action = SigAction::new(
            SigHandler::Handler(on_stall),
            SaFlags::empty(),
            SigSet::empty(),
        );
        // SAFETY: `on_stall` stores an atomic and calls `pass_on`, which
        // makes only async-signal-safe system calls (waitid, kill).
        let _ = unsafe { sigaction(Signal::SIGALRM, &action) };
        StallAlarm { _private: () }
    }

    /// Go off in `after` (replacing any earlier setting): setitimer(ITIMER_REAL).
    pub fn arm(&self, after: Duration) {
        set_timer(after);
    }

    /// Whether it went off.
    pub fn went_off(&self) -> bool {
        STALLED.load(SeqCst)
    }
}

impl Default for StallAlarm {
    fn default() -> Self {
        StallAlarm::new()
    }
}

impl Drop for StallAlarm {
    fn drop(&mut self) {
        set_timer(Duration::ZERO);
    }
}

/// setitimer(ITIMER_REAL, after): SIGALRM once, `after` from now (zero: disarm).
fn set_timer(after: Duration) {
    let value = libc::itimerval {
        it_interval: libc::timeval {
            tv_sec: 0,
            tv_usec: 0,
        },
        it_value: libc::timeval {
            tv_sec: after.as_secs().min(i32::MAX as u64) as libc::time_t,
            tv_usec: after.subsec_micros() as libc::suseconds_t,
        },
    };
    // SAFETY: setitimer(2) reads `value` and writes nothing (old value: null).
    unsafe { libc::setitimer(libc::ITIMER_REAL, &value, std::ptr::null_mut()) };
}

// ---- SIGBUS: memory that went away under a mapping -------------------------
//
// A file mapped MAP_SHARED (a /dev/shm object, racing_mmap's counter file,
// mmap_mem's file) can be truncated by any process that may write it:
// `truncate -s 0 /dev/shm/shm`. A load or store in the part of the mapping
// that no longer has a file behind it cannot fail like a system call: the
// kernel sends SIGBUS, whose default action kills the process on the spot —
// no message, and its objects left behind.
//
// So the file mappings are registered here ([`watch_mapping`]; a forked
// child's are found in /proc/self/maps instead), and a SIGBUS inside one
// of them is handled: the handler maps private zero
// pages over the rest of that mapping (so the access that faulted, and any
// after it, reads and writes memory that is this process's alone, and
// reaches nobody), records the fault, and returns. The program notices at
// its next check ([`check`], or [`bus_fault`]), says what happened in one
// line, and unwinds like a stopping signal, releasing everything. A SIGBUS
// anywhere else is a real bug: the default action takes over.

/// The file mappings a SIGBUS may come from: (start, length) pairs, 0 when free.
static WATCHED: [(AtomicUsize, AtomicUsize); 16] =
    [const { (AtomicUsize::new(0), AtomicUsize::new(0)) }; 16];

/// The page size, read once at [`install`] (sysconf is not safe in a handler).
static PAGE: AtomicUsize = AtomicUsize::new(4096);

/// The address of the first SIGBUS handled, or 0.
static BUS_AT: AtomicUsize = AtomicUsize::new(0);

/// Watch the mapping `[start, start + len)` for SIGBUS until
/// [`unwatch_mapping`]. A mapping that finds no free slot is not watched
/// (a SIGBUS in it then kills the process, as without this module).
///
/// A forked child registers nothing: the table is the parent's memory,
/// shared copy-on-write, and writing it would cost every child a page
/// fault and a 4 KiB copy (measured: about 5 µs a child, a twentieth of
/// racing_posix_shm's run). Its handler finds a child's own file mappings
/// in /proc/self/maps instead (`shared_file_mapping_end`, below).
pub fn watch_mapping(start: usize, len: usize) {
    if in_forked_child() {
        return;
    }
    for (at, size) in &WATCHED {
        if at.compare_exchange(0, start, Relaxed, Relaxed).is_ok() {
            size.store(len, Relaxed);
            return;
        }
    }
}

/// Stop watching the mapping that starts at `start` (it is being unmapped).
pub fn unwatch_mapping(start: usize) {
    for (at, size) in &WATCHED {
        if at.load(Relaxed) == start {
            size.store(0, Relaxed);
            at.store(0, Relaxed);
        }
    }
}

extern "C" fn on_sigbus(_: libc::c_int, info: *mut libc::siginfo_t, _: *mut libc::c_void) {
    // SAFETY: the kernel passes a valid siginfo_t for a SA_SIGINFO handler,
    // and for SIGBUS si_addr is the address that faulted.
    let addr = unsafe { (*info).si_addr() } as usize;
    let page = PAGE.load(Relaxed);
    let registered = WATCHED.iter().find_map(|(at, size)| {
        let (start, len) = (at.load(Relaxed), size.load(Relaxed));
        (start != 0 && addr >= start && addr < start + len).then_some(start + len)
    });
    // A forked child registers nothing (see `watch_mapping`).
    let end = registered.or_else(|| {
        // SAFETY: getpid(2) takes nothing and touches no memory.
        (unsafe { libc::getpid() } != MAIN.load(Relaxed))
            .then(|| shared_file_mapping_end(addr))
            .flatten()
    });
    if let Some(end) = end {
        let from = addr & !(page - 1);
        let end = end.div_ceil(page) * page;
        // SAFETY: mmap is a plain system call (async-signal-safe in
        // practice on Linux). MAP_FIXED replaces only pages of the file
        // mapping that faulted, from the faulting page to its end: a
        // registered mapping, or in a forked child a shared mapping of a
        // file (only the program's own `Mapping`s are that), which unmaps
        // the whole range when dropped, replacement included.
        let replaced = unsafe {
            libc::mmap(
                from as *mut libc::c_void,
                end - from,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_FIXED,
                -1,
                0,
            )
        };
        if replaced != libc::MAP_FAILED {
            let _ = BUS_AT.compare_exchange(0, addr, Relaxed, Relaxed);
            return;
        }
    }
    // Not a mapping of ours: the default action, when the access faults again.
    // SAFETY: signal(2) with SIG_DFL is async-signal-safe and runs no code.
    unsafe { libc::signal(libc::SIGBUS, libc::SIG_DFL) };
}

/// Whether this process is a child forked by the program (not the process
/// that installed the handlers).
fn in_forked_child() -> bool {
    let main = MAIN.load(Relaxed);
    main != 0 && std::process::id() as i32 != main
}

/// In a handler: the end of the `MAP_SHARED` mapping of a file that holds
/// `addr`, read from /proc/self/maps with open, read and close (all
/// async-signal-safe) into buffers on the stack; `None` if there is none,
/// or /proc cannot be read. A line reads `start-end perms offset dev inode
/// path`: the mapping is shared if perms ends in `s`, of a file if inode is
/// not 0.
fn shared_file_mapping_end(addr: usize) -> Option<usize> {
    // SAFETY: open(2) with a NUL-terminated literal path.
    let fd = unsafe {
        libc::open(
            c"/proc/self/maps".as_ptr(),
            libc::O_RDONLY | libc::O_CLOEXEC,
        )
    };
    if fd < 0 {
        return None;
    }
    // The first bytes of the current line: enough for every field up to
    // the inode (two 16-digit addresses, perms, offset, dev, inode).
    let mut line = [0u8; 128];
    let mut used = 0;
    let mut chunk = [0u8; 4096];
    let mut found = None;
    'reading: loop {
        // SAFETY: read(2) into a buffer of exactly that many bytes.
        let n = unsafe { libc::read(fd, chunk.as_mut_ptr().cast(), chunk.len()) };
        if n <= 0 {
            break;
        }
        for &byte in &chunk[..n as usize] {
            if byte != b'\n' {
                if used < line.len() {
                    line[used] = byte;
                    used += 1;
                }
                continue;
            }
            if let Some(end) = maps_line_end(&line[..used], addr) {
                found = Some(end);
                break 'reading;
            }
            used = 0;
        }
    }
    // SAFETY: closing the descriptor opened above.
    unsafe { libc::close(fd) };
    found
}

/// One /proc/self/maps line: its end address, if it is a shared mapping of
/// a file and holds `addr`.
fn maps_line_end(line: &[u8], addr: usize) -> Option<usize> {
    let mut fields = line.split(|&b| b == b' ').filter(|f| !f.is_empty());
    let range = fields.next()?;
    let perms = fields.next()?;
    let _offset = fields.next()?;
    let _dev = fields.next()?;
    let inode = fields.next()?;
    let dash = range.iter().position(|&b| b == b'-')?;
    let start = hex(&range[..dash])?;
    let end = hex(&range[dash + 1..])?;
    let shared = perms.last() == Some(&b's');
    let file = inode.iter().any(|&b| b != b'0');
    (shared && file && start <= addr && addr < end).then_some(end)
}

/// A hex number, without allocating.
fn hex(digits: &[u8]) -> Option<usize> {
    let mut value: usize = 0;
    for &d in digits {
        let v = (d as char).to_digit(16)? as usize;
        value = value.checked_mul(16)?.checked_add(v)?;
    }
    (!digits.is_empty()).then_some(value)
}

/// Whether a SIGBUS was handled: a mapped file was truncated under this
/// process, which has been reading and writing zero pages of its own since.
pub fn bus_fault() -> bool {
    BUS_AT.load(Relaxed) != 0
}

/// `Err(Interrupted)` if a mapped file was truncated (SIGBUS), and only
/// then: for the places where a stopping signal is the normal end of what
/// came before (a hold), but memory read since may be a zero page.
pub fn check_memory(what: impl FnOnce() -> String) -> Result<(), Interrupted> {
    if bus_fault() {
        return Err(Interrupted {
            signal: Signal::SIGBUS,
            during: what(),
        });
    }
    Ok(())
}

/// Route the stopping signals to the recording handler. SIGHUP stays
/// ignored if it was ignored when the program started (`nohup`).
pub fn install() -> Result<(), SysError> {
    MAIN.store(std::process::id() as i32, Relaxed);
    let action = SigAction::new(
        SigHandler::Handler(record),
        SaFlags::empty(),
        SigSet::empty(),
    );
    for signal in STOPPING {
        // SAFETY: `record` makes only async-signal-safe calls (getpid,
        // signal, raise, waitid, kill), saves and restores errno, and
        // touches nothing but atomics: never memory that the interrupted
        // code could be in the middle of changing.
        let old = unsafe { sigaction(signal, &action) }
            .map_err(|errno| SysError::new(format!("sigaction({signal}, record)"), errno))?;
        if signal == Signal::SIGHUP && matches!(old.handler(), SigHandler::SigIgn) {
            // SAFETY: putting back the action that was there a moment ago.
            unsafe { sigaction(signal, &old) }
                .map_err(|errno| SysError::new(format!("sigaction({signal}, SIG_IGN)"), errno))?;
            continue;
        }
    }
    // Growing a file past the file-size limit (`ulimit -f`) sends SIGXFSZ,
    // whose default action kills the process on the spot — a /dev/shm
    // object left behind. Ignored, the call fails with EFBIG instead, which
    // the program reports and cleans up after.
    let ignore = SigAction::new(SigHandler::SigIgn, SaFlags::empty(), SigSet::empty());
    // SAFETY: SIG_IGN involves no handler code.
    unsafe { sigaction(Signal::SIGXFSZ, &ignore) }
        .map_err(|errno| SysError::new("sigaction(SIGXFSZ, SIG_IGN)", errno))?;
    PAGE.store(crate::system::page_size() as usize, Relaxed);
    let bus = SigAction::new(
        SigHandler::SigAction(on_sigbus),
        SaFlags::SA_SIGINFO,
        SigSet::empty(),
    );
    // SAFETY: `on_sigbus` only reads atomics, makes one mmap call and
    // stores an atomic; see its comments.
    unsafe { sigaction(Signal::SIGBUS, &bus) }
        .map_err(|errno| SysError::new("sigaction(SIGBUS, on_sigbus)", errno))?;
    Ok(())
}

/// The stopping signal received so far, if any.
pub fn caught() -> Option<Signal> {
    match CAUGHT.load(Relaxed) {
        0 => None,
        n => Signal::try_from(n).ok(),
    }
}

/// `Err(Interrupted)` once a stopping signal has arrived, or a mapped file
/// was truncated (SIGBUS); `what` says where the run was ("while the
/// children ran").
pub fn check(what: impl FnOnce() -> String) -> Result<(), Interrupted> {
    if bus_fault() {
        return Err(Interrupted {
            signal: Signal::SIGBUS,
            during: what(),
        });
    }
    match caught() {
        None => Ok(()),
        Some(signal) => Err(Interrupted {
            signal,
            during: what(),
        }),
    }
}

/// The run was stopped by a signal. Everything it created has been
/// (or is being, as this error unwinds) released.
#[derive(Debug)]
pub struct Interrupted {
    signal: Signal,
    during: String,
}

impl Interrupted {
    pub fn new(signal: Signal, during: impl Into<String>) -> Self {
        Interrupted {
            signal,
            during: during.into(),
        }
    }

    /// 128 + the signal number: 130 for SIGINT, 143 for SIGTERM, 129 for
    /// SIGHUP, 131 for SIGQUIT. A handled SIGBUS is a runtime error: 1.
    pub fn exit_status(&self) -> u8 {
        if self.signal == Signal::SIGBUS {
            return 1;
        }
        128u8.saturating_add(self.signal as u8)
    }
}

impl fmt::Display for Interrupted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // By the time this is printed, `main` has returned and every owned
        // object has been dropped: the summary is what Drop just did, and
        // names whatever a Drop could not remove.
        if self.signal == Signal::SIGBUS {
            return write!(
                f,
                "the shared memory went away under its mapping {} (SIGBUS: its file or /dev/shm \
                 object was truncated by another process); {}",
                self.during,
                crate::error::release_summary()
            );
        }
        write!(
            f,
            "interrupted by {} {}; {}",
            self.signal,
            self.during,
            crate::error::release_summary()
        )
    }
}

impl std::error::Error for Interrupted {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_maps_line_is_a_shared_file_mapping_only_with_s_and_an_inode() {
        let line = b"7f1a2b3c4000-7f1a2b3c5000 rw-s 00000000 00:1a 1234   /dev/shm/shm";
        assert_eq!(maps_line_end(line, 0x7f1a2b3c4000), Some(0x7f1a2b3c5000));
        assert_eq!(maps_line_end(line, 0x7f1a2b3c4fff), Some(0x7f1a2b3c5000));
        assert_eq!(maps_line_end(line, 0x7f1a2b3c5000), None, "end is outside");
        let private = b"7f1a2b3c4000-7f1a2b3c5000 rw-p 00000000 00:1a 1234   /x";
        assert_eq!(maps_line_end(private, 0x7f1a2b3c4000), None);
        let anonymous = b"7f1a2b3c4000-7f1a2b3c5000 rw-s 00000000 00:01 0 ";
        assert_eq!(maps_line_end(anonymous, 0x7f1a2b3c4000), None);
        assert_eq!(maps_line_end(b"garbage", 1), None);
    }

    #[test]
    fn this_process_s_own_shared_file_mapping_is_found_in_proc_self_maps() {
        // A file of this user and process, removed at once (the open file
        // stays): nothing is left in /tmp, whatever happens next.
        let path = std::env::temp_dir().join(format!(
            "maps-test-{}-{}",
            nix::unistd::getuid(),
            std::process::id()
        ));
        let file = std::fs::File::options()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&path)
            .unwrap();
        std::fs::remove_file(&path).unwrap();
        file.set_len(8192).unwrap();
        let memory = crate::mmap::Mapping::file(
            std::os::fd::AsFd::as_fd(&file),
            0,
            8192,
            crate::mmap::Sharing::Shared,
        )
        .unwrap();
        let start = crate::memory::SharedMemory::start(&memory).as_ptr() as usize;
        assert_eq!(shared_file_mapping_end(start + 100), Some(start + 8192));
        let on_the_stack = 0u8;
        assert_eq!(
            shared_file_mapping_end(&on_the_stack as *const u8 as usize),
            None
        );
    }
}
