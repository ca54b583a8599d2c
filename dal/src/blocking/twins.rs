//! The test that keeps the blocking facade complete: every public async method
//! of the types it mirrors has a blocking twin, and every blocking method has an
//! original, except the ones listed (with their reasons) below.
//!
//! It reads the crate's sources (every `.rs` file under `dal/src`, so a method
//! added in a new file is seen too), finds the `impl` and `trait` blocks of each
//! mirrored type and collects the methods that are `async fn` or return
//! `impl Future`. On the blocking side it collects the `pub fn`s of the files
//! of `dal/src/blocking/` and the entries of their `blocking_twins!` lists.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Async types mirrored by the facade, and how a method name of theirs maps to
/// the name of its twin on `blocking::Db` and `blocking::Transaction`.
/// (`Db`, `Transaction` and `Query` are compared with their own blocking type.)
/// `BelongsTo::load` and `HasOne::load` (lazy loads of one relation) are not
/// mirrored types: the blocking API loads relations eagerly (`all_with`) and
/// runs a lazy load with `block_on`, as `Db::all_with`'s example shows.
const ENTITY_SIDE: [(&str, &str, &str); 5] = [
    // (type, prefix, suffix): `Find::all` -> `all`, `FindWith::all` ->
    // `all_with`, `Select::all` -> `select_all`, `HasMany::save` -> `save_with_children`
    ("Entity", "", ""),
    ("Find", "", ""),
    ("FindWith", "", "_with"),
    ("Select", "select_", ""),
    ("HasMany", "", "_with_children"),
];

/// Async methods deliberately without a blocking twin: `(blocking type, twin
/// name that is missing, reason)`.
const NOT_MIRRORED: &[(&str, &str, &str)] = &[
    (
        "Transaction",
        "one_with",
        "never offered on blocking::Transaction (all_with/optional_with are); \
         adding it is an API change, out of scope for a restructure: use Transaction::block_on",
    ),
    (
        "Transaction",
        "ensure_schema",
        "Entity::ensure_schema takes a &Db: schema changes run on the pool, not in a transaction",
    ),
    (
        "Db",
        "get_tracked",
        "returns a Tracked<E> whose save is async; a blocking twin would need a blocking Tracked: \
         use Db::block_on",
    ),
    (
        "Transaction",
        "get_tracked",
        "returns a Tracked<E> whose save is async: use Transaction::block_on",
    ),
    (
        "Db",
        "all_tracked",
        "returns Tracked<E>s whose save is async: use Db::block_on",
    ),
    (
        "Transaction",
        "all_tracked",
        "returns Tracked<E>s whose save is async: use Transaction::block_on",
    ),
    (
        "Db",
        "get_as_of",
        "history reads as of an instant have no blocking twin (an API addition, not part of \
         this facade yet): use Db::block_on",
    ),
    (
        "Transaction",
        "get_as_of",
        "as for Db::get_as_of: use Transaction::block_on",
    ),
    (
        "Db",
        "load_for_with_children",
        "HasMany::load_for fills children of already loaded parents; the blocking API loads \
         eagerly (all_with) or runs it with Db::block_on",
    ),
    (
        "Transaction",
        "load_for_with_children",
        "as for Db: use all_with or Transaction::block_on",
    ),
];

/// Blocking methods with no async original of that name: `(type, name, reason)`.
const BLOCKING_ONLY: &[(&str, &str, &str)] = &[
    ("Db", "as_async", "the way back to the async handle"),
    ("Db", "block_on", "runs any async operation without a twin"),
    (
        "Transaction",
        "as_async",
        "the way back to the async transaction",
    ),
    (
        "Transaction",
        "block_on",
        "runs any async operation without a twin",
    ),
];

