//! The comparison of two models, element by element.

use std::collections::{BTreeSet, HashMap};

use prost::Message as _;

use super::{Change, Element, Impact, Kind, Report, Scope};
use crate::model::{Answer, Cardinality, Fallback, Field, Location, Method, Model, Service, TypeRef};

use Impact::{Breaking, Compatible};

/// Compares `old` (the tree named by `against`) with `new`.
pub fn compare(old: &Model, new: &Model, against: &str) -> Report {
    let cx = Context {
        old,
        new,
        old_python: crate::lower::python::signatures(old),
        new_python: crate::lower::python::signatures(new),
        old_reserved: reserved(old),
        new_reserved: reserved(new),
    };
    let mut out = Vec::new();
    cx.services(&mut out);
    cx.messages(&mut out);
    cx.enums(&mut out);
    cx.go_imports(&mut out);
    Report { against: against.to_string(), changes: out }
}

struct Context<'a> {
    old: &'a Model,
    new: &'a Model,
    old_python: HashMap<String, String>,
    new_python: HashMap<String, String>,
    old_reserved: HashMap<String, Reserved>,
    new_reserved: HashMap<String, Reserved>,
}

/// The reserved numbers (inclusive ranges) and names of a message or enum.
#[derive(Default)]
struct Reserved {
    ranges: Vec<(i64, i64)>,
    names: Vec<String>,
}

impl Reserved {
    fn has_number(&self, n: i64) -> bool {
        self.ranges.iter().any(|&(a, b)| a <= n && n <= b)
    }

    /// Each range and name as text, for comparing and printing.
    fn items(&self) -> BTreeSet<String> {
        let ranges = self.ranges.iter().map(|&(a, b)| if a == b { a.to_string() } else { format!("{a} to {b}") });
        ranges.chain(self.names.iter().map(|n| format!("\"{n}\""))).collect()
    }
}

/// Reserved numbers and names by full name, read from the compiled files
/// (the model does not carry them: no target needs them).
fn reserved(model: &Model) -> HashMap<String, Reserved> {
    let mut out = HashMap::new();
    for file in &model.descriptors {
        let Ok(fd) = prost_types::FileDescriptorProto::decode(file.bytes.as_slice()) else { continue };
        let prefix = fd.package.clone().unwrap_or_default();
        for m in &fd.message_type {
            message_reserved(&prefix, m, &mut out);
        }
        for e in &fd.enum_type {
            enum_reserved(&prefix, e, &mut out);
        }
    }
    out
}

fn join(prefix: &str, name: &str) -> String {
    if prefix.is_empty() { name.to_string() } else { format!("{prefix}.{name}") }
}

fn message_reserved(prefix: &str, m: &prost_types::DescriptorProto, out: &mut HashMap<String, Reserved>) {
    let full = join(prefix, m.name());
    let r = Reserved {
        // Message ranges are half-open; enum ranges are inclusive.
        ranges: m.reserved_range.iter().map(|r| (i64::from(r.start()), i64::from(r.end()) - 1)).collect(),
        names: m.reserved_name.clone(),
    };
    for nested in &m.nested_type {
        message_reserved(&full, nested, out);
    }
    for e in &m.enum_type {
        enum_reserved(&full, e, out);
    }
    out.insert(full, r);
}

fn enum_reserved(prefix: &str, e: &prost_types::EnumDescriptorProto, out: &mut HashMap<String, Reserved>) {
    let r = Reserved {
        ranges: e.reserved_range.iter().map(|r| (i64::from(r.start()), i64::from(r.end()))).collect(),
        names: e.reserved_name.clone(),
    };
    out.insert(join(prefix, e.name()), r);
}

/// `file:line` relative to the proto root.
fn at(l: &Location) -> String {
    format!("{}:{}", l.file, l.line)
}

/// Collects the changes of one element.
struct Entry<'o> {
    out: &'o mut Vec<Change>,
    scope: Scope,
    element: Element,
    name: String,
    at: String,
    line: u32,
}

impl Entry<'_> {
    fn push(&mut self, kind: Kind, aspect: &str, old: String, new: String, wire: Impact, source: Impact) {
        self.out.push(Change {
            scope: self.scope.clone(),
            element: self.element,
            name: self.name.clone(),
            kind,
            aspect: aspect.to_string(),
            old,
            new,
            wire,
            source,
            at: if kind == Kind::Removed { String::new() } else { self.at.clone() },
            line: self.line,
        });
    }

    /// Records a changed property when the two texts differ.
    fn property(&mut self, aspect: &str, old: &str, new: &str, wire: Impact, source: Impact) {
        if old != new {
            self.push(Kind::Changed, aspect, old.to_string(), new.to_string(), wire, source);
        }
    }
}

