//! `generate` writes all or nothing, checked with real file-system failures
//! (they must hold when the tests run as root, so they use paths taken by
//! the wrong kind of entry rather than permission bits): a directory that
//! cannot be created, a file that cannot be staged or replaced, a stale file
//! that cannot be deleted. After each, the output directory is byte-identical
//! to before and the error names `--out` and the file. Problems with `--out`
//! itself name the flag.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_mm-bindgen");

fn generate(proto: &Path, out: &Path) -> Output {
    Command::new(BIN)
        .args(["--skip-plugins", "--proto", proto.to_str().unwrap(), "--out", out.to_str().unwrap(), "generate"])
        .output()
        .expect("mm-bindgen runs")
}

/// Every entry under `dir`: files with their bytes, directories marked.
fn snapshot(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    walkdir::WalkDir::new(dir)
        .into_iter()
        .map(|e| e.unwrap())
        .map(|e| {
            let bytes = if e.file_type().is_file() { fs::read(e.path()).unwrap() } else { b"<dir>".to_vec() };
            (e.path().display().to_string(), bytes)
        })
        .collect()
}

/// A scratch copy of `proto/` and an output directory generated from it.
fn scratch() -> (tempfile::TempDir, PathBuf, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let proto = dir.path().join("proto");
    for entry in walkdir::WalkDir::new("proto") {
        let entry = entry.unwrap();
        let target = proto.join(entry.path().strip_prefix("proto").unwrap());
        if entry.file_type().is_dir() {
            fs::create_dir_all(&target).unwrap();
        } else {
            fs::copy(entry.path(), &target).unwrap();
        }
    }
    let out = dir.path().join("generated");
    let g = generate(&proto, &out);
    assert!(g.status.success(), "{}", String::from_utf8_lossy(&g.stderr));
    (dir, proto, out)
}

/// Changes the first comment of the Plugin API (which appears in the docs,
/// the Go bridge and the Python SDK) so that the next run rewrites files.
fn edit_a_comment(proto: &Path) {
    let api = proto.join("mattermost/plugin/v1/plugin_api.proto");
    let text = fs::read_to_string(&api).unwrap();
    let at = text.find("\n  //").expect("the API has a comment") + 5;
    fs::write(&api, format!("{} (edited){}", &text[..at], &text[at..])).unwrap();
}

/// Runs `generate`, expects it to fail, and checks the tree and the message.
fn fails_and_restores(proto: &Path, out: &Path, names: &str) {
    let root = out.parent().unwrap();
    let before = snapshot(root);
    let g = generate(proto, out);
    let stderr = String::from_utf8_lossy(&g.stderr);
    assert_eq!(g.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains(&format!("--out {}", out.display())), "names the flag: {stderr}");
    assert!(stderr.contains(names), "names {names}: {stderr}");
    assert!(stderr.contains("as it was before the run"), "{stderr}");
    assert!(!stderr.contains("internal error"), "{stderr}");
    assert_eq!(snapshot(root), before, "the tree is byte-identical after the failed write");
}

#[test]
fn a_directory_that_cannot_be_created_undoes_the_whole_write() {
    let (_dir, proto, out) = scratch();
    edit_a_comment(&proto);
    // `python/` is where the SDK goes; a hand-written file of that name
    // blocks it after the docs and the Go bridge have been staged.
    fs::remove_dir_all(out.join("python")).unwrap();
    fs::write(out.join("python"), "not a directory\n").unwrap();
    fails_and_restores(&proto, &out, "cannot create the directory python");
}

#[test]
fn a_file_that_cannot_be_staged_undoes_the_whole_write() {
    let (_dir, proto, out) = scratch();
    edit_a_comment(&proto);
    fs::create_dir_all(out.join("python/pyproject.toml.mm-bindgen-tmp/x")).unwrap();
    fs::remove_file(out.join("python/pyproject.toml")).unwrap();
    fails_and_restores(&proto, &out, "cannot stage python/pyproject.toml.mm-bindgen-tmp");
}

#[test]
fn a_file_that_cannot_be_replaced_undoes_the_changes_already_in_place() {
    let (_dir, proto, out) = scratch();
    edit_a_comment(&proto);
    // The last changed file comes after the docs and the Go bridge, which
    // are already replaced when its old version cannot be moved aside.
    let check = Command::new(BIN)
        .args(["--skip-plugins", "--proto", proto.to_str().unwrap(), "--out", out.to_str().unwrap(), "check"])
        .output()
        .unwrap();
    let client = String::from_utf8_lossy(&check.stdout)
        .lines()
        .filter_map(|l| l.strip_prefix("changed: "))
        .map(|l| l.split_once("; run ").map_or(l, |(path, _)| path))
        .next_back()
        .expect("the edit changes files")
        .to_string();
    assert!(!client.starts_with("docs/"), "the last changed file comes after others: {client}");
    fs::create_dir_all(out.join(format!("{client}.mm-bindgen-old/x"))).unwrap();
    fails_and_restores(&proto, &out, &format!("cannot move aside {client}"));
}

#[test]
fn a_stale_file_that_cannot_be_deleted_undoes_the_whole_write() {
    let (_dir, proto, out) = scratch();
    edit_a_comment(&proto);
    let marker = mm_bindgen::lower::GENERATED_MARKER;
    fs::write(out.join("python/zz_old.py"), format!("# {marker}\n")).unwrap();
    fs::create_dir_all(out.join("python/zz_old.py.mm-bindgen-old/x")).unwrap();
    fails_and_restores(&proto, &out, "cannot move aside python/zz_old.py");
}

#[test]
fn a_successful_write_leaves_no_staged_or_kept_files() {
    let (_dir, proto, out) = scratch();
    edit_a_comment(&proto);
    let marker = mm_bindgen::lower::GENERATED_MARKER;
    fs::write(out.join("docs/old.md"), format!("<!-- {marker} -->\n")).unwrap();
    let g = generate(&proto, &out);
    let stderr = String::from_utf8_lossy(&g.stderr);
    assert!(g.status.success(), "{stderr}");
    assert!(stderr.contains("1 deleted"), "{stderr}");
    let leftovers: Vec<String> = snapshot(&out)
        .into_keys()
        .filter(|p| p.ends_with(".mm-bindgen-tmp") || p.ends_with(".mm-bindgen-old"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    assert!(!out.join("docs/old.md").exists());
}

#[test]
fn an_output_path_that_is_a_file_names_the_flag() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("out.txt");
    fs::write(&file, "a file\n").unwrap();
    for command in ["generate", "check"] {
        let r = Command::new(BIN)
            .args(["--skip-plugins", "--proto", "proto", "--out", file.to_str().unwrap(), command])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&r.stderr);
        assert_eq!(r.status.code(), Some(2), "{command}: {stderr}");
        assert!(
            stderr.contains(&format!("--out {}: the output directory is not a directory", file.display())),
            "{stderr}"
        );
        assert!(!stderr.contains("internal error"), "{stderr}");
    }
    assert_eq!(fs::read_to_string(&file).unwrap(), "a file\n");

    // An output directory below a file cannot be created.
    let below = file.join("generated");
    let r = generate(Path::new("proto"), &below);
    let stderr = String::from_utf8_lossy(&r.stderr);
    assert_eq!(r.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains(&format!("--out {}: cannot create the directory", below.display())), "{stderr}");
    assert!(!stderr.contains("internal error"), "{stderr}");
    assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1, "nothing was created");
}
