//! The cases the three memory demos share, written once: each is a
//! function run for a [`Demo`] (a program of [`cases::PROGRAMS`] with
//! [`Memory`](crate::cases::Memory)), and [`demo_faults!`](crate::demo_faults)
//! makes one `#[test]` of each in the program's faults.rs. The cells named
//! are those of the fault matrix in docs/reliability.md.

use std::path::Path;

use crate::cases::{self, Program};
use crate::checks::{MemoryCgroup, assert_a_closed_stdout_fails_cleanly, run_to_file, with};
use crate::lab::Lab;
use crate::output::{change, text};
use crate::probe::nr_hugepages;
use crate::said::{exits, fails_without_result};

/// What [`Program`] does not say about a memory demo: whether its memory
/// is huge pages (which only root can reserve: every case skips without,
/// runs `--reserve`, and asks for half the size), the lines of its report,
/// and the flag that names its memory, where it has one.
const DEMOS: [(&str, bool, usize, Option<&str>); 3] = [
    ("mmap_mem", false, 6, Some("--posix")),
    ("xsi_shm_mem", false, 6, None),
    ("xsi_shm_mem_huge", true, 8, None),
];

/// A memory demo, as the shared cases see it.
#[derive(Debug, Clone, Copy)]
pub struct Demo {
    pub bin: &'static str,
    pub program: &'static Program,
    pub huge: bool,
    pub report_lines: usize,
    pub name_flag: Option<&'static str>,
}

/// The demo at `bin` (`env!("CARGO_BIN_EXE_…")`).
pub fn row(bin: &'static str) -> Demo {
    let name = Path::new(bin).file_name().and_then(|n| n.to_str());
    let row = DEMOS.into_iter().find(|demo| Some(demo.0) == name);
    let row = row.unwrap_or_else(|| panic!("{bin} is not a memory demo"));
    let (_, huge, report_lines, name_flag) = row;
    let program = cases::program(name.unwrap_or(bin));
    Demo {
        bin,
        program,
        huge,
        report_lines,
        name_flag,
    }
}

impl Demo {
    /// Run `case` in a machine lab (the demos move /proc/meminfo), or skip
    /// where the demo needs root; vm.nr_hugepages must end where it began.
    fn in_a_lab(&self, case: impl FnOnce(&Lab)) {
        if self.huge && !crate::is_root() {
            crate::skip("needs root to reserve huge pages (--reserve writes vm.nr_hugepages)");
            return;
        }
        let lab = Lab::machine();
        let before = nr_hugepages();
        case(&lab);
        assert_eq!(nr_hugepages(), before, "the huge page pool is restored");
        lab.assert_clean();
    }

    /// `--size SIZE --hold 0`, with `--reserve` and half the size for huge pages.
    fn run_of(&self, mib: u32) -> Vec<String> {
        let (mib, reserve) = if self.huge {
            (mib / 2, " --reserve")
        } else {
            (mib, "")
        };
        let flags = format!("--size {mib}M --hold 0{reserve}");
        flags.split_whitespace().map(String::from).collect()
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
/// meets a closed pipe.
pub fn a_closed_stdout_is_an_error_that_still_releases(demo: &Demo) {
    demo.in_a_lab(|lab| {
        let args = demo.run_of(64);
        assert_a_closed_stdout_fails_cleanly(lab, demo.bin, demo.program.name, &args);
    });
}

/// Stdout to a file is fully buffered in C, where fork copies what is not
/// flushed yet ([`run_to_file`] fails on a line printed twice).
pub fn stdout_to_a_file_holds_each_line_once(demo: &Demo) {
    demo.in_a_lab(|lab| {
        let (status, written) = run_to_file(lab, demo.bin, &demo.run_of(16));
        assert!(status.success());
        assert_eq!(written.lines().count(), demo.report_lines, "{written}");
    });
}

/// Cell 9: two runs at once have separate memory; each reports its own
/// Shmem rise.
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
/// machine with far more, `--size 512M` is refused before anything is
/// created (OOM-killed halfway through zeroing, the run would leave its
/// segment or object behind). The size the hint offers, and 64 MiB, then
/// run in the same cgroup.
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
        let stderr = fails_without_result(&run("512M"));
        let program = demo.program.name;
        let prefix = format!("{program}: ");
        let errors: Vec<&str> = stderr.lines().filter(|l| l.starts_with(&prefix)).collect();
        assert_eq!(errors.len(), 1, "one error line:\n{stderr}");
        let limit = format!(
            "{program}: 512 MiB is more than this process's memory cgroup has room for ({} 256 MiB, ",
            cgroup.setting()
        );
        let in_use = format!(" MiB in use: {})", cgroup.dir().display());
        let named = stderr.starts_with(&limit) && errors[0].ends_with(&in_use);
        assert!(named, "line 1 names the limit and the cgroup:\n{stderr}");
        let hint = "\nhint: zeroing it would push this cgroup into swap or its OOM killer. Ask for less,\n      e.g. --size ";
        let offered: u64 = stderr
            .split_once(hint)
            .and_then(|(_, rest)| {
                rest.split_once("M, or add --no-touch to map it without using it.\n")
            })
            .and_then(|(size, _)| size.parse().ok())
            .unwrap_or_else(|| panic!("a hint with a --size and --no-touch:\n{stderr}"));
        let fits = (64..256).contains(&offered);
        assert!(fits, "--size {offered}M fits 256 MiB with room to spare:\n{stderr}");
        for size in [format!("{offered}M"), String::from("64M")] {
            exits(&run(&size), 0);
        }
        let dir = cgroup.dir().to_owned();
        drop(cgroup);
        assert!(!dir.exists(), "the test's cgroup {} is removed", dir.display());
    });
}
