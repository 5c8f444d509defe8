//! Views of the four adapters of a service that mirrors a Go interface:
//! the gRPC server that calls a Go implementation, and the Go
//! implementation that calls the gRPC service. The client of a hooks service
//! gates calls on the plugin's `Implemented` answer and falls back as the
//! model's resolved hook fallbacks say.
//!
//! A method's view holds its names (the interface's parameter names, and
//! generated locals chosen not to collide with them), its types, and the
//! conversion expression of each value; the templates lay out one function
//! skeleton per shape, and the call, conversion check and error path they
//! share are generic helpers of the runtime (`runtime/go/call.go`).

use std::collections::HashSet;

use serde::Serialize;

use super::conv::{Conv, PB, converter_name, field_conv};
use super::imports::{CONTEXT, GRPC, HTTP, ImportBlock, Imports};
use super::names::go_camel_case;
use crate::config::GoHome;
use crate::diag::Diagnostic;
use crate::model::{
    BridgeError, Fallback, FallbackCase, Field, GoType, GoValue, Method, Model, Role, Service, Streaming,
};

/// The shape of a method, which picks its function skeletons.
#[derive(Serialize, Clone, Copy, PartialEq, Eq, Debug)]
#[serde(rename_all = "snake_case")]
pub enum Shape {
    /// One request, one response.
    Unary,
    /// An `io.Reader` parameter streamed in chunks, one response.
    ClientReader,
    /// `*http.Request` in, `*http.Response` out (PluginHTTP).
    HttpCall,
    /// `http.ResponseWriter` and `*http.Request` (ServeHTTP, ServeMetrics).
    HttpHandler,
    /// An `io.Reader` in and an `io.Writer` out (FileWillBeUploaded).
    ReaderWriter,
}

#[derive(Serialize)]
pub struct ServiceView {
    pub imports_server: ImportBlock,
    pub imports_client: ImportBlock,
    /// `API` for `plugin.API`: types are `APIServer` and `APIClient`.
    pub prefix: String,
    pub go_interface: String,
    /// `PluginAPI`: the generated gRPC names derive from it.
    pub service: String,
    pub hooks: bool,
    pub methods: Vec<MethodView>,
}

#[derive(Serialize)]
pub struct MethodView {
    /// The RPC name, `GetUser`.
    pub name: String,
    /// The Go method name.
    pub go_name: String,
    pub shape: Shape,
    /// The godoc comment of the client method, one `//` line each.
    pub doc: Vec<String>,
    /// `pluginpb.GetUserRequest`, `pluginpb.GetUserResponse`.
    pub request: String,
    pub response: String,
    pub server: ServerView,
    pub client: ClientView,
}

/// A field of a composite literal: `UserId: userID`.
#[derive(Serialize)]
pub struct FieldInit {
    pub name: String,
    pub value: String,
}

/// The server method: decode the request into the interface's parameters,
/// call the implementation, encode the results.
#[derive(Serialize, Default)]
pub struct ServerView {
    /// Locals: the receiver, the request (or stream), the Converter, the
    /// response, and the error of a conversion check.
    pub receiver: String,
    pub req: String,
    pub stream: String,
    pub conv: String,
    pub resp: String,
    pub err: String,
    /// Whether the Converter is used at all, and whether decoding or
    /// encoding can fail (then a check follows).
    pub uses_conv: bool,
    pub decode_checked: bool,
    pub encode_checked: bool,
    /// `userID := req.UserId`, one per parameter.
    pub decode: Vec<String>,
    /// `user, appErr := s.impl.GetUser(userID)`, or the bare call.
    pub call: String,
    /// The response fields.
    pub response: Vec<FieldInit>,
    /// Streams: the writer the implementation writes to, flushed before
    /// the response.
    pub writer: String,
    /// HTTP: the request frame field, the handler's parameter names, and
    /// the response message around a frame `f`.
    pub http_request_field: String,
    pub http_w: String,
    pub http_r: String,
    pub response_frame: String,
}

