//! `_pb2_grpc.py` and its stub `_pb2_grpc.pyi` for a file with services.
//!
//! The module has the shape grpcio-tools gives it: per service a `XStub`
//! (each method a multi-callable of the channel, `_registered_method=True`;
//! it works with `grpc.aio` channels too), a `XServicer` base whose methods
//! answer UNIMPLEMENTED and raise `NotImplementedError`, and
//! `add_XServicer_to_server`, which also registers the methods by name
//! (`add_registered_method_handlers`). Both need grpcio 1.63 or later, within
//! the package's floor (grpcio >= 1.66); the version guard grpcio-tools adds
//! is left out. The experimental static `X` class is not written.
//!
//! The stub types it as mypy-protobuf does: `XStub(channel)` is an
//! `XAsyncStub` for a `grpc.aio` channel, the servicer's methods are
//! abstract (a servicer that misses one cannot be instantiated under a type
//! checker) and may be sync or async.

use prost_types::{FileDescriptorProto, MethodDescriptorProto};
use serde::Serialize;

use super::super::code::{docstring, fit};
use super::{Comments, Index, Module, import_groups, py, string_literal};
use crate::diag::Result;

/// What protoc's plugin writes for an element without a comment.
const UNDOCUMENTED: &str = "Missing associated documentation comment in .proto file.";

#[derive(Serialize)]
pub struct GrpcView {
    imports: Vec<String>,
    services: Vec<ServiceView>,
}

#[derive(Serialize)]
struct ServiceView {
    name: String,
    docstring: String,
    /// `self.M = channel.unary_unary(...)`, laid out.
    stub_methods: Vec<String>,
    servicer_methods: Vec<ServicerMethod>,
    /// The entries of `rpc_method_handlers`, laid out.
    handlers: Vec<String>,
    /// `generic_handler = grpc.method_handlers_generic_handler(...)`, laid out.
    generic_handler: String,
    /// `server.add_registered_method_handlers(...)`, laid out.
    registered: String,
}

#[derive(Serialize)]
struct ServicerMethod {
    name: String,
    /// `request` or `request_iterator`.
    request: String,
    docstring: String,
}

/// How one method's types and streaming read in the generated code.
struct Rpc<'a> {
    method: &'a MethodDescriptorProto,
    path: Vec<i32>,
    /// `unary_unary`, `unary_stream`, `stream_unary` or `stream_stream`.
    kind: &'static str,
    request: String,
    response: String,
}

/// The modules of request and response types, imported under protoc's
/// alias (`mattermost_dot_plugin_dot_v1_dot_common__pb2`) or under their
/// own name behind `prefix` (`_common_pb2` in stubs; protoc's alias when two
/// share a name).
struct Imports<'a> {
    module: &'a Module,
    prefix: &'static str,
    protoc_aliases: bool,
    /// (from, name, alias) by proto file.
    by_file: std::collections::BTreeMap<String, (String, String, String)>,
}

impl Imports<'_> {
    fn alias(&mut self, file: &str) -> String {
        if let Some((_, _, alias)) = self.by_file.get(file) {
            return alias.clone();
        }
        let m = Module::new(file);
        let short = format!("{}{}", self.prefix, m.name);
        let alias = if self.protoc_aliases || self.by_file.values().any(|(_, _, a)| *a == short) {
            format!("{}{}", self.prefix, m.protoc_alias())
        } else {
            short
        };
        self.by_file.insert(file.to_string(), (m.import_from(self.module), m.name.clone(), alias.clone()));
        alias
    }

    /// A class reference: `alias.Outer.Inner`.
    fn class(&mut self, index: &Index, type_name: &str) -> Result<String> {
        let (file, qual, _) = index.get(type_name)?;
        Ok(format!("{}.{qual}", self.alias(&file)))
    }

    fn lines(&self) -> Vec<String> {
        import_groups(self.by_file.values().cloned().collect(), false)
    }
}

fn rpcs<'a>(
    proto: &'a FileDescriptorProto,
    service: usize,
    index: &Index,
    imports: &mut Imports,
) -> Result<Vec<Rpc<'a>>> {
    let mut out = Vec::new();
    for (i, m) in proto.service[service].method.iter().enumerate() {
        let kind = match (m.client_streaming(), m.server_streaming()) {
            (false, false) => "unary_unary",
            (false, true) => "unary_stream",
            (true, false) => "stream_unary",
            (true, true) => "stream_stream",
        };
        out.push(Rpc {
            method: m,
            path: vec![6, service as i32, 2, i as i32],
            kind,
            request: imports.class(index, m.input_type())?,
            response: imports.class(index, m.output_type())?,
        });
    }
    Ok(out)
}

fn doc_text<'a>(comments: &'a Comments, path: &[i32]) -> &'a str {
    comments.get(path).unwrap_or(UNDOCUMENTED)
}

