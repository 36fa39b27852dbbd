//! Generated flags never crash xsi_shm_mem (`testkit::generated`).

testkit::cases! { xsi_shm_mem; fn generated_flags_never_crash(); }