/// The client method: convert the parameters into the request, run the
/// RPC, return the converted results or the method's answer to a failure.
#[derive(Serialize, Default)]
pub struct ClientView {
    /// `teamID string, trigger string`.
    pub params: String,
    /// ``, ` error` or ` (*model.User, *model.AppError)`.
    pub results: String,
    /// Locals: the receiver, the call, the response and the error.
    pub receiver: String,
    pub call: String,
    pub resp: String,
    pub err: String,
    /// What a failure answers in the error result: `failure{}` or
    /// `failure{"plugin.bridge.get_user.unavailable", 503}`; hooks also
    /// when the plugin does not implement the hook.
    pub unavailable: String,
    pub not_implemented: String,
    /// Hooks other than `Implemented` ask the gate first.
    pub gated: bool,
    /// The request's fields, in a one-line literal when `inline`, else
    /// set one by one on the local `req`.
    pub request_fields: Vec<FieldInit>,
    pub inline: bool,
    pub req: String,
    /// Whether the results read the response.
    pub uses_response: bool,
    /// The arguments of `result_fn`.
    pub result_args: String,
    /// Statements run only after a successful call (output parameters).
    pub outputs: Vec<String>,
    /// `result2`, `hookResult1`, ...; empty when the method has no results.
    pub result_fn: String,
    /// The converted results, read through the response's nil-safe getters.
    pub values: Vec<String>,
    /// Hooks: the function giving the fallback results; its `name` is
    /// empty (and `nil` passed) when they are all zero values.
    pub fallback: FallbackView,
    /// Streams: the reader and the writer parameters, and the fields that
    /// carry their chunks.
    pub reader: String,
    pub writer: String,
    pub chunk_field: String,
    pub output_field: String,
    /// HTTP shapes.
    pub http_request: String,
    pub http_writer: String,
    pub http_response_field: String,
    pub http_request_field: String,
    /// The plugin context field and its encoding (ServeHTTP).
    pub context_field: String,
    pub context_encode: String,
    pub conv: String,
    pub http_status_not_implemented: u32,
    pub http_status_unavailable: u32,
}

/// The results a hook answers without the plugin.
#[derive(Serialize, Default)]
pub struct FallbackView {
    /// The local holding the function.
    pub name: String,
    /// `notImplemented bool` when the answer depends on the case, else
    /// `bool`; `flag` is the parameter's name.
    pub param: String,
    pub flag: String,
    /// `(*model.Post, string)` or `bool`.
    pub results: String,
    /// The results when both cases answer the same.
    pub same: String,
    /// Else the results of each case.
    pub not_implemented: String,
    pub unavailable: String,
}

