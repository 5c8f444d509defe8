//! The command line's promises about the output directory, exercised on a
//! scratch copy of the real `proto/` tree: check's exit codes and reports,
//! ownership, determinism, and nothing written on bad input.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_mm-bindgen");

fn run(args: &[&str]) -> Output {
    Command::new(BIN).args(args).output().expect("mm-bindgen runs")
}

fn run_in(proto: &Path, out: &Path, command: &str) -> Output {
    run(&["--proto", proto.to_str().unwrap(), "--out", out.to_str().unwrap(), command])
}

fn copy_tree(from: &Path, to: &Path) {
    for entry in walkdir::WalkDir::new(from) {
        let entry = entry.unwrap();
        let target = to.join(entry.path().strip_prefix(from).unwrap());
        if entry.file_type().is_dir() {
            fs::create_dir_all(&target).unwrap();
        } else {
            fs::copy(entry.path(), &target).unwrap();
        }
    }
}

fn snapshot(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    walkdir::WalkDir::new(dir)
        .into_iter()
        .map(|e| e.unwrap())
        .filter(|e| e.file_type().is_file())
        .map(|e| (e.path().strip_prefix(dir).unwrap().display().to_string(), fs::read(e.path()).unwrap()))
        .collect()
}

/// A scratch copy of `proto/` with a freshly generated output directory.
fn scratch() -> (tempfile::TempDir, std::path::PathBuf, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let proto = dir.path().join("proto");
    let out = dir.path().join("generated");
    copy_tree(Path::new("proto"), &proto);
    let g = run_in(&proto, &out, "generate");
    assert!(g.status.success(), "{}", String::from_utf8_lossy(&g.stderr));
    (dir, proto, out)
}

#[test]
fn committed_tree_is_up_to_date() {
    let c = run(&["check"]);
    assert_eq!(
        c.status.code(),
        Some(0),
        "generated/ is stale; run `mm-bindgen generate`:\n{}",
        String::from_utf8_lossy(&c.stdout)
    );
}

#[test]
fn check_reports_a_changed_comment_and_names_the_file() {
    let (_dir, proto, out) = scratch();
    assert_eq!(run_in(&proto, &out, "check").status.code(), Some(0));
    // Edit the comment of the first RPC found.
    let (file, text) = walkdir::WalkDir::new(&proto)
        .sort_by_file_name()
        .into_iter()
        .map(|e| e.unwrap().into_path())
        .filter(|p| p.extension().is_some_and(|x| x == "proto"))
        .map(|p| {
            let t = fs::read_to_string(&p).unwrap();
            (p, t)
        })
        .find(|(_, t)| t.contains("\n  rpc "))
        .expect("the proto root has an RPC");
    let rpc = text.find("\n  rpc ").unwrap();
    let comment_end = text[..rpc].rfind('\n').map(|i| i + 1).unwrap();
    assert!(text[comment_end..rpc].trim_start().starts_with("//"), "the first RPC has a comment");
    fs::write(&file, format!("{} (edited){}", &text[..rpc], &text[rpc..])).unwrap();
    let c = run_in(&proto, &out, "check");
    let stdout = String::from_utf8_lossy(&c.stdout);
    assert_eq!(c.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("changed: docs/"), "summary names the file:\n{stdout}");
    assert!(stdout.contains("+++ b/docs/"), "a unified diff is printed:\n{stdout}");
    assert_eq!(snapshot(&out), snapshot(&out), "check writes nothing");
}

