//! Checks on the workspace itself: every test file runs under `cargo test`.
//!
//! `dal/Cargo.toml` turns Cargo's test discovery off (`autotests = false`):
//! the integration tests live in the workspace's `tests/`, outside the
//! package, and are registered one by one as `[[test]]` targets. A file added
//! there without its `[[test]]` entry would never run, silently. These unit
//! tests (which cannot be left unregistered) ask Cargo for every package's
//! targets and fail when a test file is not one.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde_json::Value;

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("dal/ is inside the workspace")
        .to_path_buf()
}

/// `cargo metadata --no-deps` of the workspace.
fn metadata() -> Value {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = std::process::Command::new(cargo)
        .args([
            "metadata",
            "--no-deps",
            "--offline",
            "--format-version",
            "1",
        ])
        .arg("--manifest-path")
        .arg(workspace_root().join("Cargo.toml"))
        .output()
        .expect("run cargo metadata");
    assert!(
        out.status.success(),
        "cargo metadata failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("cargo metadata prints JSON")
}

/// The `*.rs` files directly in `dir` (none when it does not exist).
fn rust_files(dir: &Path) -> BTreeSet<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return BTreeSet::new();
    };
    entries
        .map(|e| e.expect("read a directory entry").path())
        .filter(|p| p.is_file() && p.extension().is_some_and(|x| x == "rs"))
        .map(|p| p.canonicalize().expect("canonical path"))
        .collect()
}

fn canonical(path: &str) -> PathBuf {
    Path::new(path)
        .canonicalize()
        .unwrap_or_else(|e| panic!("target source {path}: {e}"))
}

#[test]
fn every_test_file_is_a_test_target_that_cargo_test_runs() {
    let meta = metadata();
    let packages = meta["packages"].as_array().expect("packages");
    let mut test_targets = BTreeSet::new();
    let mut expected = rust_files(&workspace_root().join("tests"));
    assert!(
        expected.len() >= 7,
        "the workspace's tests/ holds the integration tests: {expected:?}"
    );
    for package in packages {
        let manifest = Path::new(package["manifest_path"].as_str().expect("manifest_path"));
        // a package's own tests/ directory (discovered unless autotests = false)
        expected.extend(rust_files(&manifest.parent().unwrap().join("tests")));
        for target in package["targets"].as_array().expect("targets") {
            let kinds: Vec<&str> = target["kind"]
                .as_array()
                .expect("kind")
                .iter()
                .filter_map(Value::as_str)
                .collect();
            if kinds.contains(&"test") {
                test_targets.insert(canonical(target["src_path"].as_str().expect("src_path")));
            }
        }
    }
    let missing: Vec<_> = expected.difference(&test_targets).collect();
    assert!(
        missing.is_empty(),
        "test files that no [[test]] target names (they would never run): {missing:?}"
    );
    // the shared modules are modules of the test crates, not test crates
    let root = workspace_root().canonicalize().unwrap();
    for module in ["tests/support", "tests/suite"] {
        let dir = root.join(module);
        assert!(dir.join("mod.rs").is_file(), "{module}/mod.rs");
        assert!(
            !test_targets.iter().any(|t| t.starts_with(&dir)),
            "{module} is registered as a test target"
        );
    }
    // `cargo test` at the root runs every member (no default-members leaving one out)
    let members: BTreeSet<&str> = meta["workspace_members"]
        .as_array()
        .expect("workspace_members")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    let default: BTreeSet<&str> = meta["workspace_default_members"]
        .as_array()
        .expect("workspace_default_members")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(default, members, "members `cargo test` would skip");
    let names: BTreeSet<&str> = packages.iter().filter_map(|p| p["name"].as_str()).collect();
    assert!(names.contains("dal-example-migrations"), "{names:?}");
}

#[test]
fn every_example_file_is_an_example_target() {
    let meta = metadata();
    let mut examples = BTreeSet::new();
    for package in meta["packages"].as_array().expect("packages") {
        for target in package["targets"].as_array().expect("targets") {
            if target["kind"]
                .as_array()
                .expect("kind")
                .iter()
                .any(|k| k == "example")
            {
                examples.insert(canonical(target["src_path"].as_str().expect("src_path")));
            }
        }
    }
    let files = rust_files(&workspace_root().join("examples"));
    let missing: Vec<_> = files.difference(&examples).collect();
    assert!(
        missing.is_empty(),
        "example files that no [[example]] target names: {missing:?}"
    );
}

/// CI must not run the UI suite with `TRYBUILD=overwrite` (or any other
/// value) inherited from the environment: that accepts whatever the compiler
/// prints.
#[test]
fn ci_clears_trybuild() {
    let ci = std::fs::read_to_string(workspace_root().join(".ci/run")).expect(".ci/run");
    let unset = ci.find("unset TRYBUILD").expect(".ci/run unsets TRYBUILD");
    let test = ci.find("\ncargo test").expect(".ci/run runs cargo test");
    assert!(unset < test, "TRYBUILD is unset before the tests run");
}
