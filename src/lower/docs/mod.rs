//! The Markdown docs target.
//!
//! Pages, all under `docs/`:
//! - `index.md`: counts, the services and the type pages;
//! - `<service>.md` per service: with tagged RPCs, an index of its groups
//!   (one page per tag, `<service>/<tag>.md`, untagged RPCs last); without
//!   tags, the RPCs themselves;
//! - `types/<file>.md` per proto file: its messages, enums and extensions.
//!
//! Each RPC gives its description and facts (streaming, request, response,
//! minimum server version, tags, deprecation, Go and Python signature, hook
//! fallbacks). A request or response message that only this RPC uses is
//! documented in the RPC's section; every other message on its file's type
//! page with links back to the RPCs that use it, and every type name links
//! to where the type is documented (types defined outside the proto root:
//! to their documentation, or by name).
//!
//! Every page is a list of entries (a heading with its description, facts,
//! table and notes) laid out by one template. Anchors are handed out per
//! page in heading order, so they are unique and links reach the heading
//! they were made for.

mod markdown;

use std::collections::{HashMap, HashSet};

use heck::ToKebabCase;
use serde::Serialize;

use super::{Header, OutputFile, Target};
use crate::diag::Result;
use crate::model::{
    Answer, Cardinality, Enum, Extension, Fallback, Field, File, Message, Method, Model, Service, Streaming, TypeRef,
};
use markdown::Anchors;

pub struct Docs;

impl Target for Docs {
    fn lower(&self, model: &Model) -> Result<Vec<OutputFile>> {
        Ok(Site::new(model).pages())
    }
}

/// One page: its header and entries, in order.
#[derive(Serialize)]
struct PageView {
    header: Header,
    entries: Vec<Entry>,
}

/// A heading and what follows it.
#[derive(Serialize)]
struct Entry {
    /// `#`, `##` or `###`.
    level: &'static str,
    /// The heading as Markdown.
    heading: String,
    /// Markdown paragraphs; empty for none.
    description: String,
    /// Label and value rows of a two-column table.
    facts: Vec<Fact>,
    table: Table,
    /// Paragraphs after the table.
    notes: Vec<String>,
}

#[derive(Serialize)]
struct Fact {
    label: &'static str,
    value: String,
}

/// A table; when it has no rows, `empty` is printed instead (if not empty).
#[derive(Serialize, Default)]
struct Table {
    columns: Vec<&'static str>,
    rows: Vec<Vec<String>>,
    empty: String,
}

impl Entry {
    fn new(level: &'static str, heading: String) -> Self {
        Entry {
            level,
            heading,
            description: String::new(),
            facts: Vec::new(),
            table: Table::default(),
            notes: Vec::new(),
        }
    }
}

/// Where a message or enum is documented: page (relative to `docs/`) and anchor.
#[derive(Clone)]
struct Home {
    page: String,
    anchor: String,
}

struct ServicePlan<'a> {
    service: &'a Service,
    /// The service's short name, or its full name where another service
    /// has the same short name.
    title: String,
    page: String,
    /// The tag groups, untagged last; empty when no RPC has a tag, and the
    /// RPCs are then on the service page.
    groups: Vec<GroupPlan<'a>>,
}

struct GroupPlan<'a> {
    title: String,
    page: String,
    methods: Vec<&'a Method>,
}

struct TypePlan<'a> {
    file: &'a File,
    page: String,
    messages: Vec<(&'a Message, String)>,
    enums: Vec<(&'a Enum, String)>,
    extensions: Vec<&'a Extension>,
    /// Anchors of the title, the contents and the extensions headings.
    anchors: [String; 3],
}

struct Site<'a> {
    model: &'a Model,
    /// Python signatures by `package.Service.Method`.
    python: HashMap<String, String>,
    /// Whether the proto set describes Go (a service mirrors a Go interface).
    show_go: bool,
    homes: HashMap<String, Home>,
    /// Messages documented in the section of the one RPC that uses them.
    owned: HashSet<&'a str>,
    services: Vec<ServicePlan<'a>>,
    types: Vec<TypePlan<'a>>,
}

