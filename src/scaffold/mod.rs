//! `mm-bindgen scaffold`: drafts the proto declarations of the Go methods
//! the proto lacks, from a newer `plugin/api.go` and `plugin/hooks.go`.
//!
//! For every method of `plugin.API` and `plugin.Hooks` without an RPC, it
//! appends a draft RPC to the service that mirrors the interface and its
//! request and response messages to that service's file (field names from
//! the Go parameters, `go_type` and `go_name` where Go differs from the
//! defaults, min server version, tags, deprecation and the experimental
//! marker from the doc comment). It never changes an existing declaration:
//! methods whose signature changed, methods Go no longer has, and model
//! structs that gained or lost fields are reported for a person to decide.
//! The edited tree must load and validate before anything is written.

mod draft;
mod goapi;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use crate::diag::{Diagnostic, Failure, Result};
use crate::model::{Method, Model};

pub use draft::Facts;
pub use goapi::{GoMethod, interface_methods};

/// The Go module whose `plugin` package the proto mirrors.
pub const MODULE: &str = "github.com/mattermost/mattermost/server/public";

/// The outcome of a scaffold run.
#[derive(Debug, Default)]
pub struct Outcome {
    /// `plugin.API.Name` → the file the draft went into.
    pub drafted: Vec<(String, String)>,
    /// Lines for a person: methods not drafted, changed signatures, methods
    /// Go no longer has, struct fields gained or lost.
    pub attention: Vec<String>,
    /// Drafts a person has to confirm: the fallbacks of drafted hooks.
    pub review: Vec<String>,
    /// The new text of each edited file, by path under the proto root.
    pub edits: BTreeMap<String, String>,
}

/// `plugin/api.go` and `plugin/hooks.go` of a module version in the Go
/// module cache (`$GOMODCACHE`, else `$GOPATH/pkg/mod`, else
/// `~/go/pkg/mod`).
pub fn module_files(version: &str) -> Result<(PathBuf, PathBuf)> {
    if !version.starts_with('v') || version.contains(['/', '@']) {
        return Err(Failure::one(
            Diagnostic::new(format!("`{version}` is not a module version"))
                .element("flag `--module`")
                .note(format!("--module takes the version of {MODULE}, e.g. `--module v0.4.4`")),
        ));
    }
    let cache = std::env::var_os("GOMODCACHE")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| {
            let gopath = std::env::var_os("GOPATH").filter(|v| !v.is_empty()).map(PathBuf::from);
            gopath.or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join("go"))).map(|p| p.join("pkg/mod"))
        })
        .ok_or_else(|| Failure::one(Diagnostic::new("no Go module cache: set GOMODCACHE")))?;
    let dir = cache.join(format!("{MODULE}@{version}"));
    if !dir.join("plugin/api.go").is_file() {
        return Err(Failure::one(
            Diagnostic::new(format!(
                "{MODULE}@{version} is not in the Go module cache; fetch it with `go mod download {MODULE}@{version}`"
            ))
            .at(dir.display().to_string()),
        ));
    }
    Ok((dir.join("plugin/api.go"), dir.join("plugin/hooks.go")))
}

fn read(path: &Path) -> Result<String> {
    std::fs::read_to_string(path)
        .map_err(|e| Failure::one(Diagnostic::new(format!("cannot read: {e}")).at(path.display().to_string())))
}

/// Named types of the model package (name → underlying type) and its
/// structs (name → exported fields).
type ModelPackage = (HashMap<String, String>, BTreeMap<String, Vec<String>>);

/// The named basic types and the structs of the model package next to
/// `plugin/` (`../model`), when it is there.
fn model_package(api: &Path) -> Result<ModelPackage> {
    let mut named = HashMap::new();
    let mut structs = BTreeMap::new();
    let Some(dir) = api.parent().and_then(Path::parent).map(|p| p.join("model")) else { return Ok((named, structs)) };
    let Ok(entries) = std::fs::read_dir(&dir) else { return Ok((named, structs)) };
    let mut files: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    files.sort();
    for f in files {
        let name = f.file_name().unwrap_or_default().to_string_lossy().into_owned();
        if !name.ends_with(".go") || name.ends_with("_test.go") {
            continue;
        }
        let (s, n) = goapi::declarations(&read(&f)?);
        structs.extend(s.into_iter().map(|s| (s.name, s.fields)));
        named.extend(n);
    }
    Ok((named, structs))
}

