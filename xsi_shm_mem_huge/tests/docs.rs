//! The console transcripts in docs/xsi_shm_mem_huge.md, run against the
//! real binary: if the program's output changes, the chapter must change
//! with it.
//!
//! The transcripts reserve huge pages (`--reserve` raises vm.nr_hugepages
//! for one run and puts it back, so they need root) and create System V
//! segments: machine-wide state. So this test first takes the lock that
//! every such test queues on, and ends by checking that nr_hugepages is as
//! it was and no segment was left behind.

use std::path::Path;

#[test]
fn chapter_transcripts_match_the_program() {
    let machine = testkit::Machine::lock();
    let docs = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs");
    trycmd::TestCases::new()
        .register_bin(
            "xsi_shm_mem_huge",
            Path::new(env!("CARGO_BIN_EXE_xsi_shm_mem_huge")),
        )
        .case(docs.join("xsi_shm_mem_huge.md"))
        .run();
    machine.assert_unchanged();
}