/// Builds the view of a service; errors name the unsupported fields.
pub fn service(model: &Model, home: &GoHome, s: &Service) -> Result<ServiceView, Vec<Diagnostic>> {
    let go_interface = s.go_interface.clone().expect("only services with go_interface");
    let interface_type = crate::build::parse_go_type(&go_interface, &model.go_imports).map_err(|why| {
        vec![model.diagnostic(
            &s.location,
            format!("service `{}`", s.full_name),
            format!("go_interface `{go_interface}` {why}"),
        )]
    })?;
    let GoType::Named { name: prefix, .. } = &interface_type else {
        return Err(vec![model.diagnostic(
            &s.location,
            format!("service `{}`", s.full_name),
            format!("go_interface `{go_interface}` is not a named type of another package"),
        )]);
    };
    let prefix = prefix.clone();
    let hooks = s.hooks;
    let mut server = Imports::default();
    let mut client = Imports::default();
    for i in [GRPC, (PB, home.messages.as_str())] {
        server.add(i);
        client.add(i);
    }
    server.add(CONTEXT);
    server.add_type(&interface_type);
    client.add_type(&interface_type);
    // The names a generated function may not take for its own.
    let mut packages: HashSet<String> = model.go_imports.iter().map(|i| i.alias.clone()).collect();
    packages.extend([PB, CONTEXT.0, GRPC.0, HTTP.0, "io"].map(String::from));
    let mut methods = Vec::new();
    let mut problems = Vec::new();
    for m in &s.methods {
        match method(model, m, s, &packages, &mut server, &mut client) {
            Ok(v) => methods.push(v),
            Err(mut p) => problems.append(&mut p),
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let block = |i: &Imports| {
        i.block().map_err(|e| vec![Diagnostic::new(e).element(format!("Go adapters of {}", s.full_name))])
    };
    Ok(ServiceView {
        imports_server: block(&server)?,
        imports_client: block(&client)?,
        prefix,
        go_interface,
        service: s.name.clone(),
        hooks,
        methods,
    })
}

/// One Go value of the signature with its proto field and conversion.
struct Value<'a> {
    go: &'a GoValue,
    field: &'a Field,
    conv: Option<Conv>,
}

/// Names in a generated function: the interface's, the packages it
/// refers to, and generated locals, which never take a name in use.
struct Names {
    taken: HashSet<String>,
}

impl Names {
    fn new(packages: &HashSet<String>) -> Names {
        let mut taken = packages.clone();
        taken.extend(GO_RESERVED.iter().map(|s| s.to_string()));
        Names { taken }
    }

    /// The first of `choices` not in use, else the last numbered.
    fn pick(&mut self, choices: &[&str]) -> String {
        match choices.iter().find(|c| !self.taken.contains(**c)) {
            Some(c) => self.fresh(c),
            None => self.fresh(choices.last().copied().unwrap_or("v")),
        }
    }

    /// `base`, or `base2`, `base3`... when that is in use.
    fn fresh(&mut self, base: &str) -> String {
        let mut name = base.to_string();
        let mut i = 2;
        while self.taken.contains(&name) {
            name = format!("{base}{i}");
            i += 1;
        }
        self.taken.insert(name.clone());
        name
    }
}

/// Keywords and predeclared names a generated name must not take.
const GO_RESERVED: &[&str] = &[
    "break",
    "case",
    "chan",
    "const",
    "continue",
    "default",
    "defer",
    "else",
    "fallthrough",
    "for",
    "func",
    "go",
    "goto",
    "if",
    "import",
    "interface",
    "map",
    "package",
    "range",
    "return",
    "select",
    "struct",
    "switch",
    "type",
    "var",
    "any",
    "bool",
    "byte",
    "error",
    "int",
    "int32",
    "int64",
    "string",
    "true",
    "false",
    "nil",
    "new",
    "len",
    "append",
    "make",
    "copy",
    "delete",
    "cap",
    "panic",
    "recover",
    "close",
    "uint32",
    "uint64",
    "float64",
    "float32",
];

/// The godoc of a client method: the proto comment, led by the method
/// name, then the minimum server version and the deprecation.
fn godoc(m: &Method, interface: &str) -> Vec<String> {
    let text = m.comments.leading.trim();
    let mut lines: Vec<String> = if text.is_empty() {
        vec![format!("{} is {interface}.{} over gRPC.", m.go_name, m.go_name)]
    } else {
        text.lines().map(|l| l.trim_end().to_string()).collect()
    };
    if !text.is_empty() && !lines[0].starts_with(&format!("{} ", m.go_name)) {
        let first = lines[0].split(' ').next().unwrap_or_default();
        let lower_rest = first.chars().skip(1).all(|c| !c.is_ascii_uppercase());
        let first_line = if lower_rest {
            let mut chars = lines[0].chars();
            let head = chars.next().map(|c| c.to_ascii_lowercase()).unwrap_or_default();
            format!("{head}{}", chars.as_str())
        } else {
            lines[0].clone()
        };
        lines[0] = format!("{} {}{first_line}", m.go_name, lead_in(first, lower_rest));
    }
    if !m.min_server_version.is_empty() {
        lines.push(format!("Minimum server version: {}.", m.min_server_version));
    }
    if !m.deprecated.is_empty() {
        lines.push(String::new());
        lines.push(format!("Deprecated: {}", m.deprecated.trim()));
    }
    lines.into_iter().map(|l| if l.is_empty() { "//".to_string() } else { format!("// {l}") }).collect()
}

/// What joins a method name to a comment that does not start with it, so
/// that the godoc reads as a sentence: "Returns ..." reads "GetUser returns
/// ...", "Fired when ..." reads "OnActivate is fired when ...", "Like ..."
/// and "No longer ..." take "is", and a noun ("Notification that ...")
/// takes "is a" or "is an". A capitalised word (a name) is left alone.
fn lead_in(first: &str, lower_rest: bool) -> &'static str {
    let word = first.trim_end_matches([',', '.', ';', ':']);
    if !lower_rest || word.is_empty() {
        return "";
    }
    if word.ends_with('s') {
        return "";
    }
    if (word.len() > 3 && word.ends_with("ed")) || matches!(word, "Like" | "No") {
        return "is ";
    }
    if word.starts_with(['A', 'E', 'I', 'O', 'U']) { "is an " } else { "is a " }
}

