//! Golden tests: every directory under `tests/golden/` is a case.
//!
//! A case has `input/` (a proto root) and `expected/`:
//! - for a case that should succeed, `expected/` holds the whole output tree
//!   of `mm-bindgen generate` plus `model.json` (the `list --json` output);
//! - for a case that should fail, `expected/` holds exactly `stderr.txt` and
//!   `exit_code`.
//!
//! A case may carry an `mm-bindgen.toml` beside `input/` (the `[go]` table,
//! say); the flags name the proto root and output directory. The Go of the
//! cases whose output has it is built, vetted and tested by
//! `tests/conformance/go/golden`.
//!
//! Missing, changed and extra expected files all fail. `UPDATE_GOLDEN=1
//! cargo test --test golden` rewrites the expectations instead (never set it
//! in CI).

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_mm-bindgen");
const ROOT: &str = "tests/golden";

#[test]
fn golden_cases() {
    let update = std::env::var_os("UPDATE_GOLDEN").is_some_and(|v| v == "1");
    let mut cases: Vec<PathBuf> =
        fs::read_dir(ROOT).expect("tests/golden exists").map(|e| e.unwrap().path()).filter(|p| p.is_dir()).collect();
    cases.sort();
    assert!(!cases.is_empty(), "no golden cases under {ROOT}");

    let mut failures = Vec::new();
    for case in &cases {
        let name = case.file_name().unwrap().to_string_lossy().into_owned();
        let actual = run_case(case);
        let expected_dir = case.join("expected");
        if update {
            let _ = fs::remove_dir_all(&expected_dir);
            for (path, bytes) in &actual {
                let p = expected_dir.join(path);
                fs::create_dir_all(p.parent().unwrap()).unwrap();
                fs::write(p, bytes).unwrap();
            }
            continue;
        }
        let expected = read_tree(&expected_dir);
        let problems = compare(&expected, &actual);
        if !problems.is_empty() {
            failures.push(format!("case {name}:\n  {}", problems.join("\n  ")));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} golden cases failed (UPDATE_GOLDEN=1 rewrites them):\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
    println!("{} golden cases passed", cases.len());
}

/// Runs `list --json` and `generate` on the case; returns the tree that
/// `expected/` should hold.
fn run_case(case: &Path) -> BTreeMap<String, Vec<u8>> {
    assert!(case.join("input").is_dir(), "{} has no input/ directory", case.display());
    let out = tempfile::tempdir().unwrap();
    // Run inside the case directory: only the case's own mm-bindgen.toml
    // applies there, and places in messages read `input/...`.
    let generate = Command::new(BIN)
        .current_dir(case)
        .args(["--proto", "input", "--out", out.path().to_str().unwrap(), "generate"])
        .output()
        .unwrap();
    let code = generate.status.code().expect("not killed by a signal");
    if code != 0 {
        assert!(
            fs::read_dir(out.path()).unwrap().next().is_none(),
            "{}: a failing run wrote into the output directory",
            case.display()
        );
        let mut tree = BTreeMap::new();
        tree.insert("stderr.txt".to_string(), generate.stderr);
        tree.insert("exit_code".to_string(), format!("{code}\n").into_bytes());
        return tree;
    }
    let mut tree = read_tree(out.path());
    let list = Command::new(BIN).current_dir(case).args(["--proto", "input", "list", "--json"]).output().unwrap();
    assert!(list.status.success(), "{}: list --json failed: {}", case.display(), String::from_utf8_lossy(&list.stderr));
    tree.insert("model.json".to_string(), list.stdout);
    tree
}

fn read_tree(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut tree = BTreeMap::new();
    if !dir.exists() {
        return tree;
    }
    for entry in walkdir::WalkDir::new(dir).sort_by_file_name() {
        let entry = entry.unwrap();
        if entry.file_type().is_file() {
            let rel = entry.path().strip_prefix(dir).unwrap();
            let key = rel.components().map(|c| c.as_os_str().to_string_lossy()).collect::<Vec<_>>().join("/");
            tree.insert(key, fs::read(entry.path()).unwrap());
        }
    }
    tree
}

fn compare(expected: &BTreeMap<String, Vec<u8>>, actual: &BTreeMap<String, Vec<u8>>) -> Vec<String> {
    let mut problems = Vec::new();
    for (path, bytes) in actual {
        match expected.get(path) {
            None => problems.push(format!("missing expected file {path}")),
            Some(want) if want != bytes => {
                let diff =
                    similar::TextDiff::from_lines(&*String::from_utf8_lossy(want), &*String::from_utf8_lossy(bytes))
                        .unified_diff()
                        .header(&format!("expected/{path}"), &format!("actual/{path}"))
                        .to_string();
                problems.push(format!("{path} differs:\n{diff}"));
            }
            Some(_) => {}
        }
    }
    for path in expected.keys().filter(|p| !actual.contains_key(*p)) {
        problems.push(format!("stale expected file {path} (not produced)"));
    }
    problems
}

#[test]
fn compare_reports_every_kind_of_difference() {
    let tree = |items: &[(&str, &str)]| -> BTreeMap<String, Vec<u8>> {
        items.iter().map(|(p, b)| (p.to_string(), b.as_bytes().to_vec())).collect()
    };
    let expected = tree(&[("same", "x\n"), ("changed", "old\n"), ("stale", "gone\n")]);
    let actual = tree(&[("same", "x\n"), ("changed", "new\n"), ("new", "fresh\n")]);
    let problems = compare(&expected, &actual);
    assert_eq!(problems.len(), 3, "{problems:?}");
    assert!(problems[0].starts_with("changed differs") && problems[0].contains("+new"));
    assert_eq!(problems[1], "missing expected file new");
    assert_eq!(problems[2], "stale expected file stale (not produced)");
    assert!(compare(&expected, &expected).is_empty());
}
