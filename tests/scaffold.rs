//! `mm-bindgen scaffold` on bad input: exit 2, a message naming the file,
//! nothing written. (Drafting itself is tested against the pinned and a
//! newer Go module in tests/conformance/go/bump.)

use std::fs;
use std::path::Path;
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_mm-bindgen");

fn copy_proto(to: &Path) {
    for entry in walkdir::WalkDir::new("proto") {
        let entry = entry.unwrap();
        let target = to.join(entry.path().strip_prefix("proto").unwrap());
        if entry.file_type().is_dir() {
            fs::create_dir_all(&target).unwrap();
        } else {
            fs::copy(entry.path(), &target).unwrap();
        }
    }
}

#[test]
fn bad_input_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let proto = dir.path().join("proto");
    copy_proto(&proto);
    let before: Vec<Vec<u8>> = walkdir::WalkDir::new(&proto)
        .sort_by_file_name()
        .into_iter()
        .map(|e| e.unwrap())
        .filter(|e| e.file_type().is_file())
        .map(|e| fs::read(e.path()).unwrap())
        .collect();
    let api = dir.path().join("api.go");
    let hooks = dir.path().join("hooks.go");
    let scaffold = |extra: &[&str]| {
        let mut args = vec!["--proto", proto.to_str().unwrap(), "scaffold"];
        args.extend_from_slice(extra);
        Command::new(BIN).args(&args).env("GOMODCACHE", dir.path()).output().unwrap()
    };

    let out = scaffold(&["--api", api.to_str().unwrap(), "--hooks", hooks.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains(&format!("{}: cannot read", api.display())), "{stderr}");

    fs::write(&api, "package plugin\n\ntype API interface {\n\tBroken(a b c d\n").unwrap();
    fs::write(&hooks, "package plugin\n\ntype Hooks interface {\n}\n").unwrap();
    let out = scaffold(&["--api", api.to_str().unwrap(), "--hooks", hooks.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("interface `plugin.API`"), "{stderr}");

    let out = scaffold(&["--module", "v0.0.0"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("@v0.0.0 is not in the Go module cache"), "{stderr}");

    let out = scaffold(&["--module", "github.com/mattermost/mattermost/server/public"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("flag `--module`") && stderr.contains("e.g. `--module v0.4.4`"), "{stderr}");

    let after: Vec<Vec<u8>> = walkdir::WalkDir::new(&proto)
        .sort_by_file_name()
        .into_iter()
        .map(|e| e.unwrap())
        .filter(|e| e.file_type().is_file())
        .map(|e| fs::read(e.path()).unwrap())
        .collect();
    assert!(before == after, "the proto tree changed");
}
