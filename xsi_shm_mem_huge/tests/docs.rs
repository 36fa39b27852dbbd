//! The console transcripts of the chapters below, in both editions (docs/ and
//! docs/zh/), run against the real binary
//! (see `testkit::check_transcripts`).

#[test]
fn chapter_transcripts_match_the_program() {
    testkit::check_transcripts(
        "xsi_shm_mem_huge",
        env!("CARGO_BIN_EXE_xsi_shm_mem_huge"),
        &["xsi_shm_mem_huge.md"],
        &[],
    );
}
