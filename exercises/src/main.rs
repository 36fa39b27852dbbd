//! `cargo run -p exercises -- check [NAME] [--solutions]`: grade the
//! exercises by running them, as the programs' tests run the programs.
//!
//! One row per exercise: pass, fail (with the first line of the reason and
//! a hint) or not started (the starter's `todo!()` is still there). Exit 0
//! only when every exercise graded passes. `--solutions` grades the
//! reference solutions instead (built with `--features solutions`): CI
//! checks that they all pass and that the untouched starters all fail.
//!
//! Every check uses names of its own (a key from a file in a directory it
//! makes, POSIX names with the user and process in them), removes what it
//! made, and touches nothing it did not make: a class can run it at once
//! on one server.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Output, Stdio};
use std::time::{Duration, Instant};

use common::posix::{PosixShm, ShmName};
use common::race::SharedCounter;
use common::system::sysvipc;
use common::xsi::{Key, Segment};

/// The exercises, in the order of the article.
const EXERCISES: [(&str, &str); 5] = [
    (
        "fix_the_race",
        "one step (fetch_add) or one child at a time (lock.enter / held.leave) around read, pause, write",
    ),
    (
        "huge_pages",
        "read Hugepagesize (kB) from /proc/meminfo; a segment is a whole number of huge pages",
    ),
    (
        "xsi_joiner",
        "Key::ftok, Segment::open (no IPC_CREAT), attach, add one, detach; never remove it",
    ),
    (
        "release_on_ctrl_c",
        "exercises::run catches SIGINT; common::terminal::hold::hold(Hold::Forever) returns on it",
    ),
    (
        "posix_name",
        "PosixShm::open (no O_CREAT), map, add one; an object you only opened is never unlinked",
    ),
];

