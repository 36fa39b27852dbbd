//! Generated flags never crash mmap_mem (`testkit::generated`).

testkit::cases! { mmap_mem; fn generated_flags_never_crash(); }
