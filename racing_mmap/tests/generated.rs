//! Generated flags never crash racing_mmap (`testkit::generated`).

testkit::cases! { racing_mmap; fn generated_flags_never_crash(); }