/// The source with comments, string and char literals blanked out (replaced by
/// spaces, keeping positions), so braces and `fn` inside them do not count.
fn code_only(src: &str) -> String {
    let b: Vec<char> = src.chars().collect();
    let mut out: Vec<char> = b.clone();
    let blank = |out: &mut Vec<char>, from: usize, to: usize| {
        for c in &mut out[from..to.min(b.len())] {
            if *c != '\n' {
                *c = ' ';
            }
        }
    };
    let ident = |c: char| c.is_alphanumeric() || c == '_';
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let next = b.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            let end = (i..b.len()).find(|&j| b[j] == '\n').unwrap_or(b.len());
            blank(&mut out, i, end);
            i = end;
        } else if c == '/' && next == Some('*') {
            let mut depth = 0;
            let mut j = i;
            while j < b.len() {
                if b[j] == '/' && b.get(j + 1) == Some(&'*') {
                    depth += 1;
                    j += 2;
                } else if b[j] == '*' && b.get(j + 1) == Some(&'/') {
                    depth -= 1;
                    j += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    j += 1;
                }
            }
            blank(&mut out, i, j);
            i = j;
        } else if c == 'r'
            && (i == 0 || !ident(b[i - 1]) || (b[i - 1] == 'b' && (i < 2 || !ident(b[i - 2]))))
            && matches!(next, Some('"' | '#'))
        {
            // a raw string r"..", r#".."#
            let hashes = (i + 1..b.len()).take_while(|&j| b[j] == '#').count();
            if b.get(i + 1 + hashes) != Some(&'"') {
                i += 1;
                continue;
            }
            let close: String = std::iter::once('"')
                .chain(std::iter::repeat_n('#', hashes))
                .collect();
            let body = i + 2 + hashes;
            let rest: String = b[body..].iter().collect();
            let end = rest
                .find(&close)
                .map_or(b.len(), |k| body + rest[..k].chars().count() + close.len());
            blank(&mut out, i, end);
            i = end;
        } else if c == '"' {
            let mut j = i + 1;
            while j < b.len() && b[j] != '"' {
                j += if b[j] == '\\' { 2 } else { 1 };
            }
            blank(&mut out, i, j + 1);
            i = j + 1;
        } else if c == '\'' {
            // a char literal ('x', '\n', '\u{..}'), else a lifetime
            if next == Some('\\') {
                let end = (i + 2..b.len()).find(|&j| b[j] == '\'').unwrap_or(b.len());
                blank(&mut out, i, end + 1);
                i = end + 1;
            } else if b.get(i + 2) == Some(&'\'') {
                blank(&mut out, i, i + 3);
                i += 3;
            } else {
                i += 1;
            }
        } else {
            i += 1;
        }
    }
    out.into_iter().collect()
}

/// The top-level items of cleaned source `code`: `(header, body)` for each
/// `{ .. }` block at depth 0 (header: the text since the previous item).
fn blocks(code: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut depth = 0usize;
    let mut item_start = 0;
    let mut body_start = 0;
    for (i, c) in code.char_indices() {
        match c {
            '{' => {
                if depth == 0 {
                    body_start = i + 1;
                }
                depth += 1;
            }
            '}' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    out.push((
                        code[item_start..body_start - 1].to_string(),
                        code[body_start..i].to_string(),
                    ));
                    item_start = i + 1;
                }
            }
            ';' if depth == 0 => item_start = i + 1,
            _ => {}
        }
    }
    out
}

/// The type an inherent `impl` or a `trait` header is about (`None` for trait
/// impls and other items).
fn subject(header: &str) -> Option<String> {
    let words: Vec<&str> = header.split_whitespace().collect();
    let mut text = words.join(" ");
    // drop the attributes (`#[..]`, brackets nested)
    while text.starts_with("#[") {
        let mut depth = 0;
        let end = text[1..]
            .char_indices()
            .find(|&(_, c)| {
                match c {
                    '[' => depth += 1,
                    ']' => depth -= 1,
                    _ => {}
                }
                depth == 0
            })
            .map_or(text.len(), |(k, _)| k + 2);
        text = text[end..].trim_start().to_string();
    }
    let text = text.as_str();
    let rest = if let Some(pos) = text.find("trait ") {
        if !text[..pos].trim().is_empty() && text[..pos].trim() != "pub" {
            return None;
        }
        &text[pos + "trait ".len()..]
    } else if let Some(pos) = text.find("impl") {
        let rest = &text[pos + "impl".len()..];
        if rest.contains(" for ") {
            return None;
        }
        // skip the impl's generics
        let rest = rest.trim_start();
        if let Some(stripped) = rest.strip_prefix('<') {
            let mut depth = 1;
            let end = stripped
                .char_indices()
                .find(|&(_, c)| {
                    match c {
                        '<' => depth += 1,
                        '>' => depth -= 1,
                        _ => {}
                    }
                    depth == 0
                })
                .map_or(stripped.len(), |(k, _)| k + 1);
            &stripped[end..]
        } else {
            rest
        }
    } else {
        return None;
    };
    let rest = rest.trim_start().trim_start_matches("crate::");
    let name: String = rest
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect();
    (!name.is_empty()).then_some(name)
}

/// One method as the reader sees it: `(name, is_async, is_pub)`.
type Method = (String, bool, bool);

