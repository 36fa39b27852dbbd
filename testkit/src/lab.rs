//! [`Lab`]: one test's own corner of a machine that other users share (the
//! crate documentation gives the three rules it keeps, and why).

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsStr;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::system::{sysvipc, users::user_name};
use common::xsi::Key;
use nix::unistd::Uid;

use crate::lock::{self, Held};
use crate::run::{Running, WAIT};
use crate::snapshot::{Leftover, Snapshot};

/// The uid of `nobody`, the second user root's tests run programs as.
const NOBODY: u32 = 65534;

/// A test's locks, private directory and names, and the record of what is
/// its own that [`Lab::assert_clean`] checks the machine against.
#[derive(Debug)]
pub struct Lab {
    // Dropped in this order: machine lock, user lock, then this process's turn.
    machine: Option<Held>,
    _user: Held,
    _turn: lock::Turn,
    dir: PathBuf,
    tag: String,
    before: Snapshot,
    claims: RefCell<Claims>,
    wrappers: RefCell<BTreeMap<(PathBuf, bool), PathBuf>>,
    checked: bool,
}

/// What counts as this test's besides what is new: pids, System V keys,
/// /dev/shm entries (`shm`, `sem.shm`), and the users its programs run as.
#[derive(Debug, Default)]
struct Claims {
    pids: BTreeSet<i32>,
    keys: BTreeSet<i32>,
    names: BTreeSet<String>,
    uids: BTreeSet<u32>,
}

/// A default the article's programs share machine-wide, which a test may
/// need free: the key `ftok("/etc/passwd", 1234)`, or the name `/shm` (and
/// its semaphore `/dev/shm/sem.shm`).
#[derive(Debug, Clone)]
pub enum Article {
    Key(Key),
    Name(&'static str),
}

impl Article {
    pub fn key() -> Article {
        Article::Key(Key::ftok(Path::new("/etc/passwd"), 1234).expect("ftok(/etc/passwd)"))
    }

    pub fn name() -> Article {
        Article::Name("/shm")
    }
}

impl Lab {
    /// A lab for a test that uses only its own names: it waits only for
    /// this user's other tests.
    #[allow(clippy::new_without_default)] // it waits for a lock: no default value
    pub fn new() -> Lab {
        Lab::open(false)
    }

    /// A lab for a test that reads /proc/meminfo (which every process
    /// moves), changes vm.nr_hugepages, or uses one of the article's
    /// defaults: it also waits for every other user's such tests.
    pub fn machine() -> Lab {
        Lab::open(true)
    }

    fn open(machine: bool) -> Lab {
        let me = Uid::effective().as_raw();
        let turn = lock::turn();
        let user = lock::acquire(
            &format!("shm-lessons-tests/user/{me}"),
            "another shm-lessons test run of yours is running a test",
        );
        let machine = machine.then(|| {
            lock::acquire(
                "shm-lessons-tests/machine",
                "another test run, maybe another user's, holds the machine-wide lock \
                 (for memory figures, huge pages and the article's default names)",
            )
        });
        let pid = std::process::id();
        let tag = format!("shm-lessons-{me}-{pid}-{}", crate::unique());
        let claims = Claims {
            pids: BTreeSet::from([pid as i32]),
            uids: BTreeSet::from([me]),
            ..Claims::default()
        };
        Lab {
            machine,
            _user: user,
            _turn: turn,
            dir: private_dir(&tag),
            tag,
            before: Snapshot::take(),
            claims: RefCell::new(claims),
            wrappers: RefCell::new(BTreeMap::new()),
            checked: false,
        }
    }

    /// The programs' TMPDIR (`--lock flock` files land here); it must be
    /// empty again at the end.
    pub fn tmpdir(&self) -> PathBuf {
        self.dir.join("tmp")
    }

    /// A POSIX name no one else uses: `/shm-lessons-UID-PID-N`, then
    /// `…-N.2`, `…-N.3`.
    pub fn name(&self) -> String {
        let n = self.claims.borrow().names.len() / 2;
        self.claim(match n {
            0 => format!("/{}", self.tag),
            n => format!("/{}.{}", self.tag, n + 1),
        })
    }

