//! The console transcripts of racing_mmap's chapters, in both editions.

testkit::cases! { racing_mmap; fn chapter_transcripts_match_the_program(); }
