//! xsi_shm_mem_huge for real: huge pages are reserved (by --reserve or by
//! the test), used, and given back on every path. Each test holds a
//! `testkit::Lab::machine()`, which also puts nr_hugepages back if a test
//! fails.
//!
//! Reserving huge pages needs root. As an ordinary user, the tests check
//! what such a user meets (the shortage explained, --reserve refused, no
//! command they could not run), and the rest say `skipped: needs root …`.

use testkit::{Lab, change, faults, huge_available, text};

const BIN: &str = env!("CARGO_BIN_EXE_xsi_shm_mem_huge");
const SLACK_MIB: i64 = 4;
testkit::cases! { xsi_shm_mem_huge = BIN;
    refusals all, memory;
    fn help_is_short_with_h_and_complete_with_help();
}

const NR: &str = "/proc/sys/vm/nr_hugepages";

/// nr_hugepages set by the test for its duration; restored when dropped,
/// even if an assertion fails first.
struct Reserved(u64);

impl Reserved {
    fn raise_by(pages: u64) -> Reserved {
        let old = testkit::nr_hugepages();
        std::fs::write(NR, (old + pages).to_string()).expect("root can reserve huge pages");
        assert_eq!(
            testkit::nr_hugepages(),
            old + pages,
            "the kernel found the pages"
        );
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
    // Ask for one page more than there is.
    let pages = available + 1;
    let size = format!("{}M", pages * 2);
    let out = lab.run(BIN, &["--size", &size, "--hold", "0"]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(out.stdout.is_empty(), "nothing created, nothing reported");
    assert!(
        stderr.starts_with(&format!("xsi_shm_mem_huge: {} MiB needs {pages} huge pages of 2 MiB; only {available} are available", pages * 2)),
        "{stderr}"
    );
    let target = total + pages - available;
    assert!(
        stderr.contains(&format!("echo {target} > /proc/sys/vm/nr_hugepages")),
        "{stderr}"
    );
    if testkit::is_root() {
        assert!(stderr.contains("hint: reserve them: echo "), "{stderr}");
        assert!(stderr.contains("or run with --reserve"), "{stderr}");
    } else {
        assert!(
            stderr
                .contains("hint: only root can reserve huge pages. Ask root (sudo) to run: echo "),
            "{stderr}"
        );
        assert!(
            stderr.contains("but only when the program runs as root"),
            "{stderr}"
        );
    }
    lab.assert_clean();
}

/// The article's observation: with SHM_HUGETLB, free's "shared" does not
/// move; HugePages_Free falls by size / 2 MiB; zeroing takes one fault per
/// 2 MiB page instead of one per 4 KiB.
#[test]
fn huge_pages_are_used_and_free_does_not_see_them() {
    if !testkit::is_root() {
        testkit::skip("needs root to reserve 32 huge pages and to use SHM_HUGETLB");
        return;
    }
    let lab = Lab::machine();
    let reserved = Reserved::raise_by(32);
    let out = lab.run(BIN, &["--size", "64M", "--hold", "0"]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        stdout.starts_with("shmget(IPC_PRIVATE, 67108864, SHM_HUGETLB|0600) = shmid "),
        "{stdout}"
    );
    assert_eq!(change(&stdout, "HugePages_Free"), -32, "{stdout}");
    assert!(change(&stdout, "Shmem").abs() <= SLACK_MIB, "{stdout}");
    let f = faults(&stdout);
    assert!(
        (32..32 + 64).contains(&f),
        "{f} faults for 32 huge pages:\n{stdout}"
    );
    drop(reserved);
    lab.assert_clean();
}

#[test]
fn reserve_raises_nr_hugepages_for_the_run_and_puts_it_back() {
    if !testkit::is_root() {
        testkit::skip("needs root to write vm.nr_hugepages (--reserve)");
        return;
    }
    let lab = Lab::machine();
    let old = testkit::nr_hugepages();
    let out = lab.run(BIN, &["--size", "63M", "--hold", "0", "--reserve"]);
    let stdout = text(&out.stdout);
    let stderr = text(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.starts_with(
            "rounded 63 MiB up to 64 MiB: a huge page segment is a whole number of 2 MiB pages\n"
        ),
        "{stderr}"
    );
    if huge_available() < 32 {
        assert!(
            stderr.contains(&format!("--reserve: nr_hugepages {old} → ")),
            "{stderr}"
        );
    }
    assert_eq!(change(&stdout, "HugePages_Free"), -32, "{stdout}");
    assert_eq!(testkit::nr_hugepages(), old, "restored");
    lab.assert_clean();
}

/// An ordinary user (the test's own user, or `nobody` when the tests run
/// as root): `--reserve` is refused before anything changes; SHM_HUGETLB
/// with pages available (only root can make them available) is EPERM,
/// explained.
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
    if testkit::is_root() && !testkit::has("setpriv") {
        testkit::skip("needs setpriv and prlimit to run as nobody");
        return;
    }
    // --reserve as an ordinary user: refused before anything changes.
    if huge_available() < 8 {
        let out = ordinary(&["--size", "16M", "--hold", "0", "--reserve"]);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{stderr}");
        assert!(stderr.contains("only root may do"), "{stderr}");
        assert!(
            stderr.contains("ask root to reserve the pages: echo "),
            "{stderr}"
        );
    }
    if !testkit::is_root() {
        testkit::skip("needs root to make huge pages available, to see SHM_HUGETLB's EPERM");
        lab.assert_clean();
        return;
    }
    // SHM_HUGETLB as nobody (not in vm.hugetlb_shm_group): EPERM, explained.
    let reserved = Reserved::raise_by(8);
    let out = ordinary(&["--size", "16M", "--hold", "0"]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("SHM_HUGETLB|0600) failed: EPERM"),
        "{stderr}"
    );
    assert!(
        stderr.contains("CAP_IPC_LOCK") && stderr.contains("hugetlb_shm_group"),
        "{stderr}"
    );
    assert!(
        stderr.contains("ask root to allow a group: echo GID > /proc/sys/vm/hugetlb_shm_group"),
        "{stderr}"
    );
    drop(reserved);
    lab.assert_clean();
}
