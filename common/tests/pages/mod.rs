//! The README and the chapters, in both editions, as the doc tests read
//! them: which files there are, and their fenced blocks, headings and
//! links. Shared by `examples.rs`, `layout.rs` and `editions.rs` (each
//! test file is its own crate and uses a part, hence the `allow`).
#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// One language's README and chapters folder (from the repository's
/// root), and the words its tests look for: the exercises' heading, what
/// the sentence before a ```` ```text ```` block says (that it shows one
/// run) and how it says the block is the article's C program's output.
pub struct Edition {
    pub readme: &'static str,
    pub docs: &'static str,
    /// The first section of every program chapter, and the mark below
    /// which everything a student may skip goes.
    pub quick_start: &'static str,
    pub deeper: &'static str,
    pub exercises: &'static str,
    pub one_run: &'static str,
    pub articles_c: &'static str,
}

pub const ENGLISH: Edition = Edition {
    readme: "README.md",
    docs: "docs",
    quick_start: "## Quick start",
    deeper: "## Deeper",
    exercises: "## Exercises",
    one_run: "one run",
    articles_c: "the article's C",
};

pub const CHINESE: Edition = Edition {
    readme: "README.zh-CN.md",
    docs: "docs/zh",
    quick_start: "## 快速上手",
    deeper: "## 深入",
    exercises: "## 练习",
    one_run: "一次运行",
    articles_c: "原文的 C",
};

pub const EDITIONS: [&Edition; 2] = [&ENGLISH, &CHINESE];

/// The program chapters in the order the article introduces their
/// programs: the order a student reads them in.
pub const ARTICLE_ORDER: [&str; 6] = [
    "racing_mmap.md",
    "mmap_mem.md",
    "racing_xsi_shm.md",
    "xsi_shm_mem.md",
    "xsi_shm_mem_huge.md",
    "racing_posix_shm.md",
];

/// The Chinese edition's glossary: a page of its own, with no English
/// twin (the English chapters use the English terms it lists).
pub const GLOSSARY: &str = "术语.md";

pub fn root() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().unwrap().to_owned()
}

impl Edition {
    /// The chapters' file names, sorted (the glossary included).
    pub fn chapters(&self) -> Vec<String> {
        let dir = std::fs::read_dir(root().join(self.docs));
        let dir = dir
            .unwrap_or_else(|e| panic!("{}: {e}", self.docs))
            .flatten();
        let names = dir.map(|entry| entry.file_name().to_string_lossy().into_owned());
        let mut names: Vec<String> = names.filter(|name| name.ends_with(".md")).collect();
        names.sort();
        names
    }

    /// The README and every chapter, as paths from the repository's root.
    pub fn pages(&self) -> Vec<String> {
        let chapters = self.chapters().into_iter();
        let chapters = chapters.map(|name| format!("{}/{name}", self.docs));
        let readme = std::iter::once(self.readme.to_owned());
        readme.chain(chapters).collect()
    }
}

/// Every page of both editions, as paths from the repository's root.
pub fn all_pages() -> Vec<String> {
    EDITIONS.iter().flat_map(|e| e.pages()).collect()
}

pub fn read(page: &str) -> String {
    std::fs::read_to_string(root().join(page)).unwrap_or_else(|e| panic!("{page}: {e}"))
}

/// A fenced block: what follows its opening ```, its lines, and the
/// 1-based number of its opening line.
#[derive(Debug, PartialEq)]
pub struct Block {
    pub info: String,
    pub body: Vec<String>,
    pub line: usize,
}

/// The fenced blocks of a page, in order.
pub fn blocks(text: &str) -> Vec<Block> {
    let lines: Vec<&str> = text.lines().collect();
    let mut found = Vec::new();
    let mut at = 0;
    while at < lines.len() {
        if let Some(info) = lines[at].trim_start().strip_prefix("```") {
            let end = (at + 1..lines.len())
                .find(|&i| is_fence(lines[i]))
                .unwrap_or_else(|| panic!("line {}: an unclosed block", at + 1));
            let body = lines[at + 1..end].iter().map(|l| (*l).to_owned()).collect();
            let (info, line) = (info.trim().to_owned(), at + 1);
            found.push(Block { info, body, line });
            at = end + 1;
        } else {
            at += 1;
        }
    }
    found
}

/// Does this line open or close a fenced block? (A block inside a list
/// item is indented.)
pub fn is_fence(line: &str) -> bool {
    line.trim_start().starts_with("```")
}

/// The lines outside fenced blocks, with their 1-based numbers.
pub fn prose(text: &str) -> Vec<(usize, &str)> {
    let mut inside = false;
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if is_fence(line) {
            inside = !inside;
        } else if !inside {
            out.push((n + 1, line));
        }
    }
    out
}

/// The paragraph right before line `at` (0-based; blank lines between are
/// skipped): its lines, up to the blank one above it.
pub fn lead(lines: &[&str], mut at: usize) -> String {
    while at > 0 && lines[at - 1].trim().is_empty() {
        at -= 1;
    }
    let mut start = at;
    while start > 0 && !lines[start - 1].trim().is_empty() {
        start -= 1;
    }
    let lines: Vec<&str> = lines[start..at].iter().map(|l| l.trim()).collect();
    lines.join(" ")
}

/// The targets of the Markdown links on a line: `[text](target)`.
pub fn links(line: &str) -> Vec<&str> {
    let rests = line.split("](").skip(1);
    let targets = rests.filter_map(|rest| rest.split(')').next());
    targets.filter(|target| !target.contains(' ')).collect()
}

/// The numbered exercises of a chapter: the lines `N. **…` in the section
/// under `heading`.
pub fn exercises(text: &str, heading: &str) -> usize {
    let mut inside = false;
    let mut count = 0;
    for (_, line) in prose(text) {
        if line.starts_with("## ") {
            inside = line.trim_end() == heading;
        } else if inside {
            let digits = line.chars().take_while(char::is_ascii_digit).count();
            if digits > 0 && line[digits..].starts_with(". **") {
                count += 1;
            }
        }
    }
    count
}

/// What `check` finds wrong with each prose line of `pages`, each problem
/// as `page:line: problem`.
pub fn on_prose(pages: Vec<String>, check: impl Fn(&str) -> Vec<String>) -> Vec<String> {
    let mut problems = Vec::new();
    for page in pages {
        for (n, line) in prose(&read(&page)) {
            problems.extend(check(line).into_iter().map(|p| format!("{page}:{n}: {p}")));
        }
    }
    problems
}

/// No problems, or fail listing them all.
pub fn assert_none(problems: Vec<String>) {
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
