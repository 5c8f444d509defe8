//! Runs the commands of `examples/ci/mm-bindgen.yml` as GitHub Actions
//! would on a pull request, in a scratch clone with `proto/`, `generated/`
//! and an `origin/main`. The `run:` steps execute in order with the step's
//! `env:` and GitHub's expressions filled in; the step named "Install
//! mm-bindgen" is replaced by the binary under test on `PATH`, and `gh` by a
//! script that records the comment it is asked to post.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;
use std::process::Command;

mod common;
use common::copy_tree;

const BIN: &str = env!("CARGO_BIN_EXE_mm-bindgen");
const WORKFLOW: &str = "examples/ci/mm-bindgen.yml";

struct Step {
    name: String,
    condition: String,
    env: BTreeMap<String, String>,
    run: String,
}

/// The steps of the workflow's one job (the subset of YAML the file uses).
fn steps(text: &str) -> Vec<Step> {
    let mut steps: Vec<Step> = Vec::new();
    let mut lines = text.lines().peekable();
    while let Some(line) = lines.next() {
        if let Some(rest) = line.strip_prefix("      - ") {
            steps.push(Step {
                name: String::new(),
                condition: String::new(),
                env: BTreeMap::new(),
                run: String::new(),
            });
            if let Some(name) = rest.strip_prefix("name: ") {
                steps.last_mut().unwrap().name = name.to_string();
            }
            continue;
        }
        let Some(step) = steps.last_mut() else { continue };
        let Some(key) = line.strip_prefix("        ") else { continue };
        if let Some(name) = key.strip_prefix("name: ") {
            step.name = name.to_string();
        } else if let Some(condition) = key.strip_prefix("if: ") {
            step.condition = condition.to_string();
        } else if key == "env:" {
            while let Some(entry) = lines.peek().and_then(|l| l.strip_prefix("          ")) {
                let (k, v) = entry.split_once(": ").expect("env entries are `KEY: value`");
                step.env.insert(k.to_string(), v.to_string());
                lines.next();
            }
        } else if key == "run: |" {
            while let Some(body) = lines.peek().and_then(|l| l.strip_prefix("          ")) {
                step.run.push_str(body);
                step.run.push('\n');
                lines.next();
            }
        } else if let Some(command) = key.strip_prefix("run: ") {
            step.run = format!("{command}\n");
        }
    }
    steps
}

/// Fills in the expressions the workflow uses, for pull request 7 into main.
fn expand(value: &str) -> String {
    let mut out = value.to_string();
    for (expr, v) in [
        ("${{ github.base_ref }}", "main"),
        ("${{ github.event.pull_request.number }}", "7"),
        ("${{ github.token }}", "token"),
    ] {
        out = out.replace(expr, v);
    }
    assert!(!out.contains("${{"), "an expression the test does not know: {value}");
    out
}

fn sh(dir: &Path, script: &str) {
    let out = Command::new("bash").arg("-ec").arg(script).current_dir(dir).output().unwrap();
    assert!(out.status.success(), "{script}: {}", String::from_utf8_lossy(&out.stderr));
}

/// Runs the workflow's steps in `repo`; returns each step's exit code and
/// combined output.
fn run_workflow(repo: &Path, bin: &Path, record: &Path) -> Vec<(String, i32, String)> {
    let text = fs::read_to_string(WORKFLOW).unwrap();
    let steps = steps(&text);
    assert!(steps.iter().filter(|s| !s.run.is_empty()).count() >= 3, "the workflow has its run steps");
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap());
    let mut results = Vec::new();
    for step in steps.iter().filter(|s| !s.run.is_empty()) {
        if step.name == "Install mm-bindgen" {
            continue;
        }
        assert!(
            step.condition.is_empty() || step.condition == "github.event_name == 'pull_request'",
            "a condition the test does not know: {}",
            step.condition
        );
        let output = repo.join("github_output");
        let out = Command::new("bash")
            .arg("-e")
            .arg("-c")
            .arg(&step.run)
            .current_dir(repo)
            .env("PATH", &path)
            .env("GITHUB_OUTPUT", &output)
            .env("GH_RECORD", record)
            .envs(step.env.iter().map(|(k, v)| (k.clone(), expand(v))))
            .output()
            .unwrap();
        let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        results.push((step.name.clone(), out.status.code().unwrap_or(-1), text));
    }
    results
}

