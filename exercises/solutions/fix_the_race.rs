//! Reference solution of `fix_the_race`: a semaphore in the mapping, taken
//! around the critical section (racing_mmap --lock semaphore).

use std::process::ExitCode;
use std::time::Duration;

use common::mmap::{Mapping, Sharing, UnnamedSemaphore};
use common::process::fork_children;
use common::race::{Lock, LockMode, SharedCounter};

fn main() -> ExitCode {
    exercises::run(|| {
        // Room after the int for the semaphore.
        let memory = Mapping::anonymous(UnnamedSemaphore::MEMORY_LEN, Sharing::Shared)?;
        let shm_p = SharedCounter::at_start_of(&memory);
        shm_p.set(0);
        let lock = Lock::create(LockMode::Semaphore, &memory)?;
        let pause = exercises::pause();
        let children = fork_children(exercises::count(), |_| do_child(shm_p, &lock, pause))?;
        children.wait_all()?;
        println!("shm_p: {}", shm_p.get());
        Ok(())
    })
}

fn do_child(count: SharedCounter<'_>, lock: &Lock<'_>, pause: Duration) -> anyhow::Result<()> {
    let held = lock.enter(count)?;
    let mut interval = count.get();
    interval = interval.wrapping_add(1);
    std::thread::sleep(pause);
    count.set(interval);
    held.leave()?;
    Ok(())
}
