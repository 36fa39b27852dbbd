//! The console transcripts in docs/xsi_shm_mem.md, run against the real
//! binary: if the program's output changes, the chapter must change with it.
//!
//! The transcripts create System V segments and read /proc/meminfo, both
//! machine-wide, so this test first takes the lock that every such test
//! queues on, and ends by checking that no segment was left behind.

use std::path::Path;

#[test]
fn chapter_transcripts_match_the_program() {
    let machine = testkit::Machine::lock();
    let docs = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs");
    trycmd::TestCases::new()
        .register_bin("xsi_shm_mem", Path::new(env!("CARGO_BIN_EXE_xsi_shm_mem")))
        .case(docs.join("xsi_shm_mem.md"))
        .run();
    machine.assert_unchanged();
}
