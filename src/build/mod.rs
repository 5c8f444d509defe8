//! Stage 2, build: descriptors to the plain model.
//!
//! Options are decoded here, once, and every Go name and type is resolved,
//! so that no later stage needs prost-reflect. Only the files under the proto
//! root are turned into model elements; imports (well-known types, the
//! option vocabulary when it comes from the binary) are referred to by name.

mod gotype;
pub mod options;
mod source;

use std::collections::{BTreeMap, HashMap};

use prost_reflect::{
    Cardinality as PCard, EnumDescriptor, ExtensionDescriptor, FieldDescriptor, Kind, MessageDescriptor,
};

use crate::load::Loaded;
use crate::model::{
    self, Cardinality, Enum, EnumValue, FallbackCase, Field, File, GoImport, Message, Method, Model, Role, Service,
    Streaming, TypeRef,
};
use options::Extensions;
use source::SourceInfo;

pub use gotype::{default_go_name, parse as parse_go_type, scalar as go_scalar};

/// Builds the model of the loaded files.
pub fn build(loaded: &Loaded) -> Model {
    let ext = Extensions::new(&loaded.pool);
    let mut files = Vec::new();
    let mut imports = BTreeMap::new();
    let mut messages = Vec::new();
    let mut enums = Vec::new();
    let mut services = Vec::new();
    let mut extensions = Vec::new();
    // Hook fallback options by method, resolved once signatures are known.
    let mut fallbacks = HashMap::new();

    for name in &loaded.files {
        let fd = loaded.pool.get_file_by_name(name).expect("loaded files are in the pool");
        let src = SourceInfo::new(&fd);
        let proto = fd.file_descriptor_proto();
        files.push(File {
            path: name.clone(),
            package: fd.package_name().to_string(),
            go_package: proto.options.as_ref().and_then(|o| o.go_package.clone()),
        });
        for i in ext.file(&fd.options()).go_import {
            imports.insert((i.alias.clone(), i.path.clone()), GoImport { alias: i.alias, path: i.path });
        }
        for m in fd.messages() {
            collect_message(&m, &ext, &src, &mut messages, &mut enums, &mut extensions);
        }
        for x in fd.extensions() {
            extensions.push(build_extension(&x, &ext, &src));
        }
        for e in fd.enums() {
            enums.push(build_enum(&e, &ext, &src));
        }
        for s in fd.services() {
            let (location, comments) = src.get(s.path());
            let s_opts = ext.service(&s.options());
            let methods = s
                .methods()
                .map(|m| {
                    let (location, comments) = src.get(m.path());
                    let mut opts = ext.method(&m.options());
                    let hook_options = (opts.not_implemented.take(), opts.unavailable.take());
                    if hook_options.0.is_some() || hook_options.1.is_some() || s_opts.hooks {
                        fallbacks.insert(m.full_name().to_string(), hook_options);
                    }
                    let streaming = match (m.is_client_streaming(), m.is_server_streaming()) {
                        (false, false) => Streaming::Unary,
                        (true, false) => Streaming::Client,
                        (false, true) => Streaming::Server,
                        (true, true) => Streaming::Bidi,
                    };
                    Method {
                        name: m.name().to_string(),
                        go_name: non_empty(opts.go_name).unwrap_or_else(|| m.name().to_string()),
                        request: m.input().full_name().to_string(),
                        response: m.output().full_name().to_string(),
                        streaming,
                        location,
                        comments,
                        min_server_version: opts.min_server_version,
                        tags: opts.tags,
                        deprecated: deprecation_note(opts.deprecated, &m),
                        experimental: opts.experimental,
                        hook: None,
                        go: Default::default(),
                    }
                })
                .collect();
            services.push(Service {
                name: s.name().to_string(),
                full_name: s.full_name().to_string(),
                file: name.clone(),
                location,
                comments,
                go_interface: non_empty(s_opts.go_interface),
                hooks: s_opts.hooks,
                methods,
            });
        }
    }

    let go_imports: Vec<GoImport> = imports.into_values().collect();
    resolve_go_types(&mut messages, &enums, &go_imports);
    let by_name: HashMap<&str, &Message> = messages.iter().map(|m| (m.full_name.as_str(), m)).collect();
    for service in &mut services {
        for method in &mut service.methods {
            if let (Some(req), Some(resp), Some(_)) =
                (by_name.get(method.request.as_str()), by_name.get(method.response.as_str()), &service.go_interface)
            {
                method.go = gotype::signature(req, resp);
            }
            let key = format!("{}.{}", service.full_name, method.name);
            if let Some((not_implemented, unavailable)) = fallbacks.remove(&key) {
                method.hook = Some(model::Hook {
                    gated: method.name != "Implemented",
                    not_implemented: fallback(method, not_implemented, FallbackCase::NotImplemented),
                    unavailable: fallback(method, unavailable, FallbackCase::Unavailable),
                });
            }
        }
    }

    let mut model = Model {
        files,
        go_imports,
        services,
        messages,
        enums,
        extensions,
        descriptors: loaded
            .pool
            .files()
            .filter(|f| !f.name().starts_with("google/protobuf/"))
            .map(|f| model::FileDescriptor { name: f.name().to_string(), bytes: f.encode_to_vec() })
            .collect(),
        message_index: HashMap::new(),
        root: loaded.root.clone(),
    };
    model.index();
    model
}

