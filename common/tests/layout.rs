//! The crate's layout keeps the promises `common/src/lib.rs` and
//! docs/architecture.md make. It reads the sources, so it is a little
//! coarse: it maps the `crate::…` and `super::…` paths outside comments
//! and `#[cfg(test)]` to the module files they name.

mod pages;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

type Module = Vec<String>;

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// The test kit's sources, held to the same rule.
fn testkit_src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../testkit/src")
}

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// `src/xsi/segment.rs` → [xsi, segment]; `src/xsi/mod.rs` → [xsi].
fn module_of(root: &Path, file: &Path) -> Module {
    let rel = file.strip_prefix(root).unwrap().with_extension("");
    let parts = rel.iter().map(|p| p.to_string_lossy().into_owned());
    let mut parts: Module = parts.collect();
    if matches!(parts.last().map(String::as_str), Some("mod" | "lib")) {
        parts.pop();
    }
    parts
}

/// The code of a file without its tests and comments.
fn code(file: &Path) -> String {
    let text = std::fs::read_to_string(file).unwrap();
    let text = text.split("#[cfg(test)]").next().unwrap();
    let lines = text.lines().map(|line| line.split("//").next().unwrap());
    lines.collect::<Vec<&str>>().join("\n")
}

/// Every `crate::a::b` or `super::a` path in `code`, as written.
fn paths(code: &str) -> Vec<(bool, Vec<String>)> {
    let mut found = Vec::new();
    for (at, _) in code.match_indices("::") {
        let before = &code[..at];
        let word_start = before.rfind(|c: char| !(c.is_alphanumeric() || c == '_'));
        let head = &before[word_start.map_or(0, |i| i + 1)..];
        if head != "crate" && head != "super" {
            continue;
        }
        let path = code[at + 2..].chars();
        let in_path = |c: &char| c.is_alphanumeric() || *c == '_' || *c == ':';
        let rest: String = path.take_while(in_path).collect();
        let parts = rest.split("::").filter(|p| !p.is_empty());
        let parts = parts.map(str::to_owned).collect();
        found.push((head == "crate", parts));
    }
    found
}

/// Which module file each module imports (not counting its own parent
/// folder's `mod.rs`, which declares it).
fn imports(root: &Path) -> BTreeMap<Module, BTreeSet<Module>> {
    let mut files = Vec::new();
    sources(root, &mut files);
    let modules: BTreeSet<Module> = files.iter().map(|f| module_of(root, f)).collect();
    let mut graph = BTreeMap::new();
    for file in &files {
        let me = module_of(root, file);
        let is_folder = matches!(
            file.file_stem().and_then(|s| s.to_str()),
            Some("mod" | "lib")
        );
        // `super` of a file is its folder; of a folder's mod.rs, the folder above.
        let mut folder = me.clone();
        if !is_folder || !folder.is_empty() {
            folder.pop();
        }
        let mut deps = BTreeSet::new();
        for (from_root, parts) in paths(&code(file)) {
            let mut path = if from_root {
                Vec::new()
            } else {
                folder.clone()
            };
            path.extend(parts);
            let prefixes = (1..=path.len()).rev().map(|n| path[..n].to_vec());
            let named = prefixes.into_iter().find(|prefix| modules.contains(prefix));
            if let Some(target) = named {
                let is_ancestor = target.len() < me.len() && me.starts_with(&target);
                if target != me && !is_ancestor {
                    deps.insert(target);
                }
            }
        }
        graph.insert(me, deps);
    }
    graph
}

/// What is left of `graph` once every module that imports nothing left is
/// taken away, again and again: empty, or the modules of a cycle.
fn cycle<T: Ord + Clone>(graph: &BTreeMap<T, BTreeSet<T>>) -> Vec<T> {
    let mut left = graph.clone();
    loop {
        let done = left
            .iter()
            .filter(|(_, deps)| deps.iter().all(|d| !left.contains_key(d)));
        let done: Vec<T> = done.map(|(m, _)| m.clone()).collect();
        if done.is_empty() {
            return left.into_keys().collect();
        }
        for m in done {
            left.remove(&m);
        }
    }
}

#[test]
fn imports_between_the_files_form_no_cycle() {
    for root in [src(), testkit_src()] {
        let graph = imports(&root);
        assert!(graph.len() > 10, "the sources were found: {graph:?}");
        let left = cycle(&graph);
        let left: Vec<String> = left.iter().map(|m| m.join("::")).collect();
        let root = root.display();
        assert!(left.is_empty(), "files of {root} in a cycle: {left:?}");
    }
}

