//! Every program output the README and the chapters show is checked.
//!
//! A ```` ```console ```` block is a transcript that `cargo test` runs (each
//! program's `tests/docs.rs`). Anything else that shows output — another
//! terminal, a Ctrl-C, a timing, the article's C — is a ```` ```text ````
//! block, and the sentence that introduces it must say two things: that it
//! is an example from one run, and, when it shows our programs' output,
//! which test checks the same lines (`` `racing_xsi_shm/tests/faults.rs` ``,
//! `` `a_stale_…` ``). (Output of the article's C, said so in the same
//! sentence, is an example only: no test of ours can check it.) This test
//! holds the chapters to that, in both editions: the Chinese chapters say
//! 一次运行 and 原文的 C (see `pages::CHINESE`).

mod pages;

use pages::{EDITIONS, Edition, lead, root};

const PROGRAMS: [&str; 6] = [
    "racing_mmap",
    "racing_xsi_shm",
    "racing_posix_shm",
    "mmap_mem",
    "xsi_shm_mem",
    "xsi_shm_mem_huge",
];

/// Lines only our programs print.
const OURS: [&str; 11] = [
    "shm_p: ",
    "hint: ",
    "key 0x",
    "created /",
    "zeroed ",
    "--reserve: ",
    "mmap(NULL",
    "shmget(IPC_PRIVATE",
    "released (",
    "Holding ",
    "interrupted by ",
];

/// Does this block show what one of our programs printed?
fn shows_our_output(block: &[&str]) -> bool {
    block.iter().any(|line| {
        let line = line.trim_start_matches("^C");
        let command = line.strip_prefix("$ ").or_else(|| line.strip_prefix("# "));
        let runs_ours = command.is_some_and(|c| {
            c.split_whitespace().any(|w| {
                PROGRAMS
                    .iter()
                    .any(|p| w == *p || w.ends_with(&format!("/{p}")))
            })
        });
        let printed = PROGRAMS.iter().any(|p| line.starts_with(&format!("{p}: ")));
        runs_ours || printed || OURS.iter().any(|o| line.starts_with(o))
    })
}

/// The `path.rs` and `test_name` a lead names, if both are there.
fn named_test(lead: &str) -> Option<(String, String)> {
    let quoted: Vec<&str> = lead.split('`').skip(1).step_by(2).collect();
    // The test is named after its file (other identifiers, such as
    // `HugePages_Free`, may come before).
    let at = quoted.iter().position(|q| q.ends_with(".rs"))?;
    let file = &quoted[at];
    let test = quoted[at + 1..].iter().find(|q| {
        q.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') && q.contains('_') && q.len() > 12
    })?;
    Some(((*file).to_owned(), (*test).to_owned()))
}

#[test]
fn every_shown_output_is_tested_or_an_example_naming_its_test() {
    for edition in EDITIONS {
        shown_output_is_tested_or_an_example_naming_its_test(edition);
    }
}

fn shown_output_is_tested_or_an_example_naming_its_test(edition: &Edition) {
    let mut problems = Vec::new();
    let mut examples = 0;
    for name in edition.pages() {
        let text = pages::read(&name);
        let lines: Vec<&str> = text.lines().collect();
        let mut at = 0;
        while at < lines.len() {
            if lines[at].trim() != "```text" {
                at += 1;
                continue;
            }
            let end = (at + 1..lines.len())
                .find(|&i| pages::is_fence(lines[i]))
                .unwrap_or_else(|| panic!("{name}:{}: an unclosed block", at + 1));
            let block = &lines[at + 1..end];
            let lead = lead(&lines, at);
            examples += 1;
            if !lead.to_lowercase().contains(edition.one_run) {
                problems.push(format!(
                    "{name}:{}: a text block not introduced as an example from one run ({})",
                    at + 1,
                    edition.one_run
                ));
            } else if shows_our_output(block) && !lead.contains(edition.articles_c) {
                match named_test(&lead) {
                    None => problems.push(format!(
                        "{name}:{}: our output, but no `tests/….rs` and `test_name` checking it",
                        at + 1
                    )),
                    Some((file, test)) => {
                        let source =
                            std::fs::read_to_string(root().join(&file)).unwrap_or_default();
                        if !source.contains(&format!("fn {test}(")) {
                            problems.push(format!("{name}:{}: {file} has no test {test}", at + 1));
                        }
                    }
                }
            }
            at = end + 1;
        }
    }
    assert!(
        examples > 10,
        "the chapters of {} were read ({examples} examples)",
        edition.docs
    );
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// docs/answers.md has a row for every exercise of every chapter, and
/// every test it names exists where it says.
#[test]
fn the_answer_key_covers_every_exercise_and_names_real_tests() {
    for edition in EDITIONS {
        answer_key_covers_every_exercise_and_names_real_tests(edition);
    }
}

fn answer_key_covers_every_exercise_and_names_real_tests(edition: &Edition) {
    let key = format!("{}/answers.md", edition.docs);
    let answers = pages::read(&key);
    let mut checked = 0;
    for section in answers.split("\n## ").skip(1) {
        let chapter = section
            .split("](")
            .nth(1)
            .and_then(|rest| rest.split(')').next())
            .unwrap_or_else(|| panic!("no chapter link in: {section}"));
        let text = pages::read(&format!("{}/{chapter}", edition.docs));
        let exercises = pages::exercises(&text, edition.exercises);
        assert!(
            exercises > 0,
            "{}/{chapter} has no exercises under {}",
            edition.docs,
            edition.exercises
        );
        let rows: Vec<&str> = section
            .lines()
            .filter(|l| l.starts_with("| ") && !l.starts_with("| #"))
            .collect();
        assert_eq!(
            rows.len(),
            exercises,
            "{key}: a row per exercise of {chapter}"
        );
        for row in rows {
            let cells: Vec<&str> = row.split(" | ").collect();
            let by = cells.last().unwrap();
            let mut file = None;
            for quoted in by.split('`').skip(1).step_by(2) {
                if quoted.ends_with(".rs") {
                    file = Some(
                        std::fs::read_to_string(root().join(quoted))
                            .unwrap_or_else(|e| panic!("{key} names {quoted}: {e}")),
                    );
                } else if quoted.contains('_') && !quoted.contains(['/', '.', ' ', '-']) {
                    let source = file
                        .as_ref()
                        .unwrap_or_else(|| panic!("{key}: {quoted} without its file"));
                    assert!(
                        source.contains(&format!("fn {quoted}(")),
                        "{key} names a test {quoted} that its file lacks"
                    );
                    checked += 1;
                }
            }
        }
    }
    assert!(checked > 30, "{key} names the tests ({checked})");
}

/// Outside code, Markdown reads a backslash before punctuation as an
/// escape and drops it: "(Ctrl-\)" would show as "(Ctrl-)". Such text goes
/// in backticks. (`\|` is how a table cell holds a `|`, so it stays.)
#[test]
fn backslashes_outside_code_show_as_written() {
    let mut problems = Vec::new();
    for page in pages::all_pages() {
        for (n, line) in pages::prose(&pages::read(&page)) {
            for text in line.split('`').step_by(2) {
                let chars: Vec<char> = text.chars().collect();
                for pair in chars.windows(2) {
                    if pair[0] == '\\' && pair[1].is_ascii_punctuation() && pair[1] != '|' {
                        problems.push(format!(
                            "{page}:{n}: `\\{}` outside code shows as `{}`; put it in backticks",
                            pair[1], pair[1]
                        ));
                    }
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
