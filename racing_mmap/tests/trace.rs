//! racing_mmap --trace keeps the promises of all three racing programs (`testkit::trace`).

testkit::cases! { racing_mmap;
    fn the_trace_adds_up_shows_no_shared_read_under_a_lock_and_leaves_stdout_alone();
}
