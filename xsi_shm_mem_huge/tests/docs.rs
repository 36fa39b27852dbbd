//! The console transcripts of xsi_shm_mem_huge's chapters (`testkit::cases`).

testkit::cases! { xsi_shm_mem_huge = env!("CARGO_BIN_EXE_xsi_shm_mem_huge");
    fn chapter_transcripts_match_the_program();
}
