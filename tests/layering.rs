//! The runtime's layering, held against the source: no set of files under
//! `dal/src` imports each other in a loop, and only `backend/` itself reaches
//! into a backend's folder (the rest of the runtime dispatches once through
//! `backend/mod.rs`).
//!
//! The imports are read from the source text: every `use crate::...` tree
//! (and `super::` / `self::` paths, resolved from the file's module) and every
//! `crate::a::b` path written inline. A path is resolved to the longest module
//! prefix that is a file (`a/b.rs` or `a/b/mod.rs`). Unit-test files
//! (`tests.rs`) and `#[cfg(test)]` modules are not part of the runtime and are
//! left out.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

/// One source file: its module path (`["backend", "postgres", "codec"]`) and text.
struct SourceFile {
    module: Vec<String>,
    text: String,
}

fn source_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn collect(dir: &Path, root: &Path, out: &mut Vec<SourceFile>) {
    let mut entries: Vec<_> = fs::read_dir(dir)
        .expect("read a source folder")
        .map(|e| e.expect("a folder entry").path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            collect(&path, root, out);
            continue;
        }
        if path.extension().and_then(|e| e.to_str()) != Some("rs") {
            continue;
        }
        let name = path.file_stem().unwrap().to_str().unwrap().to_string();
        if name == "tests" {
            continue;
        }
        let rel = path.strip_prefix(root).unwrap();
        let mut module: Vec<String> = rel
            .parent()
            .map(|p| {
                p.components()
                    .map(|c| c.as_os_str().to_str().unwrap().to_string())
                    .collect()
            })
            .unwrap_or_default();
        if name != "mod" && name != "lib" {
            module.push(name);
        }
        let text = fs::read_to_string(&path).expect("read a source file");
        out.push(SourceFile {
            module,
            text: strip_test_modules(&strip_comments(&text)),
        });
    }
}

/// The text without `//` comments and string literals' contents, so that a
/// path named in a doc comment or a message is not taken for an import.
fn strip_comments(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        let mut kept = String::new();
        let mut in_string = false;
        let mut chars = line.chars().peekable();
        while let Some(c) = chars.next() {
            if in_string {
                if c == '\\' {
                    chars.next();
                } else if c == '"' {
                    in_string = false;
                    kept.push('"');
                }
                continue;
            }
            if c == '/' && chars.peek() == Some(&'/') {
                break;
            }
            if c == '"' {
                in_string = true;
            }
            kept.push(c);
        }
        out.push_str(&kept);
        out.push('\n');
    }
    out
}

/// The text with every `#[cfg(test)]` item (a test module, a test-only
/// import) cut out, braces counted.
fn strip_test_modules(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("#[cfg(test)]") {
        out.push_str(&rest[..at]);
        let after = &rest[at + "#[cfg(test)]".len()..];
        // the item ends at its `;` (a `use` or a `mod x;`) or its closing brace
        let semi = after.find(';');
        let brace = after.find('{');
        match (semi, brace) {
            (Some(s), Some(b)) if s < b => rest = &after[s + 1..],
            (_, Some(b)) => {
                let mut depth = 0usize;
                let mut end = after.len();
                for (i, c) in after[b..].char_indices() {
                    match c {
                        '{' => depth += 1,
                        '}' => {
                            depth -= 1;
                            if depth == 0 {
                                end = b + i + 1;
                                break;
                            }
                        }
                        _ => {}
                    }
                }
                rest = &after[end..];
            }
            (Some(s), None) => rest = &after[s + 1..],
            (None, None) => rest = "",
        }
    }
    out.push_str(rest);
    out
}

