//! The cases the three memory demos share, written once: the table
//! [`DEMOS`] holds what differs between the programs (the flags of a small
//! run and a larger one, the lines of its report, whether it needs root), each case is one
//! function that runs it for a [`Demo`], and [`demo_faults!`](crate::demo_faults) makes one
//! `#[test]` of each case in the program's faults.rs.
//!
//! The cells named are those of the fault matrix in docs/reliability.md.

use std::path::Path;

use crate::checks::{MemoryCgroup, assert_a_closed_stdout_fails_cleanly, run_to_file, with};
use crate::lab::Lab;
use crate::output::{change, text};
use crate::probe::nr_hugepages;
use crate::said::exits;

/// A memory demo, as the shared cases see it.
#[derive(Debug, Clone, Copy)]
pub struct Demo {
    pub bin: &'static str,
    pub program: &'static str,
    /// Huge pages can be reserved only by root: every case skips without.
    pub needs_root: bool,
    /// The flags of a small run that zeroes its memory and ends.
    pub small: &'static [&'static str],
    /// How many lines its report has.
    pub report_lines: usize,
    /// The flags of a larger run, whose report meets a closed stdout.
    pub larger: &'static [&'static str],
    /// The flag that names its memory, where it has one (`--posix NAME`).
    pub name_flag: Option<&'static str>,
}

/// The memory demos (`bin` is filled in by [`row`]).
pub const DEMOS: [Demo; 3] = [
    Demo {
        bin: "",
        program: "mmap_mem",
        needs_root: false,
        small: &["--size", "16M", "--hold", "0"],
        report_lines: 6,
        larger: &["--size", "64M", "--hold", "0"],
        name_flag: Some("--posix"),
    },
    Demo {
        bin: "",
        program: "xsi_shm_mem",
        needs_root: false,
        small: &["--size", "16M", "--hold", "0"],
        report_lines: 6,
        larger: &["--size", "64M", "--hold", "0"],
        name_flag: None,
    },
    Demo {
        bin: "",
        program: "xsi_shm_mem_huge",
        needs_root: true,
        small: &["--size", "8M", "--hold", "0", "--reserve"],
        report_lines: 8,
        larger: &["--size", "32M", "--hold", "0", "--reserve"],
        name_flag: None,
    },
];

/// The row for the program at `bin` (`env!("CARGO_BIN_EXE_…")`).
pub fn row(bin: &'static str) -> Demo {
    let name = Path::new(bin).file_name().and_then(|n| n.to_str());
    let demo = DEMOS
        .into_iter()
        .find(|demo| Some(demo.program) == name)
        .unwrap_or_else(|| panic!("{bin} is not a memory demo"));
    Demo { bin, ..demo }
}

impl Demo {
    /// Run `case` in a machine lab (the demos move /proc/meminfo), or skip
    /// where the demo needs root; vm.nr_hugepages must end where it began.
    fn in_a_lab(&self, case: impl FnOnce(&Lab)) {
        if self.needs_root && !crate::is_root() {
            crate::skip("needs root to reserve huge pages (--reserve writes vm.nr_hugepages)");
            return;
        }
        let lab = Lab::machine();
        let before = nr_hugepages();
        case(&lab);
        assert_eq!(nr_hugepages(), before, "the huge page pool is restored");
        lab.assert_clean();
    }
}

/// The faults every memory demo meets the same way; with `small_pages`,
/// also those of the demos whose memory is ordinary pages.
#[macro_export]
macro_rules! demo_faults {
    ($bin:expr) => {
        $crate::table_cases!($bin, demos;
            a_closed_stdout_is_an_error_that_still_releases,
            stdout_to_a_file_holds_each_line_once,
        );
    };
    ($bin:expr, small_pages) => {
        $crate::demo_faults!($bin);
        $crate::table_cases!($bin, demos;
            two_runs_at_once_both_succeed,
            more_than_the_memory_cgroup_has_room_for_is_refused_before_anything_is_created,
        );
    };
}

