//! The console transcripts of xsi_shm_mem's chapters, in both editions.

testkit::cases! { xsi_shm_mem; fn chapter_transcripts_match_the_program(); }