const INDEX: &str = "index.md";

/// Up to this many RPCs using a type are listed on its entry.
const USED_BY_LIMIT: usize = 50;

impl<'a> Site<'a> {
    fn new(model: &'a Model) -> Self {
        let mut used: HashSet<String> = ["index".to_string(), "types".to_string()].into();
        let services = model
            .services
            .iter()
            .map(|s| {
                let short = s.name.to_kebab_case();
                let shared = model.services.iter().filter(|o| o.name.to_kebab_case() == short).count() > 1;
                let base = claim(&mut used, if shared { s.full_name.to_kebab_case() } else { short });
                let page = format!("{base}.md");
                let title = if shared { s.full_name.clone() } else { s.name.clone() };
                ServicePlan { service: s, title, page, groups: groups(s, &base) }
            })
            .collect();
        let owned = owned(model);
        let mut used: HashSet<String> = HashSet::new();
        let mut homes = HashMap::new();
        let mut types = Vec::new();
        for file in &model.files {
            let messages: Vec<&Message> = model
                .messages
                .iter()
                .filter(|m| m.file == file.path && !owned.contains(m.full_name.as_str()))
                .collect();
            let enums: Vec<&Enum> = model.enums.iter().filter(|e| e.file == file.path).collect();
            let extensions: Vec<&Extension> = model.extensions.iter().filter(|x| x.file == file.path).collect();
            if messages.is_empty() && enums.is_empty() && extensions.is_empty() {
                continue;
            }
            let stem = file.path.strip_suffix(".proto").unwrap_or(&file.path).replace('/', ".");
            let page = format!("types/{}.md", claim(&mut used, stem));
            // Headings in page order: title, contents, messages, enums, extensions.
            let mut anchors = Anchors::default();
            let title = anchors.next(&type_page_title(file));
            let contents = anchors.next("Contents");
            let mut place = |full_name: &str| {
                let anchor = anchors.next(short_name(full_name, &file.package));
                homes.insert(full_name.to_string(), Home { page: page.clone(), anchor: anchor.clone() });
                anchor
            };
            let messages = messages.into_iter().map(|m| (m, place(&m.full_name))).collect();
            let enums = enums.into_iter().map(|e| (e, place(&e.full_name))).collect();
            let extensions_anchor = anchors.next("Extensions");
            types.push(TypePlan {
                file,
                page,
                messages,
                enums,
                extensions,
                anchors: [title, contents, extensions_anchor],
            });
        }
        Site {
            model,
            python: super::python::signatures(model),
            show_go: model.services.iter().any(|s| s.go_interface.is_some()),
            homes,
            owned,
            services,
            types,
        }
    }

    fn pages(&self) -> Vec<OutputFile> {
        let mut files = vec![self.page(INDEX, self.model.files.iter().map(|f| f.path.clone()).collect(), self.index())];
        // The RPCs that use each type directly, as links from a type page.
        let mut used_by: HashMap<&str, Vec<String>> = HashMap::new();
        for plan in &self.services {
            let sources = vec![plan.service.file.clone()];
            let mut index = Vec::new();
            let pages: Vec<(Option<&GroupPlan>, &str, Vec<&Method>)> = if plan.groups.is_empty() {
                vec![(None, plan.page.as_str(), plan.service.methods.iter().collect())]
            } else {
                plan.groups.iter().map(|g| (Some(g), g.page.as_str(), g.methods.clone())).collect()
            };
            for (group, page, methods) in pages {
                let (entries, anchors) = self.methods_page(plan, group, &methods);
                for (m, anchor) in methods.iter().zip(&anchors) {
                    let target = format!("{}#{anchor}", relative("types/", page));
                    for ty in self.used_types(m) {
                        used_by.entry(ty).or_default().push(link(&markdown::text(&m.name), &target));
                    }
                }
                files.push(self.page(page, sources.clone(), entries));
                if let Some(g) = group {
                    index.push((g, anchors));
                }
            }
            if !plan.groups.is_empty() {
                files.push(self.page(&plan.page, sources, self.service_index(plan, &index)));
            }
        }
        for plan in &self.types {
            files.push(self.page(&plan.page, vec![plan.file.path.clone()], self.type_page(plan, &used_by)));
        }
        files
    }

