//! Generated flags never crash racing_xsi_shm (`testkit::cases`).

testkit::cases! { racing_xsi_shm = env!("CARGO_BIN_EXE_racing_xsi_shm");
    fn generated_flags_never_crash();
}
