//! Generated flags never crash racing_posix_shm (`testkit::generated`).

testkit::cases! { racing_posix_shm; fn generated_flags_never_crash(); }