    fn page(&self, page: &str, sources: Vec<String>, entries: Vec<Entry>) -> OutputFile {
        OutputFile::new(
            format!("docs/{page}"),
            "docs/page.md.tera",
            &PageView { header: Header::new(sources), entries },
        )
    }

    fn index(&self) -> Vec<Entry> {
        let m = self.model;
        let rpcs: usize = m.services.iter().map(|s| s.methods.len()).sum();
        let mut title = Entry::new("#", "API reference".into());
        title.description = format!(
            "{} proto files, {} in {}, {}, {}.",
            m.files.len(),
            count(rpcs, "RPC", "RPCs"),
            count(m.services.len(), "service", "services"),
            count(m.messages.len(), "message", "messages"),
            count(m.enums.len(), "enum", "enums")
        );
        title.table = Table {
            columns: vec!["Service", "Go interface", "RPCs", "Streaming", "Summary"],
            rows: self
                .services
                .iter()
                .map(|p| {
                    let s = p.service;
                    vec![
                        link(&markdown::text(&p.title), &p.page),
                        s.go_interface.as_deref().map(markdown::cell_code).unwrap_or_default(),
                        s.methods.len().to_string(),
                        s.methods.iter().filter(|m| m.streaming != Streaming::Unary).count().to_string(),
                        markdown::cell(first_paragraph(&s.comments.leading)),
                    ]
                })
                .collect(),
            empty: "No services.".into(),
        };
        let mut entries = vec![title];
        if !self.types.is_empty() {
            let mut types = Entry::new("##", "Types".into());
            types.description =
                "Messages and enums by proto file (a request or response that only one RPC uses is documented with that RPC)."
                    .into();
            types.table = Table {
                columns: vec!["File", "Package", "Messages", "Enums", "Extensions"],
                rows: self
                    .types
                    .iter()
                    .map(|t| {
                        vec![
                            link(&markdown::code(&t.file.path), &t.page),
                            markdown::cell_code(&t.file.package),
                            t.messages.len().to_string(),
                            t.enums.len().to_string(),
                            t.extensions.len().to_string(),
                        ]
                    })
                    .collect(),
                empty: String::new(),
            };
            entries.push(types);
        }
        entries
    }

    fn service_title(&self, plan: &ServicePlan, group: Option<&GroupPlan>, rpcs: usize) -> Entry {
        let s = plan.service;
        let name = markdown::text(&plan.title);
        let mut title = match group {
            Some(g) => Entry::new("#", format!("{name}: {}", markdown::text(&g.title))),
            None => Entry::new("#", name.clone()),
        };
        let mut parts = Vec::new();
        match group {
            Some(g) => parts.push(format!(
                "Part of {} in the {}.",
                link(&name, &relative(&g.page, &plan.page)),
                link("API reference", &relative(&g.page, INDEX))
            )),
            None if !s.comments.leading.is_empty() => parts.push(markdown::paragraphs(&s.comments.leading)),
            None => {}
        }
        let package = self.package_of(&s.file);
        let mut facts = format!("Package {}.", markdown::code(if package.is_empty() { "(none)" } else { package }));
        if let Some(go) = &s.go_interface {
            facts.push_str(&format!(" Go interface: {}.", markdown::code(go)));
        }
        facts.push_str(&format!(" {}", count(rpcs, "RPC.", "RPCs.")));
        if group.is_none() && !plan.groups.is_empty() {
            facts.push_str(&format!(" {}", count(plan.groups.len(), "group.", "groups.")));
        }
        parts.push(facts);
        title.description = parts.join("\n\n");
        title
    }

