//! The English and the Chinese edition stay in step: every page has its
//! twin (docs/zh/, README.zh-CN.md) with the same sections, exercises,
//! links and, byte for byte, code blocks, whose transcripts each program's
//! `tests/docs.rs` runs. An English change that forgets the Chinese side
//! fails here, naming the chapter. The Chinese edition is also held to
//! what a reader without English needs: its links stay in it, no English
//! sentence is left outside code, and its glossary's terms are used.

mod pages;

use pages::read;
use pages::{CHINESE, ENGLISH, GLOSSARY, assert_none, blocks, exercises, links, on_prose, prose};

/// What `check(en, zh, english, chinese)` finds wrong with each English
/// page and its Chinese twin (their paths and texts), README first: none,
/// or fail listing them all.
fn assert_twins(check: impl Fn(&str, &str, &str, &str) -> Vec<String>) {
    let chapters = ENGLISH.chapters().into_iter();
    let chapters = chapters.map(|name| (format!("docs/{name}"), format!("docs/zh/{name}")));
    let readmes = (ENGLISH.readme.to_owned(), CHINESE.readme.to_owned());
    let twins = std::iter::once(readmes).chain(chapters);
    let found = twins.flat_map(|(en, zh)| check(&en, &zh, &read(&en), &read(&zh)));
    assert_none(found.collect());
}

#[test]
fn every_chapter_has_its_twin_in_the_other_edition() {
    let english = ENGLISH.chapters();
    let mut chinese = CHINESE.chapters();
    chinese.retain(|name| name != GLOSSARY);
    let mut problems = Vec::new();
    let lonely = |name: &&String, of: &Vec<String>| !of.contains(name);
    for name in english.iter().filter(|n| lonely(n, &chinese)) {
        let twin = format!("docs/{name} has no Chinese twin: write docs/zh/{name}");
        problems.push(twin);
    }
    for name in chinese.iter().filter(|n| lonely(n, &english)) {
        let twin = format!("docs/zh/{name} has no English twin: write docs/{name}");
        problems.push(twin);
    }
    if !pages::root().join(CHINESE.readme).is_file() {
        problems.push(format!("{} is missing", CHINESE.readme));
    }
    let glossary = pages::root().join(CHINESE.docs).join(GLOSSARY);
    assert!(glossary.is_file(), "docs/zh/{GLOSSARY} is missing");
    assert_none(problems);
}

/// The command lines of a page's blocks: `$ …` anywhere, and `# …` (a
/// root prompt) in console blocks.
fn commands(text: &str) -> Vec<String> {
    blocks(text)
        .iter()
        .flat_map(|block| {
            let console = block.info.starts_with("console");
            block
                .body
                .iter()
                .filter(move |l| l.starts_with("$ ") || (console && l.starts_with("# ")))
                .cloned()
        })
        .collect()
}

#[test]
fn twins_run_the_same_commands_and_show_the_same_blocks() {
    assert_twins(|en, zh, english, chinese| {
        let mut problems = Vec::new();
        let (ours, theirs) = (commands(english), commands(chinese));
        if ours != theirs {
            for missing in ours.iter().filter(|c| !theirs.contains(c)) {
                problems.push(format!("{en} runs `{missing}`; {zh} does not"));
            }
            for extra in theirs.iter().filter(|c| !ours.contains(c)) {
                problems.push(format!("{zh} runs `{extra}`; {en} does not"));
            }
            let (mut a, mut b) = (ours.clone(), theirs.clone());
            a.sort();
            b.sort();
            if a == b {
                problems.push(format!("{en} and {zh} run their commands in another order"));
            }
            return problems;
        }
        let (ours, theirs) = (blocks(english), blocks(chinese));
        if ours.len() != theirs.len() {
            let (a, b) = (ours.len(), theirs.len());
            return vec![format!("{en} has {a} code blocks, {zh} has {b}")];
        }
        for (a, b) in ours.iter().zip(&theirs) {
            if a.info != b.info || a.body != b.body {
                let line = a.body.iter().zip(&b.body).find(|(x, y)| x != y);
                let differs = line.map(|(x, y)| format!("`{x}` / `{y}`"));
                let differs = differs.unwrap_or_else(|| format!("```{} / ```{}", a.info, b.info));
                problems.push(format!(
                    "{en}:{} and {zh}:{}: the block differs ({differs}); copy it byte for byte",
                    a.line, b.line
                ));
            }
        }
        problems
    });
}

