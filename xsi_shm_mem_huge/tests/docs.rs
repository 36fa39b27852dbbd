//! The console transcripts of xsi_shm_mem_huge's chapters, in both editions.

testkit::cases! { xsi_shm_mem_huge; fn chapter_transcripts_match_the_program(); }