/// Expands a `use` tree (`a::{b, c::{d, e}}`) into its full paths.
fn expand_tree(prefix: &str, tree: &str, out: &mut Vec<String>) {
    let tree = tree.trim();
    if let Some(open) = tree.find('{') {
        let head = tree[..open].trim().trim_end_matches("::");
        let inner = &tree[open + 1..tree.rfind('}').unwrap_or(tree.len())];
        let base = join(prefix, head);
        let mut depth = 0usize;
        let mut start = 0;
        for (i, c) in inner.char_indices() {
            match c {
                '{' => depth += 1,
                '}' => depth -= 1,
                ',' if depth == 0 => {
                    expand_tree(&base, &inner[start..i], out);
                    start = i + 1;
                }
                _ => {}
            }
        }
        expand_tree(&base, &inner[start..], out);
    } else if !tree.is_empty() {
        let path = tree.split(" as ").next().unwrap().trim();
        out.push(join(prefix, path));
    }
}

fn join(prefix: &str, rest: &str) -> String {
    match (prefix.is_empty(), rest.is_empty()) {
        (true, _) => rest.to_string(),
        (_, true) => prefix.to_string(),
        _ => format!("{prefix}::{rest}"),
    }
}

/// Every module path this file names: `use` trees (`crate::`, `self::`,
/// `super::` and a child module's name) and inline `crate::` paths, made
/// absolute (segments after `crate`).
fn named_paths(file: &SourceFile, modules: &BTreeSet<Vec<String>>) -> Vec<Vec<String>> {
    let mut raw = Vec::new();
    let text = &file.text;
    let mut rest = text.as_str();
    while let Some((at, reexport)) = find_use(rest) {
        let after = &rest[at..];
        let end = after.find(';').unwrap_or(after.len());
        let body = after["use ".len()..end].replace(['\n', '\r'], " ");
        let mut tree = Vec::new();
        expand_tree("", &body, &mut tree);
        raw.extend(tree.into_iter().map(|path| (path, reexport)));
        rest = &after[end.min(after.len())..];
    }
    let mut paths = Vec::new();
    for (path, reexport) in raw {
        if reexport && names_a_child(&file.module, &path, modules) {
            // a module's face: re-exporting its own submodules' items is not
            // a dependency of the parent on the child
            continue;
        }
        if let Some(abs) = absolute(&file.module, &path) {
            paths.push(abs);
        } else {
            // `use child::Item` names a submodule of this file's module
            let mut child = file.module.clone();
            child.extend(path.split("::").map(|s| s.trim().to_string()));
            if modules.contains(&child[..=file.module.len()]) {
                paths.push(child);
            }
        }
    }
    // inline `crate::a::b` paths
    for (at, _) in text.match_indices("crate::") {
        let before = text[..at].chars().last();
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':') {
            continue;
        }
        let segs: Vec<String> = text[at + "crate::".len()..]
            .split("::")
            .map(|s| {
                s.chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect::<String>()
            })
            .take_while(|s| !s.is_empty())
            .collect();
        paths.push(segs);
    }
    paths
}

/// The position of the next `use` item (at a line start, after optional
/// visibility), and whether it is re-exported (`pub use`, `pub(crate) use`).
fn find_use(text: &str) -> Option<(usize, bool)> {
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let trimmed = line.trim_start();
        let lead = line.len() - trimmed.len();
        let mut t = trimmed;
        let mut skip = 0;
        for vis in ["pub(crate) ", "pub(super) ", "pub "] {
            if let Some(r) = t.strip_prefix(vis) {
                skip = vis.len();
                t = r;
                break;
            }
        }
        if t.starts_with("use ") {
            return Some((offset + lead + skip, skip > 0));
        }
        offset += line.len();
    }
    None
}

/// Whether `path`, written in `module`, names one of `module`'s submodules.
fn names_a_child(module: &[String], path: &str, modules: &BTreeSet<Vec<String>>) -> bool {
    let segs: Vec<String> = path.split("::").map(|s| s.trim().to_string()).collect();
    let child = match segs.first().map(String::as_str) {
        Some("self") => segs.get(1).cloned(),
        Some("crate") => {
            let rest = &segs[1..];
            (rest.len() > module.len() && rest[..module.len()] == *module)
                .then(|| rest[module.len()].clone())
        }
        Some("super") | None => None,
        Some(first) => Some(first.to_string()),
    };
    child.is_some_and(|c| {
        let mut m = module.to_vec();
        m.push(c);
        modules.contains(&m)
    })
}

