//! Reference solution of `posix_name`: racing_posix_shm's child, once.

use std::process::ExitCode;

use common::posix::PosixShm;
use common::race::SharedCounter;

fn main() -> ExitCode {
    exercises::run(|| {
        // shmfd = shm_open(shmpath, O_RDWR, 0600);  (fails if nobody made it)
        let shm = PosixShm::open(&exercises::name())?;
        // shm_p = mmap(NULL, sizeof(int), PROT_WRITE|PROT_READ, MAP_SHARED, shmfd, 0);
        let memory = shm.map(size_of::<i32>())?;
        let shm_p = SharedCounter::at_start_of(&memory);
        shm_p.set(shm_p.get() + 1);
        // munmap, close: when `memory` and `shm` go. Not shm_unlink: not ours.
        Ok(())
    })
}
