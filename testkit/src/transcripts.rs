//! The docs chapters' transcripts, run as tests.

use std::path::Path;

use nix::unistd::Uid;

use crate::lab::{Article, Lab};

/// Run the ```console transcripts of each docs chapter against the real
/// program `name` at `bin` (with trycmd): if the program's output changes,
/// the chapter must change with it.
///
/// - They run under a [`Lab::machine`] (the memory chapters read
///   /proc/meminfo; the racing chapters use the article's default key and
///   name, listed in `defaults`), one chapter after the other, with the
///   lab's TMPDIR, and nothing may be left.
/// - A block fenced ```` ```console,root ```` shows what only root can do
///   (reserve huge pages): it runs when the tests run as root, and is
///   skipped, saying so, otherwise.
/// - If one of `defaults` is held by an object this test may not touch
///   (another user's leftover), the chapter cannot show the article's run:
///   it is not run, and a line says which object is in the way.
pub fn check_transcripts(name: &str, bin: &str, chapters: &[&str], defaults: &[Article]) {
    let lab = Lab::machine();
    for default in defaults {
        if let Err(holder) = lab.use_default(default) {
            crate::say(&format!(
                "not run: the transcripts of docs/{} use the article's default key or name, \
                 and {holder} holds it.\n  Only its owner or root may remove it; no other \
                 test needs it.",
                chapters.join(", docs/")
            ));
            lab.assert_clean();
            return;
        }
    }
    let docs = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs");
    let root = Uid::effective().is_root();
    let copies = lab.path("docs");
    std::fs::create_dir_all(&copies).expect("a folder for the chapters");
    let wrapper = lab.wrapper(Path::new(bin), false);
    for chapter in chapters {
        let text = std::fs::read_to_string(docs.join(chapter))
            .unwrap_or_else(|e| panic!("docs/{chapter}: {e}"));
        let (text, skipped) = for_this_user(&text, root);
        if skipped > 0 {
            crate::say(&format!(
                "skipped: needs root to run {skipped} transcript block(s) of docs/{chapter} (```console,root)"
            ));
        }
        // Same file name, same line numbers: trycmd's messages point at
        // the right line of the real chapter.
        let copy = copies.join(chapter);
        std::fs::write(&copy, text).expect("write the chapter's copy");
        trycmd::TestCases::new()
            .timeout(crate::run::RUN_WAIT)
            .register_bin(name, &wrapper)
            .env("TMPDIR", lab.tmpdir().to_str().expect("a UTF-8 path"))
            .case(&copy)
            .run();
    }
    lab.assert_clean();
}

/// The chapter with its ```` ```console,root ```` blocks turned into plain
/// console blocks (as root) or ignored ones (anyone else), and how many
/// were ignored.
fn for_this_user(text: &str, root: bool) -> (String, usize) {
    let mut skipped = 0;
    let lines: Vec<String> = text
        .lines()
        .map(|line| match line.trim_end() {
            "```console,root" if root => String::from("```console"),
            "```console,root" => {
                skipped += 1;
                String::from("```console,ignore")
            }
            _ => line.to_owned(),
        })
        .collect();
    (lines.join("\n") + "\n", skipped)
}

#[cfg(test)]
mod tests {
    use super::for_this_user;

    #[test]
    fn root_blocks_run_for_root_and_are_ignored_for_others() {
        let chapter = "a\n```console,root\n$ x\n```\n```console\n$ y\n```\n";
        let (as_root, skipped) = for_this_user(chapter, true);
        assert_eq!(skipped, 0);
        assert_eq!(as_root, chapter.replace("console,root", "console"));
        let (as_user, skipped) = for_this_user(chapter, false);
        assert_eq!(skipped, 1);
        assert_eq!(as_user, chapter.replace("console,root", "console,ignore"));
        assert_eq!(as_user.lines().count(), chapter.lines().count());
    }
}