    /// Like [`Lab::name`], with `suffix` after the tag: `/shm-lessons-…🦀`.
    pub fn name_with(&self, suffix: &str) -> String {
        self.claim(format!("/{}{suffix}", self.tag))
    }

    /// Like [`Lab::name`], padded with `x` to `bytes` bytes after the `/`.
    pub fn long_name(&self, bytes: usize) -> String {
        let mut name = format!("/{}-long", self.tag);
        while name.len() <= bytes {
            name.push('x');
        }
        self.claim(name)
    }

    /// The tag in this lab's names, for a cgroup of the test's.
    pub(crate) fn tag(&self) -> &str {
        &self.tag
    }

    /// A path in this lab's directory (not in the programs' TMPDIR).
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    fn claim(&self, name: String) -> String {
        let bare = name.trim_start_matches('/');
        let mut claims = self.claims.borrow_mut();
        claims.names.insert(bare.to_owned());
        claims.names.insert(format!("sem.{bare}"));
        name
    }

    /// An ftok key nothing uses: this lab's own file, the first free proj_id.
    pub fn key(&self) -> LabKey {
        let path = self.dir.join("key");
        if !path.exists() {
            std::fs::write(&path, "ftok reads this file's inode and device numbers\n")
                .expect("write the key file");
            chmod(&path, 0o644);
        }
        let taken = Snapshot::take().keys();
        let mut claims = self.claims.borrow_mut();
        for proj_id in 1..=255 {
            let key = Key::ftok(&path, proj_id).expect("ftok on the lab's key file");
            if !taken.contains(&key.raw()) && claims.keys.insert(key.raw()) {
                return LabKey { path, proj_id, key };
            }
        }
        panic!("every proj_id of {} gives a key in use", path.display());
    }

    /// Count every key `key`'s file can give (all 255 proj_ids) as this
    /// test's, for a test that runs the program with many proj_ids.
    pub fn claim_every_key_of(&self, key: &LabKey) {
        let keys = (1..=255).filter_map(|proj_id| Key::ftok(&key.path, proj_id).ok());
        self.claims.borrow_mut().keys.extend(keys.map(|k| k.raw()));
    }

    /// Use one of the article's machine-wide defaults (needs a
    /// [`Lab::machine`]). An object holding it that looks in use (attached,
    /// or written in the last minute) is waited for, up to [`WAIT`]; `Err`
    /// says whose object holds it if it stays: someone else's leftover,
    /// which this test must not touch.
    pub fn use_default(&self, default: &Article) -> Result<(), String> {
        assert!(
            self.machine.is_some(),
            "a test that uses the article's default names needs Lab::machine()"
        );
        match default {
            Article::Key(key) => drop(self.claims.borrow_mut().keys.insert(key.raw())),
            Article::Name(name) => drop(self.claim(name.to_string())),
        }
        let start = Instant::now();
        loop {
            match held_by(default) {
                None => return Ok(()),
                Some((holder, in_use)) if !in_use || start.elapsed() > WAIT => {
                    return Err(holder);
                }
                Some(_) => std::thread::sleep(Duration::from_millis(50)),
            }
        }
    }

    pub fn run<S: AsRef<OsStr>>(&self, bin: &str, args: &[S]) -> Output {
        self.start(bin, args).finish()
    }

    pub fn start<S: AsRef<OsStr>>(&self, bin: &str, args: &[S]) -> Running {
        let mut command = self.command(bin);
        command.args(args);
        self.spawn(command)
    }

    /// How every test runs `bin`: through a wrapper script that records the
    /// program's pid (so what it creates counts as the test's) and switches
    /// core dumps off, in [`Lab::tmpdir`], stdin closed, output collected.
    pub fn command(&self, bin: &str) -> Command {
        piped(Command::new(self.program(bin)), &self.tmpdir())
    }

    pub fn command_with_umask(&self, bin: &str, umask: u32) -> Command {
        let mut command = self.command(bin);
        command.env("SHM_LESSONS_TEST_UMASK", format!("{umask:04o}"));
        command
    }