fn entry<'o>(
    out: &'o mut Vec<Change>,
    scope: Scope,
    element: Element,
    name: &str,
    loc: Option<&Location>,
) -> Entry<'o> {
    Entry {
        out,
        scope,
        element,
        name: name.to_string(),
        at: loc.map(at).unwrap_or_default(),
        line: loc.map_or(0, |l| l.line),
    }
}

impl Context<'_> {
    fn services(&self, out: &mut Vec<Change>) {
        for s in &self.new.services {
            let scope = Scope::Service(s.full_name.clone());
            let mut e = entry(out, scope.clone(), Element::Service, &s.full_name, Some(&s.location));
            let Some(o) = self.old.services.iter().find(|o| o.full_name == s.full_name) else {
                e.push(Kind::Added, "", String::new(), String::new(), Compatible, Compatible);
                continue;
            };
            let iface = |s: &Service| s.go_interface.clone().unwrap_or_default();
            e.property("go_interface", &iface(o), &iface(s), Impact::None, Breaking);
            e.property("hooks", &o.hooks.to_string(), &s.hooks.to_string(), Breaking, Breaking);
            let element = if s.hooks { Element::Hook } else { Element::Rpc };
            for m in &s.methods {
                let mut e = entry(out, scope.clone(), element, &m.name, Some(&m.location));
                match o.methods.iter().find(|x| x.name == m.name) {
                    None => e.push(Kind::Added, "", String::new(), go_signature(m), Compatible, Compatible),
                    Some(x) => self.method(&mut e, o, x, s, m),
                }
            }
            for x in o.methods.iter().filter(|x| !s.methods.iter().any(|m| m.name == x.name)) {
                let element = if o.hooks { Element::Hook } else { Element::Rpc };
                let mut e = entry(out, scope.clone(), element, &x.name, None);
                e.push(Kind::Removed, "", go_signature(x), String::new(), Breaking, Breaking);
            }
        }
        for o in self.old.services.iter().filter(|o| !self.new.services.iter().any(|s| s.full_name == o.full_name)) {
            let mut e = entry(out, Scope::Service(o.full_name.clone()), Element::Service, &o.full_name, None);
            e.push(Kind::Removed, "", String::new(), String::new(), Breaking, Breaking);
        }
    }

    fn method(&self, e: &mut Entry, os: &Service, o: &Method, s: &Service, m: &Method) {
        let wire_shape = |model: &Model, name: &str| wire_shape(model, name);
        for (aspect, old, new) in [("request", &o.request, &m.request), ("response", &o.response, &m.response)] {
            let wire = if wire_shape(self.old, old) == wire_shape(self.new, new) { Compatible } else { Breaking };
            e.property(aspect, old, new, wire, Breaking);
        }
        e.property("streaming", o.streaming.as_str(), m.streaming.as_str(), Breaking, Breaking);
        e.property("go_name", &o.go_name, &m.go_name, Impact::None, Breaking);
        // Go parameter names are not part of a method's contract.
        let types_only = |m: &Method| {
            let types = |vs: &[crate::model::GoValue]| vs.iter().map(|v| v.go_type.clone()).collect::<Vec<_>>();
            (types(&m.go.params), types(&m.go.results))
        };
        let go_source = if types_only(o) == types_only(m) { Compatible } else { Breaking };
        e.property("go_signature", &go_signature(o), &go_signature(m), Impact::None, go_source);
        let python = |map: &HashMap<String, String>, s: &Service, m: &Method| {
            map.get(&format!("{}.{}", s.full_name, m.name)).cloned().unwrap_or_default()
        };
        let (op, np) = (python(&self.old_python, os, o), python(&self.new_python, s, m));
        // A method the Python target starts or stops covering is reported
        // by the service's own changes.
        if !op.is_empty() && !np.is_empty() {
            e.property("python_signature", &op, &np, Impact::None, Breaking);
        }
        let raised = version_key(&m.min_server_version) > version_key(&o.min_server_version);
        e.property(
            "min_server_version",
            &o.min_server_version,
            &m.min_server_version,
            Impact::None,
            if raised { Breaking } else { Compatible },
        );
        e.property("deprecated", &o.deprecated, &m.deprecated, Impact::None, Compatible);
        e.property("tags", &o.tags.join(", "), &m.tags.join(", "), Impact::None, Compatible);
        e.property("experimental", &o.experimental.to_string(), &m.experimental.to_string(), Impact::None, Compatible);
        if let (Some(oh), Some(nh)) = (&o.hook, &m.hook) {
            for (aspect, of, nf) in [
                ("not_implemented", &oh.not_implemented, &nh.not_implemented),
                ("unavailable", &oh.unavailable, &nh.unavailable),
            ] {
                let (ob, nb) = (fallback(o, of), fallback(m, nf));
                e.property(aspect, &ob, &nb, Impact::None, Breaking);
                if ob == nb {
                    e.property(&format!("{aspect}.reason"), &of.reason, &nf.reason, Impact::None, Compatible);
                }
            }
            e.property("gated", &oh.gated.to_string(), &nh.gated.to_string(), Impact::None, Breaking);
        }
    }

    fn messages(&self, out: &mut Vec<Change>) {
        for m in &self.new.messages {
            let scope = Scope::Message(m.full_name.clone());
            let mut e = entry(out, scope.clone(), Element::Message, &m.full_name, Some(&m.location));
            let Some(o) = self.old.message(&m.full_name) else {
                e.push(Kind::Added, "", String::new(), String::new(), Compatible, Compatible);
                continue;
            };
            let go_type = |t: &Option<String>| t.clone().unwrap_or_default();
            e.property("go_type", &go_type(&o.go_type), &go_type(&m.go_type), Impact::None, Breaking);
            e.property("json", &o.json.to_string(), &m.json.to_string(), Breaking, Breaking);
            let skipped =
                |m: &crate::model::Message| m.skipped.iter().map(|s| s.go_name.clone()).collect::<Vec<_>>().join(", ");
            e.property("skip", &skipped(o), &skipped(m), Impact::None, Compatible);
            let (or, nr) = (self.old_reserved.get(&o.full_name), self.new_reserved.get(&m.full_name));
            reserved_change(&mut e, or, nr);
            let model_type = m.go_type.is_some();
            let empty = Reserved::default();
            let new_reserved = nr.unwrap_or(&empty);
            let old_reserved = or.unwrap_or(&empty);
            // Fields match by name, then what is left by number (a rename).
            let mut matched: Vec<(&Field, &Field)> = Vec::new();
            let mut added: Vec<&Field> = Vec::new();
            for f in &m.fields {
                match o.fields.iter().find(|x| x.name == f.name) {
                    Some(x) => matched.push((x, f)),
                    None => added.push(f),
                }
            }
            let mut removed: Vec<&Field> =
                o.fields.iter().filter(|x| !m.fields.iter().any(|f| f.name == x.name)).collect();
            added.retain(|f| match removed.iter().position(|x| x.number == f.number) {
                Some(i) => {
                    matched.push((removed.remove(i), f));
                    false
                }
                None => true,
            });
            matched.sort_by_key(|(_, f)| f.location.line);
            for (x, f) in matched {
                let mut e = entry(out, scope.clone(), Element::Field, &f.name, Some(&f.location));
                self.field(&mut e, x, f, model_type);
            }
            for f in added {
                let mut e = entry(out, scope.clone(), Element::Field, &f.name, Some(&f.location));
                let wire = if old_reserved.has_number(i64::from(f.number)) { Breaking } else { Compatible };
                e.push(Kind::Added, "", String::new(), field_text(f), wire, Compatible);
            }
            for x in removed {
                let mut e = entry(out, scope.clone(), Element::Field, &x.name, None);
                let wire = if new_reserved.has_number(i64::from(x.number)) { Compatible } else { Breaking };
                e.push(Kind::Removed, "", field_text(x), String::new(), wire, Breaking);
            }
        }
        for o in self.old.messages.iter().filter(|o| self.new.message(&o.full_name).is_none()) {
            let mut e = entry(out, Scope::Message(o.full_name.clone()), Element::Message, &o.full_name, None);
            e.push(Kind::Removed, "", String::new(), String::new(), Impact::None, Breaking);
        }
    }

    fn field(&self, e: &mut Entry, o: &Field, f: &Field, model_type: bool) {
        e.property("name", &o.name, &f.name, Compatible, Breaking);
        e.property("number", &o.number.to_string(), &f.number.to_string(), Breaking, Impact::None);
        let wire = if wire_compatible(self.old, &o.ty, self.new, &f.ty) { Compatible } else { Breaking };
        // The generated source keeps its types when the Go type stays and
        // the Python type does (all integer widths are `int`).
        let same_source = o.go_type == f.go_type && python_kind(&o.ty) == python_kind(&f.ty);
        e.property("type", o.ty.name(), f.ty.name(), wire, if same_source { Compatible } else { Breaking });
        let key = |t: &Option<TypeRef>| t.as_ref().map(|t| t.name().to_string()).unwrap_or_default();
        e.property("map_key", &key(&o.map_key), &key(&f.map_key), Breaking, Breaking);
        let presence_only = matches!(
            (o.cardinality, f.cardinality),
            (Cardinality::Singular, Cardinality::Optional) | (Cardinality::Optional, Cardinality::Singular)
        );
        e.property(
            "cardinality",
            cardinality(o.cardinality),
            cardinality(f.cardinality),
            if presence_only { Compatible } else { Breaking },
            Breaking,
        );
        let oneof = |f: &Field| f.oneof.clone().unwrap_or_default();
        e.property("oneof", &oneof(o), &oneof(f), Compatible, Breaking);
        // A model message's Go names are its converter's mapping; a request
        // or response field's Go name is only a parameter or result name.
        let go_name_source = if model_type { Breaking } else { Compatible };
        e.property("go_name", &o.go_name, &f.go_name, Impact::None, go_name_source);
        e.property("go_type", &o.go_type, &f.go_type, Impact::None, Breaking);
        e.property("go_param", &o.go_param.to_string(), &f.go_param.to_string(), Impact::None, Breaking);
    }

    fn enums(&self, out: &mut Vec<Change>) {
        for n in &self.new.enums {
            let scope = Scope::Enum(n.full_name.clone());
            let mut e = entry(out, scope.clone(), Element::Enum, &n.full_name, Some(&n.location));
            let Some(o) = self.old.enums.iter().find(|o| o.full_name == n.full_name) else {
                e.push(Kind::Added, "", String::new(), String::new(), Compatible, Compatible);
                continue;
            };
            let go_type = |t: &Option<String>| t.clone().unwrap_or_default();
            e.property("go_type", &go_type(&o.go_type), &go_type(&n.go_type), Impact::None, Breaking);
            reserved_change(&mut e, self.old_reserved.get(&o.full_name), self.new_reserved.get(&n.full_name));
            let mut removed: Vec<_> = o.values.iter().filter(|x| !n.values.iter().any(|v| v.name == x.name)).collect();
            for v in &n.values {
                let mut e = entry(out, scope.clone(), Element::EnumValue, &v.name, Some(&n.location));
                if let Some(x) = o.values.iter().find(|x| x.name == v.name) {
                    e.property("number", &x.number.to_string(), &v.number.to_string(), Breaking, Impact::None);
                } else if let Some(i) = removed.iter().position(|x| x.number == v.number) {
                    let x = removed.remove(i);
                    e.property("name", &x.name, &v.name, Compatible, Breaking);
                } else {
                    e.push(Kind::Added, "", String::new(), v.number.to_string(), Compatible, Compatible);
                }
            }
            for x in removed {
                let mut e = entry(out, scope.clone(), Element::EnumValue, &x.name, None);
                e.push(Kind::Removed, "", x.number.to_string(), String::new(), Breaking, Breaking);
            }
        }
        for o in self.old.enums.iter().filter(|o| !self.new.enums.iter().any(|n| n.full_name == o.full_name)) {
            let mut e = entry(out, Scope::Enum(o.full_name.clone()), Element::Enum, &o.full_name, None);
            e.push(Kind::Removed, "", String::new(), String::new(), Impact::None, Breaking);
        }
    }

    fn go_imports(&self, out: &mut Vec<Change>) {
        for i in &self.new.go_imports {
            let mut e = entry(out, Scope::Tree, Element::GoImport, &i.alias, None);
            match self.old.go_imports.iter().find(|o| o.alias == i.alias) {
                None => e.push(Kind::Added, "", String::new(), i.path.clone(), Impact::None, Compatible),
                Some(o) => e.property("path", &o.path, &i.path, Impact::None, Breaking),
            }
        }
        for o in self.old.go_imports.iter().filter(|o| !self.new.go_imports.iter().any(|i| i.alias == o.alias)) {
            let mut e = entry(out, Scope::Tree, Element::GoImport, &o.alias, None);
            e.push(Kind::Removed, "", o.path.clone(), String::new(), Impact::None, Compatible);
        }
    }
}