/// Methods declared in an `impl`/`trait` body.
fn methods(body: &str, in_trait: bool) -> Vec<Method> {
    let mut out = Vec::new();
    let mut depth = 0usize;
    let mut start = 0;
    for (i, c) in body.char_indices() {
        let end_of_signature = match c {
            '{' => {
                depth += 1;
                depth == 1
            }
            '}' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    start = i + 1;
                }
                false
            }
            ';' if depth == 0 => true,
            _ => false,
        };
        if !end_of_signature {
            continue;
        }
        let sig = body[start..i]
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        if c == ';' {
            start = i + 1;
        }
        let Some(at) = sig.find("fn ") else { continue };
        if at > 0 && !sig[..at].ends_with(' ') {
            continue;
        }
        let name: String = sig[at + 3..]
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        let before = &sig[..at];
        let is_async = before.contains("async ") || sig.contains("Future<");
        let is_pub = in_trait || before.split(' ').any(|w| w == "pub");
        out.push((name, is_async, is_pub));
    }
    out
}

/// Every `.rs` file under `dir`.
fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read the source directory") {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Per mirrored type: its public methods, `name -> is_async`.
type Api = BTreeMap<String, BTreeMap<String, bool>>;

/// The public methods of the async types, read from `dal/src` (minus `blocking/`).
fn async_api(src: &Path) -> Api {
    let mut files = Vec::new();
    sources(src, &mut files);
    let mut api = Api::new();
    for file in files {
        if file.starts_with(src.join("blocking")) {
            continue;
        }
        let code = code_only(&std::fs::read_to_string(&file).expect("read a source file"));
        for (header, body) in blocks(&code) {
            let Some(ty) = subject(&header) else { continue };
            let in_trait = header.split_whitespace().any(|w| w == "trait");
            for (name, is_async, is_pub) in methods(&body, in_trait) {
                if is_pub && !name.starts_with("__") {
                    let known = api.entry(ty.clone()).or_default().entry(name).or_default();
                    *known |= is_async;
                }
            }
        }
    }
    api
}

/// The public methods of the blocking types, written out or listed in
/// `blocking_twins!` (whose entries are `fn name[..](..)` without `pub`), read
/// from every file of `dal/src/blocking/`.
fn blocking_api(dir: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let mut api: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut files = Vec::new();
    sources(dir, &mut files);
    for file in files {
        let code = code_only(&std::fs::read_to_string(&file).expect("read a source file"));
        for (header, body) in blocks(&code) {
            if header.contains("blocking_twins!") {
                // `Db(db) { entries }`: the type, then the entries one level down
                for (inner, entries) in blocks(&body) {
                    let ty: String = inner
                        .trim()
                        .chars()
                        .take_while(|c| c.is_alphanumeric())
                        .collect();
                    for (name, _, _) in methods(&entries, true) {
                        api.entry(ty.clone()).or_default().insert(name);
                    }
                }
            } else if let Some(ty) = subject(&header)
                && ["Db", "Transaction", "Query"].contains(&ty.as_str())
            {
                for (name, _, is_pub) in methods(&body, false) {
                    if is_pub {
                        api.entry(ty.clone()).or_default().insert(name);
                    }
                }
            }
        }
    }
    api
}

/// `(blocking type, twin name)` of every async method that needs a twin.
fn wanted_twins(api: &Api) -> BTreeSet<(String, String)> {
    let mut wanted = BTreeSet::new();
    let async_names = |ty: &str| -> Vec<String> {
        api.get(ty)
            .map(|m| {
                m.iter()
                    .filter(|(_, a)| **a)
                    .map(|(n, _)| n.clone())
                    .collect()
            })
            .unwrap_or_default()
    };
    for ty in ["Db", "Transaction", "Query"] {
        for name in async_names(ty) {
            wanted.insert((ty.to_string(), name));
        }
    }
    for (ty, prefix, suffix) in ENTITY_SIDE {
        for name in async_names(ty) {
            for on in ["Db", "Transaction"] {
                wanted.insert((on.to_string(), format!("{prefix}{name}{suffix}")));
            }
        }
    }
    wanted
}

/// `(blocking type, name)` pairs that have an original, async or not.
fn originals(api: &Api) -> BTreeSet<(String, String)> {
    let mut names = wanted_twins(api);
    for ty in ["Db", "Transaction", "Query"] {
        for name in api.get(ty).into_iter().flat_map(|m| m.keys()) {
            names.insert((ty.to_string(), name.clone()));
        }
    }
    names
}

fn pairs(list: &[(&str, &str, &str)]) -> BTreeSet<(String, String)> {
    list.iter()
        .map(|(ty, name, _)| (ty.to_string(), name.to_string()))
        .collect()
}

