//! The Markdown docs target: an index page with counts, and one reference
//! page per service listing every RPC with its description, facts (streaming,
//! minimum server version, tags, deprecation, Go signature) and the fields of
//! its request and response.

mod markdown;

use std::collections::HashMap;

use heck::ToKebabCase;
use serde::Serialize;

use super::{Header, OutputFile, Target};
use crate::diag::Result;
use crate::model::{Cardinality, Fallback, Field, GoSignature, Method, Model, Service, Streaming, TypeRef};

pub struct Docs;

impl Target for Docs {
    fn lower(&self, model: &Model) -> Result<Vec<OutputFile>> {
        let mut files = vec![OutputFile::new("docs/index.md".into(), "docs/index.md.tera", &index(model))];
        // The Python signatures of the methods the Python target covers.
        let python = super::python::signatures(model);
        for s in &model.services {
            let view = service(model, s, &python);
            files.push(OutputFile::new(format!("docs/{}", page_name(s)), "docs/service.md.tera", &view));
        }
        Ok(files)
    }
}

fn page_name(s: &Service) -> String {
    format!("{}.md", s.name.to_kebab_case())
}

#[derive(Serialize)]
struct IndexView {
    header: Header,
    services: Vec<ServiceRow>,
    files: usize,
    messages: usize,
    enums: usize,
    rpcs: usize,
}

#[derive(Serialize)]
struct ServiceRow {
    name: String,
    page: String,
    go_interface: String,
    rpcs: usize,
    streaming: usize,
    summary: String,
}

fn index(model: &Model) -> IndexView {
    IndexView {
        header: Header::new(model.files.iter().map(|f| f.path.clone()).collect()),
        services: model
            .services
            .iter()
            .map(|s| ServiceRow {
                name: s.name.clone(),
                page: page_name(s),
                go_interface: s.go_interface.as_deref().map(markdown::cell_code).unwrap_or_default(),
                rpcs: s.methods.len(),
                streaming: s.methods.iter().filter(|m| m.streaming != Streaming::Unary).count(),
                summary: markdown::cell(first_paragraph(&s.comments.leading)),
            })
            .collect(),
        files: model.files.len(),
        messages: model.messages.len(),
        enums: model.enums.len(),
        rpcs: model.services.iter().map(|s| s.methods.len()).sum(),
    }
}

#[derive(Serialize)]
struct ServiceView {
    header: Header,
    name: String,
    description: String,
    go_interface: String,
    /// "1 RPC", "12 RPCs".
    rpc_count: String,
    groups: Vec<Group>,
    methods: Vec<MethodView>,
    show_go: bool,
}

/// RPCs listed under their first tag, in order of first appearance.
#[derive(Serialize)]
struct Group {
    title: String,
    links: Vec<Link>,
}

#[derive(Serialize)]
struct Link {
    text: String,
    anchor: String,
}

#[derive(Serialize)]
struct MethodView {
    name: String,
    description: String,
    facts: Vec<Fact>,
    /// The request table, then the response table.
    tables: [FieldTable; 2],
}

#[derive(Serialize)]
struct Fact {
    label: &'static str,
    value: String,
}

#[derive(Serialize)]
struct FieldTable {
    title: &'static str,
    message: String,
    rows: Vec<FieldRow>,
}

#[derive(Serialize)]
struct FieldRow {
    name: String,
    ty: String,
    go_type: String,
    description: String,
}

fn service(model: &Model, s: &Service, python: &HashMap<String, String>) -> ServiceView {
    let mut groups: Vec<Group> = Vec::new();
    // Untagged RPCs get a group of their own, titled only if others are tagged.
    let untagged = if s.methods.iter().any(|m| !m.tags.is_empty()) { "Untagged" } else { "" };
    for m in &s.methods {
        let title = m.tags.first().cloned().unwrap_or_else(|| untagged.to_string());
        let link = Link { text: m.name.clone(), anchor: markdown::anchor(&m.name) };
        match groups.iter_mut().find(|g| g.title == title) {
            Some(g) => g.links.push(link),
            None => groups.push(Group { title, links: vec![link] }),
        }
    }
    let package = model.files.iter().find(|f| f.path == s.file).map(|f| f.package.as_str()).unwrap_or("");
    let show_go = s.go_interface.is_some();
    ServiceView {
        header: Header::new(vec![s.file.clone()]),
        name: s.name.clone(),
        description: markdown::paragraphs(&s.comments.leading),
        go_interface: s.go_interface.as_deref().map(markdown::code).unwrap_or_default(),
        rpc_count: match s.methods.len() {
            1 => "1 RPC".to_string(),
            n => format!("{n} RPCs"),
        },
        groups,
        methods: s
            .methods
            .iter()
            .map(|m| method(model, m, package, show_go, python.get(&format!("{}.{}", s.full_name, m.name))))
            .collect(),
        show_go,
    }
}