/// Reserved numbers or names dropped (breaking: they may now be reused) or
/// added (compatible).
fn reserved_change(e: &mut Entry, old: Option<&Reserved>, new: Option<&Reserved>) {
    let items = |r: Option<&Reserved>| r.map(Reserved::items).unwrap_or_default();
    let (o, n) = (items(old), items(new));
    if o == n {
        return;
    }
    let text = |s: &BTreeSet<String>| s.iter().cloned().collect::<Vec<_>>().join(", ");
    let wire = if o.is_subset(&n) { Compatible } else { Breaking };
    e.push(Kind::Changed, "reserved", text(&o), text(&n), wire, Impact::None);
}

/// The Python type a proto type maps to, as far as the generated source is
/// concerned.
fn python_kind(t: &TypeRef) -> &str {
    match t {
        TypeRef::Scalar(s) => match s.as_str() {
            "int32" | "int64" | "uint32" | "uint64" | "sint32" | "sint64" | "fixed32" | "fixed64" | "sfixed32"
            | "sfixed64" => "int",
            "float" | "double" => "float",
            other => other,
        },
        TypeRef::Message(n) | TypeRef::Enum(n) => n,
    }
}

fn cardinality(c: Cardinality) -> &'static str {
    match c {
        Cardinality::Singular => "singular",
        Cardinality::Optional => "optional",
        Cardinality::Repeated => "repeated",
        Cardinality::Map => "map",
    }
}

