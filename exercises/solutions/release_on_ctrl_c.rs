//! Reference solution of `release_on_ctrl_c`: the stopping signals caught
//! (`exercises::run`), a hold that a signal ends, then the article's last
//! two steps.

use std::process::ExitCode;

use common::terminal::hold::{Hold, hold};
use common::xsi::{Pages, Segment};

fn main() -> ExitCode {
    exercises::run(|| {
        let segment = Segment::create_private(1 << 20, 0o600, Pages::Normal)?;
        let shm_p = segment.attach()?;
        eprintln!("holding shmid {}", segment.id());
        // sleep(3000), ended by Ctrl-C, SIGTERM, SIGHUP or SIGQUIT.
        hold(Hold::Forever);
        shm_p.detach()?;
        segment.remove()?;
        Ok(())
    })
}
