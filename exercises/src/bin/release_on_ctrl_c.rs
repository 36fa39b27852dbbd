//! Exercise: release on Ctrl-C.
//!
//! The article, section "XSI共享内存" (xsi_shm_mem.c); the chapters
//! docs/xsi_shm_mem.md and docs/reliability.md.
//!
//! This program does what xsi_shm_mem.c does: a System V segment, attached,
//! held (the article's sleep(3000)), then detached and removed. Stop it with
//! Ctrl-C and the segment stays behind — `ipcs -m` shows it — because the
//! signal kills the process before the last two steps. Make Ctrl-C (SIGINT,
//! and SIGTERM too) end the hold and release the segment, then exit.
//! Keep the line `holding shmid N` on stderr: the check reads it.
//!
//! Check it: `cargo run -p exercises -- check release_on_ctrl_c` (it runs
//! this program, sends SIGINT once the line is printed, and expects it to
//! end within 5 s with the segment gone).
//!
//! Hint: `exercises::run(|| { ... })` catches the stopping signals (they
//! set a flag instead of killing), and `common::terminal::hold::hold(
//! Hold::Forever)` waits until one arrives. The segment's `remove()` is the
//! article's IPC_RMID; a `Segment` that is dropped without it is removed
//! too.

use std::time::Duration;

use common::xsi::{Pages, Segment};

fn main() -> anyhow::Result<()> {
    // shm_id = shmget(IPC_PRIVATE, MEMSIZE, 0600);
    let segment = Segment::create_private(1 << 20, 0o600, Pages::Normal)?;
    // shm_p = shmat(shm_id, NULL, 0);
    let shm_p = segment.attach()?;
    eprintln!("holding shmid {}", segment.id());
    // sleep(3000);
    std::thread::sleep(Duration::from_secs(3000));
    // shmdt(shm_p);
    shm_p.detach()?;
    // shmctl(shm_id, IPC_RMID, NULL);
    segment.remove()?;
    Ok(())
}
