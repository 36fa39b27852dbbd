//! The console transcripts of xsi_shm_mem's chapters (`testkit::cases`).

testkit::cases! { xsi_shm_mem = env!("CARGO_BIN_EXE_xsi_shm_mem");
    fn chapter_transcripts_match_the_program();
}