/// The levels of a page's headings, in order: `#`, `##`, `###`.
fn heading_levels(text: &str) -> Vec<usize> {
    prose(text)
        .iter()
        .filter_map(|(_, line)| {
            let level = line.chars().take_while(|c| *c == '#').count();
            (level > 0 && line[level..].starts_with(' ')).then_some(level)
        })
        .collect()
}

#[test]
fn twins_have_the_same_sections_and_exercises() {
    assert_twins(|en, zh, english, chinese| {
        let mut problems = Vec::new();
        let (ours, theirs) = (heading_levels(english), heading_levels(chinese));
        if ours != theirs {
            problems.push(format!(
                "{en} and {zh} differ in their sections: heading levels {ours:?} against {theirs:?}"
            ));
        }
        let (ours, theirs) = (ENGLISH.exercises, CHINESE.exercises);
        let (a, b) = (exercises(english, ours), exercises(chinese, theirs));
        if a != b {
            problems.push(format!(
                "{en} has {a} exercises under {ours}, {zh} has {b} under {theirs}"
            ));
        }
        problems
    });
}

/// The backticked words of a row's last cell that name a test file or a
/// test function.
fn named_tests(row: &str) -> Vec<String> {
    let checked_by = row.trim_end_matches('|').rsplit(" | ").next().unwrap_or("");
    let quoted = checked_by.split('`').skip(1).step_by(2);
    let test = |q: &&str| q.ends_with(".rs") || (q.contains('_') && !q.contains([' ', '/', '-']));
    quoted.filter(test).map(str::to_owned).collect()
}

#[test]
fn the_answer_keys_name_the_same_tests_row_for_row() {
    let rows = |page: &str| -> Vec<String> {
        let text = read(page);
        let lines = prose(&text).into_iter().map(|(_, l)| l.to_owned());
        lines
            .filter(|l| l.starts_with("| ") && !l.starts_with("| #"))
            .collect()
    };
    let (en, zh) = ("docs/answers.md", "docs/zh/answers.md");
    let (ours, theirs) = (rows(en), rows(zh));
    assert_eq!(ours.len(), theirs.len(), "{en} and {zh}: rows");
    for (a, b) in ours.iter().zip(&theirs) {
        let other = format!("{zh} names other tests than {en} in this row:\n{b}\n{a}");
        assert_eq!(named_tests(a), named_tests(b), "{other}");
    }
}

/// The chapters a page links to, in order, by file name (the glossary and
/// the READMEs' links to each other left out).
fn chapter_links(text: &str) -> Vec<String> {
    let targets = prose(text).into_iter().flat_map(|(_, line)| links(line));
    let files = targets
        .filter(|t| !t.contains("://"))
        .map(|t| t.split('#').next().unwrap());
    let names = files
        .filter(|f| f.ends_with(".md"))
        .map(|f| f.rsplit('/').next().unwrap());
    let chapters = names.filter(|name| *name != GLOSSARY && !name.starts_with("README."));
    chapters.map(str::to_owned).collect()
}

#[test]
fn twins_link_the_same_chapters_in_the_same_order() {
    assert_twins(|en, zh, english, chinese| {
        let (ours, theirs) = (chapter_links(english), chapter_links(chinese));
        let differ = format!("{en} links {ours:?}\n{zh} links {theirs:?}\n");
        (ours != theirs).then_some(differ).into_iter().collect()
    });
}

#[test]
fn links_in_the_chinese_edition_stay_in_it() {
    let root = pages::root();
    let chinese_docs = root.join(CHINESE.docs);
    let mut problems = Vec::new();
    for page in CHINESE.pages() {
        let dir = root.join(&page).parent().unwrap().to_owned();
        for (n, line) in prose(&read(&page)) {
            for target in links(line) {
                if target.contains("://") || target.starts_with('#') {
                    continue;
                }
                let path = dir.join(target.split('#').next().unwrap());
                let Ok(path) = path.canonicalize() else {
                    problems.push(format!("{page}:{n}: {target} does not exist"));
                    continue;
                };
                let english_twin = page == CHINESE.readme && target == ENGLISH.readme;
                let chinese = path.starts_with(&chinese_docs) || path == root.join(CHINESE.readme);
                if target.ends_with(".md") && !chinese && !english_twin {
                    let english = format!("{target} is an English page; link its Chinese twin");
                    problems.push(format!("{page}:{n}: {english}"));
                }
            }
        }
    }
    // Each README offers the other in its first lines.
    let readmes = [ENGLISH.readme, CHINESE.readme];
    for (page, other) in [(readmes[0], readmes[1]), (readmes[1], readmes[0])] {
        let text = read(page);
        if !text.lines().take(5).any(|l| links(l).contains(&other)) {
            problems.push(format!("{page}: its first lines do not link {other}"));
        }
    }
    assert_none(problems);
}