    /// Start `command`, recording its pid as the test's (the wrapper
    /// records its own too, but a program run as nobody cannot).
    pub fn spawn(&self, mut command: Command) -> Running {
        let child = command.spawn();
        let child = child.unwrap_or_else(|e| panic!("cannot run {command:?}: {e}"));
        self.claims.borrow_mut().pids.insert(child.id() as i32);
        Running::new(child, format!("{:?}", command.get_program()))
    }

    /// `bin` run as user `nobody` (with at most `nproc` processes, if
    /// given), for the tests where two users meet. `None` unless this test
    /// runs as root with setpriv and prlimit (util-linux) installed.
    pub fn as_nobody(&self, bin: &str, nproc: Option<u64>) -> Option<Command> {
        if !Uid::effective().is_root() || !crate::has("setpriv") || !crate::has("prlimit") {
            return None;
        }
        self.claims.borrow_mut().uids.insert(NOBODY);
        let tmp = self.dir.join("tmp-nobody");
        if !tmp.exists() {
            std::fs::create_dir(&tmp).expect("nobody's TMPDIR");
            std::os::unix::fs::chown(&tmp, Some(NOBODY), Some(NOBODY)).expect("chown nobody");
        }
        let mut command = piped(Command::new("prlimit"), &tmp);
        if let Some(n) = nproc {
            command.arg(format!("--nproc={n}:{n}"));
        }
        let setpriv = "-- setpriv --reuid=nobody --regid=nogroup --clear-groups --";
        command.args(setpriv.split(' '));
        command.arg(self.wrapper(Path::new(bin), true));
        Some(command)
    }

    /// `bin` with so few processes left to this user that `fork` fails
    /// part-way through 100 children: as root, run as `nobody` with at most
    /// 8 processes (root ignores the limit); otherwise as this user, with
    /// the tasks it has now plus 8.
    pub fn with_few_processes(&self, bin: &str) -> Command {
        if let Some(command) = self.as_nobody(bin, Some(8)) {
            return command;
        }
        let limit = crate::probe::my_tasks() + 8;
        self.command_with_limits(bin, &[&format!("--nproc={limit}:{limit}")])
    }

    /// [`Lab::command`] under prlimit(1) limits such as `--as=20000000`,
    /// `--fsize=0`, `--nofile=8:8`. The wrapper applies them last, to the
    /// program alone (its own `echo $$ >> pids` needs a file and a
    /// descriptor).
    pub fn command_with_limits(&self, bin: &str, limits: &[&str]) -> Command {
        assert!(
            crate::has("prlimit"),
            "prlimit (util-linux) is needed to set resource limits"
        );
        let one_flag = |l: &&str| l.starts_with("--") && !l.contains(' ');
        assert!(limits.iter().all(one_flag), "{limits:?}");
        let mut command = self.command(bin);
        command.env("SHM_LESSONS_TEST_PRLIMIT", limits.join(" "));
        command
    }

    /// The wrapper script that runs `bin`, for a test's own shell.
    pub fn program(&self, bin: &str) -> PathBuf {
        self.wrapper(Path::new(bin), false)
    }

