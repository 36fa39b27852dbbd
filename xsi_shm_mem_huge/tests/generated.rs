//! Generated flags never crash xsi_shm_mem_huge (`testkit::generated`).

testkit::cases! { xsi_shm_mem_huge; fn generated_flags_never_crash(); }