    /// The index of a service whose RPCs are on group pages.
    fn service_index(&self, plan: &ServicePlan, groups: &[(&GroupPlan, Vec<String>)]) -> Vec<Entry> {
        let mut contents = Entry::new("##", "Contents".into());
        contents.description = groups
            .iter()
            .map(|(g, anchors)| {
                let page = relative(&plan.page, &g.page);
                let links: Vec<String> = g
                    .methods
                    .iter()
                    .zip(anchors)
                    .map(|(m, a)| link(&markdown::text(&m.name), &format!("{page}#{a}")))
                    .collect();
                format!("**{}** ({}): {}", link(&markdown::text(&g.title), &page), g.methods.len(), links.join(", "))
            })
            .collect::<Vec<_>>()
            .join("\n\n");
        vec![self.service_title(plan, None, plan.service.methods.len()), contents]
    }

    /// The types an RPC uses directly: its request and response, and the
    /// types of their fields.
    fn used_types(&self, m: &'a Method) -> Vec<&'a str> {
        let mut types = vec![m.request.as_str(), m.response.as_str()];
        for name in [&m.request, &m.response] {
            if let Some(msg) = self.model.message(name) {
                types.extend(msg.fields.iter().filter(|f| !matches!(f.ty, TypeRef::Scalar(_))).map(|f| f.ty.name()));
            }
        }
        let mut seen = HashSet::new();
        types.retain(|t| seen.insert(*t));
        types
    }

    /// A page of RPCs, and the anchor of each RPC's heading.
    fn methods_page(
        &self,
        plan: &ServicePlan,
        group: Option<&GroupPlan>,
        methods: &[&Method],
    ) -> (Vec<Entry>, Vec<String>) {
        let page = group.map_or(plan.page.as_str(), |g| g.page.as_str());
        let mut anchors = Anchors::default();
        let title = self.service_title(plan, group, methods.len());
        anchors.next(&plain_heading(&title.heading));
        let mut entries = vec![title];
        if methods.is_empty() {
            return (entries, Vec::new());
        }
        anchors.next("Contents");
        let mut contents = Entry::new("##", "Contents".into());
        let mut method_anchors = Vec::new();
        let mut sections = Vec::new();
        for m in methods {
            let anchor = anchors.next(&m.name);
            method_anchors.push(anchor);
            sections.extend(self.method(plan.service, m, page, &mut anchors));
        }
        contents.description = methods
            .iter()
            .zip(&method_anchors)
            .map(|(m, a)| link(&markdown::text(&m.name), &format!("#{a}")))
            .collect::<Vec<_>>()
            .join(", ");
        entries.push(contents);
        entries.extend(sections);
        (entries, method_anchors)
    }

    /// An RPC's section, then the sections of the messages only it uses.
    fn method(&self, s: &Service, m: &Method, page: &str, anchors: &mut Anchors) -> Vec<Entry> {
        let package = self.package_of(&s.file);
        let mut entry = Entry::new("##", markdown::text(&m.name));
        let mut description = markdown::paragraphs(&m.comments.leading);
        if !m.comments.trailing.is_empty() {
            let trailing = markdown::paragraphs(&m.comments.trailing);
            description = if description.is_empty() { trailing } else { format!("{description}\n\n{trailing}") };
        }
        entry.description = description;
        // The sections of owned messages follow this one; their anchors come
        // after the method's own heading, which the caller has taken.
        let mut owned = Vec::new();
        let mut message_link = |name: &str| {
            if self.owned.contains(name) {
                let msg = self.model.message(name).expect("owned messages are in the model");
                let anchor = anchors.next(short_name(name, package));
                let text = markdown::code(short_name(name, package));
                owned.push((msg, anchor.clone()));
                link(&text, &format!("#{anchor}"))
            } else {
                self.type_link(name, package, page)
            }
        };
        let request = message_link(&m.request);
        let response = if m.response == m.request { request.clone() } else { message_link(&m.response) };
        let facts = &mut entry.facts;
        facts.push(Fact { label: "Streaming", value: streaming(m.streaming).into() });
        facts.push(Fact { label: "Request", value: request });
        facts.push(Fact { label: "Response", value: response });
        if !m.min_server_version.is_empty() {
            facts.push(Fact { label: "Minimum server version", value: markdown::cell(&m.min_server_version) });
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
        if s.go_interface.is_some() {
            facts.push(Fact { label: "Go", value: markdown::cell_code(&m.go.method(&m.go_name)) });
        }
        if let Some(signature) = self.python.get(&format!("{}.{}", s.full_name, m.name)) {
            facts.push(Fact { label: "Python", value: markdown::cell_code(signature) });
        }
        if let Some(hook) = &m.hook {
            facts
                .push(Fact { label: "If the plugin does not implement it", value: fallback(m, &hook.not_implemented) });
            facts.push(Fact { label: "If the call fails", value: fallback(m, &hook.unavailable) });
        }
        let mut entries = vec![entry];
        for (msg, _) in owned {
            entries.push(self.message(msg, "###", package, page));
        }
        entries
    }

    fn type_page(&self, plan: &TypePlan, used_by: &HashMap<&str, Vec<String>>) -> Vec<Entry> {
        let package = plan.file.package.as_str();
        let mut title = Entry::new("#", markdown::text(&type_page_title(plan.file)));
        title.description = format!(
            "Package {}. Back to the {}.",
            markdown::code(if package.is_empty() { "(none)" } else { package }),
            link("API reference", &relative(&plan.page, INDEX))
        );
        let mut contents = Entry::new("##", "Contents".into());
        let mut lines = Vec::new();
        let list = |items: Vec<(&str, &String)>| {
            items
                .into_iter()
                .map(|(name, anchor)| link(&markdown::code(short_name(name, package)), &format!("#{anchor}")))
                .collect::<Vec<_>>()
                .join(", ")
        };
        if !plan.messages.is_empty() {
            lines.push(format!(
                "Messages: {}",
                list(plan.messages.iter().map(|(m, a)| (m.full_name.as_str(), a)).collect())
            ));
        }
        if !plan.enums.is_empty() {
            lines.push(format!("Enums: {}", list(plan.enums.iter().map(|(e, a)| (e.full_name.as_str(), a)).collect())));
        }
        if !plan.extensions.is_empty() {
            lines.push(link("Extensions", &format!("#{}", plan.anchors[2])));
        }
        contents.description = lines.join("\n\n");
        let mut entries = vec![title, contents];
        let used = |name: &str, entry: &mut Entry| {
            // A type nearly every RPC uses (the error) gets a count, not a list.
            let value = match used_by.get(name) {
                Some(links) if links.len() > USED_BY_LIMIT => format!("{} RPCs", links.len()),
                Some(links) => links.join(", "),
                None => return,
            };
            entry.facts.push(Fact { label: "Used by", value });
        };
        for (m, _) in &plan.messages {
            let mut entry = self.message(m, "##", package, &plan.page);
            used(&m.full_name, &mut entry);
            entries.push(entry);
        }
        for (e, _) in &plan.enums {
            let mut entry = self.enumeration(e, package);
            used(&e.full_name, &mut entry);
            entries.push(entry);
        }
        if !plan.extensions.is_empty() {
            let mut x = Entry::new("##", "Extensions".into());
            x.description = "Fields other files' messages gain from this file.".into();
            x.table = Table {
                columns: vec!["Extension", "Extends", "Number", "Type", "Description"],
                rows: plan
                    .extensions
                    .iter()
                    .map(|x| {
                        vec![
                            markdown::cell_code(short_name(&x.full_name, package)),
                            self.type_link(&x.extendee, package, &plan.page),
                            x.field.number.to_string(),
                            self.type_cell(&x.field, package, &plan.page),
                            self.field_description(&x.field),
                        ]
                    })
                    .collect(),
                empty: String::new(),
            };
            entries.push(x);
        }
        entries
    }

    fn message(&self, m: &Message, level: &'static str, package: &str, page: &str) -> Entry {
        let mut entry = Entry::new(level, markdown::text(short_name(&m.full_name, package)));
        entry.description = markdown::paragraphs(&m.comments.leading);
        if let Some(go) = &m.go_type {
            entry.facts.push(Fact { label: "Go type", value: markdown::cell_code(go) });
        }
        if m.json {
            entry.facts.push(Fact { label: "Encoding", value: "the Go value as JSON in `json`".into() });
        }
        if m.deprecated {
            entry.facts.push(Fact { label: "Deprecated", value: "yes".into() });
        }
        let mut columns = vec!["Field", "Type"];
        if self.show_go {
            columns.push("Go type");
        }
        columns.push("Description");
        entry.table = Table {
            columns,
            rows: m
                .fields
                .iter()
                .map(|f| {
                    let mut row = vec![markdown::cell_code(&f.name), self.type_cell(f, package, page)];
                    if self.show_go {
                        row.push(if f.go_type.is_empty() { String::new() } else { markdown::cell_code(&f.go_type) });
                    }
                    row.push(self.field_description(f));
                    row
                })
                .collect(),
            empty: "No fields.".into(),
        };
        for oneof in &m.oneofs {
            let members: Vec<String> = m
                .fields
                .iter()
                .filter(|f| f.oneof.as_deref() == Some(oneof))
                .map(|f| markdown::code(&f.name))
                .collect();
            entry.notes.push(format!("Oneof {}: at most one of {} is set.", markdown::code(oneof), members.join(", ")));
        }
        for skipped in &m.skipped {
            entry.notes.push(format!(
                "Go field {} is not carried: {}",
                markdown::code(&skipped.go_name),
                markdown::cell(&skipped.reason)
            ));
        }
        entry
    }

    fn enumeration(&self, e: &Enum, package: &str) -> Entry {
        let mut entry = Entry::new("##", markdown::text(short_name(&e.full_name, package)));
        entry.description = markdown::paragraphs(&e.comments.leading);
        if let Some(go) = &e.go_type {
            entry.facts.push(Fact { label: "Go type", value: markdown::cell_code(go) });
        }
        entry.table = Table {
            columns: vec!["Value", "Number", "Description"],
            rows: e
                .values
                .iter()
                .map(|v| vec![markdown::cell_code(&v.name), v.number.to_string(), markdown::cell(&joined(&v.comments))])
                .collect(),
            empty: "No values.".into(),
        };
        entry
    }

    /// A field's type: the proto spelling with the label, the type linked.
    fn type_cell(&self, f: &Field, package: &str, page: &str) -> String {
        let ty = match &f.ty {
            TypeRef::Scalar(s) => markdown::code(s),
            TypeRef::Message(n) | TypeRef::Enum(n) => self.type_link(n, package, page),
        };
        match f.cardinality {
            _ if f.required => format!("required {ty}"),
            Cardinality::Singular => ty,
            Cardinality::Optional if f.oneof.is_none() && matches!(f.ty, TypeRef::Scalar(_) | TypeRef::Enum(_)) => {
                format!("optional {ty}")
            }
            Cardinality::Optional => ty,
            Cardinality::Repeated => format!("repeated {ty}"),
            Cardinality::Map => {
                let key = f.map_key.as_ref().map(|k| markdown::code(k.name())).unwrap_or_default();
                format!("map&lt;{key}, {ty}>")
            }
        }
    }

    fn field_description(&self, f: &Field) -> String {
        let mut parts = Vec::new();
        if f.deprecated {
            parts.push("**Deprecated.**".to_string());
        }
        if let Some(oneof) = &f.oneof {
            parts.push(format!("In oneof {}.", markdown::code(oneof)));
        }
        let comment = markdown::cell(&joined(&f.comments));
        if !comment.is_empty() {
            parts.push(comment);
        }
        parts.join(" ")
    }

    /// A link to where a message or enum is documented, from `page`.
    fn type_link(&self, name: &str, package: &str, page: &str) -> String {
        if let Some(home) = self.homes.get(name) {
            let target = if home.page == page {
                format!("#{}", home.anchor)
            } else {
                format!("{}#{}", relative(page, &home.page), home.anchor)
            };
            return link(&markdown::code(short_name(name, package)), &target);
        }
        external(name)
    }

    fn package_of(&self, file: &str) -> &str {
        self.model.files.iter().find(|f| f.path == file).map(|f| f.package.as_str()).unwrap_or("")
    }
}

/// The tag groups of a service, in order of first appearance, untagged
/// last; none when no RPC is tagged.
fn groups<'a>(s: &'a Service, base: &str) -> Vec<GroupPlan<'a>> {
    if s.methods.iter().all(|m| m.tags.is_empty()) {
        return Vec::new();
    }
    let mut groups: Vec<GroupPlan> = Vec::new();
    let mut untagged = Vec::new();
    let mut used = HashSet::new();
    for m in &s.methods {
        let Some(tag) = m.tags.first() else {
            untagged.push(m);
            continue;
        };
        match groups.iter_mut().find(|g| &g.title == tag) {
            Some(g) => g.methods.push(m),
            None => {
                let name = claim(&mut used, non_empty_or(tag.to_kebab_case(), "group"));
                groups.push(GroupPlan { title: tag.clone(), page: format!("{base}/{name}.md"), methods: vec![m] });
            }
        }
    }
    if !untagged.is_empty() {
        let name = claim(&mut used, "untagged".to_string());
        groups.push(GroupPlan { title: "Untagged".into(), page: format!("{base}/{name}.md"), methods: untagged });
    }
    groups
}

