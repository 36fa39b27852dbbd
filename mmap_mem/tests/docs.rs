//! The console transcripts of mmap_mem's chapters (`testkit::cases`).

testkit::cases! { mmap_mem = env!("CARGO_BIN_EXE_mmap_mem");
    fn chapter_transcripts_match_the_program();
}
