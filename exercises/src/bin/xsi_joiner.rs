//! Exercise: the System V joiner.
//!
//! The article, section "XSI共享内存"; the chapters docs/racing_xsi_shm.md
//! and docs/three-names.md.
//!
//! Another process has made a segment of one int under the key
//! `ftok(--path, --proj-id)`. Find it by that key, attach it, add one to
//! the int, and detach — without creating anything, and without removing
//! the segment: it is not yours.
//!
//! Check it: `cargo run -p exercises -- check xsi_joiner` (it makes a
//! segment holding 41 under a key of its own, runs this program, and
//! expects 42 in the same segment, still there).
//!
//! Hint: the children of racing_xsi_shm do exactly this (its `do_child`):
//! `Key::ftok(path, proj_id)`, `Segment::open(key, size_of::<i32>())`
//! (shmget without IPC_CREAT), `segment.attach()`,
//! `SharedCounter::at_start_of(&attachment)`, then `attachment.detach()`.
//! A `Segment` you only opened is never removed when it goes.

use std::process::ExitCode;

fn main() -> ExitCode {
    exercises::run(|| {
        let path = exercises::path();
        let proj_id = exercises::proj_id();
        let _ = (path, proj_id);
        todo!("find the segment by its key, attach it, add one, detach")
    })
}
