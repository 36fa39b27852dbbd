//! The console transcripts of racing_xsi_shm's chapters, in both editions.

testkit::cases! { racing_xsi_shm; fn chapter_transcripts_match_the_program(); }
