//! Reference solution of `huge_pages`: /proc/meminfo's Hugepagesize, and a
//! division rounded up.

fn main() {
    let mib: u64 = exercises::flag("--mib")
        .and_then(|v| v.parse().ok())
        .unwrap_or(64);
    println!("{}", pages_for(mib << 20));
}

fn pages_for(bytes: u64) -> u64 {
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let kib: u64 = meminfo
        .lines()
        .find_map(|l| l.strip_prefix("Hugepagesize:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(2048);
    bytes.div_ceil(kib * 1024)
}
