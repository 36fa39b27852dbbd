//! The console transcripts of racing_mmap's chapters (`testkit::cases`).

testkit::cases! { racing_mmap = env!("CARGO_BIN_EXE_racing_mmap");
    fn chapter_transcripts_match_the_program();
}
