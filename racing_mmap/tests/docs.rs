//! The console transcripts in docs/racing_mmap.md and docs/README.md, run
//! against the real binary: if the program's output changes, the chapter
//! must change with it.

use std::path::Path;

#[test]
fn chapter_transcripts_match_the_program() {
    let docs = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs");
    trycmd::TestCases::new()
        .register_bin("racing_mmap", Path::new(env!("CARGO_BIN_EXE_racing_mmap")))
        .case(docs.join("racing_mmap.md"))
        .case(docs.join("README.md"));
}
