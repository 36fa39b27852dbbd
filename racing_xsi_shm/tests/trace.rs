//! racing_xsi_shm --trace keeps the promises of all three racing programs, and a
//! traced run is not joined (`testkit::trace`).

testkit::cases! { racing_xsi_shm;
    fn the_trace_adds_up_shows_no_shared_read_under_a_lock_and_leaves_stdout_alone();
    fn a_traced_run_is_not_joined();
}
