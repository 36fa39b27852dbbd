//! Generated flags never crash racing_mmap (`testkit::cases`).

testkit::cases! { racing_mmap = env!("CARGO_BIN_EXE_racing_mmap");
    fn generated_flags_never_crash();
}
