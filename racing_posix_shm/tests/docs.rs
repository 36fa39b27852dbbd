//! The console transcripts of racing_posix_shm's chapters (`testkit::cases`).

testkit::cases! { racing_posix_shm = env!("CARGO_BIN_EXE_racing_posix_shm");
    fn chapter_transcripts_match_the_program();
}