/// The zero value of a Go type, as Go code.
fn zero(t: Option<&GoType>) -> String {
    match t {
        Some(GoType::Builtin(b)) => match b.as_str() {
            "string" => "\"\"".into(),
            "bool" => "false".into(),
            "any" | "error" => "nil".into(),
            _ => "0".into(),
        },
        Some(GoType::Pointer(_) | GoType::Slice(_) | GoType::Map(..)) | None => "nil".into(),
        Some(t) => format!("*new({t})"),
    }
}

fn method(
    model: &Model,
    m: &Method,
    service: &Service,
    packages: &HashSet<String>,
    server: &mut Imports,
    client: &mut Imports,
) -> Result<MethodView, Vec<Diagnostic>> {
    let hooks = service.hooks;
    let req_msg = model.message(&m.request).expect("validated");
    let resp_msg = model.message(&m.response).expect("validated");
    let mut problems = Vec::new();
    let lookup = |v| value(v, req_msg, resp_msg);
    let mut params: Vec<Value> = m.go.params.iter().map(lookup).collect();
    let mut results: Vec<Value> = m.go.results.iter().map(lookup).collect();
    for v in params.iter_mut().chain(results.iter_mut()) {
        if let Some(t) = &v.go.ty {
            client.add_type(t);
        }
        if special(v.go) || v.go.role == Role::Error {
            continue;
        }
        match field_conv(v.field, model) {
            Ok(conv) => {
                for t in &conv.types {
                    server.add_type(t);
                    client.add_type(t);
                }
                v.conv = Some(conv);
            }
            Err(why) => problems.push(model.diagnostic(
                &v.field.location,
                format!("field `{}` of method `{}`", v.field.name, m.name),
                format!("the Go target cannot convert this field: {why}"),
            )),
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let shape = shape(m, &params, &results)
        .map_err(|e| vec![model.diagnostic(&m.location, format!("method `{}`", m.name), e)])?;
    if shape == Shape::HttpCall {
        client.add(CONTEXT);
    }
    if matches!(shape, Shape::HttpCall | Shape::HttpHandler) {
        server.add(HTTP);
    }
    let request = format!("{PB}.{}", go_camel_case(converter_name(&m.request)));
    let response = format!("{PB}.{}", go_camel_case(converter_name(&m.response)));

    // The interface's parameter names, kept clear of the packages.
    let mut names = Names::new(packages);
    let param_names: Vec<String> = params.iter().map(|p| names.fresh(&p.go.name)).collect();

    let server_view = server_method(m, shape, &params, &results, &param_names, &names, &response);
    let client_view = client_method(m, hooks, &params, &results, &param_names, &names);
    Ok(MethodView {
        name: m.name.clone(),
        go_name: m.go_name.clone(),
        shape,
        doc: godoc(m, service.go_interface.as_deref().unwrap_or_default()),
        request,
        response,
        server: server_view,
        client: client_view,
    })
}

fn server_method(
    m: &Method,
    shape: Shape,
    params: &[Value],
    results: &[Value],
    param_names: &[String],
    names: &Names,
    response: &str,
) -> ServerView {
    let mut names = Names { taken: names.taken.clone() };
    let mut v = ServerView {
        receiver: names.fresh("s"),
        req: names.fresh("req"),
        stream: names.fresh("stream"),
        ..Default::default()
    };
    let result_names: Vec<String> = results
        .iter()
        .map(|r| match &r.go.ty {
            _ if r.go.role != Role::Error => names.fresh(&r.go.name),
            Some(t) if t.is_builtin("error") => names.fresh("err"),
            _ => names.fresh("appErr"),
        })
        .collect();
    v.conv = names.pick(&["c", "conv"]);
    v.resp = names.fresh("resp");
    v.err = names.pick(&["err", "convErr"]);
    if matches!(shape, Shape::HttpCall | Shape::HttpHandler) {
        let named = |k: Kind| params.iter().zip(param_names).find(|(p, _)| kind(p.go) == k).map(|(_, n)| n.clone());
        v.http_w = named(Kind::ResponseWriter).unwrap_or_else(|| names.fresh("w"));
        v.http_r = named(Kind::Request).unwrap_or_else(|| names.fresh("r"));
    }
    let (req, c) = (v.req.clone(), v.conv.clone());
    let mut args = Vec::new();
    for (p, name) in params.iter().zip(param_names) {
        let pb = go_camel_case(&p.field.name);
        match kind(p.go) {
            Kind::Reader => {
                v.decode.push(format!(
                    "{name} := recvChunks({req}.{pb}, {}.Recv, func(m *{}) []byte {{ return m.{pb} }})",
                    v.stream,
                    request_of(m)
                ));
                args.push(name.clone());
            }
            Kind::Writer => {
                v.decode.push(format!(
                    "{name} := newChunkWriter(func(b []byte) error {{ return {}.Send(&{response}{{{pb}: b}}) }})",
                    v.stream
                ));
                v.writer = name.clone();
                args.push(name.clone());
            }
            Kind::ResponseWriter => args.push(v.http_w.clone()),
            Kind::Request => {
                v.http_request_field = pb;
                args.push(v.http_r.clone());
            }
            Kind::Output => {
                // An output parameter the callee fills in (LoadPluginConfiguration's dest).
                v.decode.push(format!("var {name} map[string]any"));
                v.response.push(FieldInit { name: pb, value: format!("{c}.mapToStruct({name})") });
                v.uses_conv = true;
                v.encode_checked = true;
                args.push(format!("&{name}"));
            }
            Kind::Variadic(elem) => {
                v.decode.push(format!("{name} := convSliceTo[[]{elem}]({req}.{pb}, valueToAny)"));
                args.push(format!("{name}..."));
            }
            Kind::Response | Kind::Plain => {
                let conv = p.conv.as_ref().expect("plain parameters have a conversion");
                if conv.converts() {
                    v.uses_conv = true;
                    v.decode_checked = true;
                }
                v.decode.push(format!("{name} := {}", conv.decode(&format!("{req}.{pb}"), &c)));
                args.push(name.clone());
            }
        }
    }
    for (r, name) in results.iter().zip(&result_names) {
        let pb = go_camel_case(&r.field.name);
        if r.field.number == 1 {
            let to = if r.go.ty.as_ref().is_some_and(|t| t.is_builtin("error")) {
                "ErrorToProto"
            } else {
                "AppErrorToProto"
            };
            // Error conversions cannot fail: no check follows them.
            v.response.push(FieldInit { name: pb, value: format!("{c}.{to}({name})") });
            v.uses_conv = true;
        } else if kind(r.go) == Kind::Response {
            continue;
        } else {
            let conv = r.conv.as_ref().expect("plain results have a conversion");
            if conv.converts() {
                v.uses_conv = true;
                v.encode_checked = true;
            }
            v.response.push(FieldInit { name: pb, value: conv.encode(name, &c) });
        }
    }
    let reads_request = params.iter().any(|p| matches!(kind(p.go), Kind::Plain | Kind::Variadic(_)));
    if shape == Shape::Unary && !reads_request {
        v.req = "_".to_string();
    }
    let called = format!("{}.impl.{}({})", v.receiver, m.go_name, args.join(", "));
    v.call = if results.is_empty() || shape == Shape::HttpCall {
        called
    } else {
        format!("{} := {called}", result_names.join(", "))
    };
    if matches!(shape, Shape::HttpCall | Shape::HttpHandler) {
        let field = results
            .iter()
            .chain(params)
            .find(|p| matches!(kind(p.go), Kind::Response | Kind::ResponseWriter))
            .map(|p| go_camel_case(&p.field.name))
            .unwrap_or_default();
        v.response_frame = format!("&{response}{{{field}: f}}");
    }
    v
}

fn request_of(m: &Method) -> String {
    format!("{PB}.{}", go_camel_case(converter_name(&m.request)))
}

fn client_method(
    m: &Method,
    hooks: bool,
    params: &[Value],
    results: &[Value],
    param_names: &[String],
    names: &Names,
) -> ClientView {
    let mut names = Names { taken: names.taken.clone() };
    let mut v = ClientView {
        receiver: names.fresh("x"),
        call: names.fresh("call"),
        resp: names.fresh("resp"),
        err: names.fresh("err"),
        req: names.fresh("req"),
        gated: m.hook.as_ref().is_some_and(|h| h.gated),
        ..Default::default()
    };
    v.params = params
        .iter()
        .zip(param_names)
        .map(|(p, n)| format!("{n} {}", p.go.ty.as_ref().map(ToString::to_string).unwrap_or_default()))
        .collect::<Vec<_>>()
        .join(", ");
    let types: Vec<String> =
        results.iter().map(|r| r.go.ty.as_ref().map(ToString::to_string).unwrap_or_default()).collect();
    v.results = match types.as_slice() {
        [] => String::new(),
        [one] => format!(" {one}"),
        many => format!(" ({})", many.join(", ")),
    };
    let (call, resp) = (v.call.clone(), v.resp.clone());
    for (p, name) in params.iter().zip(param_names) {
        let pb = go_camel_case(&p.field.name);
        match kind(p.go) {
            Kind::Reader => {
                v.reader = name.clone();
                v.chunk_field = pb;
            }
            Kind::Writer => {
                v.writer = name.clone();
                v.output_field = pb;
            }
            Kind::ResponseWriter => {
                v.http_writer = name.clone();
                v.http_response_field = pb;
            }
            Kind::Request => {
                v.http_request = name.clone();
                v.http_request_field = pb;
            }
            Kind::Output => v.outputs.push(format!("{call}.structInto({resp}.Get{pb}(), {name})")),
            Kind::Variadic(_) => {
                v.request_fields.push(FieldInit { name: pb, value: format!("convSlice({name}, {call}.anyToValue)") })
            }
            Kind::Response | Kind::Plain => {
                let conv = p.conv.as_ref().expect("plain parameters have a conversion");
                if p.go.ty.as_ref().is_some_and(|t| t.is_pointer_to(PLUGIN, "Context")) {
                    v.conv = names.pick(&["conv", "c"]);
                    v.context_field = pb.clone();
                    v.context_encode = conv.encode(name, &v.conv);
                }
                v.request_fields.push(FieldInit { name: pb, value: conv.encode(name, &call) });
            }
        }
    }
    let literal: usize = v.request_fields.iter().map(|f| f.name.len() + f.value.len() + 4).sum();
    v.inline = literal <= 80;

    for r in results {
        let pb = go_camel_case(&r.field.name);
        let getter = format!("{resp}.Get{pb}()");
        if r.field.number == 1 {
            let from = if r.go.ty.as_ref().is_some_and(|t| t.is_builtin("error")) {
                "ErrorFromProto"
            } else {
                "AppErrorFromProto"
            };
            v.values.push(format!("{call}.{from}({getter})"));
        } else if kind(r.go) == Kind::Response {
            v.http_response_field = pb;
        } else {
            let conv = r.conv.as_ref().expect("plain results have a conversion");
            v.values.push(conv.decode(&getter, &call));
        }
    }

    // Failures: the error result's answer, and for hooks the other results.
    let has_error = results.last().is_some_and(|r| r.field.number == 1);
    let failure = |e: Option<BridgeError>| match e {
        Some(e) if has_error => format!("failure{{\"{}\", {}}}", e.id, e.status),
        _ => "failure{}".to_string(),
    };
    match &m.hook {
        None => v.unavailable = failure(Some(BridgeError::new(&m.go_name, FallbackCase::Unavailable))),
        Some(h) => {
            v.unavailable = failure(h.unavailable.error.clone());
            v.not_implemented = failure(h.not_implemented.error.clone());
            v.http_status_not_implemented = h.not_implemented.http_status.unwrap_or(0);
            v.http_status_unavailable = h.unavailable.http_status.unwrap_or(0);
            // Hooks without results have no fallback values.
            if let Some(mut f) = fallback(h.not_implemented.clone(), h.unavailable.clone(), results, param_names) {
                f.name = names.fresh("fallback");
                if !f.same.is_empty() {
                    f.param = "bool".into();
                } else {
                    let flag = names.fresh("notImplemented");
                    f.param = format!("{flag} bool");
                    // A bool answering true exactly when the hook is not implemented.
                    if f.not_implemented == "true" && f.unavailable == "false" {
                        f.same = flag.clone();
                    }
                    f.flag = flag;
                }
                v.fallback = f;
            }
        }
    }
    v.uses_response = !v.values.is_empty() || !v.outputs.is_empty();
    if !results.is_empty() {
        v.result_fn = format!("{}{}", if hooks { "hookResult" } else { "result" }, results.len());
        let mut args = vec![v.call.clone(), v.err.clone()];
        args.extend(v.values.iter().cloned());
        if hooks {
            args.push(if v.fallback.name.is_empty() { "nil".to_string() } else { v.fallback.name.clone() });
        }
        v.result_args = args.join(", ");
    }
    v
}

/// The fallback results of a hook, when any differs from the zero value
/// (the error result is set by the runtime from the failures).
fn fallback(
    not_implemented: Fallback,
    unavailable: Fallback,
    results: &[Value],
    param_names: &[String],
) -> Option<FallbackView> {
    let answer = |f: &Fallback| -> Vec<String> {
        results
            .iter()
            .enumerate()
            .map(|(i, r)| {
                if i == 0 && f.echo_param.is_some() {
                    param_names[f.echo_param.unwrap_or_default()].clone()
                } else if f.true_result == Some(i) {
                    "true".to_string()
                } else {
                    zero(r.go.ty.as_ref())
                }
            })
            .collect()
    };
    let (ni, un) = (answer(&not_implemented), answer(&unavailable));
    let zeros: Vec<String> = results.iter().map(|r| zero(r.go.ty.as_ref())).collect();
    if ni == zeros && un == zeros {
        return None;
    }
    let types: Vec<String> =
        results.iter().map(|r| r.go.ty.as_ref().map(ToString::to_string).unwrap_or_default()).collect();
    let results = if types.len() == 1 { types[0].clone() } else { format!("({})", types.join(", ")) };
    Some(if ni == un {
        FallbackView {
            name: String::new(),
            param: String::new(),
            flag: String::new(),
            results,
            same: ni.join(", "),
            not_implemented: String::new(),
            unavailable: String::new(),
        }
    } else {
        FallbackView {
            name: String::new(),
            param: String::new(),
            flag: String::new(),
            results,
            same: String::new(),
            not_implemented: ni.join(", "),
            unavailable: un.join(", "),
        }
    })
}

fn value<'a>(v: &'a GoValue, req: &'a crate::model::Message, resp: &'a crate::model::Message) -> Value<'a> {
    let msg = if v.role == Role::Param { req } else { resp };
    let field = msg.fields.iter().find(|f| f.name == v.field).expect("signature fields exist");
    Value { go: v, field, conv: None }
}