    /// The wrapper script for `bin`, made once per lab. For `nobody`, the
    /// binary is linked into this lab's directory first: target/ may sit in
    /// a home other users cannot enter.
    pub(crate) fn wrapper(&self, bin: &Path, for_nobody: bool) -> PathBuf {
        let key = (bin.to_owned(), for_nobody);
        if let Some(path) = self.wrappers.borrow().get(&key) {
            return path.clone();
        }
        let name = bin.file_name().expect("a program path").to_owned();
        let bin_dir = self.dir.join(if for_nobody { "bin-nobody" } else { "bin" });
        std::fs::create_dir_all(&bin_dir).expect("the lab's bin directory");
        // Only test-owned processes may append to the pid list; a program
        // run as nobody is recorded by `spawn` (its pid does not change
        // through prlimit, setpriv and this script: each execs the next).
        let (real, record) = if for_nobody {
            let copy = self.dir.join("real").join(&name);
            std::fs::create_dir_all(copy.parent().unwrap()).expect("the lab's real/ directory");
            // A hard link where it can be: no second copy of a 20 MiB binary
            // in the page cache, whose coming and going would move Cached
            // under another user's memory test.
            if std::fs::hard_link(bin, &copy).is_err() {
                std::fs::copy(bin, &copy).expect("copy the program for nobody");
            }
            (copy, String::new())
        } else {
            let pids = quote(&self.dir.join("pids"));
            (bin.to_owned(), format!("echo $$ >> {pids}\n"))
        };
        let script = format!(
            "#!/bin/sh\n\
             # testkit: runs {name:?} for one test (see testkit::lab::Lab::command).\n\
             {record}\
             ulimit -c 0\n\
             if [ -n \"${{SHM_LESSONS_TEST_CGROUP-}}\" ]; then\n  \
               echo $$ > \"$SHM_LESSONS_TEST_CGROUP/cgroup.procs\" || exit 125\n  \
               unset SHM_LESSONS_TEST_CGROUP\n\
             fi\n\
             if [ -n \"${{SHM_LESSONS_TEST_UMASK-}}\" ]; then\n  \
               umask \"$SHM_LESSONS_TEST_UMASK\"\n  \
               unset SHM_LESSONS_TEST_UMASK\n\
             fi\n\
             if [ -n \"${{SHM_LESSONS_TEST_PRLIMIT-}}\" ]; then\n  \
               limits=$SHM_LESSONS_TEST_PRLIMIT\n  \
               unset SHM_LESSONS_TEST_PRLIMIT\n  \
               exec prlimit $limits -- {real} \"$@\"\n\
             fi\n\
             exec {real} \"$@\"\n",
            real = quote(&real)
        );
        let path = bin_dir.join(&name);
        std::fs::write(&path, script).expect("write the wrapper");
        let copied = for_nobody.then_some(&real);
        for p in [&bin_dir, &path].into_iter().chain(copied) {
            chmod(p, 0o755);
        }
        self.wrappers.borrow_mut().insert(key, path.clone());
        path
    }

    /// Fail, after removing them, if objects this test created are still
    /// there, vm.nr_hugepages changed (a machine lab), or a file was left in
    /// [`Lab::tmpdir`].
    pub fn assert_clean(mut self) {
        self.checked = true;
        let left = self.leftovers();
        left.iter().for_each(Leftover::remove);
        let lines: Vec<String> = left.iter().map(Leftover::describe).collect();
        let left = lines.join("\n  ");
        assert!(lines.is_empty(), "left behind (now removed):\n  {left}");
    }

