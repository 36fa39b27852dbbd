//! Every program output the README and the chapters show is checked: a
//! ```` ```console ```` block is a transcript each program's `tests/docs.rs`
//! runs; a ```` ```text ```` block (another terminal, a Ctrl-C, a timing)
//! must be introduced as an example from one run and, when it shows our
//! programs' output, name the test that checks the same lines
//! (`` `racing_xsi_shm/tests/faults.rs` `` `` `a_stale_…` ``). The article's
//! C output, said so, is an example only: no test of ours can check it.

mod pages;

use pages::{EDITIONS, Edition, lead, root};

const PROGRAMS: &str =
    "racing_mmap racing_xsi_shm racing_posix_shm mmap_mem xsi_shm_mem xsi_shm_mem_huge";

/// The starts of lines only our programs print.
const OURS: &[&str] = &[
    "shm_p: ",
    "hint: ",
    "key 0x",
    "created /",
    "zeroed ",
    "--reserve: ",
];
const MORE_OF_OURS: &[&str] = &["mmap(NULL", "shmget(IPC_PRIVATE", "released (", "Holding "];

/// Does this block show what one of our programs printed?
fn shows_our_output(block: &[String]) -> bool {
    block.iter().any(|line| {
        let line = line.trim_start_matches("^C");
        let command = line.strip_prefix("$ ").or_else(|| line.strip_prefix("# "));
        let ours = |w: &str| {
            PROGRAMS
                .split(' ')
                .any(|p| w == p || w.ends_with(&format!("/{p}")))
        };
        let runs_ours = command.is_some_and(|c| c.split_whitespace().any(ours));
        let printed = PROGRAMS
            .split(' ')
            .any(|p| line.starts_with(&format!("{p}: ")));
        let starts = [OURS, MORE_OF_OURS, &["interrupted by "]].concat();
        runs_ours || printed || starts.iter().any(|o| line.starts_with(o))
    })
}

/// The `path.rs` and `test_name` a lead names, if both are there.
fn named_test(lead: &str) -> Option<(String, String)> {
    let quoted: Vec<&str> = lead.split('`').skip(1).step_by(2).collect();
    // The test is named after its file (other identifiers, such as
    // `HugePages_Free`, may come before).
    let at = quoted.iter().position(|q| q.ends_with(".rs"))?;
    let file = &quoted[at];
    let name = |q: &&&str| q.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    let test = quoted[at + 1..]
        .iter()
        .find(|q| name(q) && q.contains('_') && q.len() > 12)?;
    Some(((*file).to_owned(), (*test).to_owned()))
}

#[test]
fn every_shown_output_is_tested_or_an_example_naming_its_test() {
    EDITIONS
        .into_iter()
        .for_each(shown_output_is_tested_or_an_example_naming_its_test);
}

fn shown_output_is_tested_or_an_example_naming_its_test(edition: &Edition) {
    let mut problems = Vec::new();
    let mut examples = 0;
    for name in edition.pages() {
        let text = pages::read(&name);
        let lines: Vec<&str> = text.lines().collect();
        for block in pages::blocks(&text)
            .into_iter()
            .filter(|b| b.info == "text")
        {
            let lead = lead(&lines, block.line - 1);
            examples += 1;
            let here = format!("{name}:{}", block.line);
            if !lead.to_lowercase().contains(edition.one_run) {
                let one_run = edition.one_run;
                problems.push(format!(
                    "{here}: a text block not introduced as an example from one run ({one_run})"
                ));
            } else if shows_our_output(&block.body) && !lead.contains(edition.articles_c) {
                match named_test(&lead) {
                    None => problems.push(format!(
                        "{here}: our output, but no `tests/….rs` and `test_name` checking it"
                    )),
                    Some((file, test)) => {
                        let source = std::fs::read_to_string(root().join(&file));
                        if !source.unwrap_or_default().contains(&format!("fn {test}(")) {
                            problems.push(format!("{here}: {file} has no test {test}"));
                        }
                    }
                }
            }
        }
    }
    let docs = edition.docs;
    assert!(examples > 10, "{docs}: only {examples} examples read");
    pages::assert_none(problems);
}

/// docs/answers.md has a row for every exercise of every chapter, and
/// every test it names exists where it says.
#[test]
fn the_answer_key_covers_every_exercise_and_names_real_tests() {
    EDITIONS
        .into_iter()
        .for_each(answer_key_covers_every_exercise_and_names_real_tests);
}

fn answer_key_covers_every_exercise_and_names_real_tests(edition: &Edition) {
    let key = format!("{}/answers.md", edition.docs);
    let answers = pages::read(&key);
    let mut checked = 0;
    for section in answers.split("\n## ").skip(1) {
        let link = section.split("](").nth(1);
        let link = link.and_then(|rest| rest.split(')').next());
        let chapter = link.unwrap_or_else(|| panic!("no chapter link in: {section}"));
        let (docs, heading) = (edition.docs, edition.exercises);
        let exercises = pages::exercises(&pages::read(&format!("{docs}/{chapter}")), heading);
        assert!(exercises > 0, "{docs}/{chapter}: none under {heading}");
        let row = |l: &&str| l.starts_with("| ") && !l.starts_with("| #");
        let rows: Vec<&str> = section.lines().filter(row).collect();
        assert_eq!(
            rows.len(),
            exercises,
            "{key}: a row per exercise of {chapter}"
        );
        for row in rows {
            let by = row.split(" | ").last().unwrap();
            let mut file = None;
            for quoted in by.split('`').skip(1).step_by(2) {
                if quoted.ends_with(".rs") {
                    let source = std::fs::read_to_string(root().join(quoted));
                    file = Some(source.unwrap_or_else(|e| panic!("{key} names {quoted}: {e}")));
                } else if quoted.contains('_') && !quoted.contains(['/', '.', ' ', '-']) {
                    let source = file.as_ref();
                    let source =
                        source.unwrap_or_else(|| panic!("{key}: {quoted} without its file"));
                    let lacks = format!("{key} names a test {quoted} that its file lacks");
                    assert!(source.contains(&format!("fn {quoted}(")), "{lacks}");
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
    pages::assert_none(pages::on_prose(pages::all_pages(), |line| {
        let mut escaped = Vec::new();
        for text in line.split('`').step_by(2) {
            let chars: Vec<char> = text.chars().collect();
            let pairs = chars.windows(2).filter(|p| p[0] == '\\' && p[1] != '|');
            escaped.extend(pairs.map(|p| p[1]).filter(char::is_ascii_punctuation));
        }
        let shows = |c| format!("`\\{c}` outside code shows as `{c}`; put it in backticks");
        escaped.into_iter().map(shows).collect()
    }));
}
