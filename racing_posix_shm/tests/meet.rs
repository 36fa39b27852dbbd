//! Processes that are not related meeting at one object by its name
//! (`--linger`, `--attach`): what POSIX names are for. The creator and the
//! joiner are started separately by the test, so neither is the other's
//! child.

use std::path::Path;

use testkit::{Lab, Running, Signal, child_pids, shm_p, sleeping, text};

const BIN: &str = env!("CARGO_BIN_EXE_racing_posix_shm");

fn with_name(name: &str, rest: &[&str]) -> Vec<String> {
    let mut args = vec![String::from("--name"), name.to_owned()];
    args.extend(rest.iter().map(|s| (*s).to_owned()));
    args
}

/// Start a creator that keeps its object until a signal, and wait until
/// its race is over and it is keeping it.
fn lingering(lab: &Lab, name: &str, rest: &[&str]) -> Running {
    let mut args = vec!["--linger", "forever"];
    args.extend_from_slice(rest);
    let mut creator = lab.start(BIN, &with_name(name, &args));
    let pid = creator.pid();
    let object = format!("/dev/shm{name}");
    creator.wait_until("the creator keeps its object", || {
        Path::new(&object).exists() && child_pids(pid).is_empty() && sleeping(pid)
    });
    creator
}

#[test]
fn a_joiner_started_on_its_own_reads_adds_and_leaves_the_object_to_its_creator() {
    let lab = Lab::new();
    let name = lab.name();
    let object = format!("/dev/shm{name}");
    let creator = lingering(&lab, &name, &["--count", "20", "--lock", "semaphore"]);
    let creator_pid = creator.pid();
    // In /proc/PID/maps the object is its file, /dev/shm/NAME.
    let maps = std::fs::read_to_string(format!("/proc/{creator_pid}/maps")).unwrap();
    assert!(
        maps.lines()
            .any(|l| l.contains(" rw-s ") && l.ends_with(&format!(" {object}"))),
        "{object} in:\n{maps}"
    );

    let out = lab.run(BIN, &with_name(&name, &["--attach", "--count", "0"]));
    let stderr = text(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert_eq!(shm_p(&text(&out.stdout)), 20, "{stderr}");
    assert!(
        stderr.contains(&format!(
            "joined {object}: created by pid {creator_pid} (racing_posix_shm); 2 processes map it, this one included"
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!(
            ": not a child of pid {creator_pid}. It found the memory by its name alone."
        )),
        "{stderr}"
    );

    let out = lab.run(
        BIN,
        &with_name(&name, &["--attach", "--count", "30", "--lock", "semaphore"]),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(shm_p(&text(&out.stdout)), 50);
    assert!(Path::new(&object).exists(), "the joiner left it");

    creator.signal(Signal::SIGINT);
    let out = creator.finish();
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("shm_p is 50 now: other processes added 30 while it was kept."),
        "{stderr}"
    );
    assert!(!Path::new(&object).exists(), "the creator unlinked it");
    lab.assert_clean();
}

#[test]
fn with_nothing_to_join_it_says_which_program_to_start() {
    let lab = Lab::new();
    let name = lab.name();
    let out = lab.run(BIN, &with_name(&name, &["--attach"]));
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert_eq!(
        stderr,
        format!(
            "racing_posix_shm: nothing to join: /dev/shm{name} does not exist\nhint: start the run to join first, in another terminal:\n      racing_posix_shm --linger 60 --name {name}\n"
        )
    );
    lab.assert_clean();
}
