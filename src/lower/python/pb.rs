//! The message modules: `_pb2.py`, `_pb2.pyi` and, for files with services,
//! `_pb2_grpc.py` and `_pb2_grpc.pyi` for every compiled file, written from
//! the descriptors without protoc, under `pb/` (one package per proto
//! directory, each with an `__init__.py`).
//!
//! `_pb2.py` has the shape protoc's built-in Python generator gives it and
//! registers the same serialized descriptor ([`embed`]); the stubs have the
//! precision of mypy-protobuf ([`stubs`], [`grpc`]).

mod embed;
mod grpc;
mod py;
mod stubs;
mod wire;

use std::collections::{BTreeSet, HashMap};

use prost::Message as _;
use prost_types::{DescriptorProto, FileDescriptorProto};
use serde::Serialize;

use super::super::OutputFile;
use super::super::file;
use super::PACKAGE;
use crate::diag::Result;
use crate::model::Model;

/// The protobuf version the modules claim to be generated for, as
/// `ValidateProtobufRuntimeVersion` receives it, which is also the package's
/// protobuf floor: 6.30, the oldest runtime the grpcio floor
/// ([`super::GRPC_FLOOR`]) installs with. Runtimes refuse gencode newer than
/// themselves; 6.x runtimes warn (once per module) about gencode of the major
/// version before theirs, and 7.x runtimes accept 6.x gencode silently, so
/// every allowed runtime imports the package without a word.
pub const GENCODE_VERSION: (u32, u32, u32) = (6, 30, 0);

/// The message modules of every file in `model.descriptors`, and the
/// `__init__.py` of every package under `pb/`.
pub fn modules(model: &Model) -> Result<Vec<OutputFile>> {
    let internal = |e: wire::WireError| anyhow::anyhow!("compiled descriptor: {e}");
    let mut files = Vec::new();
    for d in &model.descriptors {
        let proto = FileDescriptorProto::decode(d.bytes.as_slice())
            .map_err(|e| anyhow::anyhow!("compiled descriptor of {}: {e}", d.name))?;
        files.push((d, proto));
    }
    let schema = embed::Schema::new(model.descriptors.iter().map(|d| d.bytes.as_slice())).map_err(internal)?;
    let index = Index::new(files.iter().map(|(_, p)| p));
    let mut out = Vec::new();
    let mut packages = BTreeSet::new();
    for (d, proto) in &files {
        let module = Module::new(&d.name);
        let mut dir = module.dirs.clone();
        loop {
            packages.insert(dir.clone());
            if dir.pop().is_none() {
                break;
            }
        }
        let embedded = embed::embed(&d.bytes, &schema).map_err(internal)?;
        let sources = vec![d.name.clone()];
        let base = module.output_base();
        out.push(file(
            &format!("{base}.py"),
            "python/pb2.py.tera",
            sources.clone(),
            pb2_view(&module, proto, &embedded),
        ));
        let comments = Comments::new(proto);
        out.push(file(
            &format!("{base}.pyi"),
            "python/pb2.pyi.tera",
            sources.clone(),
            stubs::view(&module, proto, &index, &comments)?,
        ));
        if !proto.service.is_empty() {
            let grpc_base = format!("{base}_grpc");
            out.push(file(
                &format!("{grpc_base}.py"),
                "python/pb2_grpc.py.tera",
                sources.clone(),
                grpc::module_view(&module, proto, &index, &comments)?,
            ));
            out.push(file(
                &format!("{grpc_base}.pyi"),
                "python/pb2_grpc.pyi.tera",
                sources,
                grpc::stub_view(&module, proto, &index, &comments)?,
            ));
        }
    }
    for dir in packages {
        let path = std::iter::once("pb").chain(dir.iter().map(String::as_str)).collect::<Vec<_>>().join("/");
        out.push(file(
            &format!("python/{PACKAGE}/{path}/__init__.py"),
            "python/pb_init.py.tera",
            Vec::new(),
            InitView {},
        ));
    }
    Ok(out)
}

#[derive(Serialize)]
struct InitView {}

/// Where a proto file's modules live.
struct Module {
    /// The proto file, e.g. `mattermost/plugin/v1/common.proto`.
    proto: String,
    /// The directories of the file, e.g. `[mattermost, plugin, v1]`.
    dirs: Vec<String>,
    /// The module's last name, e.g. `common_pb2`.
    name: String,
}