/// The floors of `common`, from the ground up, as docs/architecture.md
/// maps them. A folder imports only from its own floor and the floors below.
const FLOORS: [(&str, u8); 11] = [
    ("error", 0),
    ("system", 0),
    ("terminal", 0),
    ("memory", 1),
    ("mmap", 1),
    ("xsi", 1),
    ("posix", 1),
    ("process", 1),
    ("race", 2),
    ("demo", 2),
    ("harness", 3),
];

fn floor(folder: &str) -> u8 {
    let found = FLOORS.iter().find(|(name, _)| *name == folder);
    found
        .unwrap_or_else(|| {
            panic!("common/src/{folder} is on no floor: add it to FLOORS and lib.rs")
        })
        .1
}

#[test]
fn imports_between_the_folders_go_down_the_floors_only() {
    let mut folders: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (module, deps) in imports(&src()) {
        let Some(me) = module.first() else { continue };
        let mine = folders.entry(me.clone()).or_default();
        for dep in deps.iter().filter_map(|d| d.first()).filter(|d| *d != me) {
            let module = module.join("::");
            assert!(floor(dep) <= floor(me), "{module} imports {dep} from above");
            mine.insert(dep.clone());
        }
    }
    assert_eq!(folders.len(), FLOORS.len(), "{folders:?}");
    let left = cycle(&folders);
    assert!(left.is_empty(), "folders in a cycle: {left:?}");
}

#[test]
fn no_file_reaches_a_sibling_through_the_programs_re_exports() {
    let lib = std::fs::read_to_string(src().join("lib.rs")).unwrap();
    let uses = lib.lines().filter_map(|l| l.strip_prefix("pub use "));
    let names = uses.map(|l| {
        l.rsplit("::")
            .next()
            .unwrap_or("")
            .trim_matches(|c| "{};".contains(c))
    });
    let reexported: Vec<String> = names
        .flat_map(|n| n.split(',').map(|n| n.trim().to_owned()))
        .collect();
    assert!(reexported.contains(&String::from("run")), "{reexported:?}");
    let mut files = Vec::new();
    sources(&src(), &mut files);
    for file in files {
        for (from_root, parts) in paths(&code(&file)) {
            if from_root && parts.len() == 1 {
                let (file, name) = (file.display(), &parts[0]);
                let own_module =
                    format!("{file} uses crate::{name}: import it from its own module");
                assert!(!reexported.contains(name), "{own_module}");
            }
        }
    }
}

/// The folders that explain failures, each in its own `explain.rs`.
const EXPLAINING: &[&str] = &[
    "terminal", "mmap", "xsi", "posix", "process", "race", "demo",
];

#[test]
fn every_hint_is_written_in_the_explain_file_of_its_folder() {
    for folder in EXPLAINING {
        let explain = src().join(folder).join("explain.rs");
        assert!(explain.is_file(), "{} is missing", explain.display());
    }
    let mut files = Vec::new();
    sources(&src(), &mut files);
    for file in files {
        // error.rs defines `hint`; xsi/key.rs explains ftok's failures
        // itself, because xsi/explain.rs builds on keys (see its header).
        let exempt = ["explain.rs", "error.rs", "key.rs"];
        let exempt = exempt.iter().any(|name| file.ends_with(name));
        let writes_hints = !exempt && code(&file).contains(".hint(");
        let file = file.display();
        assert!(!writes_hints, "{file} writes a hint: not in explain.rs");
    }
}

#[test]
fn every_common_file_the_docs_name_exists() {
    let root = pages::root();
    for page in pages::all_pages() {
        let text = pages::read(&page);
        let mut named = 0;
        for word in text.split('`') {
            if word.starts_with("common/src/") && word.ends_with(".rs") {
                assert!(root.join(word).is_file(), "{page} names {word}, not a file");
                named += 1;
            }
        }
        if page.ends_with("architecture.md") {
            assert!(named >= 20, "{page} maps concepts to {named} files");
        }
    }
}

#[test]
fn the_floors_the_map_shows_are_the_floors_the_code_keeps() {
    for edition in ["docs/architecture.md", "docs/zh/architecture.md"] {
        let text = pages::read(edition);
        let mut shown: Vec<(String, u8)> = Vec::new();
        for line in text.lines() {
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            let Some(floor) = cells.get(1).and_then(|c| c.parse::<u8>().ok()) else {
                continue;
            };
            for folder in cells[2].split('`').skip(1).step_by(2) {
                let name = folder.trim_end_matches('/').trim_end_matches(".rs");
                shown.push((name.to_owned(), floor));
            }
        }
        shown.sort();
        let mut kept: Vec<(String, u8)> = FLOORS.iter().map(|(n, f)| (n.to_string(), *f)).collect();
        kept.sort();
        assert_eq!(shown, kept, "{edition}'s floors table");
    }
}
