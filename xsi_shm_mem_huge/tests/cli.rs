//! xsi_shm_mem_huge for real: huge pages are reserved (by --reserve or by
//! the test), used, and given back on every path. As an ordinary user, the
//! tests check what such a user meets (the shortage explained, --reserve
//! refused); the rest need root and say `skipped: needs root …`.

use testkit::{
    Lab, change, exits, fails_without_result, faults, huge_available, is_root, says, text,
};

const BIN: &str = env!("CARGO_BIN_EXE_xsi_shm_mem_huge");
const SLACK_MIB: i64 = 4;
testkit::cases! { xsi_shm_mem_huge = BIN;
    refusals all, memory;
    fn help_is_short_with_h_and_complete_with_help();
}

const NR: &str = "/proc/sys/vm/nr_hugepages";

/// nr_hugepages raised by the test for its duration; restored when
/// dropped, even if an assertion fails first.
struct Reserved(u64);

impl Reserved {
    fn raise_by(pages: u64) -> Reserved {
        let old = testkit::nr_hugepages();
        std::fs::write(NR, (old + pages).to_string()).expect("root can reserve huge pages");
        let now = testkit::nr_hugepages();
        assert_eq!(now, old + pages, "the kernel found the pages");
        Reserved(old)
    }
}

impl Drop for Reserved {
    fn drop(&mut self) {
        let _ = std::fs::write(NR, self.0.to_string());
    }
}

/// One page more than the pool has available: refused before anything is
/// created, with the exact `echo N > /proc/sys/vm/nr_hugepages`. Root is
/// told it may run it (or --reserve); anyone else, that root must.
#[test]
fn without_enough_free_huge_pages_the_hint_has_the_exact_command() {
    let lab = Lab::machine();
    let total = testkit::meminfo().huge_total as i64;
    let available = huge_available();
    let pages = available + 1;
    let stderr =
        fails_without_result(&lab.run(BIN, &["--size", &format!("{}M", pages * 2), "--hold", "0"]));
    let short = format!(
        "xsi_shm_mem_huge: {} MiB needs {pages} huge pages of 2 MiB; only {available} are available",
        pages * 2
    );
    assert!(stderr.starts_with(&short), "{stderr}");
    let echo = format!("echo {} > {NR}", total + pages - available);
    says(&stderr, &[&echo]);
    if is_root() {
        let reserve = "hint: reserve them: echo ";
        says(&stderr, &[reserve, "or run with --reserve"]);
    } else {
        let ask = "hint: only root can reserve huge pages. Ask root (sudo) to run: echo ";
        says(&stderr, &[ask, "but only when the program runs as root"]);
    }
    lab.assert_clean();
}

/// The article's observation: with SHM_HUGETLB, free's "shared" does not
/// move; HugePages_Free falls by size / 2 MiB; zeroing takes one fault per
/// 2 MiB page instead of one per 4 KiB.
#[test]
fn huge_pages_are_used_and_free_does_not_see_them() {
    if !is_root() {
        return testkit::skip("needs root to reserve 32 huge pages and to use SHM_HUGETLB");
    }
    let lab = Lab::machine();
    let reserved = Reserved::raise_by(32);
    let out = lab.run(BIN, &["--size", "64M", "--hold", "0"]);
    exits(&out, 0);
    let stdout = text(&out.stdout);
    let shmget = "shmget(IPC_PRIVATE, 67108864, SHM_HUGETLB|0600) = shmid ";
    assert!(stdout.starts_with(shmget), "{stdout}");
    assert_eq!(change(&stdout, "HugePages_Free"), -32, "{stdout}");
    assert!(change(&stdout, "Shmem").abs() <= SLACK_MIB, "{stdout}");
    let f = faults(&stdout);
    assert!((32..32 + 64).contains(&f), "{f} faults:\n{stdout}");
    drop(reserved);
    lab.assert_clean();
}

#[test]
fn reserve_raises_nr_hugepages_for_the_run_and_puts_it_back() {
    if !is_root() {
        return testkit::skip("needs root to write vm.nr_hugepages (--reserve)");
    }
    let lab = Lab::machine();
    let old = testkit::nr_hugepages();
    let out = lab.run(BIN, &["--size", "63M", "--hold", "0", "--reserve"]);
    let (stdout, stderr) = (text(&out.stdout), exits(&out, 0));
    let rounded =
        "rounded 63 MiB up to 64 MiB: a huge page segment is a whole number of 2 MiB pages\n";
    assert!(stderr.starts_with(rounded), "{stderr}");
    if huge_available() < 32 {
        says(&stderr, &[&format!("--reserve: nr_hugepages {old} → ")]);
    }
    assert_eq!(change(&stdout, "HugePages_Free"), -32, "{stdout}");
    assert_eq!(testkit::nr_hugepages(), old, "restored");
    lab.assert_clean();
}

/// An ordinary user (the test's own, or `nobody` when the tests run as
/// root): `--reserve` is refused before anything changes; SHM_HUGETLB
/// with pages available (only root can make them so) is EPERM, explained.
#[test]
fn reserve_and_shm_hugetlb_need_privileges() {
    let lab = Lab::machine();
    let ordinary = |args: &[&str]| match lab.as_nobody(BIN, None) {
        Some(mut nobody) => {
            nobody.args(args);
            lab.spawn(nobody).finish()
        }
        None => lab.run(BIN, args),
    };
    if is_root() && !testkit::has("setpriv") {
        return testkit::skip("needs setpriv and prlimit to run as nobody");
    }
    if huge_available() < 8 {
        let stderr = exits(&ordinary(&["--size", "16M", "--hold", "0", "--reserve"]), 1);
        let ask = "ask root to reserve the pages: echo ";
        says(&stderr, &["only root may do", ask]);
    }
    if !is_root() {
        testkit::skip("needs root to make huge pages available, to see SHM_HUGETLB's EPERM");
        return lab.assert_clean();
    }
    // As nobody (not in vm.hugetlb_shm_group).
    let reserved = Reserved::raise_by(8);
    let stderr = exits(&ordinary(&["--size", "16M", "--hold", "0"]), 1);
    let allow = "ask root to allow a group: echo GID > /proc/sys/vm/hugetlb_shm_group";
    let eperm = "SHM_HUGETLB|0600) failed: EPERM";
    says(&stderr, &[eperm, "CAP_IPC_LOCK"]);
    says(&stderr, &["hugetlb_shm_group", allow]);
    drop(reserved);
    lab.assert_clean();
}
