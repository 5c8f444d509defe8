//! The command line's promises about the output directory, exercised on a
//! scratch copy of the real `proto/` tree: check's exit codes and reports,
//! ownership, determinism, nothing written on bad input, strict template
//! names, and the plugin cache. These tests need no Go: they skip the
//! protoc plugins of `mm-bindgen.toml` (the Go suites of `scripts/test` run
//! them) and exercise plugins with a small shell script instead.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;
use std::process::{Command, Output};

mod common;
use common::copy_tree;

const BIN: &str = env!("CARGO_BIN_EXE_mm-bindgen");

/// Runs mm-bindgen in the repository root without its protoc plugins.
fn run(args: &[&str]) -> Output {
    Command::new(BIN).arg("--skip-plugins").args(args).output().expect("mm-bindgen runs")
}

fn run_in(proto: &Path, out: &Path, command: &str) -> Output {
    run(&["--proto", proto.to_str().unwrap(), "--out", out.to_str().unwrap(), command])
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
    let before = snapshot(&out);
    let c = run_in(&proto, &out, "check");
    let stdout = String::from_utf8_lossy(&c.stdout);
    assert_eq!(c.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("changed: docs/"), "summary names the file:\n{stdout}");
    assert!(stdout.contains("+++ b/docs/"), "a unified diff is printed:\n{stdout}");
    assert_eq!(snapshot(&out), before, "check writes nothing");
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

/// The first condition or loop in `source` that reads a dotted name, as the
/// byte range of that name.
fn first_read_name(source: &str) -> Option<std::ops::Range<usize>> {
    let mut from = 0;
    while let Some(at) = source[from..].find("{%") {
        let tag_start = from + at + 2;
        let tag = &source[tag_start..];
        let tag_end = tag.find("%}")?;
        let inner = tag[..tag_end].trim_start_matches(['-', ' ']);
        let offset = tag_start + (tag.len() - tag[..].trim_start_matches(['-', ' ']).len());
        let name_at = if let Some(rest) = inner.strip_prefix("if ") {
            Some(inner.len() - rest.len())
        } else if inner.starts_with("for ") {
            inner.find(" in ").map(|i| i + 4)
        } else {
            None
        };
        if let Some(i) = name_at {
            let name: String =
                inner[i..].chars().take_while(|c| c.is_alphanumeric() || *c == '_' || *c == '.').collect();
            if name.contains('.') {
                return Some(offset + i..offset + i + name.len());
            }
        }
        from = tag_start + tag_end;
    }
    None
}

#[test]
fn a_misspelt_name_in_a_partial_of_each_target_exits_2_naming_the_template_and_line() {
    for target in ["go", "python", "docs"] {
        let dir = tempfile::tempdir().unwrap();
        let templates = dir.path().join("templates");
        copy_tree(Path::new("templates"), &templates);
        let mut partials: Vec<_> = fs::read_dir(templates.join(target))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with('_'))
            .collect();
        partials.sort();
        let (partial, text, range) = partials
            .into_iter()
            .find_map(|p| {
                let text = fs::read_to_string(&p).unwrap();
                first_read_name(&text).map(|r| (p, text, r))
            })
            .unwrap_or_else(|| panic!("{target}: a partial with a condition or loop over a dotted name"));
        let misspelt = format!("{}x", &text[range.clone()]);
        fs::write(&partial, format!("{}{misspelt}{}", &text[..range.start], &text[range.end..])).unwrap();
        let line = text[..range.start].matches('\n').count() + 1;

        let out = dir.path().join("out");
        let r = run(&["--templates", templates.to_str().unwrap(), "--out", out.to_str().unwrap(), "generate"]);
        let stderr = String::from_utf8_lossy(&r.stderr);
        assert_eq!(r.status.code(), Some(2), "{target}: {stderr}");
        let place = format!("{}:{line}:", partial.display());
        assert!(stderr.contains(&place), "{target}: names {place}: {stderr}");
        assert!(stderr.contains(&format!("`{misspelt}`")), "{target}: names `{misspelt}`: {stderr}");
        assert!(stderr.contains("included from "), "{target}: names the including template: {stderr}");
        assert!(!out.exists(), "{target}: nothing written");
    }
}