/// The request and response messages that exactly one RPC uses, no field
/// refers to and no type is nested in: they are documented in that RPC's
/// section.
fn owned(model: &Model) -> HashSet<&str> {
    let mut uses: HashMap<&str, usize> = HashMap::new();
    for m in model.services.iter().flat_map(|s| &s.methods) {
        *uses.entry(&m.request).or_default() += 1;
        if m.response != m.request {
            *uses.entry(&m.response).or_default() += 1;
        }
    }
    let fields = model.messages.iter().flat_map(|m| &m.fields).chain(model.extensions.iter().map(|x| &x.field));
    let referenced: HashSet<&str> = fields.map(|f| f.ty.name()).collect();
    // A message with nested types stays on its file's page, beside them.
    let has_nested = |name: &str| {
        let prefix = format!("{name}.");
        model
            .messages
            .iter()
            .map(|m| &m.full_name)
            .chain(model.enums.iter().map(|e| &e.full_name))
            .any(|n| n.starts_with(&prefix))
    };
    uses.into_iter()
        .filter(|&(name, n)| n == 1 && !referenced.contains(name) && model.message(name).is_some() && !has_nested(name))
        .map(|(name, _)| name)
        .collect()
}

/// A name not yet in `used` (suffixed `-2`, `-3`... when taken), now taken.
fn claim(used: &mut HashSet<String>, name: String) -> String {
    let mut candidate = name.clone();
    let mut n = 1;
    while !used.insert(candidate.clone()) {
        n += 1;
        candidate = format!("{name}-{n}");
    }
    candidate
}

