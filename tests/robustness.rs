//! No panic on user input: every golden input, and the real Plugin API
//! files with options, is broken one line at a time (the line deleted, or
//! doubled), and the whole pipeline must either succeed or report
//! diagnostics; a panic fails the test and names the edit.

use std::fs;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;

use mm_bindgen::diag::Failure;
use mm_bindgen::pipeline;
use mm_bindgen::render::Templates;

mod common;
use common::copy_protos;

/// Runs the pipeline; returns a description of the panic, if any.
fn panics(root: &Path) -> Option<String> {
    let result = catch_unwind(AssertUnwindSafe(|| {
        pipeline::generate(root, Templates::Embedded, &[], Path::new("."), &Default::default())
    }));
    match result {
        Ok(Ok(_)) | Ok(Err(Failure::Input(_))) => None,
        Ok(Err(Failure::Internal(e))) => Some(format!("internal error: {e:#}")),
        Ok(Err(Failure::Partial(d))) => Some(format!("partial write: {d}")),
        Err(payload) => Some(
            payload
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default(),
        ),
    }
}

fn break_each_line(case: &Path, only: Option<&str>, wanted: fn(&str) -> bool) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    let files = copy_protos(case, dir.path());
    let mut failures = Vec::new();
    for file in files.iter().filter(|f| only.is_none_or(|o| f.ends_with(o))) {
        let original = fs::read_to_string(file).unwrap();
        let lines: Vec<&str> = original.split_inclusive('\n').collect();
        for i in (0..lines.len()).filter(|&i| wanted(lines[i])) {
            for (edit, text) in [
                ("deleted", lines.iter().enumerate().filter(|(j, _)| *j != i).map(|(_, l)| *l).collect::<String>()),
                ("doubled", lines[..=i].concat() + lines[i] + &lines[i + 1..].concat()),
            ] {
                fs::write(file, &text).unwrap();
                if let Some(why) = panics(dir.path()) {
                    failures.push(format!("{} line {} {edit}: {why}", file.display(), i + 1));
                }
            }
        }
        fs::write(file, &original).unwrap();
    }
    failures
}

#[test]
fn broken_golden_inputs_never_panic() {
    let mut failures = Vec::new();
    let mut cases = 0;
    for entry in fs::read_dir("tests/golden").unwrap() {
        let input = entry.unwrap().path().join("input");
        if input.is_dir() {
            cases += 1;
            failures.extend(break_each_line(&input, None, |_| true));
        }
    }
    assert!(cases > 0);
    assert!(failures.is_empty(), "{} edits made the pipeline panic:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn broken_plugin_hooks_never_panic() {
    // The hooks file exercises every option and every Go method shape; the
    // lines that declare RPCs, options and Go types are broken (the whole
    // file would take minutes), the model files it imports stay intact.
    let failures = break_each_line(Path::new("proto"), Some("plugin_hooks.proto"), |line| {
        line.contains("rpc ") || line.contains("go_") || line.contains("echo") || line.contains("message ")
    });
    assert!(failures.is_empty(), "{} edits made the pipeline panic:\n{}", failures.len(), failures.join("\n"));
}
