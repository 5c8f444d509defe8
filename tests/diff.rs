//! `mm-bindgen diff`: golden cases and a comparison against a git revision.
//!
//! Every directory under `tests/diff/` is a case: `old/` and `new/` proto
//! roots, and the expected Markdown (`expected.md`) and JSON
//! (`expected.json`) reports of `diff --against old` run on `new`. The exit
//! code must be 1 exactly when the JSON reports a breaking change.
//! `UPDATE_GOLDEN=1 cargo test --test diff` rewrites the expectations.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_mm-bindgen");
const ROOT: &str = "tests/diff";

fn diff(proto: &Path, against: &str, extra: &[&str]) -> Output {
    let mut args = vec!["--proto", proto.to_str().unwrap(), "diff", "--against", against];
    args.extend_from_slice(extra);
    Command::new(BIN).args(&args).output().expect("mm-bindgen runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).expect("UTF-8 output")
}

#[test]
fn golden_cases() {
    let update = std::env::var_os("UPDATE_GOLDEN").is_some_and(|v| v == "1");
    let mut cases: Vec<PathBuf> =
        fs::read_dir(ROOT).unwrap().map(|e| e.unwrap().path()).filter(|p| p.is_dir()).collect();
    cases.sort();
    assert!(cases.len() >= 20, "the diff cases are missing");
    let mut failures = Vec::new();
    for case in &cases {
        let against = case.join("old").display().to_string();
        let md = diff(&case.join("new"), &against, &[]);
        let json = diff(&case.join("new"), &against, &["--format", "json"]);
        let (md_text, json_text) = (text(&md.stdout), text(&json.stdout));
        let report: serde_json::Value = serde_json::from_str(&json_text)
            .unwrap_or_else(|e| panic!("{}: invalid JSON ({e}): {}", case.display(), text(&json.stderr)));
        let breaking = report["breaking"].as_bool().unwrap();
        for out in [&md, &json] {
            if out.status.code() != Some(if breaking { 1 } else { 0 }) {
                failures.push(format!("{}: exit {:?} with breaking={breaking}", case.display(), out.status.code()));
            }
        }
        let allowed = diff(&case.join("new"), &against, &["--allow-breaking"]);
        if allowed.status.code() != Some(0) {
            failures.push(format!("{}: --allow-breaking exits {:?}", case.display(), allowed.status.code()));
        }
        for (file, actual) in [("expected.md", &md_text), ("expected.json", &json_text)] {
            let path = case.join(file);
            if update {
                fs::write(&path, actual).unwrap();
            } else if fs::read_to_string(&path).ok().as_ref() != Some(actual) {
                failures.push(format!("{}: output differs:\n{actual}", path.display()));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The kinds of change the cases must cover, each by the case named after it.
#[test]
fn cases_cover_each_kind_of_change() {
    let expect = |case: &str, element: &str, kind: &str, aspect: &str, breaking: bool| {
        let json = fs::read_to_string(Path::new(ROOT).join(case).join("expected.json")).unwrap();
        let report: serde_json::Value = serde_json::from_str(&json).unwrap();
        let found = report["changes"].as_array().unwrap().iter().any(|c| {
            c["element"] == element && c["kind"] == kind && c["aspect"] == aspect && c["breaking"] == breaking
        });
        assert!(found, "{case}: no {kind} {element} {aspect} (breaking: {breaking}) in\n{json}");
    };
    expect("rpc_added", "rpc", "added", "", false);
    expect("rpc_removed", "rpc", "removed", "", true);
    expect("hook_fallback_changed", "hook", "changed", "unavailable", true);
    expect("hook_fallback_reason_changed", "hook", "changed", "unavailable.reason", false);
    expect("field_added", "field", "added", "", false);
    expect("field_removed", "field", "removed", "", true);
    expect("field_removed_reserved", "field", "removed", "", true);
    expect("field_retyped", "field", "changed", "type", true);
    expect("field_retyped", "field", "changed", "go_type", true);
    expect("field_renumbered", "field", "changed", "number", true);
    expect("field_renamed", "field", "changed", "name", true);
    expect("field_renamed", "rpc", "changed", "python_signature", true);
    expect("field_renamed", "rpc", "changed", "go_signature", false);
    expect("field_cardinality", "field", "changed", "cardinality", true);
    expect("converter_go_name", "field", "changed", "go_name", true);
    expect("message_go_type", "message", "changed", "go_type", true);
    expect("message_removed", "message", "removed", "", true);
    expect("enum_value_added", "enum_value", "added", "", false);
    expect("enum_value_removed", "enum_value", "removed", "", true);
    expect("enum_value_renamed", "enum_value", "changed", "name", true);
    expect("reserved_dropped", "message", "changed", "reserved", true);
    expect("min_server_version_raised", "rpc", "changed", "min_server_version", true);
    expect("deprecated_and_tags", "rpc", "changed", "deprecated", false);
    expect("deprecated_and_tags", "rpc", "changed", "tags", false);
    expect("streaming_changed", "rpc", "changed", "streaming", true);
    expect("go_import_changed", "go_import", "changed", "path", true);
    let none = fs::read_to_string(Path::new(ROOT).join("no_change/expected.json")).unwrap();
    assert!(none.contains("\"changes\": []"), "{none}");
}

fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git")
        .args(["-c", "user.name=test", "-c", "user.email=test@example.com", "-c", "commit.gpgsign=false"])
        .args(args)
        .current_dir(dir)
        .output()
        .expect("git runs");
    assert!(out.status.success(), "git {args:?}: {}", text(&out.stderr));
}

/// A scratch repository with the proto root in a subdirectory: the old tree
/// is read from an earlier commit, by branch name and by `HEAD~1`.
#[test]
fn against_a_git_revision() {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path();
    let proto = repo.join("api/proto");
    fs::create_dir_all(&proto).unwrap();
    fs::copy(Path::new(ROOT).join("rpc_added/old/shop.proto"), proto.join("shop.proto")).unwrap();
    git(repo, &["init", "-q", "-b", "main"]);
    git(repo, &["add", "."]);
    git(repo, &["commit", "-q", "-m", "old"]);
    git(repo, &["checkout", "-q", "-b", "feature"]);
    fs::copy(Path::new(ROOT).join("rpc_added/new/shop.proto"), proto.join("shop.proto")).unwrap();
    git(repo, &["commit", "-q", "-am", "new"]);

    let expected = fs::read_to_string(Path::new(ROOT).join("rpc_added/expected.json")).unwrap();
    let expected: serde_json::Value = serde_json::from_str(&expected).unwrap();
    for rev in ["main", "HEAD~1"] {
        let out = diff(&proto, rev, &["--format", "json"]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        let actual: serde_json::Value = serde_json::from_str(&text(&out.stdout)).unwrap();
        assert_eq!(actual["against"], rev);
        assert_eq!(actual["changes"], expected["changes"], "against {rev}");
    }
    // The working tree itself, uncommitted: against HEAD.
    let edited = fs::read_to_string(proto.join("shop.proto")).unwrap().replace("int64 price = 3;", "int64 price = 6;");
    fs::write(proto.join("shop.proto"), edited).unwrap();
    let out = diff(&proto, "HEAD", &[]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("| field `price` | changed `number` | `3` | `6` | **breaking** |"),
        "{}",
        text(&out.stdout)
    );

    // Bad input: not a revision, and a revision whose tree does not compile.
    let out = diff(&proto, "no-such-branch", &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("--against no-such-branch: neither a directory nor a git revision"),
        "{}",
        text(&out.stderr)
    );
    fs::write(proto.join("shop.proto"), "syntax = \"proto3\";\nmessage {\n").unwrap();
    git(repo, &["commit", "-q", "-am", "broken"]);
    fs::copy(Path::new(ROOT).join("rpc_added/new/shop.proto"), proto.join("shop.proto")).unwrap();
    let out = diff(&proto, "HEAD", &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("HEAD:api/proto/shop.proto:2:"), "{}", text(&out.stderr));
    assert!(out.stdout.is_empty());
}

#[test]
fn breaking_changes_become_annotations() {
    let case = Path::new(ROOT).join("field_retyped");
    let against = case.join("old").display().to_string();
    let out = diff(&case.join("new"), &against, &["--error-format", "github"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    let line = stderr.lines().find(|l| l.contains("field `price` changed type")).unwrap_or_else(|| panic!("{stderr}"));
    assert!(
        line.starts_with("::error file=tests/diff/field_retyped/new/shop.proto,line=64,title=breaking change"),
        "{line}"
    );
    let out = diff(&case.join("new"), &against, &["--error-format", "json"]);
    let first = text(&out.stderr).lines().next().unwrap().to_string();
    let v: serde_json::Value = serde_json::from_str(&first).unwrap();
    assert_eq!(v["file"], "tests/diff/field_retyped/new/shop.proto");
    assert_eq!(v["severity"], "error");
}
