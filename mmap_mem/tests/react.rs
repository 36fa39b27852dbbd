//! mmap_mem: a stopping signal ends `--hold forever` within 100 ms (`testkit::react`).

testkit::cases! { mmap_mem; fn a_stopping_signal_ends_the_hold_within_100_ms() =
a_stopping_signal_is_acted_on_within_100_ms_in_every_phase; }
