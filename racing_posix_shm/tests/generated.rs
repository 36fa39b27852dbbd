//! Generated flags never crash racing_posix_shm (`testkit::cases`).

testkit::cases! { racing_posix_shm = env!("CARGO_BIN_EXE_racing_posix_shm");
    fn generated_flags_never_crash();
}
