//! The console transcripts in docs/mmap_mem.md, and those in
//! docs/observing.md (which run mmap_mem too), run against the real binary:
//! if the program's output changes, the chapters must change with it.
//!
//! The runs read /proc/meminfo, which every memory test on the machine
//! moves, so this test first takes the machine-wide lock that every such
//! test queues on, and ends by checking that nothing was left behind.
//! trycmd runs the files of one `TestCases` in parallel, so each chapter
//! gets its own, one after the other: no two memory demos at once.

use std::path::Path;

fn run_chapter(name: &str) {
    let docs = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs");
    trycmd::TestCases::new()
        .register_bin("mmap_mem", Path::new(env!("CARGO_BIN_EXE_mmap_mem")))
        .case(docs.join(name))
        .run();
}

#[test]
fn chapter_transcripts_match_the_program() {
    let machine = testkit::Machine::lock();
    run_chapter("mmap_mem.md");
    run_chapter("observing.md");
    machine.assert_unchanged();
}