#[test]
fn workflow_commands_check_and_post_the_diff() {
    let dir = tempfile::tempdir().unwrap();
    let (origin, repo, bin) = (dir.path().join("origin"), dir.path().join("clone"), dir.path().join("bin"));
    fs::create_dir_all(&bin).unwrap();
    fs::copy(BIN, bin.join("mm-bindgen")).unwrap();
    let record = dir.path().join("gh-record");
    fs::write(bin.join("gh"), "#!/bin/sh\nprintf '%s\\n' \"$*\" > \"$GH_RECORD.args\"\nwhile [ $# -gt 0 ]; do\n  if [ \"$1\" = --body-file ]; then cp \"$2\" \"$GH_RECORD.body\"; fi\n  shift\ndone\n").unwrap();
    sh(&bin, "chmod +x gh mm-bindgen");

    // The base branch: the real proto tree and its generated output.
    fs::create_dir_all(&origin).unwrap();
    copy_tree(Path::new("proto"), &origin.join("proto"));
    let git = "git -c user.name=t -c user.email=t@example.com -c commit.gpgsign=false";
    sh(
        &origin,
        &format!(
            "mm-bindgen() {{ {BIN} \"$@\"; }}; mm-bindgen generate; git init -q -b main; git add .; {git} commit -qm base"
        ),
    );
    sh(dir.path(), "git clone -q origin clone");

    // The pull request: one RPC added, generated/ regenerated.
    let api = repo.join("proto/mattermost/plugin/v1/plugin_api.proto");
    let text = fs::read_to_string(&api).unwrap();
    let text = text.replacen(
        "\n  // Returns the user with the given id.",
        "\n  // Returns the status of the given user, or nothing.\n  rpc PeekUserStatus(PeekUserStatusRequest) returns (PeekUserStatusResponse) {\n    option (mmbindgen.v1.method) = {min_server_version: \"11.2\" tags: [\"User\"]};\n  }\n\n  // Returns the user with the given id.",
        1,
    ) + "\n// The parameters of PeekUserStatus.\nmessage PeekUserStatusRequest {\n  // The id of the user.\n  string user_id = 1 [(mmbindgen.v1.field).go_name = \"userID\"];\n}\n\n// The results of PeekUserStatus.\nmessage PeekUserStatusResponse {\n  // Unset on success; otherwise the application error.\n  AppError error = 1;\n  // The user's status.\n  Status status = 2;\n}\n";
    fs::write(&api, text).unwrap();
    sh(&repo, &format!("git checkout -q -b feature; {BIN} generate; git add .; {git} commit -qm feature"));
    let results = run_workflow(&repo, &bin, &record);
    for (name, code, text) in &results {
        assert_eq!(*code, 0, "step {name} failed:\n{text}");
    }
    let body = fs::read_to_string(record.with_extension("body")).expect("the diff was posted");
    assert!(body.contains("| RPC `PeekUserStatus` | added |"), "{body}");
    let args = fs::read_to_string(record.with_extension("args")).unwrap();
    assert!(args.starts_with("pr comment 7 --body-file api-diff.md"), "{args}");

    // A stale generated file: check fails and names the file and the fix.
    let stale = repo.join("generated/docs/index.md");
    fs::write(&stale, fs::read_to_string(&stale).unwrap() + "edited\n").unwrap();
    let results = run_workflow(&repo, &bin, &record);
    let (_, code, text) = &results[0];
    assert_eq!(*code, 1, "{text}");
    assert!(
        text.lines().any(|l| l.starts_with("::error file=generated/docs/index.md,title=generated file out of date::changed: docs/index.md; run `mm-bindgen generate`")),
        "{text}"
    );
    let json = Command::new(BIN).args(["--error-format", "json", "check"]).current_dir(&repo).output().unwrap();
    assert_eq!(json.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&json.stdout).to_string();
    let v: serde_json::Value = serde_json::from_str(stdout.lines().next().unwrap()).unwrap();
    assert_eq!(v["file"], "generated/docs/index.md", "{stdout}");
    assert_eq!(v["notes"][0], "run `mm-bindgen generate`", "{stdout}");
}

#[test]
fn diagnostics_in_each_error_format() {
    let dir = tempfile::tempdir().unwrap();
    let proto = dir.path().join("proto");
    fs::create_dir_all(&proto).unwrap();
    fs::write(proto.join("a.proto"), "syntax = \"proto3\";\npackage a;\nmessage M {\n  Missing m = 1;\n}\n").unwrap();
    let out = dir.path().join("out");
    let run = |command: &str, format: &str| {
        let args =
            ["--proto", proto.to_str().unwrap(), "--out", out.to_str().unwrap(), "--error-format", format, command];
        Command::new(BIN).args(args).output().unwrap()
    };
    for command in ["generate", "check"] {
        let github = run(command, "github");
        assert_eq!(github.status.code(), Some(2));
        let text = String::from_utf8_lossy(&github.stderr).to_string();
        let expected = format!("::error file={}/a.proto,line=4,col=3", proto.display());
        assert!(text.starts_with(&expected), "{text}");
        let json = run(command, "json");
        assert_eq!(json.status.code(), Some(2));
        let line = String::from_utf8_lossy(&json.stderr).lines().next().unwrap().to_string();
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!((v["line"].as_u64(), v["column"].as_u64()), (Some(4), Some(3)), "{line}");
        assert!(v["message"].as_str().unwrap().contains("Missing"), "{line}");
        assert!(!out.exists(), "nothing is written on bad input");
    }
}