/// Compares the Go interfaces in `api` and `hooks` with the model of
/// `proto` and drafts what is missing; writes nothing.
pub fn plan(model: &Model, api: &Path, hooks: &Path) -> Result<Outcome> {
    let mut out = Outcome::default();
    let (named, structs) = model_package(api)?;
    let mut drafts: BTreeMap<String, draft::Drafted> = BTreeMap::new();
    for (path, iface) in [(api, "API"), (hooks, "Hooks")] {
        let qualified = format!("plugin.{iface}");
        let methods = interface_methods(&read(path)?, iface, "plugin").map_err(|e| {
            Failure::one(Diagnostic::new(e).at(path.display().to_string()).element(format!("interface `{qualified}`")))
        })?;
        let service =
            model.services.iter().find(|s| s.go_interface.as_deref() == Some(qualified.as_str())).ok_or_else(|| {
                Failure::one(
                    Diagnostic::new(format!("no service has go_interface `{qualified}`"))
                        .at(model.root.display().to_string()),
                )
            })?;
        let package =
            model.files.iter().find(|f| f.path == service.file).map(|f| f.package.clone()).unwrap_or_default();
        let types = draft::Types::new(model, &package, named.clone());
        for m in &methods {
            let element = format!("{qualified}.{}", m.name);
            match service.methods.iter().find(|r| r.go_name == m.name) {
                Some(rpc) => {
                    if let Some(line) = changed_signature(rpc, m) {
                        out.attention.push(format!("{element}: signature changed: {line}"));
                    }
                }
                None if [format!("{}Request", m.name), format!("{}Response", m.name)]
                    .iter()
                    .any(|n| model.message(&format!("{package}.{n}")).is_some()) =>
                {
                    out.attention.push(format!(
                        "{element}: not drafted: `{0}Request` or `{0}Response` is already declared in {package}",
                        m.name
                    ));
                }
                None => {
                    let d = drafts.entry(service.file.clone()).or_default();
                    let mut attempt =
                        draft::Drafted { wrappers: std::mem::take(&mut d.wrappers), ..Default::default() };
                    match types.method(m, service.hooks, &mut attempt) {
                        Ok(()) => {
                            if service.hooks {
                                out.review
                                    .push(format!("{element}: the drafted not_implemented and unavailable answers"));
                            }
                            d.rpc.push_str(&attempt.rpc);
                            d.messages.push_str(&attempt.messages);
                            d.imports.extend(attempt.imports);
                            d.wrappers = attempt.wrappers;
                            out.drafted.push((element, service.file.clone()));
                        }
                        Err(e) => {
                            d.wrappers = attempt.wrappers;
                            out.attention.push(format!("{element}: not drafted: {e}"));
                        }
                    }
                }
            }
        }
        for rpc in &service.methods {
            if !methods.iter().any(|m| m.name == rpc.go_name) {
                out.attention
                    .push(format!("{qualified}.{}: Go has no such method; RPC `{}` remains", rpc.go_name, rpc.name));
            }
        }
        // Edit the service's file.
        if let Some(d) = drafts.get(&service.file).filter(|d| !d.rpc.is_empty()) {
            let text =
                out.edits.get(&service.file).cloned().map_or_else(|| read(&model.root.join(&service.file)), Ok)?;
            let edited = insert(&text, service.location.line, d, &service.file).map_err(|e| {
                Failure::one(Diagnostic::new(e).at(model.root.join(&service.file).display().to_string()))
            })?;
            out.edits.insert(service.file.clone(), edited);
            drafts.remove(&service.file);
        }
    }
    for m in &model.messages {
        let Some(name) = m.go_type.as_deref().and_then(|g| g.strip_prefix("model.")) else { continue };
        if m.json {
            continue;
        }
        let Some(go) = structs.get(name) else { continue };
        let proto: BTreeSet<&str> =
            m.fields.iter().map(|f| f.go_name.as_str()).chain(m.skipped.iter().map(|s| s.go_name.as_str())).collect();
        let go: BTreeSet<&str> = go.iter().map(String::as_str).collect();
        for gained in go.difference(&proto) {
            out.attention
                .push(format!("model.{name} gained field {gained}: add a field to `{}` or a skip entry", m.full_name));
        }
        for lost in proto.difference(&go).filter(|f| f.starts_with(|c: char| c.is_ascii_uppercase())) {
            out.attention.push(format!("model.{name} lost field {lost}: `{}` still maps it", m.full_name));
        }
    }
    Ok(out)
}

