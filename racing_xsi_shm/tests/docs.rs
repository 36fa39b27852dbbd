//! The console transcripts in docs/racing_xsi_shm.md, run against the real
//! binary: if the program's output changes, the chapter must change with it.
//!
//! The transcripts create System V segments under the default key
//! (`ftok("/etc/passwd", 1234)`), which the tests in cli.rs use too. So this
//! test first takes the machine-wide lock that every such test queues on,
//! and ends by checking that the transcripts left no segment (or any other
//! IPC object) behind.

use std::path::Path;

#[test]
fn chapter_transcripts_match_the_program() {
    let machine = testkit::Machine::lock();
    let docs = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs");
    trycmd::TestCases::new()
        .register_bin(
            "racing_xsi_shm",
            Path::new(env!("CARGO_BIN_EXE_racing_xsi_shm")),
        )
        .case(docs.join("racing_xsi_shm.md"))
        .run();
    machine.assert_unchanged();
}