/// A scratch project whose one plugin is a shell script: it answers a fixed
/// response (`response.bin`) whatever the request, and counts its runs.
struct FakePlugin {
    dir: tempfile::TempDir,
}

const FAKE_PLUGIN: &str = "#!/bin/sh\ncat > /dev/null\necho run >> runs.log\ncat response.bin\n";

impl FakePlugin {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        copy_tree(Path::new("proto"), &dir.path().join("proto"));
        fs::write(
            dir.path().join("mm-bindgen.toml"),
            "proto = \"proto\"\nout = \"out\"\n\n[[plugins]]\nname = \"fake-plugin\"\ncommand = [\"./plugin.sh\"]\nout = \"fake\"\n",
        )
        .unwrap();
        let plugin = FakePlugin { dir };
        plugin.set_script(FAKE_PLUGIN);
        plugin.set_response("hello");
        plugin
    }

    fn set_script(&self, script: &str) {
        use std::os::unix::fs::PermissionsExt;
        let path = self.dir.path().join("plugin.sh");
        fs::write(&path, script).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).unwrap();
    }

    fn set_response(&self, word: &str) {
        use prost::Message as _;
        use prost_types::compiler::{CodeGeneratorResponse, code_generator_response::File};
        let response = CodeGeneratorResponse {
            file: vec![File {
                name: Some("out.txt".into()),
                content: Some(format!("// Code generated by fake-plugin. DO NOT EDIT.\n{word}\n")),
                ..Default::default()
            }],
            ..Default::default()
        };
        fs::write(self.dir.path().join("response.bin"), response.encode_to_vec()).unwrap();
    }

    fn run(&self, command: &str) -> Output {
        Command::new(BIN)
            .arg(command)
            .current_dir(self.dir.path())
            .env("MM_BINDGEN_CACHE_DIR", self.dir.path().join("cache"))
            .output()
            .expect("mm-bindgen runs")
    }

    fn runs(&self) -> usize {
        fs::read_to_string(self.dir.path().join("runs.log")).map_or(0, |t| t.lines().count())
    }

    fn output(&self) -> String {
        fs::read_to_string(self.dir.path().join("out/fake/out.txt")).unwrap()
    }

    /// The cached responses.
    fn entries(&self) -> Vec<std::path::PathBuf> {
        let mut entries: Vec<_> = walkdir::WalkDir::new(self.dir.path().join("cache"))
            .into_iter()
            .map(|e| e.unwrap().into_path())
            .filter(|p| p.is_file() && p.parent().unwrap().ends_with("responses"))
            .collect();
        entries.sort();
        entries
    }

    fn assert_check(&self, code: i32, runs: usize, why: &str) {
        let c = self.run("check");
        let stdout = String::from_utf8_lossy(&c.stdout);
        let stderr = String::from_utf8_lossy(&c.stderr);
        assert_eq!(c.status.code(), Some(code), "{why}: {stdout}{stderr}");
        assert_eq!(self.runs(), runs, "{why}: plugin runs");
    }
}

#[test]
fn an_unchanged_request_is_answered_from_the_cache_and_check_stays_correct() {
    let p = FakePlugin::new();
    assert!(p.run("generate").status.success());
    assert_eq!((p.runs(), p.output().as_str()), (1, "// Code generated by fake-plugin. DO NOT EDIT.\nhello\n"));
    assert_eq!(p.entries().len(), 1, "one response cached");
    p.assert_check(0, 1, "an unchanged tree: the plugin is not run again");

    // A full regeneration into an empty directory writes the cached files.
    let before = snapshot(&p.dir.path().join("out"));
    fs::remove_dir_all(p.dir.path().join("out")).unwrap();
    assert!(p.run("generate").status.success());
    assert_eq!(p.runs(), 1);
    assert_eq!(snapshot(&p.dir.path().join("out")), before, "the same bytes from the cache");

    // Corrupt entries are misses: the plugin runs and the entry is rewritten.
    let entry = p.entries().remove(0);
    let good = fs::read(&entry).unwrap();
    let mut flipped = good.clone();
    *flipped.last_mut().unwrap() ^= 0x20;
    for (broken, why) in [
        (flipped, "one byte changed"),
        (good[..good.len() / 2].to_vec(), "truncated"),
        (Vec::new(), "empty"),
        (b"not an entry".to_vec(), "garbage"),
    ] {
        fs::write(&entry, broken).unwrap();
        let runs = p.runs();
        p.assert_check(0, runs + 1, why);
        assert_eq!(fs::read(&entry).unwrap(), good, "{why}: the entry is rewritten");
        p.assert_check(0, runs + 1, why);
    }
}