/// Cell 2: an error after the memory was created and zeroed: the report
/// meets a closed pipe. Exit 1; the memory and any reservation released.
pub fn a_closed_stdout_is_an_error_that_still_releases(demo: &Demo) {
    demo.in_a_lab(|lab| {
        assert_a_closed_stdout_fails_cleanly(lab, demo.bin, demo.program, demo.larger);
    });
}

/// Stdout to a file (fully buffered in C, where fork copies what is not
/// flushed yet): every line of the report, once.
pub fn stdout_to_a_file_holds_each_line_once(demo: &Demo) {
    demo.in_a_lab(|lab| {
        let (status, written) = run_to_file(lab, demo.bin, demo.small);
        assert!(status.success());
        assert_eq!(written.lines().count(), demo.report_lines, "{written}");
    });
}

/// Cell 9: two runs at once have separate memory; both succeed, each
/// reporting its own Shmem rise.
pub fn two_runs_at_once_both_succeed(demo: &Demo) {
    demo.in_a_lab(|lab| {
        let args = ["--size", "64M", "--hold", "1"];
        let first = lab.start(demo.bin, &args);
        let second = lab.run(demo.bin, &args);
        for out in [first.finish(), second] {
            exits(&out, 0);
            let stdout = text(&out.stdout);
            assert!(change(&stdout, "Shmem") >= 60, "{stdout}");
        }
    });
}

/// Cell 10 in a container (root only): in a memory cgroup of 256 MiB, on a
/// machine with far more, `--size 512M --hold 0` is refused before
/// anything is created (OOM-killed halfway through zeroing, the run would
/// leave its segment or object behind): exit 1, one error line naming the
/// cgroup's limit and directory, a hint with a `--size` and `--no-touch`.
/// The size the hint offers, and 64 MiB, then run in the same cgroup,
/// which is removed at the end.
pub fn more_than_the_memory_cgroup_has_room_for_is_refused_before_anything_is_created(demo: &Demo) {
    demo.in_a_lab(|lab| {
        let Some(cgroup) = MemoryCgroup::make(lab, 256 << 20) else {
            return;
        };
        let own = match demo.name_flag {
            Some(flag) => vec![flag.to_owned(), lab.name()],
            None => Vec::new(),
        };
        let run = |size: &str| {
            let mut command = cgroup.command(lab, demo.bin);
            command.args(with(&own, &["--size", size, "--hold", "0"]));
            lab.spawn(command).finish()
        };
        let out = run("512M");
        let stderr = exits(&out, 1);
        assert!(out.stdout.is_empty(), "nothing was created, nothing reported");
        let program = demo.program;
        let errors: Vec<&str> = stderr
            .lines()
            .filter(|l| l.starts_with(&format!("{program}: ")))
            .collect();
        assert_eq!(errors.len(), 1, "one error line:\n{stderr}");
        let says = format!(
            "{program}: 512 MiB is more than this process's memory cgroup has room for ({} 256 MiB, ",
            cgroup.setting()
        );
        assert!(
            stderr.starts_with(&says)
                && errors[0].ends_with(&format!(" MiB in use: {})", cgroup.dir().display())),
            "the first line names the limit and the cgroup:\n{stderr}"
        );
        let hint = "\nhint: zeroing it would push this cgroup into swap or its OOM killer. Ask for less,\n      e.g. --size ";
        let offered: u64 = stderr
            .split_once(hint)
            .and_then(|(_, rest)| {
                rest.split_once("M, or add --no-touch to map it without using it.\n")
            })
            .and_then(|(size, _)| size.parse().ok())
            .unwrap_or_else(|| panic!("a hint with a --size and --no-touch:\n{stderr}"));
        assert!(
            (64..256).contains(&offered),
            "--size {offered}M fits 256 MiB with room to spare:\n{stderr}"
        );
        for size in [format!("{offered}M"), String::from("64M")] {
            exits(&run(&size), 0);
        }
        let dir = cgroup.dir().to_owned();
        drop(cgroup);
        assert!(!dir.exists(), "the test's cgroup {} is removed", dir.display());
    });
}
