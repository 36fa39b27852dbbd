//! The console transcripts of docs/racing_mmap.md and docs/README.md, run against the real binary
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
