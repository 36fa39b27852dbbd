//! The student's path stays one a student can walk: the chapters in the
//! article's order, each opening with a quick start, and the part a
//! student must read short enough for one sitting. Whatever a student may
//! skip goes below the chapter's "Deeper" mark. Words are counted as `wc
//! -w` counts them, code blocks included.

mod pages;

use pages::{ARTICLE_ORDER, CHINESE, EDITIONS, ENGLISH, read};

/// Most words of a program chapter above its "Deeper" mark, exercises
/// left out: about ten minutes of reading.
const CHAPTER_WORDS: usize = 1_800;

/// Most words of the whole path: the README, the six program chapters
/// above "Deeper" (exercises in), fixing-the-race.md and three-names.md
/// above theirs.
const PATH_WORDS: usize = 15_000;

/// The part of `text` above the `deeper` mark (all of it if there is none).
fn above<'t>(text: &'t str, deeper: &str) -> &'t str {
    text.find(&format!("\n{deeper}\n"))
        .map_or(text, |at| &text[..at])
}

/// `text` without the section under `heading`.
fn without_section(text: &str, heading: &str) -> String {
    let Some(start) = text.find(&format!("\n{heading}\n")) else {
        return text.to_owned();
    };
    let rest = &text[start + 1..];
    let end = rest[heading.len()..]
        .find("\n## ")
        .map_or(rest.len(), |at| at + heading.len() + 1);
    format!("{}{}", &text[..start + 1], &rest[end..])
}

fn words(text: &str) -> usize {
    text.split_whitespace().count()
}

#[test]
fn every_program_chapter_opens_with_a_quick_start_and_marks_its_depth() {
    let mut problems = Vec::new();
    for edition in EDITIONS {
        for chapter in ARTICLE_ORDER {
            let page = format!("{}/{chapter}", edition.docs);
            let text = read(&page);
            let first = text.lines().find(|l| l.starts_with("## "));
            if first != Some(edition.quick_start) {
                let start = edition.quick_start;
                problems.push(format!("{page}: the first section is not {start}"));
                continue;
            }
            if !text.contains(&format!("\n{}\n", edition.deeper)) {
                problems.push(format!("{page}: no {} mark", edition.deeper));
            }
            let quick = text.split(edition.quick_start).nth(1).unwrap_or_default();
            let quick = quick.split("\n## ").next().unwrap_or_default();
            let commands = quick.lines().filter(|l| l.starts_with("$ ")).count();
            let lines = quick.lines().count();
            if commands == 0 || commands > 3 || lines > 40 {
                problems.push(format!(
                    "{page}: the quick start has {commands} commands and {lines} lines (1 to 3, and one screen: 40)"
                ));
            }
        }
    }
    pages::assert_none(problems);
}

#[test]
fn each_chapter_above_deeper_is_one_sitting() {
    let mut problems = Vec::new();
    for chapter in ARTICLE_ORDER {
        let page = format!("{}/{chapter}", ENGLISH.docs);
        let text = read(&page);
        let read_part = without_section(above(&text, ENGLISH.deeper), ENGLISH.exercises);
        let n = words(&read_part);
        if n > CHAPTER_WORDS {
            problems.push(format!(
                "{page}: {n} words above {} (exercises left out); at most {CHAPTER_WORDS}",
                ENGLISH.deeper
            ));
        }
    }
    pages::assert_none(problems);
}

#[test]
fn the_whole_path_is_a_few_sittings() {
    let mut pages_on_path = vec![ENGLISH.readme.to_owned()];
    for chapter in ARTICLE_ORDER
        .iter()
        .chain(&["fixing-the-race.md", "three-names.md"])
    {
        pages_on_path.push(format!("{}/{chapter}", ENGLISH.docs));
    }
    let counts: Vec<(String, usize)> = pages_on_path
        .into_iter()
        .map(|page| {
            let n = words(above(&read(&page), ENGLISH.deeper));
            (page, n)
        })
        .collect();
    let total: usize = counts.iter().map(|(_, n)| n).sum();
    let most = format!("the student's path is {total} words, at most {PATH_WORDS}");
    assert!(total <= PATH_WORDS, "{most}: {counts:?}");
}

#[test]
fn the_chapters_are_listed_in_the_articles_order() {
    for page in [
        ENGLISH.readme,
        CHINESE.readme,
        "docs/README.md",
        "docs/zh/README.md",
    ] {
        let text = read(page);
        let mut seen: Vec<&str> = Vec::new();
        for link in text.lines().flat_map(pages::links) {
            let name = link.rsplit('/').next().unwrap_or(link);
            if let Some(chapter) = ARTICLE_ORDER.iter().find(|c| **c == name) {
                if !seen.contains(chapter) {
                    seen.push(chapter);
                }
            }
        }
        assert_eq!(seen, ARTICLE_ORDER, "{page}: the chapters' order");
    }
}
