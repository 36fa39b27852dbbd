//! The fault matrix (docs/reliability.md) for mmap_mem: the cells the
//! other test files do not cover. An anonymous mapping has no name: no
//! stale or foreign objects, and no leak possible; the process's exit
//! frees it whatever happens. The cases all demos share are in testkit's
//! demos table.

const BIN: &str = env!("CARGO_BIN_EXE_mmap_mem");

testkit::demo_faults!(BIN, small_pages);
