//! The console transcripts of the chapters below, in both editions (docs/ and
//! docs/zh/), run against the real binary
//! (see `testkit::check_transcripts`).

#[test]
fn chapter_transcripts_match_the_program() {
    testkit::check_transcripts(
        "racing_mmap",
        env!("CARGO_BIN_EXE_racing_mmap"),
        &[
            "racing_mmap.md",
            "README.md",
            "fixing-the-race.md",
            "reliability.md",
            "three-names.md",
        ],
        &[],
    );
}
