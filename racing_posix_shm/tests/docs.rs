//! The console transcripts of racing_posix_shm's chapters, in both editions.

testkit::cases! { racing_posix_shm; fn chapter_transcripts_match_the_program(); }
