//! Exercise: the POSIX name.
//!
//! The article, section "POSIX共享内存"; the chapters
//! docs/racing_posix_shm.md and docs/three-names.md.
//!
//! Open the POSIX shared memory object `--name` (the file /dev/shm/NAME)
//! that another process made, map it, and add one to the int at its start.
//! Remove it only if you created it: an object that was there before is
//! not yours, and must still be there after. If there is no such object,
//! say so and exit 1, leaving nothing behind.
//!
//! Check it: `cargo run -p exercises -- check posix_name` (it makes an
//! object holding 41, runs this program, expects 42 and the object still
//! there; then runs it on a name nobody made, and expects exit 1 and no
//! object).
//!
//! Hint: racing_posix_shm's children do it: `PosixShm::open(&name)`
//! (shm_open with O_RDWR, no O_CREAT), `shm.map(size_of::<i32>())`,
//! `SharedCounter::at_start_of(&memory)`. An object you only opened is
//! never unlinked when it goes; the `?` on a failed open is the error.

use std::process::ExitCode;

fn main() -> ExitCode {
    exercises::run(|| {
        let name = exercises::name();
        let _ = name;
        todo!("open the object by its name, map it, add one")
    })
}
