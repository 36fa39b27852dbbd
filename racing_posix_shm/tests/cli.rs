//! racing_posix_shm as a user runs it, with real objects in /dev/shm, each
//! test under a name of its own (`Lab::name`) unless the article's is the
//! point, so tests of several users at once never meet.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use testkit::cases::{assert_a_leftover_of_root_is_left_alone, lab_with_default};
use testkit::said::says_first;
use testkit::{Article, Lab, fails_without_result, me, says};

const BIN: &str = env!("CARGO_BIN_EXE_racing_posix_shm");
const NO_ARGS: [&str; 0] = [];

testkit::cases! { racing_posix_shm = BIN;
    refusals all, racing, posix;
    fn help_is_short_with_h_and_complete_with_help();
    fn every_lock_mode_gives_exactly_count();
    fn every_stopping_signal_under_every_lock_unlinks_the_object() = signals_under_every_lock;
    fn a_killed_semaphore_holder_is_named_by_the_waiters_and_nothing_hangs();
}

/// `--name NAME`
fn named(name: &str) -> Vec<String> {
    vec![String::from("--name"), name.to_owned()]
}

/// `/dev/shm/NAME` for a name with its leading slash.
fn file_of(name: &str) -> String {
    format!("/dev/shm{name}")
}

/// A file in /dev/shm as a crashed run would leave it; removed when dropped.
struct StaleFile(String);

impl StaleFile {
    fn new(path: String, content: &str) -> StaleFile {
        std::fs::write(&path, content).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        StaleFile(path)
    }
}

impl Drop for StaleFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// If another user's leftover holds /dev/shm/shm (a lab server), the
/// refusal is what is checked.
#[test]
fn with_no_arguments_it_runs_the_articles_experiment_and_unlinks_the_object() {
    let Some(lab) = lab_with_default(Lab::machine(), BIN, &Article::name(), &[]) else {
        return;
    };
    let (_, stderr) = testkit::race(&lab, BIN, &NO_ARGS, 100);
    says_first(&stderr, "created /shm as /dev/shm/shm\n");
    assert!(!Path::new("/dev/shm/shm").exists());
    lab.assert_clean();
}

#[test]
fn one_child_gives_exactly_one_and_the_articles_bare_name_works() {
    let lab = Lab::new();
    let name = lab.name();
    let bare = name.trim_start_matches('/');
    let (n, stderr) = testkit::race(&lab, BIN, &["--name", bare, "--count", "1"], 1);
    assert_eq!(n, 1);
    says_first(&stderr, &format!("created {name} as /dev/shm{name}\n"));
    lab.assert_clean();
}

/// Cell 7: a stale object under the name. This user's leftover of a run
/// (4 bytes, nothing uses it) may be removed, and the hint says how;
/// anything else at the name is not this program's to remove, and no
/// `rm` is offered. Both are left as they are.
#[test]
fn an_existing_object_is_reported_and_left_untouched() {
    let lab = Lab::new();
    for (content, rm) in [("\0\0\0\0", true), ("marker: do not truncate", false)] {
        let name = lab.name();
        let stale = StaleFile::new(file_of(&name), content);
        let stderr = fails_without_result(&lab.run(BIN, &named(&name)));
        let shm_open =
            "shm_open(\"{name}\", O_CREAT|O_EXCL|O_RDWR, 0600) failed: EEXIST (File exists)\n";
        let first = format!("racing_posix_shm: {}", shm_open.replace("{name}", &name));
        says_first(&stderr, &first);
        let (owner, size) = (me(), content.len());
        let exists =
            format!("/dev/shm{name} already exists (owner {owner}, mode 0600, {size} bytes");
        says(&stderr, &[exists, format!("--name {name}-2")]);
        let offers_rm = stderr.contains(&format!("Remove it with: rm /dev/shm{name}"));
        assert_eq!(offers_rm, rm, "{stderr}");
        let not_left = "not something this program left (it makes no object of\n      that size), so it is left alone.";
        if !rm {
            says(&stderr, &[not_left]);
        }
        // The article's O_TRUNC would have emptied it; O_EXCL leaves it be.
        assert_eq!(std::fs::read_to_string(file_of(&name)).unwrap(), content);
        drop(stale);
    }
    lab.assert_clean();
}

/// Root's file under the name, the program run as nobody: EEXIST, the
/// owner named, no `rm` suggested (it would fail for nobody).
#[test]
fn another_users_object_names_the_owner() {
    let lab = Lab::new();
    let name = lab.name();
    let says = [
        "(owner uid 0 (root), mode 0600, 6 bytes",
        "): uid 0 (root)'s, not yours; it is left alone.",
    ];
    let plant = || StaleFile::new(file_of(&name), "root's");
    let (args, rm) = (named(&name), "rm /dev/shm");
    let stale = assert_a_leftover_of_root_is_left_alone(&lab, BIN, &args, plant, &says, rm);
    if let Some(stale) = stale {
        assert_eq!(std::fs::read_to_string(file_of(&name)).unwrap(), "root's");
        drop(stale);
    }
    lab.assert_clean();
}
