//! The racing programs' experiment, the same in all three families: a
//! shared int ([`counter`]), and what `--lock` puts around each child's
//! increment ([`lock`], with `--lock flock`'s file in [`lock_file`]).
//!
//! | file | what |
//! |---|---|
//! | [`counter`] | the article's `int *shm_p`, as an `AtomicI32` view |
//! | [`lock`] | `--lock none/atomic/flock/semaphore`: who creates what, and how a child takes it (`enter`) and gives it back (`leave`) around its critical section |
//! | [`lock_file`] | `$TMPDIR/PROGRAM.RANDOM.lock`, created and removed by the run |
//! | [`meet`] | `--linger` and `--attach`: unrelated processes meeting at one counter by its name |
//! | [`trace`] | `--trace`: each child's read and write recorded beside the int, and what they say |

pub mod counter;
pub mod explain;
pub mod lock;
pub mod lock_file;
pub mod meet;
pub mod mode;
pub mod trace;

pub use counter::SharedCounter;
pub use lock::{Held, Lock, SemaphorePlace};
pub use mode::{Family, LockMode, lock_help};