/// `repeated string tags = 3 (go: Tags []string)`.
fn field_text(f: &Field) -> String {
    let ty = match (&f.map_key, f.cardinality) {
        (Some(k), _) => format!("map<{}, {}>", k.name(), f.ty.name()),
        (None, Cardinality::Repeated) => format!("repeated {}", f.ty.name()),
        (None, Cardinality::Optional) if matches!(f.ty, TypeRef::Scalar(_)) => format!("optional {}", f.ty.name()),
        _ => f.ty.name().to_string(),
    };
    if f.go_type.is_empty() {
        format!("{ty} {} = {}", f.name, f.number)
    } else {
        format!("{ty} {} = {} (Go {} {})", f.name, f.number, f.go_name, f.go_type)
    }
}

/// What an old reader sees of a message: each field's number, cardinality
/// and type.
fn wire_shape(model: &Model, name: &str) -> Option<Vec<(u32, Cardinality, String, String)>> {
    let m = model.message(name)?;
    let mut shape: Vec<_> = m
        .fields
        .iter()
        .map(|f| {
            (
                f.number,
                f.cardinality,
                f.ty.name().to_string(),
                f.map_key.as_ref().map(|k| k.name().to_string()).unwrap_or_default(),
            )
        })
        .collect();
    shape.sort_by_key(|s| s.0);
    Some(shape)
}