/// `_pb2_grpc.py`.
pub fn module_view(
    module: &Module,
    proto: &FileDescriptorProto,
    index: &Index,
    comments: &Comments,
) -> Result<GrpcView> {
    let mut imports = Imports { module, prefix: "", protoc_aliases: true, by_file: Default::default() };
    let mut services = Vec::new();
    for (s, service) in proto.service.iter().enumerate() {
        let full = if proto.package().is_empty() {
            service.name().to_string()
        } else {
            format!("{}.{}", proto.package(), service.name())
        };
        let rpcs = rpcs(proto, s, index, &mut imports)?;
        let mut view = ServiceView {
            name: service.name().to_string(),
            docstring: docstring(4, doc_text(comments, &[6, s as i32])),
            stub_methods: Vec::new(),
            servicer_methods: Vec::new(),
            handlers: Vec::new(),
            generic_handler: py::call(
                4,
                "generic_handler = grpc.method_handlers_generic_handler(",
                &[string_literal(&full), "rpc_method_handlers".to_string()],
                ")",
            ),
            registered: py::call(
                4,
                "server.add_registered_method_handlers(",
                &[string_literal(&full), "rpc_method_handlers".to_string()],
                ")",
            ),
        };
        for r in &rpcs {
            let name = r.method.name();
            let args = [
                string_literal(&format!("/{full}/{name}")),
                format!("request_serializer={}.SerializeToString", r.request),
                format!("response_deserializer={}.FromString", r.response),
                "_registered_method=True".to_string(),
            ];
            view.stub_methods.push(fit(8, &format!("self.{name} = channel.{}(", r.kind), &args, ")"));
            let request = if r.method.client_streaming() { "request_iterator" } else { "request" };
            view.servicer_methods.push(ServicerMethod {
                name: name.to_string(),
                request: request.to_string(),
                docstring: docstring(8, doc_text(comments, &r.path)),
            });
            let args = [
                format!("servicer.{name}"),
                format!("request_deserializer={}.FromString", r.request),
                format!("response_serializer={}.SerializeToString", r.response),
            ];
            let head = format!("{}: grpc.{}_rpc_method_handler(", string_literal(name), r.kind);
            view.handlers.push(format!("{},", fit(8, &head, &args, ")")));
        }
        services.push(view);
    }
    Ok(GrpcView { imports: imports.lines(), services })
}

#[derive(Serialize)]
pub struct GrpcStubView {
    imports: Vec<String>,
    services: Vec<ServiceStubView>,
}

#[derive(Serialize)]
struct ServiceStubView {
    name: String,
    docstring: String,
    /// The sync stub's attributes (with docstrings), laid out.
    sync_attributes: Vec<String>,
    /// The async stub's attributes, laid out.
    async_attributes: Vec<String>,
    /// The servicer's abstract methods, laid out with their docstrings.
    servicer_methods: Vec<String>,
    /// `def add_XServicer_to_server(...) -> None: ...`, laid out.
    add: String,
}

/// `_pb2_grpc.pyi`.
pub fn stub_view(
    module: &Module,
    proto: &FileDescriptorProto,
    index: &Index,
    comments: &Comments,
) -> Result<GrpcStubView> {
    let mut imports = Imports { module, prefix: "_", protoc_aliases: false, by_file: Default::default() };
    let mut services = Vec::new();
    for (s, service) in proto.service.iter().enumerate() {
        let name = service.name();
        let mut view = ServiceStubView {
            name: name.to_string(),
            docstring: docstring(4, doc_text(comments, &[6, s as i32])),
            sync_attributes: Vec::new(),
            async_attributes: Vec::new(),
            servicer_methods: Vec::new(),
            add: fit(
                0,
                &format!("def add_{name}Servicer_to_server("),
                &[format!("servicer: {name}Servicer"), "server: _grpc.Server | _aio.Server".to_string()],
                ") -> None: ...",
            ),
        };
        for r in &rpcs(proto, s, index, &mut imports)? {
            let method = r.method.name();
            let kind: String = r.kind.split('_').map(capitalize).collect();
            let types = [r.request.clone(), r.response.clone()];
            let doc = comments.get(&r.path).map(|c| format!("\n{}", docstring(4, c))).unwrap_or_default();
            let sync = py::call(4, &format!("{method}: _grpc.{kind}MultiCallable["), &types, "]");
            view.sync_attributes.push(format!("{sync}{doc}"));
            // The async stub narrows the attribute: mypy reports that on the
            // statement's first line, where the ignore must stand.
            let flat = format!("    {method}: _aio.{kind}MultiCallable[{}]", types.join(", "));
            let ignore = "# type: ignore[assignment]";
            let asynchronous = if flat.chars().count() <= super::super::code::LINE_LENGTH {
                format!("{flat}  {ignore}")
            } else {
                let call = py::call(4, &format!("{method}: _aio.{kind}MultiCallable["), &types, "]");
                call.replacen('[', &format!("[  {ignore}"), 1)
            };
            view.async_attributes.push(asynchronous);
            let request = if r.method.client_streaming() {
                format!("request_iterator: _MaybeAsyncIterator[{}]", r.request)
            } else {
                format!("request: {}", r.request)
            };
            let result = if r.method.server_streaming() {
                format!("_Responses[{}]", r.response)
            } else {
                format!("_MaybeAwaitable[{}]", r.response)
            };
            let mut text = format!("    @_abstract.abstractmethod\n    def {method}(\n        self,\n");
            text.push_str(&format!("{}\n", py::subscript_line(8, &format!("{request},"))));
            text.push_str(&format!(
                "        context: _ServicerContext,\n{}",
                py::subscript_line(4, &format!(") -> {result}:"))
            ));
            // In a stub a body of `...` keeps the next method close; a
            // docstring body takes a blank line after it.
            match comments.get(&r.path) {
                Some(c) => text.push_str(&format!("\n{}\n", docstring(8, c))),
                None => text.push_str(" ..."),
            }
            view.servicer_methods.push(text);
        }
        // The class ends at the last method; one blank line follows it.
        if let Some(last) = view.servicer_methods.last_mut() {
            last.truncate(last.trim_end_matches('\n').len());
        }
        services.push(view);
    }
    Ok(GrpcStubView { imports: imports.lines(), services })
}

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    c.next().map(|f| f.to_ascii_uppercase().to_string() + c.as_str()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(capitalize("unary"), "Unary");
    }
}
