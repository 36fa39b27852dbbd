//! Exercise: how many huge pages?
//!
//! The article, section "XSI共享内存" (xsi_shm_mem_huge.c); the chapter
//! docs/xsi_shm_mem_huge.md.
//!
//! `shmget(IPC_PRIVATE, 64 MiB, SHM_HUGETLB|0600)` takes its memory from
//! the huge page pool, in whole huge pages. How many? Print the number on
//! stdout (for `--mib N`, a segment of N MiB; 64 by default), worked out
//! from this machine's huge page size, which
//! /proc/meminfo gives as `Hugepagesize:` (in kB) — not from a number you
//! remember: it is 2048 kB on most x86 machines, but not everywhere.
//!
//! Check it: `cargo run -p exercises -- check huge_pages` (it asks for
//! 64, 63 and 65 MiB). No root is needed: you count the pages, you do not
//! take them.
//!
//! Hint: read the file with `std::fs::read_to_string`, find the line,
//! parse the number of kB, and round up: a segment is a whole number of
//! huge pages (`xsi_shm_mem_huge --size 63M` says so).

fn main() {
    let mib: u64 = exercises::flag("--mib")
        .and_then(|v| v.parse().ok())
        .unwrap_or(64);
    println!("{}", pages_for(mib << 20));
}

/// How many huge pages a SHM_HUGETLB segment of `bytes` uses.
fn pages_for(bytes: u64) -> u64 {
    let _ = bytes;
    todo!("read Hugepagesize from /proc/meminfo and count the pages")
}
