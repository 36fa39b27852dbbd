//! The console transcripts of mmap_mem's chapters, in both editions.

testkit::cases! { mmap_mem; fn chapter_transcripts_match_the_program(); }