/// Adds a message, its nested messages (not map entries) and nested enums.
fn collect_message(
    m: &MessageDescriptor,
    ext: &Extensions,
    src: &SourceInfo,
    out: &mut Vec<Message>,
    enums: &mut Vec<Enum>,
    extensions: &mut Vec<model::Extension>,
) {
    if m.is_map_entry() {
        return;
    }
    let (location, comments) = src.get(m.path());
    let opts = ext.message(&m.options());
    let oneofs = m.oneofs().filter(|o| !o.is_synthetic()).map(|o| o.name().to_string()).collect();
    let model_message = !opts.go_type.is_empty();
    let fields = m.fields().map(|f| build_field(&f, ext, src, model_message)).collect();
    out.push(Message {
        name: m.name().to_string(),
        full_name: m.full_name().to_string(),
        file: m.parent_file().name().to_string(),
        location,
        comments,
        go_type: non_empty(opts.go_type),
        go: None,
        json: opts.json,
        skipped: opts.skip.into_iter().map(|s| model::SkippedField { go_name: s.go_name, reason: s.reason }).collect(),
        fields,
        oneofs,
        deprecated: m.descriptor_proto().options.as_ref().and_then(|o| o.deprecated).unwrap_or(false),
    });
    for nested in m.child_messages() {
        collect_message(&nested, ext, src, out, enums, extensions);
    }
    for x in m.child_extensions() {
        extensions.push(build_extension(&x, ext, src));
    }
    for e in m.child_enums() {
        enums.push(build_enum(&e, ext, src));
    }
}

fn build_field(f: &FieldDescriptor, ext: &Extensions, src: &SourceInfo, model_message: bool) -> Field {
    let (location, comments) = src.get(f.path());
    let opts = ext.field(&f.options());
    let (cardinality, ty, map_key) = if f.is_map() {
        let Kind::Message(entry) = f.kind() else { unreachable!("map fields have an entry message") };
        (Cardinality::Map, type_ref(&entry.map_entry_value_field()), Some(type_ref(&entry.map_entry_key_field())))
    } else if f.is_list() {
        (Cardinality::Repeated, type_ref(f), None)
    } else if f.supports_presence() && f.cardinality() != PCard::Required {
        (Cardinality::Optional, type_ref(f), None)
    } else {
        (Cardinality::Singular, type_ref(f), None)
    };
    let oneof = f.containing_oneof().filter(|o| !o.is_synthetic()).map(|o| o.name().to_string());
    let go_type_explicit = !opts.go_type.is_empty();
    Field {
        name: f.name().to_string(),
        number: f.number(),
        location,
        comments,
        cardinality,
        ty,
        map_key,
        oneof,
        go_name: non_empty(opts.go_name).unwrap_or_else(|| gotype::default_go_name(f.name(), model_message)),
        go_type: opts.go_type,
        go_type_explicit,
        go: None,
        go_param: opts.go_param,
        required: f.cardinality() == PCard::Required,
        deprecated: f.field_descriptor_proto().options.as_ref().and_then(|o| o.deprecated).unwrap_or(false),
    }
}

/// An extension field with what it extends. Extensions carry no Go type:
/// the bridge does not convert them.
fn build_extension(x: &ExtensionDescriptor, ext: &Extensions, src: &SourceInfo) -> model::Extension {
    let (location, comments) = src.get(x.path());
    let proto = x.field_descriptor_proto();
    let (cardinality, ty, map_key) = if x.is_list() {
        (Cardinality::Repeated, kind_ref(&x.kind()), None)
    } else if x.supports_presence() && x.cardinality() != PCard::Required {
        (Cardinality::Optional, kind_ref(&x.kind()), None)
    } else {
        (Cardinality::Singular, kind_ref(&x.kind()), None)
    };
    let opts = ext.field(&x.options());
    model::Extension {
        full_name: x.full_name().to_string(),
        extendee: x.containing_message().full_name().to_string(),
        file: x.parent_file().name().to_string(),
        field: Field {
            name: x.name().to_string(),
            number: x.number(),
            location,
            comments,
            cardinality,
            ty,
            map_key,
            oneof: None,
            go_name: non_empty(opts.go_name).unwrap_or_else(|| gotype::default_go_name(x.name(), false)),
            go_type: String::new(),
            go_type_explicit: false,
            go: None,
            go_param: 0,
            required: x.cardinality() == PCard::Required,
            deprecated: proto.options.as_ref().and_then(|o| o.deprecated).unwrap_or(false),
        },
    }
}

