//! The console transcripts of the chapters below, in both editions (docs/ and
//! docs/zh/), run against the real binary
//! (see `testkit::check_transcripts`). They show the article's key.

#[test]
fn chapter_transcripts_match_the_program() {
    testkit::check_transcripts(
        "racing_xsi_shm",
        env!("CARGO_BIN_EXE_racing_xsi_shm"),
        &[
            "racing_xsi_shm.md",
            "fixing-the-race.md",
            "reliability.md",
            "three-names.md",
        ],
        &[testkit::Article::key()],
    );
}
