//! The console transcripts of racing_xsi_shm's chapters (`testkit::cases`).

testkit::cases! { racing_xsi_shm = env!("CARGO_BIN_EXE_racing_xsi_shm");
    fn chapter_transcripts_match_the_program();
}
