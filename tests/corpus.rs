//! Real-world proto sets nobody here wrote, laid out by `scripts/corpus`
//! (which `scripts/test` runs first and passes as `MM_BINDGEN_CORPUS`): each
//! goes through `generate`, `check` and `list` as a new user would run them,
//! and must either succeed with a docs page per service, or fail with exit 2
//! and a located diagnostic, writing nothing. Never a panic, never an
//! internal error, never a half-written tree.
//!
//! Run by `scripts/test`; on its own: `MM_BINDGEN_CORPUS=$(scripts/corpus)
//! cargo test --release --test corpus`.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_mm-bindgen");

enum Outcome {
    /// Exit 0; these services (full names) are listed and documented.
    Docs(&'static [&'static str]),
    /// Exit 2; the first diagnostic is at this place (relative to the set's
    /// root) and says this.
    Refused { place: &'static str, says: &'static str },
}

const SETS: &[(&str, Outcome)] = &[
    // googleapis-common-protos and grpc-google-iam-v1 (PyPI): Google API
    // annotations, long-running operations, IAM, locations.
    (
        "googleapis",
        Outcome::Docs(&["google.cloud.location.Locations", "google.iam.v1.IAMPolicy", "google.longrunning.Operations"]),
    ),
    // The transport of HashiCorp go-plugin, which Mattermost plugins run on.
    ("go-plugin", Outcome::Docs(&["plugin.GRPCBroker", "plugin.GRPCController", "plugin.GRPCStdio"])),
    // The test and profiling protos of grpc-go: proto2, extensions, imports
    // across directories.
    (
        "grpc-go",
        Outcome::Docs(&[
            "grpc.testing.MetricsService",
            "grpc.go.profiling.v1alpha.Profiling",
            "grpc.testing.SearchService",
            "grpc.testing.DynamicService",
            "grpc.testingv3.SearchServiceV3",
        ]),
    ),
    // The well-known types as grpcio-tools ships them: `descriptor.proto`
    // gives a one-number extension range options, which protoc accepts and
    // the parser does not (and the feature files use editions).
    (
        "protobuf",
        Outcome::Refused {
            place: "google/protobuf/descriptor.proto:37:24",
            says: "unsupported: options on an extension range given as a single number",
        },
    ),
];

fn corpus() -> PathBuf {
    let dir = std::env::var_os("MM_BINDGEN_CORPUS")
        .expect("MM_BINDGEN_CORPUS names the corpus directory: run `MM_BINDGEN_CORPUS=$(scripts/corpus) cargo test --release --test corpus`");
    PathBuf::from(dir)
}

/// Runs mm-bindgen in `cwd` (a scratch directory: no mm-bindgen.toml).
fn run(cwd: &Path, root: &Path, out: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .current_dir(cwd)
        .args(["--proto", root.to_str().unwrap(), "--out", out.to_str().unwrap()])
        .args(args)
        .output()
        .expect("mm-bindgen runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Exit 0 or 2, nothing else: a panic exits 101, an internal error says so.
fn sane(set: &str, what: &str, o: &Output) -> i32 {
    let code = o.status.code().expect("not killed by a signal");
    let stderr = text(&o.stderr);
    assert!(code == 0 || code == 1 || code == 2, "{set}: {what} exited {code}:\n{stderr}");
    assert!(!stderr.contains("panicked") && !stderr.contains("internal error"), "{set}: {what}:\n{stderr}");
    code
}

fn files(dir: &Path) -> Vec<String> {
    walkdir::WalkDir::new(dir)
        .sort_by_file_name()
        .into_iter()
        .map(|e| e.unwrap())
        .filter(|e| e.file_type().is_file())
        .map(|e| e.path().strip_prefix(dir).unwrap().display().to_string())
        .collect()
}

#[test]
fn real_world_proto_sets_render_or_are_refused_with_a_located_diagnostic() {
    let corpus = corpus();
    for (set, outcome) in SETS {
        let root = corpus.join(set);
        assert!(root.is_dir(), "{} is missing: run scripts/corpus", root.display());
        let scratch = tempfile::tempdir().unwrap();
        let out = scratch.path().join("out");
        let generate = run(scratch.path(), &root, &out, &["generate"]);
        let code = sane(set, "generate", &generate);
        let check = run(scratch.path(), &root, &out, &["check"]);
        let list = run(scratch.path(), &root, &out, &["list", "--json"]);
        match outcome {
            Outcome::Docs(services) => {
                assert_eq!(code, 0, "{set}: generate:\n{}", text(&generate.stderr));
                assert_eq!(sane(set, "check", &check), 0, "{set}: check:\n{}", text(&check.stdout));
                assert_eq!(sane(set, "list", &list), 0, "{set}: list:\n{}", text(&list.stderr));
                let model: serde_json::Value = serde_json::from_slice(&list.stdout).unwrap();
                let listed: Vec<&str> =
                    model["services"].as_array().unwrap().iter().map(|s| s["full_name"].as_str().unwrap()).collect();
                assert_eq!(listed, *services, "{set}: the services listed");
                let written = files(&out);
                assert!(written.contains(&"docs/index.md".to_string()), "{set}: {written:?}");
                let index = fs::read_to_string(out.join("docs/index.md")).unwrap();
                for s in model["services"].as_array().unwrap() {
                    let name = s["name"].as_str().unwrap();
                    let page = written
                        .iter()
                        .filter(|p| p.starts_with("docs/") && *p != "docs/index.md")
                        .find(|p| fs::read_to_string(out.join(p)).unwrap().contains(&format!("\n# {name}\n")))
                        .unwrap_or_else(|| panic!("{set}: no docs page is headed `{name}`: {written:?}"));
                    let file = Path::new(page).file_name().unwrap().to_str().unwrap();
                    assert!(index.contains(file), "{set}: the index links {file}");
                    for m in s["methods"].as_array().unwrap() {
                        let method = m["name"].as_str().unwrap();
                        let page_text = fs::read_to_string(out.join(page)).unwrap();
                        assert!(page_text.contains(&format!("## {method}")), "{set}: {page} documents {method}");
                    }
                }
                assert!(
                    written.iter().all(|p| !p.ends_with(".mm-bindgen-tmp") && !p.ends_with(".mm-bindgen-old")),
                    "{set}: {written:?}"
                );
                let again = run(scratch.path(), &root, &out, &["generate"]);
                assert!(text(&again.stderr).contains(" 0 written, 0 deleted"), "{set}: {}", text(&again.stderr));
            }
            Outcome::Refused { place, says } => {
                let first = format!("error: {}: {says}", root.join(place).display());
                for (what, o) in [("generate", &generate), ("check", &check), ("list", &list)] {
                    assert_eq!(sane(set, what, o), 2, "{set}: {what}");
                    let stderr = text(&o.stderr);
                    assert!(
                        stderr.starts_with(&first),
                        "{set}: {what} says\n{stderr}\nexpected it to start with\n{first}"
                    );
                }
                assert!(!out.exists(), "{set}: a refused run wrote {}", out.display());
            }
        }
    }
}
