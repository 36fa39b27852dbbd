//! The console transcripts of the chapters below, in both editions (docs/ and
//! docs/zh/), run against the real binary
//! (see `testkit::check_transcripts`). They show the article's name, /shm.

#[test]
fn chapter_transcripts_match_the_program() {
    testkit::check_transcripts(
        "racing_posix_shm",
        env!("CARGO_BIN_EXE_racing_posix_shm"),
        &[
            "racing_posix_shm.md",
            "fixing-the-race.md",
            "reliability.md",
            "three-names.md",
        ],
        &[testkit::Article::name()],
    );
}
