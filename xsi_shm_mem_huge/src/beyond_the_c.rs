//! What xsi_shm_mem_huge does that the article's program does not:
//! `--reserve`, the article's `echo 2048 > /proc/sys/vm/nr_hugepages` done
//! by the program for its own run, and undone after. main.rs enters here
//! by one branch, and everything else it does is the C's.

use common::system::meminfo::Meminfo;
use common::xsi::hugepages::Plan;
use common::xsi::reserve::Reservation;

use super::{Args, experiment};

/// Raise vm.nr_hugepages just enough for this run (root only), run the
/// article's experiment, and give back the pages added: on every way out
/// (an error, a signal) the reservation's Drop gives them back too.
pub fn with_reserved_pages(args: &Args, plan: &Plan) -> anyhow::Result<()> {
    let reservation = Reservation::ensure(plan, &Meminfo::read()?)?;
    experiment(args, plan, reservation.as_ref())?;
    if let Some(reservation) = reservation {
        reservation.restore()?;
    }
    Ok(())
}
