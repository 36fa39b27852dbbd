//! Generated flags never crash xsi_shm_mem (`testkit::cases`).

testkit::cases! { xsi_shm_mem = env!("CARGO_BIN_EXE_xsi_shm_mem");
    fn generated_flags_never_crash();
}
