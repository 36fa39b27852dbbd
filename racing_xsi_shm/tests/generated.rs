//! Generated flags never crash racing_xsi_shm (`testkit::generated`).

testkit::cases! { racing_xsi_shm; fn generated_flags_never_crash(); }