fn src_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// What is missing on each side: `(async methods without a twin, blocking
/// methods without an original)`, after the allow-lists.
fn mismatches(
    async_api: &Api,
    blocking: &BTreeMap<String, BTreeSet<String>>,
) -> (Vec<String>, Vec<String>) {
    let have: BTreeSet<(String, String)> = blocking
        .iter()
        .flat_map(|(ty, names)| names.iter().map(move |n| (ty.clone(), n.clone())))
        .collect();
    let not_mirrored = pairs(NOT_MIRRORED);
    let missing = wanted_twins(async_api)
        .into_iter()
        .filter(|p| !have.contains(p) && !not_mirrored.contains(p))
        .map(|(ty, n)| format!("blocking::{ty}::{n}"))
        .collect();
    let originals = originals(async_api);
    let blocking_only = pairs(BLOCKING_ONLY);
    let orphans = have
        .into_iter()
        .filter(|p| !originals.contains(p) && !blocking_only.contains(p))
        .map(|(ty, n)| format!("blocking::{ty}::{n}"))
        .collect();
    (missing, orphans)
}

#[test]
fn every_async_method_has_a_blocking_twin() {
    let async_api = async_api(&src_dir());
    // the reader must find the mirrored types, or the test proves nothing
    for (ty, at_least) in [
        ("Db", 20),
        ("Transaction", 10),
        ("Query", 7),
        ("Entity", 10),
        ("Find", 8),
    ] {
        let n = async_api
            .get(ty)
            .map_or(0, |m| m.values().filter(|a| **a).count());
        assert!(
            n >= at_least,
            "found {n} async methods of {ty}: {async_api:#?}"
        );
    }
    let blocking = blocking_api(&src_dir().join("blocking"));
    let (missing, orphans) = mismatches(&async_api, &blocking);
    assert!(
        missing.is_empty(),
        "async methods without a blocking twin (add one to the `blocking_twins!` list of \
         dal/src/blocking/, or to NOT_MIRRORED in twins.rs with the reason): {missing:#?}"
    );
    assert!(
        orphans.is_empty(),
        "blocking methods without an async original (or an entry in BLOCKING_ONLY): {orphans:#?}"
    );
}

#[test]
fn allow_lists_name_real_gaps() {
    // an entry that is mirrored after all, or names no async method, is stale
    let async_api = async_api(&src_dir());
    let blocking = blocking_api(&src_dir().join("blocking"));
    let wanted = wanted_twins(&async_api);
    for (ty, name, _) in NOT_MIRRORED {
        let pair = (ty.to_string(), name.to_string());
        assert!(
            wanted.contains(&pair),
            "NOT_MIRRORED lists {ty}::{name}, which no async method needs"
        );
        assert!(
            !blocking[*ty].contains(*name),
            "NOT_MIRRORED lists {ty}::{name}, which is mirrored"
        );
    }
}

#[test]
fn a_missing_twin_is_reported() {
    let async_api = async_api(&src_dir());
    let mut blocking = blocking_api(&src_dir().join("blocking"));
    assert!(mismatches(&async_api, &blocking).0.is_empty());
    blocking
        .get_mut("Transaction")
        .unwrap()
        .remove("fetch_scalar");
    blocking
        .get_mut("Db")
        .unwrap()
        .insert("fetch_everything".into());
    let (missing, orphans) = mismatches(&async_api, &blocking);
    assert_eq!(missing, ["blocking::Transaction::fetch_scalar"]);
    assert_eq!(orphans, ["blocking::Db::fetch_everything"]);
}

#[test]
fn the_reader_sees_through_strings_comments_and_generics() {
    let src = r##"
        // impl Db { pub async fn commented() {} }
        impl<'a> Query<'a> {
            /// docs with { braces
            pub async fn run(self) -> Result<()> { let _ = "}"; let _ = '{'; Ok(()) }
            pub fn later(&self) -> impl Future<Output = ()> + '_ { async {} }
            fn private(&self) {}
            pub fn plain(&self) -> &str { r#"{"# }
        }
        impl std::fmt::Debug for Query<'_> { fn fmt(&self) {} }
        pub trait Entity: Sized { fn save<'a>(&'a self) -> impl std::future::Future<Output = ()>; fn find() -> u8 { 1 } }
    "##;
    let code = code_only(src);
    let found: Vec<_> = blocks(&code)
        .into_iter()
        .map(|(h, b)| {
            let in_trait = h.contains("trait");
            (subject(&h), methods(&b, in_trait))
        })
        .collect();
    let s = |x: &str| x.to_string();
    assert_eq!(
        found,
        [
            (
                Some(s("Query")),
                vec![
                    (s("run"), true, true),
                    (s("later"), true, true),
                    (s("private"), false, false),
                    (s("plain"), false, true),
                ]
            ),
            (None, vec![(s("fmt"), false, false)]),
            (
                Some(s("Entity")),
                vec![(s("save"), true, true), (s("find"), false, true)]
            ),
        ]
    );
}