#[test]
fn a_changed_request_or_plugin_is_never_answered_from_a_stale_entry() {
    let p = FakePlugin::new();
    assert!(p.run("generate").status.success());
    p.assert_check(0, 1, "cached");

    // A changed plugin (its program) has its own entries: the old response
    // ("hello") is not served for it.
    p.set_response("bye");
    p.set_script(&FAKE_PLUGIN.replace("cat response.bin", "cat ./response.bin"));
    p.assert_check(1, 2, "a changed plugin runs again and its new output differs");
    assert!(p.run("generate").status.success());
    assert!(p.output().ends_with("bye\n"), "{}", p.output());
    p.assert_check(0, 2, "cached again");

    // A changed proto changes the request: the plugin runs again.
    let common = p.dir.path().join("proto/mattermost/plugin/v1/common.proto");
    let text = fs::read_to_string(&common).unwrap();
    fs::write(&common, text.replacen("// An application error", "// An edited application error", 1)).unwrap();
    p.assert_check(1, 3, "a new request (and new docs)");
    assert!(p.run("generate").status.success());
    p.assert_check(0, 3, "cached");
    assert_eq!(p.entries().len(), 3, "one entry per request and plugin");

    // Going back to the old request is a hit.
    fs::write(&common, text).unwrap();
    p.assert_check(1, 3, "the earlier request is still cached (the docs differ from the edited ones)");
}

#[test]
fn a_plugin_needs_either_a_command_or_a_go_package() {
    let p = FakePlugin::new();
    let config = p.dir.path().join("mm-bindgen.toml");
    let text = fs::read_to_string(&config).unwrap();
    fs::write(&config, format!("{text}go_package = \"example.com/cmd/protoc-gen-x\"\n")).unwrap();
    let r = p.run("check");
    let stderr = String::from_utf8_lossy(&r.stderr);
    assert_eq!(r.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("plugin `fake-plugin`") && stderr.contains("either `command` or `go_package`"), "{stderr}");
}

/// A plugin that names its one file after the SHA-256 of its request, so
/// that each part of a split request answers a file of its own.
const NAMED_BY_REQUEST: &str =
    "#!/bin/sh\nh=$(sha256sum | cut -c1-8)\necho run >> runs.log\ncat head.bin; printf %s \"$h\"; cat tail.bin\n";

impl FakePlugin {
    /// Splits the plugin's request into `jobs` parts.
    fn split(&self, jobs: &str, command: &str) -> Output {
        let config = self.dir.path().join("mm-bindgen.toml");
        let text = fs::read_to_string(&config).unwrap();
        if !text.contains("split = true") {
            fs::write(&config, format!("{text}split = true\n")).unwrap();
        }
        Command::new(BIN)
            .arg(command)
            .current_dir(self.dir.path())
            .env("MM_BINDGEN_CACHE_DIR", self.dir.path().join("cache"))
            .env("MM_BINDGEN_JOBS", jobs)
            .output()
            .expect("mm-bindgen runs")
    }

    /// Makes the plugin answer `out-<hash of the request>.txt`.
    fn name_files_by_request(&self) {
        // CodeGeneratorResponse { file { name: "out-XXXXXXXX.txt", content } },
        // cut around the eight characters of the hash.
        let content = "// Code generated by fake-plugin. DO NOT EDIT.\n";
        let name_len = "out-XXXXXXXX.txt".len();
        let file_len = 2 + name_len + 2 + content.len();
        let head = [&[0x7a, file_len as u8, 0x0a, name_len as u8][..], b"out-"].concat();
        let tail = [&b".txt"[..], &[0x7a, content.len() as u8], content.as_bytes()].concat();
        fs::write(self.dir.path().join("head.bin"), head).unwrap();
        fs::write(self.dir.path().join("tail.bin"), tail).unwrap();
        self.set_script(NAMED_BY_REQUEST);
    }

    fn outputs(&self) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(self.dir.path().join("out/fake"))
            .map(|d| d.map(|e| e.unwrap().file_name().into_string().unwrap()).collect())
            .unwrap_or_default();
        names.sort();
        names
    }
}

