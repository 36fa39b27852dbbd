//! Generated flags never crash xsi_shm_mem_huge (`testkit::cases`).

testkit::cases! { xsi_shm_mem_huge = env!("CARGO_BIN_EXE_xsi_shm_mem_huge");
    fn generated_flags_never_crash();
}