/// The Go signature change of an existing RPC, if any, as text.
fn changed_signature(rpc: &Method, m: &GoMethod) -> Option<String> {
    let proto = |vs: &[crate::model::GoValue]| vs.iter().map(|v| v.go_type.clone()).collect::<Vec<_>>();
    let go = |vs: &[goapi::GoParam]| vs.iter().map(|v| v.ty.clone()).collect::<Vec<_>>();
    let (pp, pr, gp, gr) = (proto(&rpc.go.params), proto(&rpc.go.results), go(&m.params), go(&m.results));
    if pp == gp && pr == gr {
        return None;
    }
    let sig = |p: &[String], r: &[String]| format!("({}) ({})", p.join(", "), r.join(", "));
    Some(format!("proto `{}{}`, Go `{}{}`", rpc.go_name, sig(&pp, &pr), m.name, sig(&gp, &gr)))
}

/// Inserts the drafted RPCs before the closing brace of the service that
/// starts on `line`, the messages at the end, and the missing imports
/// after the last import.
fn insert(text: &str, line: u32, d: &draft::Drafted, file: &str) -> std::result::Result<String, String> {
    let start: usize = text.split_inclusive('\n').take(line.saturating_sub(1) as usize).map(str::len).sum();
    let close = closing_brace(text, start).ok_or("the service's closing brace was not found")?;
    let line_start = text[..close].rfind('\n').map_or(0, |i| i + 1);
    let mut out = String::with_capacity(text.len() + d.rpc.len() + d.messages.len());
    out.push_str(&text[..line_start]);
    out.push_str(&d.rpc);
    out.push_str(&text[line_start..]);
    if !out.ends_with('\n') {
        out.push('\n');
    }
    out.push_str(&d.messages);
    for (_, w) in &d.wrappers {
        out.push('\n');
        out.push_str(w);
    }
    let missing: Vec<&String> =
        d.imports.iter().filter(|i| *i != file && !out.contains(&format!("import \"{i}\";"))).collect();
    if !missing.is_empty() {
        let at = out.rfind("\nimport \"").and_then(|i| out[i + 1..].find('\n').map(|j| i + 1 + j + 1));
        let at = at.or_else(|| out.find("\npackage ").and_then(|i| out[i + 1..].find('\n').map(|j| i + 1 + j + 1)));
        let at = at.ok_or("no import or package line to add imports after")?;
        let lines: String = missing.iter().map(|i| format!("import \"{i}\";\n")).collect();
        out.insert_str(at, &lines);
    }
    Ok(out)
}

/// The offset of the `}` that closes the first `{` at or after `from`,
/// skipping comments and string literals.
fn closing_brace(text: &str, from: usize) -> Option<usize> {
    let bytes = text.as_bytes();
    let (mut i, mut depth) = (from, 0);
    while i < bytes.len() {
        match bytes[i] {
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                i = text[i..].find('\n').map_or(bytes.len(), |j| i + j);
            }
            b'"' | b'\'' => {
                let q = bytes[i];
                i += 1;
                while i < bytes.len() && bytes[i] != q {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
            }
            b'{' => depth += 1,
            b'}' => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// Loads the edited tree from a scratch copy; writes the edits into `proto`
/// only when it loads and validates.
pub fn apply(proto: &Path, out: &Outcome) -> Result<()> {
    if out.edits.is_empty() {
        return Ok(());
    }
    let scratch = tempfile::Builder::new().prefix("mm-bindgen-scaffold-").tempdir().map_err(anyhow::Error::from)?;
    for entry in walkdir::WalkDir::new(proto) {
        let entry = entry.map_err(|e| anyhow::anyhow!("reading {}: {e}", proto.display()))?;
        let rel = entry.path().strip_prefix(proto).expect("walkdir yields paths under its root");
        let target = scratch.path().join(rel);
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&target).map_err(anyhow::Error::from)?;
        } else if entry.file_type().is_file() {
            std::fs::copy(entry.path(), &target).map_err(anyhow::Error::from)?;
        }
    }
    for (file, text) in &out.edits {
        std::fs::write(scratch.path().join(file), text).map_err(anyhow::Error::from)?;
    }
    if let Err(failure) = crate::pipeline::model(scratch.path()) {
        let root = scratch.path().display().to_string();
        return Err(match failure {
            Failure::Input(ds) => Failure::Input(
                ds.into_iter()
                    .map(|d| Diagnostic {
                        place: d.place.map(|p| p.replacen(&root, &proto.display().to_string(), 1)),
                        ..d
                    })
                    .map(|d| d.note("in the drafts scaffold would write; nothing was written"))
                    .collect(),
            ),
            other => other,
        });
    }
    for (file, text) in &out.edits {
        std::fs::write(proto.join(file), text).map_err(anyhow::Error::from)?;
    }
    Ok(())
}