/// A `use` path made absolute (segments after `crate`), or `None` for paths
/// into other crates.
fn absolute(module: &[String], path: &str) -> Option<Vec<String>> {
    let segs: Vec<&str> = path.split("::").map(str::trim).collect();
    let mut base: Vec<String> = match *segs.first()? {
        "crate" => Vec::new(),
        "self" | "super" => module.to_vec(),
        _ => return None,
    };
    let mut i = 0;
    if segs[0] == "crate" || segs[0] == "self" {
        i = 1;
    }
    while i < segs.len() && segs[i] == "super" {
        base.pop();
        i += 1;
    }
    base.extend(segs[i..].iter().map(|s| s.to_string()));
    Some(base)
}

/// The file a module path lands in: its longest prefix that is a file.
fn resolve(path: &[String], modules: &BTreeSet<Vec<String>>) -> Option<Vec<String>> {
    (1..=path.len())
        .rev()
        .map(|n| path[..n].to_vec())
        .find(|p| modules.contains(p))
}

fn graph() -> BTreeMap<Vec<String>, BTreeSet<Vec<String>>> {
    let root = source_root();
    let mut files = Vec::new();
    collect(&root, &root, &mut files);
    let modules: BTreeSet<Vec<String>> = files.iter().map(|f| f.module.clone()).collect();
    let mut edges = BTreeMap::new();
    for file in &files {
        let mut to = BTreeSet::new();
        for path in named_paths(file, &modules) {
            if let Some(target) = resolve(&path, &modules) {
                // a file naming its own submodule, or the crate root's
                // re-exports, is not an import between runtime files
                if target != file.module && !target.is_empty() {
                    to.insert(target);
                }
            }
        }
        edges.insert(file.module.clone(), to);
    }
    edges
}

/// Strongly connected components with more than one file (Tarjan).
fn loops(edges: &BTreeMap<Vec<String>, BTreeSet<Vec<String>>>) -> Vec<Vec<String>> {
    struct State<'a> {
        edges: &'a BTreeMap<Vec<String>, BTreeSet<Vec<String>>>,
        index: BTreeMap<&'a Vec<String>, usize>,
        low: BTreeMap<&'a Vec<String>, usize>,
        stack: Vec<&'a Vec<String>>,
        on_stack: BTreeSet<&'a Vec<String>>,
        next: usize,
        found: Vec<Vec<String>>,
    }
    fn visit<'a>(s: &mut State<'a>, v: &'a Vec<String>) {
        s.index.insert(v, s.next);
        s.low.insert(v, s.next);
        s.next += 1;
        s.stack.push(v);
        s.on_stack.insert(v);
        for w in &s.edges[v] {
            let Some((w, _)) = s.edges.get_key_value(w) else {
                continue;
            };
            if !s.index.contains_key(w) {
                visit(s, w);
                let lw = s.low[w];
                let lv = s.low.get_mut(v).unwrap();
                *lv = (*lv).min(lw);
            } else if s.on_stack.contains(w) {
                let iw = s.index[w];
                let lv = s.low.get_mut(v).unwrap();
                *lv = (*lv).min(iw);
            }
        }
        if s.low[v] == s.index[v] {
            let mut component = Vec::new();
            loop {
                let w = s.stack.pop().unwrap();
                s.on_stack.remove(w);
                component.push(display(w));
                if w == v {
                    break;
                }
            }
            if component.len() > 1 {
                component.sort();
                s.found.push(component);
            }
        }
    }
    let mut s = State {
        edges,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        next: 0,
        found: Vec::new(),
    };
    for v in edges.keys() {
        if !s.index.contains_key(v) {
            visit(&mut s, v);
        }
    }
    s.found
}