impl Module {
    fn new(proto: &str) -> Self {
        let stem = proto.strip_suffix(".proto").unwrap_or(proto);
        let mut parts: Vec<String> = stem.split('/').map(str::to_string).collect();
        let last = parts.pop().unwrap_or_default();
        Module { proto: proto.to_string(), dirs: parts, name: format!("{}_pb2", last.replace('-', "_")) }
    }

    /// The output path without extension, e.g. `python/mattermost_plugin/pb/mattermost/plugin/v1/common_pb2`.
    fn output_base(&self) -> String {
        let dirs: String = self.dirs.iter().map(|d| format!("{d}/")).collect();
        format!("python/{PACKAGE}/pb/{dirs}{}", self.name)
    }

    /// The absolute dotted path, e.g. `mattermost_plugin.pb.mattermost.plugin.v1.common_pb2`.
    fn dotted(&self) -> String {
        let dirs: String = self.dirs.iter().map(|d| format!("{d}.")).collect();
        format!("{PACKAGE}.pb.{dirs}{}", self.name)
    }

    /// Well-known types and other `google/protobuf` files come from the
    /// protobuf package, not from ours.
    fn is_google(&self) -> bool {
        self.proto.starts_with("google/protobuf/")
    }

    /// Where an `import` of this module comes from, as seen from `from`:
    /// `google.protobuf`, `.` or `....mmbindgen.v1`.
    fn import_from(&self, from: &Module) -> String {
        if self.is_google() {
            return self.dirs.join(".");
        }
        let common = self.dirs.iter().zip(&from.dirs).take_while(|(a, b)| a == b).count();
        let dots = ".".repeat(1 + from.dirs.len() - common);
        format!("{dots}{}", self.dirs[common..].join("."))
    }

    /// protoc's alias for the module: dots become `_dot_`, underscores double
    /// (`mattermost_dot_plugin_dot_v1_dot_common__pb2`).
    fn protoc_alias(&self) -> String {
        let dotted = self.dirs.iter().chain(std::iter::once(&self.name)).cloned().collect::<Vec<_>>().join(".");
        dotted.replace('_', "__").replace('.', "_dot_")
    }
}

/// One `from X import m as alias` line, with `# noqa: F401` when the import
/// only fills the descriptor pool; laid out to fit the line length.
fn import_line(from: &str, name: &str, alias: &str, side_effect: bool) -> String {
    let noqa = if side_effect { "  # noqa: F401" } else { "" };
    let one = format!("from {from} import {name} as {alias}");
    if one.chars().count() <= super::code::LINE_LENGTH {
        format!("{one}{noqa}")
    } else {
        format!("from {from} import ({noqa}\n    {name} as {alias},\n)")
    }
}

/// Import lines as ruff's isort wants them: third-party (`google`) first,
/// then relative ones from the furthest to the closest, each group sorted
/// by module then name; groups are separated by a blank line.
fn import_groups(mut imports: Vec<(String, String, String)>, side_effect: bool) -> Vec<String> {
    imports.sort_by(|a, b| {
        let key = |(from, name, _): &(String, String, String)| {
            let dots = from.chars().take_while(|&c| c == '.').count();
            (dots > 0, std::cmp::Reverse(dots), from.to_lowercase(), name.to_lowercase())
        };
        key(a).cmp(&key(b))
    });
    imports.dedup();
    let mut groups: Vec<Vec<String>> = Vec::new();
    let mut last_relative = None;
    for (from, name, alias) in &imports {
        let relative = from.starts_with('.');
        if last_relative != Some(relative) {
            groups.push(Vec::new());
            last_relative = Some(relative);
        }
        groups.last_mut().expect("pushed").push(import_line(from, name, alias, side_effect));
    }
    groups.into_iter().map(|g| g.join("\n")).collect()
}

