//! The console transcripts in docs/racing_posix_shm.md, run against the real
//! binary: if the program's output changes, the chapter must change with it.
//!
//! The transcripts create /dev/shm/shm, the name the other tests (and the
//! article's C program) use, so this test holds the machine-wide test lock
//! while they run and then checks that /dev/shm, the System V objects and
//! nr_hugepages are as it found them.

use std::path::Path;

#[test]
fn chapter_transcripts_match_the_program() {
    let machine = testkit::Machine::lock();
    let docs = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs");
    trycmd::TestCases::new()
        .register_bin(
            "racing_posix_shm",
            Path::new(env!("CARGO_BIN_EXE_racing_posix_shm")),
        )
        .case(docs.join("racing_posix_shm.md"))
        .run();
    machine.assert_unchanged();
}