fn display(module: &[String]) -> String {
    if module.is_empty() {
        "lib".to_string()
    } else {
        module.join("/")
    }
}

#[test]
fn no_file_of_the_runtime_imports_itself_through_a_loop() {
    let edges = graph();
    assert!(
        edges.len() > 30,
        "the source tree was not read ({} files)",
        edges.len()
    );
    let found = loops(&edges);
    assert!(
        found.is_empty(),
        "files under dal/src import each other in a loop: {found:#?}"
    );
}

/// Crossings that remain, each with why; a new one fails the test, and one
/// that is gone must leave this list too.
const KNOWN_CROSSINGS: &[(&str, &str)] = &[
    (
        "codec -> backend/postgres/copy",
        "the argument buffer enum holds PostgreSQL's COPY rows as one of its forms",
    ),
    (
        "codec -> backend/postgres/args",
        "the argument buffer enum holds PostgreSQL's typed binary parameters as one of its forms",
    ),
    (
        "codec/array -> backend/postgres/args",
        "PostgreSQL arrays are written and read in the binary array format the PostgreSQL parameters file defines",
    ),
    (
        "codec/array -> backend/postgres/copy",
        "PostgreSQL arrays are encoded into COPY rows by the array codec",
    ),
    (
        "migrate/lock -> backend/mysql",
        "the migration lock protocol still picks each dialect's lock statements itself",
    ),
    (
        "migrate/lock -> backend/postgres",
        "the migration lock protocol still picks each dialect's lock statements itself",
    ),
    (
        "migrate/lock -> backend/sqlite",
        "the migration lock protocol still picks each dialect's lock statements itself",
    ),
];

#[test]
fn only_the_backend_reaches_into_a_backend_folder() {
    let edges = graph();
    let dialects = ["postgres", "mysql", "sqlite"];
    let mut crossings = Vec::new();
    for (from, to) in &edges {
        if from.first().map(String::as_str) == Some("backend") {
            continue;
        }
        for target in to {
            if target.len() >= 2 && target[0] == "backend" && dialects.contains(&target[1].as_str())
            {
                crossings.push(format!("{} -> {}", display(from), display(target)));
            }
        }
    }
    let known: Vec<&str> = KNOWN_CROSSINGS.iter().map(|(c, _)| *c).collect();
    let new: Vec<&String> = crossings
        .iter()
        .filter(|c| !known.contains(&c.as_str()))
        .collect();
    assert!(
        new.is_empty(),
        "generic runtime files reach into a backend's folder instead of going through backend/mod.rs: {new:#?}"
    );
    let gone: Vec<&&str> = known
        .iter()
        .filter(|k| !crossings.iter().any(|c| c == *k))
        .collect();
    assert!(
        gone.is_empty(),
        "these crossings are gone: take them off KNOWN_CROSSINGS: {gone:#?}"
    );
}

#[test]
fn the_reader_sees_a_loop_when_there_is_one() {
    // the checker itself: a loop made up here must be found
    let a = vec!["a".to_string()];
    let b = vec!["b".to_string()];
    let c = vec!["c".to_string()];
    let mut edges = BTreeMap::new();
    edges.insert(a.clone(), BTreeSet::from([b.clone()]));
    edges.insert(b.clone(), BTreeSet::from([a.clone(), c.clone()]));
    edges.insert(c.clone(), BTreeSet::new());
    assert_eq!(loops(&edges), vec![vec!["a".to_string(), "b".to_string()]]);

    let mut raw = Vec::new();
    expand_tree("", "crate::{x::{Y, z::W}, q as r}", &mut raw);
    assert_eq!(raw, ["crate::x::Y", "crate::x::z::W", "crate::q"]);
    let module = vec!["entity".to_string(), "ops".to_string()];
    assert_eq!(
        absolute(&module, "super::query::Find"),
        Some(vec!["entity".into(), "query".into(), "Find".into()])
    );
}
