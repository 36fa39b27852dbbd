//! Exercise: fix the race.
//!
//! The article, section "mmap内存共享映射"; the chapters docs/racing_mmap.md
//! and docs/fixing-the-race.md.
//!
//! This is racing_mmap's experiment, as in racing_mmap/src/main.rs: a
//! hundred children each add one to a shared int, and updates are lost.
//! Make every update count: `shm_p` must equal `--count` on every run,
//! however long the pause between a child's read and its write.
//!
//! Check it: `cargo run -p exercises -- check fix_the_race` (it runs this
//! program 20 times with `--count 20 --sleep-us 2000`).
//!
//! Hint: the read, the pause and the write must not interleave with another
//! child's. Either make them one step (`SharedCounter::fetch_add`), or let
//! one child at a time between them: a `Lock` made with `Lock::create`
//! (`LockMode::Semaphore` puts a semaphore in this mapping, which then needs
//! `UnnamedSemaphore::MEMORY_LEN` bytes), taken with `lock.enter(count)?`
//! and given back with `held.leave()?`. racing_mmap's `--lock` does both.

use std::process::ExitCode;
use std::time::Duration;

use common::mmap::{Mapping, Sharing};
use common::process::fork_children;
use common::race::SharedCounter;

fn main() -> ExitCode {
    exercises::run(|| {
        // shm_p = mmap(NULL, sizeof(int), PROT_WRITE|PROT_READ, MAP_SHARED|MAP_ANONYMOUS, -1, 0);
        let memory = Mapping::anonymous(size_of::<i32>(), Sharing::Shared)?;
        let shm_p = SharedCounter::at_start_of(&memory);
        // *shm_p = 0;
        shm_p.set(0);
        // for (...) { pid = fork(); if (pid == 0) do_child(shm_p); }
        let pause = exercises::pause();
        let children = fork_children(exercises::count(), |_| do_child(shm_p, pause))?;
        // for (...) wait(NULL);
        children.wait_all()?;
        // printf("shm_p: %d\n", *shm_p);
        println!("shm_p: {}", shm_p.get());
        Ok(())
    })
}

/// do_child(): the critical section. Make it safe.
fn do_child(count: SharedCounter<'_>, pause: Duration) -> anyhow::Result<()> {
    // interval = *count;
    let mut interval = count.get();
    // interval++;
    interval = interval.wrapping_add(1);
    // usleep(1);
    std::thread::sleep(pause);
    // *count = interval;
    count.set(interval);
    Ok(())
}