/// Runs of five or more English words on a line, outside inline code,
/// link targets and addresses.
fn english_runs(line: &str) -> Vec<String> {
    let outside_code: String = line.split('`').step_by(2).collect::<Vec<_>>().join(" ");
    let mut text = String::new();
    let mut rest = outside_code.as_str();
    while let Some(at) = rest.find("](") {
        text.push_str(&rest[..at]);
        rest = rest[at..].split_once(')').map_or("", |(_, after)| after);
    }
    text.push_str(rest);
    let words = text.split_whitespace().filter(|w| !w.contains("://"));
    let text = words.collect::<Vec<_>>().join(" ");
    let mut runs = Vec::new();
    let mut words: Vec<String> = Vec::new();
    let mut word = String::new();
    let mut close = |words: &mut Vec<String>| {
        if words.len() >= 5 {
            runs.push(words.join(" "));
        }
        words.clear();
    };
    for c in text.chars() {
        if c.is_ascii_alphabetic() || (!word.is_empty() && matches!(c, '\'' | '’' | '-')) {
            word.push(c);
            continue;
        }
        if !word.is_empty() {
            words.push(std::mem::take(&mut word));
        }
        if !matches!(c, ' ' | ',' | ';' | ':') {
            close(&mut words);
        }
    }
    if !word.is_empty() {
        words.push(word);
    }
    close(&mut words);
    runs
}

#[test]
fn the_chinese_edition_leaves_no_english_sentence_outside_code() {
    let runs = english_runs("用 `a b c d e f` 看 [链接](x.md)，and so on, it is English");
    assert_eq!(runs, vec!["and so on it is English"]);
    assert!(english_runs("`a b c d e f` 和 https://a.b/c d e [链接](p/q r/s t/u v.md)").is_empty());
    assert_none(on_prose(CHINESE.pages(), |line| {
        let runs = english_runs(line).into_iter();
        runs.map(|run| format!("English outside code: {run}"))
            .collect()
    }));
}

#[test]
fn every_glossary_term_is_used_in_the_chinese_edition() {
    let glossary = read(&format!("{}/{GLOSSARY}", CHINESE.docs));
    let pages = CHINESE.pages();
    let chapters = pages.iter().filter(|p| !p.ends_with(GLOSSARY));
    let chapters: String = chapters.map(|p| read(p)).collect();
    let mut terms = 0;
    let mut problems = Vec::new();
    for (n, line) in prose(&glossary) {
        if !line.starts_with("| ") || line.starts_with("| 中文") {
            continue;
        }
        let cells: Vec<&str> = line.trim_matches('|').split(" | ").map(str::trim).collect();
        if cells.len() != 3 || cells.iter().any(|c| c.is_empty()) {
            let cells = "a term needs three cells: Chinese, English, what it names";
            problems.push(format!("{GLOSSARY}:{n}: {cells}"));
            continue;
        }
        let chinese = cells[0].split('（').next().unwrap();
        for term in chinese.split('、').map(str::trim) {
            terms += 1;
            if !chapters.contains(term) {
                let unused = format!("no Chinese chapter uses {term}; use it or drop it");
                problems.push(format!("{GLOSSARY}:{n}: {unused}"));
            }
        }
    }
    assert!(terms > 30, "the glossary was read ({terms} terms)");
    assert_none(problems);
}