/// The import path of the package of `plugin.Context`.
pub const PLUGIN: &str = "github.com/mattermost/mattermost/server/public/plugin";

/// What a Go value is to the method shapes.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Kind {
    /// `io.Reader`: streamed in chunks.
    Reader,
    /// `io.Writer`: streamed back in chunks.
    Writer,
    /// `http.ResponseWriter`.
    ResponseWriter,
    /// `*http.Request`.
    Request,
    /// `*http.Response`.
    Response,
    /// An output parameter of type `any` the callee fills in.
    Output,
    /// The variadic parameter, with its element type spelled out.
    Variadic(String),
    /// Anything a field conversion carries.
    Plain,
}

fn kind(v: &GoValue) -> Kind {
    let Some(t) = &v.ty else { return Kind::Plain };
    match t {
        GoType::Variadic(elem) => Kind::Variadic(elem.to_string()),
        t if t.is_named("io", "Reader") => Kind::Reader,
        t if t.is_named("io", "Writer") => Kind::Writer,
        t if t.is_named("net/http", "ResponseWriter") => Kind::ResponseWriter,
        t if t.is_pointer_to("net/http", "Request") => Kind::Request,
        t if t.is_pointer_to("net/http", "Response") => Kind::Response,
        t if t.is_builtin("any") && v.role == Role::Output => Kind::Output,
        _ => Kind::Plain,
    }
}