/// How an exercise fared.
enum Grade {
    Pass,
    Fail(String),
    NotStarted,
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let solutions = args.iter().any(|a| a == "--solutions");
    let words: Vec<&str> = args
        .iter()
        .map(String::as_str)
        .filter(|a| *a != "--solutions")
        .collect();
    let chosen: Vec<(&str, &str)> = match words.as_slice() {
        ["check"] => EXERCISES.to_vec(),
        ["check", name] => match EXERCISES.iter().find(|(n, _)| n == name) {
            Some(e) => vec![*e],
            None => return usage(&format!("no exercise {name}")),
        },
        _ => return usage("what to do?"),
    };
    // `cargo run` builds only this program: build the exercises as they
    // are now, or the check would grade yesterday's code. (Run directly,
    // not by cargo, it grades the programs built beside it, and says so.)
    if std::env::var_os("CARGO").is_some() {
        if std::env::var_os("CARGO_TARGET_DIR").is_some() {
            eprintln!(
                "exercises: CARGO_TARGET_DIR is set: checkouts that share a target directory overwrite\n\
                 each other's programs, and the check could grade someone else's. Run it without:\n\
                 env -u CARGO_TARGET_DIR cargo run -p exercises -- check"
            );
            return ExitCode::from(2);
        }
        if let Err(problem) = build(solutions) {
            eprintln!("exercises: {problem}");
            return ExitCode::FAILURE;
        }
    } else {
        eprintln!(
            "exercises: not run by cargo, so the programs built beside it are graded as they are"
        );
    }
    let mut all_pass = true;
    println!("{:<19} {:<12} detail", "exercise", "result");
    for (name, hint) in chosen {
        let bin = binary(name, solutions);
        let grade = if !bin.exists() {
            Grade::Fail(format!(
                "{} is not built: run `cargo run -p exercises{} -- check{}`",
                bin.display(),
                if solutions {
                    " --features solutions"
                } else {
                    ""
                },
                if solutions { " --solutions" } else { "" }
            ))
        } else {
            grade(name, &bin)
        };
        let (result, detail) = match &grade {
            Grade::Pass => ("pass", String::new()),
            Grade::NotStarted => ("not started", format!("hint: {hint}")),
            Grade::Fail(why) => (
                "fail",
                format!(
                    "{}\n{:<32} hint: {hint}",
                    why.lines().next().unwrap_or(""),
                    ""
                ),
            ),
        };
        all_pass &= matches!(grade, Grade::Pass);
        println!("{}", format!("{name:<19} {result:<12} {detail}").trim_end());
    }
    if all_pass {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// `cargo build -p exercises --bins` (with the solutions, `--features
/// solutions`), with the cargo that runs this program.
fn build(solutions: bool) -> Result<(), String> {
    let cargo = std::env::var_os("CARGO").unwrap_or_default();
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml");
    let mut command = Command::new(cargo);
    command
        .args(["build", "--quiet", "--bins", "--manifest-path"])
        .arg(&manifest);
    if solutions {
        command.args(["--features", "solutions"]);
    }
    match command.status() {
        Ok(status) if status.success() => Ok(()),
        Ok(_) => Err(String::from(
            "the exercises do not compile: the errors are above; fix them, then check again",
        )),
        Err(e) => Err(format!("cannot run cargo to build the exercises: {e}")),
    }
}

fn usage(problem: &str) -> ExitCode {
    let names: Vec<&str> = EXERCISES.iter().map(|(n, _)| *n).collect();
    eprintln!(
        "exercises: {problem}\nusage: cargo run -p exercises -- check [NAME] [--solutions]\n\
         NAME: one of {}",
        names.join(", ")
    );
    ExitCode::from(2)
}

/// The exercise's program, built beside this one.
fn binary(name: &str, solutions: bool) -> PathBuf {
    let dir = std::env::current_exe()
        .ok()
        .and_then(|p| p.parent().map(Path::to_path_buf))
        .unwrap_or_default();
    if solutions {
        dir.join(format!("{name}_solution"))
    } else {
        dir.join(name)
    }
}

fn grade(name: &str, bin: &Path) -> Grade {
    let result = match name {
        "fix_the_race" => fix_the_race(bin),
        "huge_pages" => huge_pages(bin),
        "xsi_joiner" => xsi_joiner(bin),
        "release_on_ctrl_c" => release_on_ctrl_c(bin),
        "posix_name" => posix_name(bin),
        _ => Err(Grade::Fail(format!("no check for {name}"))),
    };
    result.err().unwrap_or(Grade::Pass)
}

/// Run `bin args`, killed if it takes longer than `limit`; a starter's
/// `todo!()` (status 101, "not yet implemented") is "not started".
fn run(bin: &Path, args: &[&str], limit: Duration) -> Result<Output, Grade> {
    let child = Command::new(bin)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| Grade::Fail(format!("cannot run {}: {e}", bin.display())))?;
    let out = finish(child, limit)?;
    if out.status.code() == Some(101) && text(&out.stderr).contains("not yet implemented") {
        return Err(Grade::NotStarted);
    }
    Ok(out)
}

/// Wait for `child` at most `limit`, then kill it.
fn finish(mut child: Child, limit: Duration) -> Result<Output, Grade> {
    let start = Instant::now();
    loop {
        match child.try_wait() {
            Ok(Some(_)) => break,
            Ok(None) if start.elapsed() < limit => std::thread::sleep(Duration::from_millis(10)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(Grade::Fail(format!(
                    "still running after {} s: killed",
                    limit.as_secs()
                )));
            }
        }
    }
    child
        .wait_with_output()
        .map_err(|e| Grade::Fail(format!("could not read its output: {e}")))
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The first line of stderr, for a reason.
fn said(out: &Output) -> String {
    let stderr = text(&out.stderr);
    let first = stderr.lines().next().unwrap_or("").to_owned();
    if first.is_empty() {
        format!("exit status {:?}", out.status.code())
    } else {
        first
    }
}

/// 20 runs of 20 children with a 2 ms pause (without a lock every one
/// loses updates): `shm_p: 20` every time.
fn fix_the_race(bin: &Path) -> Result<(), Grade> {
    for run_no in 1..=20 {
        let out = run(
            bin,
            &["--count", "20", "--sleep-us", "2000"],
            Duration::from_secs(30),
        )?;
        let stdout = text(&out.stdout);
        if !out.status.success() {
            return Err(Grade::Fail(format!(
                "run {run_no} of 20 failed: {}",
                said(&out)
            )));
        }
        if stdout.trim() != "shm_p: 20" {
            return Err(Grade::Fail(format!(
                "run {run_no} of 20 printed {:?}, expected \"shm_p: 20\": updates were lost",
                stdout.trim()
            )));
        }
    }
    Ok(())
}

/// The number of huge pages 64 MiB takes, from this machine's page size.
fn huge_pages(bin: &Path) -> Result<(), Grade> {
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let Some(kib) = meminfo
        .lines()
        .find_map(|l| l.strip_prefix("Hugepagesize:"))
        .and_then(|r| r.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
    else {
        return Err(Grade::Fail(String::from(
            "this machine has no huge pages (/proc/meminfo has no Hugepagesize): it cannot be checked here",
        )));
    };
    // 63 and 65 MiB too: a segment is a whole number of pages, and a
    // number remembered from the article is right for one size only.
    for mib in [64u64, 63, 65] {
        let expected = (mib << 20).div_ceil(kib * 1024);
        let out = run(bin, &["--mib", &mib.to_string()], Duration::from_secs(10))?;
        let got = text(&out.stdout);
        if !out.status.success() || got.trim() != expected.to_string() {
            return Err(Grade::Fail(format!(
                "for --mib {mib} it printed {:?}, expected {expected} ({mib} MiB in whole pages of {kib} kB)",
                got.trim()
            )));
        }
    }
    Ok(())
}

/// A directory of this check's own, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new() -> Result<Scratch, Grade> {
        let base = std::env::temp_dir();
        for n in 0..1000 {
            let dir = base.join(format!(
                "exercises-{}-{}-{n}",
                nix::unistd::getuid(),
                std::process::id()
            ));
            if std::fs::create_dir(&dir).is_ok() {
                return Ok(Scratch(dir));
            }
        }
        Err(Grade::Fail(format!(
            "cannot make a directory in {}",
            base.display()
        )))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A segment of one int holding 41, under a key of this check's own; the
/// exercise must leave 42 in it, and leave it there.
fn xsi_joiner(bin: &Path) -> Result<(), Grade> {
    let scratch = Scratch::new()?;
    let file = scratch.0.join("key");
    std::fs::write(&file, b"the key file of a check\n")
        .map_err(|e| Grade::Fail(format!("cannot write {}: {e}", file.display())))?;
    // A proj_id whose key nobody uses.
    let mut made = None;
    for proj_id in 1..=255 {
        let key = Key::ftok(&file, proj_id).map_err(|e| Grade::Fail(e.to_string()))?;
        if let Ok(segment) = Segment::create_exclusive(key, size_of::<i32>(), 0o600) {
            made = Some((segment, proj_id));
            break;
        }
    }
    let Some((segment, proj_id)) = made else {
        return Err(Grade::Fail(String::from(
            "every key of the check's file is taken",
        )));
    };
    {
        let attachment = segment.attach().map_err(|e| Grade::Fail(e.to_string()))?;
        SharedCounter::at_start_of(&attachment).set(41);
    }
    let file_arg = file.display().to_string();
    let proj_arg = proj_id.to_string();
    let out = run(
        bin,
        &["--path", &file_arg, "--proj-id", &proj_arg],
        Duration::from_secs(10),
    );
    let still_there = sysvipc::segments().iter().any(|s| s.id == segment.id());
    let out = out?;
    if !still_there {
        std::mem::forget(segment);
        return Err(Grade::Fail(String::from(
            "the segment is gone: a joiner must leave it to its creator",
        )));
    }
    if !out.status.success() {
        return Err(Grade::Fail(format!("it failed: {}", said(&out))));
    }
    let attachment = segment.attach().map_err(|e| Grade::Fail(e.to_string()))?;
    let value = SharedCounter::at_start_of(&attachment).get();
    if value != 42 {
        return Err(Grade::Fail(format!(
            "the segment holds {value}, expected 42 (41 + 1): it did not add one to this segment"
        )));
    }
    Ok(())
}

/// An object holding 41 must hold 42 after, and still be there; a name
/// nobody made must give exit 1 and leave nothing.
fn posix_name(bin: &Path) -> Result<(), Grade> {
    let base = format!(
        "/exercises-{}-{}",
        nix::unistd::getuid(),
        std::process::id()
    );
    let name = ShmName::parse(&base).map_err(Grade::Fail)?;
    let shm = PosixShm::create_exclusive(&name, 0o600).map_err(|e| Grade::Fail(e.to_string()))?;
    shm.set_len(size_of::<i32>())
        .map_err(|e| Grade::Fail(e.to_string()))?;
    let memory = shm
        .map(size_of::<i32>())
        .map_err(|e| Grade::Fail(e.to_string()))?;
    let shm_p = SharedCounter::at_start_of(&memory);
    shm_p.set(41);
    let out = run(bin, &["--name", name.as_str()], Duration::from_secs(10))?;
    if !name.path().exists() {
        return Err(Grade::Fail(format!(
            "{} is gone: the object was not yours to unlink",
            name.path().display()
        )));
    }
    if !out.status.success() {
        return Err(Grade::Fail(format!("it failed: {}", said(&out))));
    }
    if shm_p.get() != 42 {
        return Err(Grade::Fail(format!(
            "the object holds {}, expected 42 (41 + 1)",
            shm_p.get()
        )));
    }
    // A name nobody made.
    let absent = ShmName::parse(&format!("{base}-absent")).map_err(Grade::Fail)?;
    if absent.path().exists() {
        return Err(Grade::Fail(format!(
            "{} exists already: cannot check the missing-name case",
            absent.path().display()
        )));
    }
    let out = run(bin, &["--name", absent.as_str()], Duration::from_secs(10))?;
    if let Ok(found) = std::fs::metadata(absent.path()) {
        // Absent before the run, this user's after it: the exercise made
        // it, and it is the check's to remove. Anyone else's is left alone.
        use std::os::unix::fs::MetadataExt;
        if found.uid() == nix::unistd::getuid().as_raw() {
            let _ = std::fs::remove_file(absent.path());
        }
        return Err(Grade::Fail(format!(
            "with no object {}, it created one and left it (the check removed it, if it was yours)",
            absent.as_str()
        )));
    }
    if out.status.success() {
        return Err(Grade::Fail(format!(
            "with no object {}, it exited 0: say that there is nothing to open, and exit 1",
            absent.as_str()
        )));
    }
    Ok(())
}

/// SIGINT once it holds its segment: it must end within 5 s, and the
/// segment must be gone.
fn release_on_ctrl_c(bin: &Path) -> Result<(), Grade> {
    let mut child = Command::new(bin)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| Grade::Fail(format!("cannot run {}: {e}", bin.display())))?;
    let pid = child.id() as i32;
    let stderr = child.stderr.take();
    // The shmid from its line `holding shmid N`, read on a thread so that
    // a program that never prints it cannot block the check.
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let Some(stderr) = stderr else { return };
        let mut said = String::new();
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Some(id) = line
                .split("holding shmid ")
                .nth(1)
                .and_then(|r| r.split_whitespace().next())
                .and_then(|n| n.parse::<i32>().ok())
            {
                let _ = tx.send(Ok(id));
            } else if said.is_empty() {
                said = line;
            }
        }
        let _ = tx.send(Err(said));
    });
    let shmid = match rx.recv_timeout(Duration::from_secs(10)) {
        Ok(Ok(id)) => id,
        Ok(Err(said)) => {
            let _ = child.wait();
            if said.contains("not yet implemented") {
                return Err(Grade::NotStarted);
            }
            return Err(Grade::Fail(format!(
                "it ended without printing `holding shmid N`: {said}"
            )));
        }
        Err(_) => {
            let _ = child.kill();
            let _ = child.wait();
            return Err(Grade::Fail(String::from(
                "no line `holding shmid N` on stderr within 10 s",
            )));
        }
    };
    let _ = nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid),
        nix::sys::signal::Signal::SIGINT,
    );
    let start = Instant::now();
    let mut ended = false;
    while start.elapsed() < Duration::from_secs(5) {
        if let Ok(Some(_)) = child.try_wait() {
            ended = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    if !ended {
        let _ = child.kill();
        let _ = child.wait();
    }
    // Its segment, if it is still there: made by that process, so the
    // check's to remove.
    let left = sysvipc::segments()
        .into_iter()
        .any(|s| s.id == shmid && s.creator_pid == pid);
    if left {
        let _ = Command::new("ipcrm")
            .args(["-m", &shmid.to_string()])
            .status();
    }
    match (ended, left) {
        (true, false) => Ok(()),
        (false, _) => Err(Grade::Fail(String::from(
            "still running 5 s after SIGINT (killed): Ctrl-C must end the hold",
        ))),
        (true, true) => Err(Grade::Fail(format!(
            "SIGINT left shmid {shmid} behind (the check removed it): release it first"
        ))),
    }
}