/// The method's deprecation note: the vocabulary's note, else a sentence
/// for the standard `deprecated = true`.
fn deprecation_note(note: String, m: &prost_reflect::MethodDescriptor) -> String {
    let standard = m.method_descriptor_proto().options.as_ref().and_then(|o| o.deprecated).unwrap_or(false);
    if note.is_empty() && standard { "Marked deprecated in the proto.".to_string() } else { note }
}

fn type_ref(f: &FieldDescriptor) -> TypeRef {
    kind_ref(&f.kind())
}

fn kind_ref(kind: &Kind) -> TypeRef {
    match kind {
        Kind::Message(m) => TypeRef::Message(m.full_name().to_string()),
        Kind::Enum(e) => TypeRef::Enum(e.full_name().to_string()),
        k => TypeRef::Scalar(scalar_name(k).to_string()),
    }
}

fn scalar_name(k: &Kind) -> &'static str {
    match k {
        Kind::Double => "double",
        Kind::Float => "float",
        Kind::Int32 => "int32",
        Kind::Int64 => "int64",
        Kind::Uint32 => "uint32",
        Kind::Uint64 => "uint64",
        Kind::Sint32 => "sint32",
        Kind::Sint64 => "sint64",
        Kind::Fixed32 => "fixed32",
        Kind::Fixed64 => "fixed64",
        Kind::Sfixed32 => "sfixed32",
        Kind::Sfixed64 => "sfixed64",
        Kind::Bool => "bool",
        Kind::String => "string",
        Kind::Bytes => "bytes",
        Kind::Message(_) | Kind::Enum(_) => unreachable!("not a scalar"),
    }
}

fn build_enum(e: &EnumDescriptor, ext: &Extensions, src: &SourceInfo) -> Enum {
    let (location, comments) = src.get(e.path());
    Enum {
        name: e.name().to_string(),
        full_name: e.full_name().to_string(),
        file: e.parent_file().name().to_string(),
        location,
        comments,
        go_type: non_empty(ext.enumeration(&e.options()).go_type),
        values: e
            .values()
            .map(|v| EnumValue { name: v.name().to_string(), number: v.number(), comments: src.get(v.path()).1 })
            .collect(),
    }
}

/// Fills in the default Go type of every field without an explicit one,
/// and parses every field's Go type (validation reports those that do not
/// parse).
fn resolve_go_types(messages: &mut [Message], enums: &[Enum], imports: &[GoImport]) {
    let message_types: Vec<(String, String)> =
        messages.iter().filter_map(|m| m.go_type.clone().map(|t| (m.full_name.clone(), t))).collect();
    let types = gotype::GoTypes {
        messages: message_types.iter().map(|(n, t)| (n.as_str(), t.as_str())).collect(),
        enums: enums.iter().filter_map(|e| e.go_type.as_deref().map(|t| (e.full_name.as_str(), t))).collect(),
    };
    let defaults: Vec<Vec<String>> =
        messages.iter().map(|m| m.fields.iter().map(|f| gotype::default_go_type(f, &types)).collect()).collect();
    for (m, defaults) in messages.iter_mut().zip(defaults) {
        m.go = m.go_type.as_deref().and_then(|t| gotype::parse(t, imports).ok());
        for (f, default) in m.fields.iter_mut().zip(defaults) {
            if !f.go_type_explicit {
                f.go_type = default;
            }
            f.go = gotype::parse(&f.go_type, imports).ok();
        }
    }
}

/// Resolves a hook fallback option against the method's Go signature.
fn fallback(m: &Method, f: Option<options::HookFallback>, case: FallbackCase) -> model::Fallback {
    let f = f.unwrap_or_default();
    model::Fallback {
        error: f.error.then(|| model::BridgeError::new(&m.go_name, case)),
        echo_param: m.go.params.iter().position(|p| p.role == Role::Param && p.field == f.echo && !f.echo.is_empty()),
        echo: f.echo,
        true_result: m
            .go
            .results
            .iter()
            .position(|r| r.ty.as_ref().is_some_and(|t| t.is_builtin("bool")))
            .filter(|_| f.bool_result),
        bool_result: f.bool_result,
        http_status: (f.http_status != 0).then_some(f.http_status),
        reason: f.reason,
    }
}

fn non_empty(s: String) -> Option<String> {
    if s.is_empty() { None } else { Some(s) }
}