/// A string literal of a name or path (no quotes or backslashes in them,
/// but escaped all the same).
fn string_literal(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

#[derive(Serialize)]
struct Pb2View {
    /// `ValidateProtobufRuntimeVersion(...)`, laid out.
    validate: String,
    /// Groups of import lines of the dependencies.
    imports: Vec<String>,
    /// `DESCRIPTOR = ...AddSerializedFile(b"...")`, laid out.
    descriptor: String,
    /// `BuildTopDescriptorsAndMessages(...)`, laid out.
    build: String,
    /// The statements of the pure-Python block, indented.
    pure: Vec<String>,
}

fn pb2_view(module: &Module, proto: &FileDescriptorProto, embedded: &embed::Embedded) -> Pb2View {
    let (major, minor, patch) = GENCODE_VERSION;
    let validate = py::call(
        0,
        "_runtime_version.ValidateProtobufRuntimeVersion(",
        &[
            "_runtime_version.Domain.PUBLIC".to_string(),
            major.to_string(),
            minor.to_string(),
            patch.to_string(),
            "\"\"".to_string(),
            string_literal(&module.proto),
        ],
        ")",
    );
    let imports = proto
        .dependency
        .iter()
        .map(|dep| {
            let m = Module::new(dep);
            (m.import_from(module), m.name.clone(), m.protoc_alias())
        })
        .collect();
    let descriptor = py::call(
        0,
        "DESCRIPTOR = _descriptor_pool.Default().AddSerializedFile(",
        &[py::bytes_literal(&embedded.bytes)],
        ")",
    );
    let build = py::call(
        0,
        "_builder.BuildTopDescriptorsAndMessages(",
        &["DESCRIPTOR".to_string(), string_literal(&module.dotted()), "_globals".to_string()],
        ")",
    );
    let mut pure = Vec::new();
    let options = |pure: &mut Vec<String>, global: &str, member: Option<(&str, &str)>, serialized: &[u8]| {
        let loaded = py::Target { global, member, attribute: "._loaded_options" };
        pure.push(py::assign(4, &loaded, "None", false));
        let target = py::Target { global, member, attribute: "._serialized_options" };
        pure.push(py::assign(4, &target, &py::bytes_literal(serialized), true));
    };
    match &embedded.file_options {
        Some(o) => options(&mut pure, "DESCRIPTOR", None, o),
        None => pure.push("    DESCRIPTOR._loaded_options = None".to_string()),
    }
    for o in &embedded.options {
        let member = o.element.member.as_ref().map(|(t, k)| (*t, k.as_str()));
        options(&mut pure, &o.element.global, member, &o.serialized);
    }
    for i in &embedded.intervals {
        for (attribute, value) in [("._serialized_start", i.start), ("._serialized_end", i.end)] {
            let target = py::Target { global: &i.global, member: None, attribute };
            pure.push(py::assign(4, &target, &value.to_string(), false));
        }
    }
    Pb2View { validate, imports: import_groups(imports, true), descriptor, build, pure }
}

/// Where every message and enum of the compiled files is defined.
struct Index {
    /// By full name without the leading dot.
    types: HashMap<String, TypeInfo>,
}

struct TypeInfo {
    /// The proto file that defines the type.
    file: String,
    /// The name within the module: `Outer.Inner`.
    qual: String,
    /// For map entries: the key and value fields.
    map_entry: Option<(prost_types::FieldDescriptorProto, prost_types::FieldDescriptorProto)>,
}

/// The files of the well-known types (`google.protobuf.X` not listed here
/// come from `descriptor.proto`).
const WELL_KNOWN: &[(&str, &[&str])] = &[
    ("google/protobuf/any.proto", &["Any"]),
    ("google/protobuf/api.proto", &["Api", "Method", "Mixin"]),
    ("google/protobuf/duration.proto", &["Duration"]),
    ("google/protobuf/empty.proto", &["Empty"]),
    ("google/protobuf/field_mask.proto", &["FieldMask"]),
    ("google/protobuf/source_context.proto", &["SourceContext"]),
    ("google/protobuf/struct.proto", &["Struct", "Value", "ListValue", "NullValue"]),
    ("google/protobuf/timestamp.proto", &["Timestamp"]),
    ("google/protobuf/type.proto", &["Type", "Field", "Enum", "EnumValue", "Option", "Syntax"]),
    (
        "google/protobuf/wrappers.proto",
        &[
            "DoubleValue",
            "FloatValue",
            "Int64Value",
            "UInt64Value",
            "Int32Value",
            "UInt32Value",
            "BoolValue",
            "StringValue",
            "BytesValue",
        ],
    ),
];

impl Index {
    fn new<'a>(files: impl IntoIterator<Item = &'a FileDescriptorProto>) -> Self {
        fn add(types: &mut HashMap<String, TypeInfo>, file: &str, package: &str, scope: &str, m: &DescriptorProto) {
            let qual = if scope.is_empty() { m.name().to_string() } else { format!("{scope}.{}", m.name()) };
            let full = if package.is_empty() { qual.clone() } else { format!("{package}.{qual}") };
            let map_entry = if m.options.as_ref().is_some_and(|o| o.map_entry()) && m.field.len() == 2 {
                Some((m.field[0].clone(), m.field[1].clone()))
            } else {
                None
            };
            for e in &m.enum_type {
                let q = format!("{qual}.{}", e.name());
                let f = if package.is_empty() { q.clone() } else { format!("{package}.{q}") };
                types.insert(f, TypeInfo { file: file.to_string(), qual: q, map_entry: None });
            }
            for n in &m.nested_type {
                add(types, file, package, &qual, n);
            }
            types.insert(full, TypeInfo { file: file.to_string(), qual, map_entry });
        }
        let mut types = HashMap::new();
        for f in files {
            for m in &f.message_type {
                add(&mut types, f.name(), f.package(), "", m);
            }
            for e in &f.enum_type {
                let full =
                    if f.package().is_empty() { e.name().to_string() } else { format!("{}.{}", f.package(), e.name()) };
                types
                    .insert(full, TypeInfo { file: f.name().to_string(), qual: e.name().to_string(), map_entry: None });
            }
        }
        Index { types }
    }

    /// The file and qualified name of a type (`.pkg.Outer.Inner`).
    fn get(&self, type_name: &str) -> Result<(String, String, Option<&TypeInfo>)> {
        let full = type_name.trim_start_matches('.');
        if let Some(t) = self.types.get(full) {
            return Ok((t.file.clone(), t.qual.clone(), Some(t)));
        }
        if let Some(qual) = full.strip_prefix("google.protobuf.") {
            let top = qual.split('.').next().unwrap_or(qual);
            let file = WELL_KNOWN
                .iter()
                .find(|(_, names)| names.contains(&top))
                .map_or("google/protobuf/descriptor.proto", |(f, _)| *f);
            return Ok((file.to_string(), qual.to_string(), None));
        }
        Err(anyhow::anyhow!("the type {full} is not in the compiled descriptors").into())
    }
}

