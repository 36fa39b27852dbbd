//! The docs chapters' transcripts, run as tests.

use std::path::Path;

use crate::cases::PROGRAMS;
use crate::lab::{Article, Lab};

/// Run the ```console transcripts of each chapter, in both [`EDITIONS`],
/// against the real program `name` at `bin` (with trycmd), under a
/// [`Lab::machine`] that must be left clean. The lab's copy of the program
/// is first in PATH, so `timeout -s INT 1 racing_xsi_shm …` shows a Ctrl-C.
/// A ```` ```console,root ```` block runs only as root; a block whose
/// first command names another program is left to that program's test. If
/// one of `defaults` (the article's key or name) is held by an object this
/// test may not touch, the chapters are not run, saying who holds it.
pub fn check_transcripts(name: &str, bin: &str, chapters: &[&str], defaults: &[Article]) {
    let lab = Lab::machine();
    for default in defaults {
        if let Err(holder) = lab.use_default(default) {
            crate::say(&format!(
                "not run: the transcripts of docs/{} (and their Chinese twins) use the article's \
                 default key or name, and {holder} holds it.\n  Only its owner or root may remove \
                 it; no other test needs it.",
                chapters.join(", docs/")
            ));
            lab.assert_clean();
            return;
        }
    }
    let root = crate::is_root();
    let wrapper = lab.wrapper(Path::new(bin), false);
    let bin_dir = wrapper.parent().expect("the lab's bin directory").display();
    let path = format!("{bin_dir}:{}", std::env::var("PATH").unwrap_or_default());
    let repository = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let pages = EDITIONS.map(|e| chapters.iter().map(move |c| (e, *c)));
    for (edition, chapter) in pages.into_iter().flatten() {
        let page = repository.join(edition).join(chapter);
        let text =
            std::fs::read_to_string(page).unwrap_or_else(|e| panic!("{edition}/{chapter}: {e}"));
        let (text, skipped) = for_this_user(&text, root, name);
        if skipped > 0 {
            crate::say(&format!(
                "skipped: needs root to run {skipped} transcript block(s) of {edition}/{chapter} (```console,root)"
            ));
        }
        // Same path under the lab, same file name, same line numbers:
        // trycmd's messages point at the right line of the real chapter.
        let copies = lab.path(edition);
        std::fs::create_dir_all(&copies).expect("a folder for the chapters");
        let copy = copies.join(chapter);
        std::fs::write(&copy, text).expect("write the chapter's copy");
        // trycmd runs a case in `NAME.in/`: a file a transcript creates
        // lands there, in the lab, never in the repository.
        let workdir = copy.with_extension("in");
        std::fs::create_dir_all(workdir).expect("the chapter's working directory");
        trycmd::TestCases::new()
            .timeout(crate::run::RUN_WAIT)
            .register_bin(name, &wrapper)
            .register_bin("timeout", Path::new("/usr/bin/timeout"))
            .env("TMPDIR", lab.tmpdir().to_str().expect("a UTF-8 path"))
            .env("PATH", &path)
            .case(&copy)
            .run();
    }
    lab.assert_clean();
}

/// The chapters' folders: the English edition and its Chinese twin.
pub const EDITIONS: [&str; 2] = ["docs", "docs/zh"];

/// The chapter as `name`'s test runs it (root blocks run or ignored, the
/// other programs' blocks ignored), and how many root blocks were ignored.
fn for_this_user(text: &str, root: bool, name: &str) -> (String, usize) {
    let mut skipped = 0;
    let source: Vec<&str> = text.lines().collect();
    let lines: Vec<String> = source
        .iter()
        .enumerate()
        .map(|(at, line)| {
            let fence = line.trim_end();
            if fence != "```console" && fence != "```console,root" {
                return (*line).to_owned();
            }
            let first = source[at + 1..].iter().find(|l| l.starts_with("$ "));
            let words: Vec<&str> = first.map_or(vec![], |l| l.split_whitespace().collect());
            let theirs = PROGRAMS
                .iter()
                .any(|p| p.name != name && words.contains(&p.name));
            if theirs {
                String::from("```console,ignore")
            } else if fence == "```console" || root {
                String::from("```console")
            } else {
                skipped += 1;
                String::from("```console,ignore")
            }
        })
        .collect();
    (lines.join("\n") + "\n", skipped)
}

#[cfg(test)]
mod tests {
    use super::for_this_user;
    use crate::output::{says, says_first};

    #[test]
    fn root_blocks_run_for_root_and_are_ignored_for_others() {
        let chapter = "a\n```console,root\n$ x\n```\n```console\n$ y\n```\n";
        let (as_root, skipped) = for_this_user(chapter, true, "x");
        assert_eq!(skipped, 0);
        assert_eq!(as_root, chapter.replace("console,root", "console"));
        let (as_user, skipped) = for_this_user(chapter, false, "x");
        assert_eq!(skipped, 1);
        assert_eq!(as_user, chapter.replace("console,root", "console,ignore"));
        assert_eq!(as_user.lines().count(), chapter.lines().count());
    }

    #[test]
    fn another_programs_blocks_are_left_to_its_own_test() {
        let chapter =
            "```console\n$ racing_mmap\n```\n```console\n$ timeout -s INT 1 racing_xsi_shm\n```\n";
        let (for_mmap, _) = for_this_user(chapter, false, "racing_mmap");
        let theirs_ignored = "```console\n$ racing_mmap\n```\n```console,ignore\n$ timeout -s INT 1 racing_xsi_shm\n```\n";
        assert_eq!(for_mmap, theirs_ignored);
        let (for_xsi, _) = for_this_user(chapter, false, "racing_xsi_shm");
        says_first(&for_xsi, "```console,ignore\n$ racing_mmap");
        says(&for_xsi, &["```console\n$ timeout"]);
    }
}
