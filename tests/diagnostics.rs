//! Diagnostics a user can act on: problems with `--proto` name the flag,
//! and the summaries of `check` and `generate` count each kind of change.

use std::fs;
use std::path::Path;
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_mm-bindgen");

fn run(proto: &Path, out: &Path, command: &str) -> Output {
    Command::new(BIN)
        .args(["--skip-plugins", "--proto", proto.to_str().unwrap(), "--out", out.to_str().unwrap(), command])
        .output()
        .expect("mm-bindgen runs")
}

#[test]
fn a_missing_or_empty_proto_root_names_the_flag() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let missing = dir.path().join("missing");
    let empty = dir.path().join("empty");
    fs::create_dir(&empty).unwrap();
    for (root, says) in [(&missing, "the proto root is not a directory"), (&empty, "no .proto files found")] {
        for command in ["generate", "check", "list"] {
            let r = run(root, &out, command);
            let stderr = String::from_utf8_lossy(&r.stderr);
            assert_eq!(r.status.code(), Some(2), "{command}: {stderr}");
            assert!(stderr.contains(&format!("--proto {}: {says}", root.display())), "{command}: {stderr}");
            assert!(stderr.contains("with --proto"), "says what to do: {stderr}");
        }
    }
    assert!(!out.exists());
}

#[test]
fn summaries_count_written_deleted_and_stale_files_apart() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let proto = Path::new("tests/golden/minimal/input");
    let g = run(proto, &out, "generate");
    let stderr = String::from_utf8_lossy(&g.stderr);
    assert!(stderr.contains("2 files rendered, 2 written, 0 deleted"), "{stderr}");
    // Many more stale files than rendered ones.
    let marker = mm_bindgen::lower::GENERATED_MARKER;
    for i in 0..5 {
        fs::write(out.join(format!("docs/old-{i}.md")), format!("<!-- {marker} -->\n")).unwrap();
    }
    fs::write(out.join("docs/index.md"), format!("<!-- {marker} -->\nedited\n")).unwrap();
    let c = run(proto, &out, "check");
    let stderr = String::from_utf8_lossy(&c.stderr);
    assert_eq!(c.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("1 of 2 rendered files differ, 5 stale files"), "{stderr}");
    let g = run(proto, &out, "generate");
    let stderr = String::from_utf8_lossy(&g.stderr);
    assert!(stderr.contains("2 files rendered, 1 written, 5 deleted"), "{stderr}");
    let c = run(proto, &out, "check");
    assert_eq!(c.status.code(), Some(0), "{}", String::from_utf8_lossy(&c.stderr));
}
