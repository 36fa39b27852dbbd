//! racing_posix_shm and a stopping signal: acted on within 100 ms in every phase; the
//! parent waits in a blocking `wait(NULL)` (`testkit::react`).

testkit::cases! { racing_posix_shm;
    fn a_stopping_signal_is_acted_on_within_100_ms_in_every_phase();
    fn the_parent_waits_for_its_children_in_a_blocking_wait4();
}
