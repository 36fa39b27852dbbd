//! Reference solution of `xsi_joiner`: racing_xsi_shm's child, once.

use std::process::ExitCode;

use common::race::SharedCounter;
use common::xsi::{Key, Segment};

fn main() -> ExitCode {
    exercises::run(|| {
        // shm_key = ftok(PATHNAME, proj_id);
        let shm_key = Key::ftok(&exercises::path(), exercises::proj_id())?;
        // shm_id = shmget(shm_key, sizeof(int), 0);
        let segment = Segment::open(shm_key, size_of::<i32>())?;
        // shm_p = shmat(shm_id, NULL, 0);
        let attachment = segment.attach()?;
        let shm_p = SharedCounter::at_start_of(&attachment);
        // *shm_p = *shm_p + 1;
        shm_p.set(shm_p.get() + 1);
        // shmdt(shm_p);
        attachment.detach()?;
        Ok(())
    })
}