/// The comments of a file's elements, by source-info path.
struct Comments {
    by_path: HashMap<Vec<i32>, String>,
}

impl Comments {
    fn new(proto: &FileDescriptorProto) -> Self {
        let mut by_path = HashMap::new();
        for l in proto.source_code_info.iter().flat_map(|s| &s.location) {
            let text =
                l.leading_comments.as_deref().filter(|c| !c.trim().is_empty()).or(l.trailing_comments.as_deref());
            if let Some(text) = text {
                // Each comment line keeps the space after `//`; drop one.
                let text: Vec<&str> = text.lines().map(|line| line.strip_prefix(' ').unwrap_or(line)).collect();
                let text = text.join("\n").trim().to_string();
                if !text.is_empty() {
                    by_path.entry(l.path.clone()).or_insert(text);
                }
            }
        }
        Comments { by_path }
    }

    /// The comment of the element at `path`, if it has one.
    fn get(&self, path: &[i32]) -> Option<&str> {
        self.by_path.get(path).map(String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn module_paths() {
        let common = Module::new("mattermost/plugin/v1/common.proto");
        let api = Module::new("mattermost/plugin/v1/plugin_api.proto");
        let options = Module::new("mmbindgen/v1/options.proto");
        let other = Module::new("mattermost/other/v2/x-y.proto");
        let structs = Module::new("google/protobuf/struct.proto");
        assert_eq!(common.output_base(), "python/mattermost_plugin/pb/mattermost/plugin/v1/common_pb2");
        assert_eq!(common.dotted(), "mattermost_plugin.pb.mattermost.plugin.v1.common_pb2");
        assert_eq!(common.import_from(&api), ".");
        assert_eq!(options.import_from(&api), "....mmbindgen.v1");
        assert_eq!(other.import_from(&api), "...other.v2");
        assert_eq!(other.name, "x_y_pb2");
        assert_eq!(structs.import_from(&api), "google.protobuf");
        assert_eq!(common.protoc_alias(), "mattermost_dot_plugin_dot_v1_dot_common__pb2");
    }

    #[test]
    fn imports_sorted_like_isort() {
        let imports = vec![
            (".".to_string(), "b_pb2".to_string(), "b".to_string()),
            ("....x.v1".to_string(), "o_pb2".to_string(), "o".to_string()),
            ("google.protobuf".to_string(), "struct_pb2".to_string(), "s".to_string()),
            (".".to_string(), "a_pb2".to_string(), "a".to_string()),
        ];
        assert_eq!(
            import_groups(imports, true),
            [
                "from google.protobuf import struct_pb2 as s  # noqa: F401",
                "from ....x.v1 import o_pb2 as o  # noqa: F401\nfrom . import a_pb2 as a  # noqa: F401\nfrom . import b_pb2 as b  # noqa: F401",
            ]
        );
    }
}