/// Values handled by the method shape rather than by a field conversion:
/// streams, HTTP, variadics, and output parameters of type `any`.
fn special(v: &GoValue) -> bool {
    kind(v) != Kind::Plain
}

fn shape(m: &Method, params: &[Value], results: &[Value]) -> Result<Shape, String> {
    let has = |k: Kind| params.iter().chain(results).any(|v| kind(v.go) == k);
    let streams_or_http = [Kind::Reader, Kind::Writer, Kind::ResponseWriter, Kind::Request, Kind::Response];
    match m.streaming {
        Streaming::Unary if !streams_or_http.into_iter().any(has) => Ok(Shape::Unary),
        Streaming::Client if has(Kind::Reader) && !has(Kind::Writer) => Ok(Shape::ClientReader),
        Streaming::Bidi if has(Kind::Request) && has(Kind::Response) => Ok(Shape::HttpCall),
        Streaming::Bidi if has(Kind::Request) && has(Kind::ResponseWriter) => Ok(Shape::HttpHandler),
        Streaming::Bidi if has(Kind::Reader) && has(Kind::Writer) => Ok(Shape::ReaderWriter),
        s => Err(format!(
            "the Go target has no adapter for a {} RPC with these parameter types (streams and HTTP values need one of its method shapes)",
            s.as_str()
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::lead_in;

    #[test]
    fn godoc_lead_ins_make_a_sentence() {
        let joined = |first: &str| format!("X {}{}", lead_in(first, true), first.to_lowercase());
        assert_eq!(joined("Returns"), "X returns");
        assert_eq!(joined("Soft-deletes"), "X soft-deletes");
        assert_eq!(joined("Fired"), "X is fired");
        assert_eq!(joined("Like"), "X is like");
        assert_eq!(joined("No"), "X is no");
        assert_eq!(joined("Notification"), "X is a notification");
        assert_eq!(joined("Event"), "X is an event");
        assert_eq!(lead_in("HTTP", false), "");
    }
}