    /// What is new since the lab opened *and* this test's (rule 3).
    fn leftovers(&self) -> Vec<Leftover> {
        let pids = std::fs::read_to_string(self.dir.join("pids")).unwrap_or_default();
        let mut claims = self.claims.borrow_mut();
        let pids = pids.split_whitespace().flat_map(str::parse::<i32>);
        claims.pids.extend(pids);
        let (now, before) = (Snapshot::take(), &self.before);
        let mut left = Vec::new();
        for seg in now.segments.difference(&before.segments) {
            let by_us = claims.pids.contains(&seg.cpid);
            let our_key = seg.key != 0 && claims.keys.contains(&seg.key);
            if by_us || (our_key && claims.uids.contains(&seg.cuid)) {
                left.push(Leftover::Segment(seg.key, seg.id));
            }
        }
        for sem in now.semaphores.difference(&before.semaphores) {
            if claims.keys.contains(&sem.key) && claims.uids.contains(&sem.cuid) {
                left.push(Leftover::Semaphore(sem.key, sem.id));
            }
        }
        for entry in now.dev_shm.difference(&before.dev_shm) {
            if claims.names.contains(&entry.name) && claims.uids.contains(&entry.uid) {
                left.push(Leftover::DevShm(entry.name.clone()));
            }
        }
        if self.machine.is_some() && now.nr_hugepages != before.nr_hugepages {
            left.push(Leftover::HugePages(before.nr_hugepages, now.nr_hugepages));
        }
        for dir in [self.tmpdir(), self.dir.join("tmp-nobody")] {
            left.extend(crate::entries(&dir).map(|file| Leftover::File(file.path())));
        }
        left
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        // A test that panicked before its check: clean up quietly so the
        // next test starts from the same state; the panic already failed it.
        if !self.checked {
            self.leftovers().iter().for_each(Leftover::remove);
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// `command` with TMPDIR `tmpdir`, stdin closed, stdout and stderr piped.
fn piped(mut command: Command, tmpdir: &Path) -> Command {
    command.env("TMPDIR", tmpdir).stdin(Stdio::null());
    command.stdout(Stdio::piped()).stderr(Stdio::piped());
    command
}

fn chmod(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .unwrap_or_else(|e| panic!("chmod {mode:o} {}: {e}", path.display()));
}

/// This lab's directory: `$TMPDIR/TAG.N`, made fresh (never one that
/// exists, whoever's it is). Others may enter it (0755: `nobody` needs the
/// key file and the programs' copies) but not write to it; the programs'
/// TMPDIR inside is the owner's alone (0700).
fn private_dir(tag: &str) -> PathBuf {
    let temp = std::env::temp_dir();
    for n in 0..100 {
        let dir = temp.join(format!("{tag}.{n}"));
        match std::fs::create_dir(&dir) {
            Ok(()) => {
                chmod(&dir, 0o755);
                std::fs::create_dir(dir.join("tmp")).expect("the lab's TMPDIR");
                chmod(&dir.join("tmp"), 0o700);
                return dir;
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => panic!("cannot create a test directory in {}: {e}", temp.display()),
        }
    }
    panic!("100 test directories named {tag}.N exist already");
}

/// A path in single quotes for /bin/sh.
fn quote(path: &Path) -> String {
    let text = path.to_str().expect("a UTF-8 path");
    assert!(!text.contains('\''), "a path without quotes: {text}");
    format!("'{text}'")
}

/// Whose object holds a default, described, and whether it looks in use;
/// `None` if the default is free.
fn held_by(default: &Article) -> Option<(String, bool)> {
    match default {
        Article::Key(key) => {
            if let Some(seg) = sysvipc::segment_with_key(key.raw()) {
                let described = format!("a segment with key {key} ({})", seg.describe());
                return Some((described, seg.attached > 0));
            }
            let sets = sysvipc::semaphore_sets();
            let set = sets.iter().find(|set| set.key == key.raw())?;
            let (id, owner) = (set.id, user_name(set.uid));
            // A run's set lives as long as its segment: alone, it is stale.
            let described = format!("a semaphore set with key {key} (semid {id}, owner {owner})");
            Some((described, false))
        }
        Article::Name(name) => {
            let bare = name.trim_start_matches('/');
            let entries = [bare.to_owned(), format!("sem.{bare}")];
            entries.iter().find_map(|entry| {
                let path = Path::new("/dev/shm").join(entry);
                let meta = std::fs::symlink_metadata(&path).ok()?;
                let age = meta.modified().ok().and_then(|t| t.elapsed().ok());
                let recent = age.is_some_and(|age| age < Duration::from_secs(60));
                let owner = user_name(meta.uid());
                Some((format!("{} (owner {owner})", path.display()), recent))
            })
        }
    }
}

/// A key made for one lab, as the racing_xsi_shm flags that give it.
#[derive(Debug, Clone)]
pub struct LabKey {
    pub path: PathBuf,
    pub proj_id: i32,
    pub key: Key,
}

impl LabKey {
    /// `--path PATH --proj-id N`, then `rest`.
    pub fn with(&self, rest: &[&str]) -> Vec<String> {
        let path = self.path.to_str().expect("a UTF-8 path");
        let proj_id = self.proj_id.to_string();
        let head = ["--path", path, "--proj-id", &proj_id];
        head.iter().chain(rest).map(|s| s.to_string()).collect()
    }
}