#[test]
fn stale_owned_files_fail_check_and_are_deleted_while_foreign_files_survive() {
    let (_dir, proto, out) = scratch();
    let marker = mm_bindgen::lower::GENERATED_MARKER;
    fs::write(out.join("docs/old-service.md"), format!("<!-- {marker} -->\nold\n")).unwrap();
    fs::write(out.join("docs/NOTES.md"), "hand-written notes\n").unwrap();
    let c = run_in(&proto, &out, "check");
    let stdout = String::from_utf8_lossy(&c.stdout);
    assert_eq!(c.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("stale:   docs/old-service.md"), "{stdout}");
    assert!(!stdout.contains("NOTES.md"), "a file without the marker is not ours:\n{stdout}");

    assert!(run_in(&proto, &out, "generate").status.success());
    assert!(!out.join("docs/old-service.md").exists(), "stale owned file deleted");
    assert_eq!(fs::read_to_string(out.join("docs/NOTES.md")).unwrap(), "hand-written notes\n");
    assert_eq!(run_in(&proto, &out, "check").status.code(), Some(0));
}

#[test]
fn two_runs_into_empty_directories_are_byte_identical() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    assert!(run_in(Path::new("proto"), &a, "generate").status.success());
    assert!(run_in(Path::new("proto"), &b, "generate").status.success());
    let (sa, sb) = (snapshot(&a), snapshot(&b));
    assert!(!sa.is_empty());
    assert_eq!(sa, sb);
}

#[test]
fn a_syntax_error_exits_2_names_the_place_and_writes_nothing() {
    let (_dir, proto, out) = scratch();
    let before = snapshot(&out);
    let common = proto.join("mattermost/plugin/v1/common.proto");
    let text = fs::read_to_string(&common).unwrap();
    fs::write(&common, text.replacen("string session_id = 1;", "string session_id = 1", 1)).unwrap();
    for command in ["generate", "check", "list"] {
        let r = run_in(&proto, &out, command);
        let stderr = String::from_utf8_lossy(&r.stderr);
        assert_eq!(r.status.code(), Some(2), "{command}: {stderr}");
        let place = format!("{}:", common.display());
        assert!(stderr.contains(&place), "{command}: names the file: {stderr}");
        let after_place = &stderr[stderr.find(&place).unwrap() + place.len()..];
        let line_col: Vec<&str> = after_place.splitn(3, ':').take(2).collect();
        assert!(line_col.iter().all(|n| n.parse::<u32>().is_ok()), "{command}: line and column follow: {stderr}");
    }
    assert_eq!(snapshot(&out), before, "the output directory is byte-identical");
}

#[test]
fn list_json_is_the_model() {
    let r = run(&["list", "--json"]);
    assert!(r.status.success());
    let model: serde_json::Value = serde_json::from_slice(&r.stdout).unwrap();
    for key in ["files", "go_imports", "services", "messages", "enums"] {
        assert!(model.get(key).is_some(), "{key}");
    }
    let table = run(&["list"]);
    assert!(String::from_utf8_lossy(&table.stdout).starts_with("SERVICE"));
}

#[test]
fn templates_can_be_overridden_and_template_errors_name_the_template() {
    let dir = tempfile::tempdir().unwrap();
    let templates = dir.path().join("templates");
    copy_tree(Path::new("templates"), &templates);
    let index = templates.join("docs/page.md.tera");
    let text = fs::read_to_string(&index).unwrap();
    fs::write(&index, text.replace("{{ e.heading }}", "{{ e.headng }}")).unwrap();
    let out = dir.path().join("out");
    let r = run(&["--templates", templates.to_str().unwrap(), "--out", out.to_str().unwrap(), "generate"]);
    let stderr = String::from_utf8_lossy(&r.stderr);
    assert_eq!(r.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("docs/page.md.tera"), "{stderr}");
    assert!(!out.exists(), "nothing written");

    fs::write(&index, text.replace("{%- for e in entries %}", "{% if entris %}{% endif %}{%- for e in entries %}"))
        .unwrap();
    let r = run(&["--templates", templates.to_str().unwrap(), "--out", out.to_str().unwrap(), "generate"]);
    let stderr = String::from_utf8_lossy(&r.stderr);
    assert_eq!(r.status.code(), Some(2), "a misspelt condition fails: {stderr}");
    assert!(stderr.contains("entris"), "{stderr}");
}