/// Whether a value written as `old` is read correctly as `new`.
fn wire_compatible(om: &Model, old: &TypeRef, nm: &Model, new: &TypeRef) -> bool {
    const VARINT: [&str; 5] = ["int32", "uint32", "int64", "uint64", "bool"];
    const GROUPS: [&[&str]; 5] =
        [&VARINT, &["sint32", "sint64"], &["string", "bytes"], &["fixed32", "sfixed32"], &["fixed64", "sfixed64"]];
    let varint = |t: &TypeRef| {
        matches!(t, TypeRef::Enum(_)) || matches!(t, TypeRef::Scalar(s) if VARINT[..4].contains(&s.as_str()))
    };
    match (old, new) {
        (TypeRef::Scalar(a), TypeRef::Scalar(b)) => {
            a == b || GROUPS.iter().any(|g| g.contains(&a.as_str()) && g.contains(&b.as_str()))
        }
        (TypeRef::Message(a), TypeRef::Message(b)) => a == b || wire_shape(om, a) == wire_shape(nm, b),
        (TypeRef::Message(_), TypeRef::Scalar(s)) | (TypeRef::Scalar(s), TypeRef::Message(_)) => s == "bytes",
        (a, b) => varint(a) && varint(b),
    }
}

/// `Name(a T, b U) (R, error)`, the Go method an RPC stands for.
pub fn go_signature(m: &Method) -> String {
    if m.go.params.is_empty() && m.go.results.is_empty() && m.hook.is_none() {
        return String::new();
    }
    m.go.method(&m.go_name)
}

/// What the hooks client answers, without the reason.
fn fallback(m: &Method, f: &Fallback) -> String {
    match f.answer(!m.go.results.is_empty()) {
        Answer::Http(status) => format!("HTTP {status}"),
        Answer::Error(e) => format!("AppError {} ({})", e.id, e.status),
        Answer::Echo(field) => format!("echo {field}"),
        Answer::True => "true".to_string(),
        Answer::Nothing => "nothing".to_string(),
        Answer::Zero => "zero values".to_string(),
    }
}

/// Orders version strings numerically; the empty version (no requirement)
/// is the lowest.
fn version_key(v: &str) -> Vec<u64> {
    v.split('.').filter(|p| !p.is_empty()).map(|p| p.parse().unwrap_or(0)).collect()
}