/// Emphasis markers that CommonMark (and GitHub) would show as literal
/// asterisks. English puts spaces around emphasis; Chinese does not, and a
/// `**` that opens before punctuation (`看**“名字”**`, ``用**`code`**``) or
/// closes after it (`**标题。**然后`) next to a letter is no delimiter at
/// all. Returns each marker that cannot do its job.
fn broken_emphasis(line: &str) -> Vec<String> {
    // Code spans keep their backticks (punctuation, as far as the rule
    // goes) but lose their content, which may hold asterisks.
    let mut text = String::new();
    for (i, part) in line.split('`').enumerate() {
        if i > 0 {
            text.push('`');
        }
        text.push_str(if i % 2 == 1 { "x" } else { part });
    }
    let chars: Vec<char> = text.chars().collect();
    let punctuation = |c: Option<char>| {
        c.is_some_and(|c| {
            c.is_ascii_punctuation() || "。，、：；？！（）“”‘’《》「」【】—…·".contains(c)
        })
    };
    let space = |c: Option<char>| c.is_none_or(char::is_whitespace);
    // A list item's bullet is not emphasis.
    let start = if text.trim_start().starts_with("* ") {
        text.len() - text.trim_start().len() + 1
    } else {
        0
    };
    let mut broken = Vec::new();
    let mut open = [true, true]; // next `*` / `**` run opens
    let mut at = start;
    while at < chars.len() {
        if chars[at] != '*' {
            at += 1;
            continue;
        }
        let len = chars[at..].iter().take_while(|c| **c == '*').count();
        let before = at.checked_sub(1).map(|i| chars[i]);
        let after = chars.get(at + len).copied();
        let left = !space(after) && (!punctuation(after) || space(before) || punctuation(before));
        let right = !space(before) && (!punctuation(before) || space(after) || punctuation(after));
        let another = chars[at + len..]
            .windows(len + 2)
            .any(|w| w[0] != '*' && w[1..=len].iter().all(|c| *c == '*') && w[len + 1] != '*')
            || chars[at + len..].ends_with(&vec!['*'; len]);
        if len <= 2 && open[len - 1] && !left && !another {
            // A lone asterisk meant as itself (`HugePages_*`).
        } else if len <= 2 {
            let opens = &mut open[len - 1];
            let ok = if *opens { left } else { right };
            if !ok {
                let from = at.saturating_sub(6);
                let to = (at + len + 6).min(chars.len());
                broken.push(chars[from..to].iter().collect());
            }
            *opens = !*opens;
        }
        at += len;
    }
    broken
}

#[test]
fn the_chinese_editions_emphasis_shows_as_emphasis() {
    let fine = "**标题**。然后 *预期*得到 `a*b` **`code`** 后 HugePages_* 行";
    assert!(broken_emphasis(fine).is_empty());
    let quoted = broken_emphasis("看**“名字”**呢");
    assert_eq!(quoted, vec!["看**“名字”**", "**“名字”**呢"]);
    assert_eq!(broken_emphasis("**标题。**然后"), vec!["**标题。**然后"]);
    assert_none(on_prose(CHINESE.pages(), |line| {
        let markers = broken_emphasis(line).into_iter();
        let fix = "(move the punctuation outside, or put a space beside it)";
        markers
            .map(|m| format!("shown as asterisks, not emphasis: {m} {fix}"))
            .collect()
    }));
}

/// Is this character Chinese text or Chinese punctuation?
fn chinese(c: char) -> bool {
    matches!(c, '\u{3000}'..='\u{303f}' | '\u{4e00}'..='\u{9fff}' | '\u{ff00}'..='\u{ffef}')
        || "“”‘’—…".contains(c)
}

/// A Chinese paragraph is one line: a line break inside it, between two
/// Chinese characters, is shown by a browser as a space in the sentence.
#[test]
fn chinese_paragraphs_are_not_broken_between_characters() {
    let mut problems = Vec::new();
    for page in CHINESE.pages() {
        let text = read(&page);
        let lines = prose(&text);
        for pair in lines.windows(2) {
            let ((n, line), (m, next)) = (pair[0], pair[1]);
            let next = next.trim_start();
            let numbered = next.split_once(". ");
            let numbered = numbered.is_some_and(|(d, _)| d.chars().all(|c| c.is_ascii_digit()));
            let list_or_table = next.starts_with(['#', '|', '-', '*', '>']) || numbered;
            let continues = m == n + 1 && !next.is_empty() && !list_or_table;
            let ends = line.trim_end().chars().last().is_some_and(chinese);
            let starts = next.chars().next().is_some_and(chinese);
            if continues && ends && starts {
                let join = format!("join line {m} to it");
                problems.push(format!(
                    "{page}:{n}: the paragraph breaks between two characters; {join}"
                ));
            }
        }
    }
    assert_none(problems);
}
