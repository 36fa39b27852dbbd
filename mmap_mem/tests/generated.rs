//! Generated flags never crash mmap_mem (`testkit::cases`).

testkit::cases! { mmap_mem = env!("CARGO_BIN_EXE_mmap_mem");
    fn generated_flags_never_crash();
}