fn non_empty_or(s: String, default: &str) -> String {
    if s.is_empty() { default.to_string() } else { s }
}

fn type_page_title(file: &File) -> String {
    format!("Types in {}", file.path)
}

/// The text of a heading made by [`markdown::text`], for its anchor.
fn plain_heading(heading: &str) -> String {
    let mut out = String::new();
    let mut chars = heading.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(next) = chars.next() {
                out.push(next);
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// A type defined outside the proto root: the well-known types link to
/// their reference, other `google.protobuf` types to their file, anything
/// else is named.
fn external(name: &str) -> String {
    const WELL_KNOWN: &[&str] = &[
        "Any",
        "Api",
        "BoolValue",
        "BytesValue",
        "DoubleValue",
        "Duration",
        "Empty",
        "Enum",
        "EnumValue",
        "Field",
        "FieldMask",
        "FloatValue",
        "Int32Value",
        "Int64Value",
        "ListValue",
        "Method",
        "Mixin",
        "NullValue",
        "Option",
        "SourceContext",
        "StringValue",
        "Struct",
        "Syntax",
        "Timestamp",
        "Type",
        "UInt32Value",
        "UInt64Value",
        "Value",
    ];
    let code = markdown::code(name);
    match name.strip_prefix("google.protobuf.") {
        Some(short) if WELL_KNOWN.contains(&short) => link(
            &code,
            &format!("https://protobuf.dev/reference/protobuf/google.protobuf/#{}", short.to_ascii_lowercase()),
        ),
        Some(short) if short.starts_with("compiler.") => link(
            &code,
            "https://github.com/protocolbuffers/protobuf/blob/main/src/google/protobuf/compiler/plugin.proto",
        ),
        Some(_) => {
            link(&code, "https://github.com/protocolbuffers/protobuf/blob/main/src/google/protobuf/descriptor.proto")
        }
        None => format!("{code} (defined outside the proto root)"),
    }
}

/// `target` as seen from `from`; both are page paths under `docs/`.
fn relative(from: &str, target: &str) -> String {
    let from_dir = from.rsplit_once('/').map_or("", |(d, _)| d);
    let (target_dir, target_file) = target.rsplit_once('/').unwrap_or(("", target));
    if from_dir == target_dir {
        return target_file.to_string();
    }
    let up = if from_dir.is_empty() { 0 } else { from_dir.split('/').count() };
    format!("{}{target}", "../".repeat(up))
}

fn link(text: &str, target: &str) -> String {
    format!("[{text}]({target})")
}

fn count(n: usize, one: &str, many: &str) -> String {
    if n == 1 { format!("1 {one}") } else { format!("{n} {many}") }
}

/// The leading and trailing comments, one after the other.
fn joined(c: &crate::model::Comments) -> String {
    match (c.leading.is_empty(), c.trailing.is_empty()) {
        (_, true) => c.leading.clone(),
        (true, false) => c.trailing.clone(),
        (false, false) => format!("{}\n\n{}", c.leading, c.trailing),
    }
}

/// A type name without the package prefix when it is in `package`.
fn short_name<'a>(name: &'a str, package: &str) -> &'a str {
    if package.is_empty() {
        return name;
    }
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
    let answer = match f.answer(!m.go.results.is_empty()) {
        Answer::Http(status) => format!("answers HTTP {status}"),
        Answer::Error(e) => format!("returns the AppError `{}` ({})", e.id, e.status),
        Answer::Echo(field) => format!("returns `{field}` unchanged"),
        Answer::True => "returns true".to_string(),
        Answer::Nothing => "does nothing".to_string(),
        Answer::Zero => "returns zero values".to_string(),
    };
    let text = if f.reason.is_empty() { answer } else { format!("{answer}. {}", f.reason) };
    markdown::cell(&text)
}

fn first_paragraph(text: &str) -> &str {
    text.split("\n\n").next().unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_links() {
        assert_eq!(relative("index.md", "types/a.md"), "types/a.md");
        assert_eq!(relative("types/a.md", "types/b.md"), "b.md");
        assert_eq!(relative("svc/group.md", "index.md"), "../index.md");
        assert_eq!(relative("svc/group.md", "types/a.md"), "../types/a.md");
        assert_eq!(relative("svc.md", "svc/group.md"), "svc/group.md");
    }

    #[test]
    fn claimed_names_are_unique() {
        let mut used = HashSet::new();
        let names: Vec<String> = ["a", "a", "a-2", "a"].iter().map(|n| claim(&mut used, n.to_string())).collect();
        assert_eq!(names, ["a", "a-2", "a-2-2", "a-3"]);
    }
}
