//! Processes that are not related meeting at one object by its name
//! (`--linger`, `--attach`): what POSIX names are for. The creator and the
//! joiner are started separately by the test, so neither is the other's
//! child. Every case here is one both families share, in testkit's racing
//! table.

testkit::racing_meet!(env!("CARGO_BIN_EXE_racing_posix_shm"));