#[test]
fn a_split_plugin_runs_once_per_part_and_each_part_is_cached() {
    let p = FakePlugin::new();
    p.name_files_by_request();
    let r = p.split("3", "generate");
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    assert_eq!(p.runs(), 3, "one run per part");
    assert_eq!(p.outputs().len(), 3, "three distinct requests: {:?}", p.outputs());
    assert_eq!(p.entries().len(), 3, "one cached answer per part");
    let r = p.split("3", "check");
    assert_eq!(r.status.code(), Some(0), "{}", String::from_utf8_lossy(&r.stderr));
    assert_eq!(p.runs(), 3, "every part answered from the cache");

    // Unsplit, the request is protoc's whole one: another answer.
    let r = p.split("1", "generate");
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    assert_eq!((p.runs(), p.outputs().len()), (4, 1));
}

#[test]
fn a_split_plugin_whose_parts_write_one_file_is_refused() {
    let p = FakePlugin::new();
    let r = p.split("2", "generate");
    let stderr = String::from_utf8_lossy(&r.stderr);
    assert_eq!(r.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("plugin `fake-plugin`")
            && stderr.contains("two parts of its request both produced fake/out.txt")
            && stderr.contains("remove `split = true`"),
        "{stderr}"
    );
    assert!(!p.dir.path().join("out").exists(), "nothing written");

    let r = p.split("none", "generate");
    let stderr = String::from_utf8_lossy(&r.stderr);
    assert_eq!(r.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("MM_BINDGEN_JOBS=\"none\": not a number of processes"), "{stderr}");
}

#[test]
fn plugins_run_without_garbage_collection_unless_the_environment_says_otherwise() {
    let p = FakePlugin::new();
    p.set_script(
        "#!/bin/sh\ncat > /dev/null\necho \"GOGC=$GOGC GOMEMLIMIT=$GOMEMLIMIT\" >> env.log\ncat response.bin\n",
    );
    let run = |env: &[(&str, &str)]| {
        let _ = fs::remove_dir_all(p.dir.path().join("cache"));
        let mut c = Command::new(BIN);
        c.arg("generate")
            .current_dir(p.dir.path())
            .env("MM_BINDGEN_CACHE_DIR", p.dir.path().join("cache"))
            .env_remove("GOGC")
            .env_remove("GOMEMLIMIT");
        for (k, v) in env {
            c.env(k, v);
        }
        let r = c.output().unwrap();
        assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    };
    run(&[]);
    run(&[("GOGC", "100")]);
    run(&[("GOMEMLIMIT", "2GiB")]);
    let log = fs::read_to_string(p.dir.path().join("env.log")).unwrap();
    assert_eq!(log, "GOGC=off GOMEMLIMIT=1GiB\nGOGC=100 GOMEMLIMIT=\nGOGC= GOMEMLIMIT=2GiB\n");
}

/// The strict check skips a branch on a variant tag the view never has
/// (`m.shape == "http_call"` in a file without such a method); a misspelt
/// tag would skip its branch too, so each dispatch over shapes ends in an
/// `else` that fails the render.
#[test]
fn a_misspelt_shape_in_a_go_dispatch_exits_2_and_writes_nothing() {
    for template in ["client.go.tera", "server.go.tera"] {
        let dir = tempfile::tempdir().unwrap();
        let templates = dir.path().join("templates");
        copy_tree(Path::new("templates"), &templates);
        let path = templates.join("go").join(template);
        let text = fs::read_to_string(&path).unwrap();
        assert!(text.contains("m.shape == \"unary\""), "{template} dispatches on m.shape");
        fs::write(&path, text.replace("m.shape == \"unary\"", "m.shape == \"unray\"")).unwrap();
        let out = dir.path().join("out");
        let r = run(&["--templates", templates.to_str().unwrap(), "--out", out.to_str().unwrap(), "generate"]);
        let stderr = String::from_utf8_lossy(&r.stderr);
        assert_eq!(r.status.code(), Some(2), "{template}: {stderr}");
        assert!(stderr.contains(&format!("go/{template}")), "{template}: names the template: {stderr}");
        assert!(stderr.contains("a method shape this template does not lay out"), "{template}: {stderr}");
        assert!(!out.exists(), "{template}: nothing written");
    }
}