fn method(model: &Model, m: &Method, package: &str, show_go: bool, python: Option<&String>) -> MethodView {
    let mut facts = vec![Fact { label: "Streaming", value: streaming(m.streaming).into() }];
    if !m.min_server_version.is_empty() {
        facts.push(Fact { label: "Minimum server version", value: m.min_server_version.clone() });
    }
    if !m.tags.is_empty() {
        facts.push(Fact { label: "Tags", value: markdown::cell(&m.tags.join(", ")) });
    }
    if !m.deprecated.is_empty() {
        facts.push(Fact { label: "Deprecated", value: markdown::cell(&m.deprecated) });
    }
    if m.experimental {
        facts.push(Fact { label: "Experimental", value: "yes: may change without notice".into() });
    }
    if show_go {
        facts.push(Fact { label: "Go", value: markdown::cell_code(&go_signature(&m.go_name, &m.go)) });
    }
    if let Some(signature) = python {
        facts.push(Fact { label: "Python", value: markdown::cell_code(signature) });
    }
    if let Some(hook) = &m.hook {
        facts.push(Fact { label: "If the plugin does not implement it", value: fallback(m, &hook.not_implemented) });
        facts.push(Fact { label: "If the call fails", value: fallback(m, &hook.unavailable) });
    }
    let table = |title, name: &str| FieldTable {
        title,
        message: markdown::code(short_name(name, package)),
        rows: model
            .message(name)
            .map(|msg| msg.fields.iter().map(|f| field_row(f, package)).collect())
            .unwrap_or_default(),
    };
    let mut description = markdown::paragraphs(&m.comments.leading);
    if !m.comments.trailing.is_empty() {
        description = format!("{description}\n\n{}", markdown::paragraphs(&m.comments.trailing));
    }
    MethodView {
        name: m.name.clone(),
        description,
        facts,
        tables: [table("Request", &m.request), table("Response", &m.response)],
    }
}

fn field_row(f: &Field, package: &str) -> FieldRow {
    let ty = short_name(f.ty.name(), package);
    let ty = match f.cardinality {
        Cardinality::Singular => ty.to_string(),
        Cardinality::Optional if matches!(f.ty, TypeRef::Scalar(_)) => format!("optional {ty}"),
        Cardinality::Optional => ty.to_string(),
        Cardinality::Repeated => format!("repeated {ty}"),
        Cardinality::Map => {
            let key = f.map_key.as_ref().map(|k| k.name()).unwrap_or_default();
            format!("map<{key}, {ty}>")
        }
    };
    let mut description = f.comments.leading.clone();
    if !f.comments.trailing.is_empty() {
        description = format!("{description}\n\n{}", f.comments.trailing);
    }
    FieldRow {
        name: markdown::cell_code(&f.name),
        ty: markdown::cell_code(&ty),
        go_type: if f.go_type.is_empty() { String::new() } else { markdown::cell_code(&f.go_type) },
        description: markdown::cell(&description),
    }
}

/// A type name without the package prefix when it is in `package`.
fn short_name<'a>(name: &'a str, package: &str) -> &'a str {
    name.strip_prefix(package).and_then(|n| n.strip_prefix('.')).unwrap_or(name)
}

fn streaming(s: Streaming) -> &'static str {
    match s {
        Streaming::Unary => "unary",
        Streaming::Client => "client stream",
        Streaming::Server => "server stream",
        Streaming::Bidi => "bidirectional stream",
    }
}

/// What a hooks client answers instead of the plugin, in words.
fn fallback(m: &Method, f: &Fallback) -> String {
    let answer = if let Some(status) = f.http_status {
        format!("answers HTTP {status}")
    } else if let Some(e) = &f.error {
        format!("returns the AppError `{}` ({})", e.id, e.status)
    } else if f.echo_param.is_some() {
        format!("returns `{}` unchanged", f.echo)
    } else if f.true_result.is_some() {
        "returns true".to_string()
    } else if m.go.results.is_empty() {
        "does nothing".to_string()
    } else {
        "returns zero values".to_string()
    };
    let text = if f.reason.is_empty() { answer } else { format!("{answer}. {}", f.reason) };
    markdown::cell(&text)
}

/// `Name(a T, b U) (R, error)`.
fn go_signature(name: &str, sig: &GoSignature) -> String {
    let params: Vec<String> = sig.params.iter().map(|p| format!("{} {}", p.name, p.go_type)).collect();
    let results: Vec<&str> = sig.results.iter().map(|r| r.go_type.as_str()).collect();
    let results = match results.as_slice() {
        [] => String::new(),
        [one] => format!(" {one}"),
        many => format!(" ({})", many.join(", ")),
    };
    format!("{name}({}){results}", params.join(", "))
}

fn first_paragraph(text: &str) -> &str {
    text.split("\n\n").next().unwrap_or("")
}
