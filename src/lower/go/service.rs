//! Views of the four adapters of a service that mirrors a Go interface:
//! the gRPC server that calls a Go implementation, and the Go
//! implementation that calls the gRPC service. The client of a hooks service
//! gates calls on the plugin's `Implemented` answer and falls back as the
//! model's resolved hook fallbacks say.
//!
//! A method's view is one variant per shape, each with a client and a
//! server view holding only what that shape lays out: names (the
//! interface's parameter names, and generated locals chosen not to collide
//! with them), types, and the conversion expression of each value; the
//! statements are data (a decoded parameter, a request field, a result) and
//! the templates lay out the Go, one partial per shape. The call,
//! conversion check and error path every method shares are generic helpers
//! of the runtime (`runtime/go/call.go`, `runtime/go/http.go`).

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

/// The shape of a method, which picks its view and its function skeletons.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
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

/// A method, by shape: each shape has its own client and server view,
/// holding only what that shape lays out. Serialised with a `shape` tag
/// the templates dispatch on.
#[derive(Serialize)]
#[serde(tag = "shape", rename_all = "snake_case")]
pub enum MethodView {
    Unary {
        #[serde(flatten)]
        head: MethodHead,
        client: CallClient,
        server: CallServer,
    },
    ClientReader {
        #[serde(flatten)]
        head: MethodHead,
        client: ReaderClient,
        server: ReaderServer,
    },
    HttpCall {
        #[serde(flatten)]
        head: MethodHead,
        client: HttpCallClient,
        server: HttpServer,
    },
    HttpHandler {
        #[serde(flatten)]
        head: MethodHead,
        client: HttpHandlerClient,
        server: HttpServer,
    },
    ReaderWriter {
        #[serde(flatten)]
        head: MethodHead,
        client: ExchangeClient,
        server: ExchangeServer,
    },
}

impl MethodView {
    pub fn shape(&self) -> Shape {
        match self {
            MethodView::Unary { .. } => Shape::Unary,
            MethodView::ClientReader { .. } => Shape::ClientReader,
            MethodView::HttpCall { .. } => Shape::HttpCall,
            MethodView::HttpHandler { .. } => Shape::HttpHandler,
            MethodView::ReaderWriter { .. } => Shape::ReaderWriter,
        }
    }
}

/// What every method has, whatever its shape.
#[derive(Serialize)]
pub struct MethodHead {
    /// The RPC name, `GetUser`.
    pub name: String,
    /// The Go method name.
    pub go_name: String,
    /// The godoc comment of the client method, one `//` line each.
    pub doc: Vec<String>,
    /// `pluginpb.GetUserRequest`, `pluginpb.GetUserResponse`.
    pub request: String,
    pub response: String,
}

/// A field of a composite literal or an assignment: `UserId: userID`.
#[derive(Serialize)]
pub struct FieldInit {
    pub name: String,
    pub value: String,
}

/// A parameter of a client method: `teamID string`.
#[derive(Serialize)]
pub struct Param {
    pub name: String,
    pub ty: String,
}

/// The receiver and signature of a client method.
#[derive(Serialize)]
pub struct Signature {
    pub receiver: String,
    pub params: Vec<Param>,
    /// The result type: ``, `error` or `(*model.User, *model.AppError)`.
    pub results: String,
}

/// The error a failed call answers in the error result:
/// `failure{"plugin.bridge.get_user.unavailable", 503}`.
#[derive(Serialize, Clone)]
pub struct Failure {
    pub id: String,
    pub status: u16,
}

/// A client method that goes through the shared call path of the runtime:
/// start the call, convert the request, run the RPC, return the converted
/// results or the method's answer to a failure.
#[derive(Serialize)]
pub struct CallClient {
    #[serde(flatten)]
    pub sig: Signature,
    /// Locals: the call (which converts), the response and the error.
    pub call: String,
    pub resp: String,
    pub err: String,
    /// What a failed call answers in the error result (none: a nil error);
    /// hooks also when the plugin does not implement the hook.
    pub unavailable: Option<Failure>,
    pub not_implemented: Option<Failure>,
    /// Hooks other than `Implemented` ask the gate first.
    pub gated: bool,
    pub request: RequestInit,
    /// Output parameters, filled in only after a successful call.
    pub outputs: Vec<OutputInto>,
    /// What the method returns; none for a method without results.
    pub returns: Option<Results>,
    /// Whether anything reads the response.
    pub uses_response: bool,
    /// A gated hook that reads nothing back: the runtime's `hookNotify`.
    pub notify: bool,
}

/// The request of a call, laid out as its length allows.
#[derive(Serialize)]
pub struct RequestInit {
    /// The local holding it, unless it is `Inline`.
    pub req: String,
    pub fields: Vec<FieldInit>,
    pub layout: RequestLayout,
}

/// Where a request is built.
#[derive(Serialize, Clone, Copy, PartialEq, Eq, Debug)]
#[serde(rename_all = "snake_case")]
pub enum RequestLayout {
    /// A literal in the call.
    Inline,
    /// A literal in the local, on the line before the call.
    Local,
    /// The local, set field by field.
    Fields,
    /// A hook's request, built only once the plugin is known to implement
    /// the hook: a function in the call returning the literal,
    Later,
    /// or setting the local field by field,
    LaterFields,
    /// or the runtime's `noRequest` for a hook without parameters.
    LaterEmpty,
}

/// An output parameter the callee fills in: `call.structInto(resp.GetConfig(), dest)`.
#[derive(Serialize)]
pub struct OutputInto {
    /// The response field.
    pub field: String,
    /// The parameter.
    pub name: String,
}

/// The results of a client method, converted from the response.
#[derive(Serialize)]
pub struct Results {
    /// The runtime helper that returns them or the answer to a failure:
    /// `result2`, `hookResult1`...
    pub helper: String,
    /// The converted results, read through the response's nil-safe getters.
    pub values: Vec<String>,
    /// Hooks: what the hook answers without the plugin, when a result is
    /// not a zero value (else the helper gets `nil`).
    pub fallback: Option<FallbackView>,
}

/// The results a hook answers without the plugin: a small function of
/// whether the plugin does not implement the hook.
#[derive(Serialize)]
pub struct FallbackView {
    /// The local holding the function; none when it is passed inline.
    pub name: Option<String>,
    /// The parameter's name when the answer depends on it.
    pub flag: Option<String>,
    /// `(*model.Post, string)` or `bool`.
    pub results: String,
    /// The results when both cases answer the same (which may be the
    /// flag itself), else none.
    pub same: Option<Vec<String>>,
    /// Else the results of each case.
    pub not_implemented: Vec<String>,
    pub unavailable: Vec<String>,
}

/// A client method that streams an `io.Reader` parameter in chunks.
#[derive(Serialize)]
pub struct ReaderClient {
    #[serde(flatten)]
    pub call: CallClient,
    pub chunks: ChunksIn,
}

/// The chunks a reader parameter sends: the parameter, the request field
/// and the local setting a chunk into a request.
#[derive(Serialize)]
pub struct ChunksIn {
    pub reader: String,
    pub field: String,
    pub set_chunk: String,
}

/// A client method that streams a reader out and a writer back
/// (FileWillBeUploaded).
#[derive(Serialize)]
pub struct ExchangeClient {
    #[serde(flatten)]
    pub call: CallClient,
    pub chunks: ChunksIn,
    /// The writer parameter, and the response field of its chunks.
    pub writer: String,
    pub output_field: String,
}

/// `*http.Request` in, `*http.Response` out (PluginHTTP).
#[derive(Serialize)]
pub struct HttpCallClient {
    #[serde(flatten)]
    pub sig: Signature,
    /// The request parameter.
    pub request: String,
    /// The request and response fields carrying the frames.
    pub request_field: String,
    pub response_field: String,
}

/// An HTTP handler hook (ServeHTTP, ServeMetrics), relayed by the runtime.
#[derive(Serialize)]
pub struct HttpHandlerClient {
    #[serde(flatten)]
    pub sig: Signature,
    /// Locals: the call, the first request message and the function that
    /// sets a frame into a request message.
    pub call: String,
    pub head: String,
    pub set_frame: String,
    /// The fields of the first message besides the frame (the plugin
    /// context).
    pub head_fields: Vec<FieldInit>,
    pub request_field: String,
    pub response_field: String,
    /// The handler's parameters.
    pub w: String,
    pub r: String,
    /// The statuses answered when the plugin does not implement the hook
    /// and when the call fails.
    pub status_not_implemented: u32,
    pub status_unavailable: u32,
}

/// A statement decoding a parameter of a server method.
#[derive(Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Decode {
    /// `name := value`.
    Value { name: String, value: String },
    /// An output parameter the implementation fills in: `var name map[string]any`.
    Output { name: String },
    /// The variadic parameter, from a list of values:
    /// `name := convSliceTo[[]elem](req.Field, valueToAny)`.
    Variadic { name: String, elem: String, field: String },
    /// A reader of the chunks of a request field (the first in the
    /// request, the others in the stream's later messages).
    Reader { name: String, field: String },
    /// A writer sending its chunks in the response field.
    Writer { name: String, field: String },
}

/// The implementation's method as the server calls it:
/// `user, appErr := s.impl.GetUser(userID)`.
#[derive(Serialize)]
pub struct ImplCall {
    pub results: Vec<String>,
    pub args: Vec<String>,
}

/// A server method: decode the request into the interface's parameters,
/// call the implementation, encode the results.
#[derive(Serialize)]
pub struct CallServer {
    /// Locals: the receiver, the request (`_` when unread), the
    /// Converter, the response, and the error of a conversion check.
    pub receiver: String,
    pub req: String,
    pub conv: String,
    pub resp: String,
    pub err: String,
    /// Whether the Converter is used at all, and whether decoding or
    /// encoding can fail (then a check follows).
    pub uses_conv: bool,
    pub decode_checked: bool,
    pub encode_checked: bool,
    pub decode: Vec<Decode>,
    pub call: ImplCall,
    /// The response fields.
    pub response: Vec<FieldInit>,
}

/// A client-streaming server method: the first message is received from
/// the stream.
#[derive(Serialize)]
pub struct ReaderServer {
    #[serde(flatten)]
    pub body: CallServer,
    pub stream: String,
}

/// The server side of the reader and writer exchange: the writer is
/// flushed before the response goes out.
#[derive(Serialize)]
pub struct ExchangeServer {
    #[serde(flatten)]
    pub body: CallServer,
    pub stream: String,
    pub writer: String,
}

/// The server side of both HTTP shapes: the runtime serves the frames and
/// calls the implementation as a handler.
#[derive(Serialize)]
pub struct HttpServer {
    pub receiver: String,
    pub req: String,
    pub stream: String,
    pub conv: String,
    pub err: String,
    pub uses_conv: bool,
    pub decode_checked: bool,
    pub decode: Vec<Decode>,
    pub call: ImplCall,
    /// The request and response fields carrying the frames.
    pub request_field: String,
    pub response_field: String,
    /// The handler's parameters.
    pub w: String,
    pub r: String,
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

/// The columns a generated statement may take (a tab counting four),
/// where a shorter layout exists.
const WIDTH: usize = 160;

/// The columns of a `return` line with a fallback function inline.
const INLINE_FALLBACK_WIDTH: usize = 120;

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
    let head = MethodHead {
        name: m.name.clone(),
        go_name: m.go_name.clone(),
        doc: godoc(m, service.go_interface.as_deref().unwrap_or_default()),
        request: format!("{PB}.{}", go_camel_case(converter_name(&m.request))),
        response: format!("{PB}.{}", go_camel_case(converter_name(&m.response))),
    };

    // The interface's parameter names, kept clear of the packages.
    let mut names = Names::new(packages);
    let param_names: Vec<String> = params.iter().map(|p| names.fresh(&p.go.name)).collect();
    let sig = Sig { params: &params, results: &results, names: &param_names };

    let server = server_method(shape, &sig, &names);
    let mut client_names = Names { taken: names.taken.clone() };
    let receiver = client_names.fresh("x");
    let signature = signature(&sig, receiver);
    Ok(match shape {
        Shape::Unary => MethodView::Unary {
            client: client_call(m, service.hooks, &sig, signature, &mut client_names, false, &head.request),
            server: server.body,
            head,
        },
        Shape::ClientReader => {
            let call = client_call(m, service.hooks, &sig, signature, &mut client_names, true, &head.request);
            MethodView::ClientReader {
                client: ReaderClient { call, chunks: chunks_in(&sig, &mut client_names) },
                server: ReaderServer { body: server.body, stream: server.stream },
                head,
            }
        }
        Shape::ReaderWriter => {
            let call = client_call(m, service.hooks, &sig, signature, &mut client_names, true, &head.request);
            let (writer, output_field) = sig.named(&Kind::Writer).unwrap_or_default();
            MethodView::ReaderWriter {
                client: ExchangeClient { call, chunks: chunks_in(&sig, &mut client_names), writer, output_field },
                server: ExchangeServer { body: server.body, stream: server.stream, writer: server.writer },
                head,
            }
        }
        Shape::HttpCall => {
            let (request, request_field) = sig.named(&Kind::Request).unwrap_or_default();
            let (_, response_field) = sig.named(&Kind::Response).unwrap_or_default();
            MethodView::HttpCall {
                client: HttpCallClient { sig: signature, request, request_field, response_field },
                server: server.http(),
                head,
            }
        }
        Shape::HttpHandler => MethodView::HttpHandler {
            client: http_handler_client(m, &sig, signature, &mut client_names),
            server: server.http(),
            head,
        },
    })
}

/// The values of a method's signature with the names they take.
struct Sig<'a> {
    params: &'a [Value<'a>],
    results: &'a [Value<'a>],
    names: &'a [String],
}

impl Sig<'_> {
    /// The parameters with their names.
    fn params(&self) -> impl Iterator<Item = (&Value<'_>, &String)> {
        self.params.iter().zip(self.names)
    }

    /// The name and proto field (as a Go field name) of the first value of
    /// a kind, parameters first.
    fn named(&self, k: &Kind) -> Option<(String, String)> {
        self.params().find(|(p, _)| kind(p.go) == *k).map(|(p, n)| (n.clone(), go_camel_case(&p.field.name))).or_else(
            || self.results.iter().find(|r| kind(r.go) == *k).map(|r| (String::new(), go_camel_case(&r.field.name))),
        )
    }

    /// Whether the last result is the error, carried in field 1.
    fn has_error(&self) -> bool {
        self.results.last().is_some_and(|r| r.field.number == 1)
    }
}

/// The server method, with what the streaming and HTTP shapes add.
struct ServerParts {
    body: CallServer,
    stream: String,
    writer: String,
    request_field: String,
    response_field: String,
    w: String,
    r: String,
}

impl ServerParts {
    fn http(self) -> HttpServer {
        let b = self.body;
        HttpServer {
            receiver: b.receiver,
            req: b.req,
            stream: self.stream,
            conv: b.conv,
            err: b.err,
            uses_conv: b.uses_conv,
            decode_checked: b.decode_checked,
            decode: b.decode,
            call: b.call,
            request_field: self.request_field,
            response_field: self.response_field,
            w: self.w,
            r: self.r,
        }
    }
}

fn server_method(shape: Shape, sig: &Sig, names: &Names) -> ServerParts {
    let mut names = Names { taken: names.taken.clone() };
    let receiver = names.fresh("s");
    let mut req = names.fresh("req");
    let stream = names.fresh("stream");
    let result_names: Vec<String> = sig
        .results
        .iter()
        .map(|r| match &r.go.ty {
            _ if r.go.role != Role::Error => names.fresh(&r.go.name),
            Some(t) if t.is_builtin("error") => names.fresh("err"),
            _ => names.fresh("appErr"),
        })
        .collect();
    let conv = names.pick(&["c", "conv"]);
    let resp = names.fresh("resp");
    let err = names.pick(&["err", "convErr"]);
    let (mut w, mut r) = (String::new(), String::new());
    if matches!(shape, Shape::HttpCall | Shape::HttpHandler) {
        w = sig.named(&Kind::ResponseWriter).map(|(n, _)| n).unwrap_or_else(|| names.fresh("w"));
        r = sig.named(&Kind::Request).map(|(n, _)| n).unwrap_or_else(|| names.fresh("r"));
    }
    let (mut uses_conv, mut decode_checked, mut encode_checked) = (false, false, false);
    let mut decode = Vec::new();
    let mut response = Vec::new();
    let mut args = Vec::new();
    let mut writer = String::new();
    for (p, name) in sig.params() {
        let pb = go_camel_case(&p.field.name);
        match kind(p.go) {
            Kind::Reader => {
                decode.push(Decode::Reader { name: name.clone(), field: pb });
                args.push(name.clone());
            }
            Kind::Writer => {
                decode.push(Decode::Writer { name: name.clone(), field: pb });
                writer = name.clone();
                args.push(name.clone());
            }
            Kind::ResponseWriter => args.push(w.clone()),
            Kind::Request => args.push(r.clone()),
            Kind::Output => {
                // An output parameter the callee fills in (LoadPluginConfiguration's dest).
                decode.push(Decode::Output { name: name.clone() });
                response.push(FieldInit { name: pb, value: format!("{conv}.mapToStruct({name})") });
                uses_conv = true;
                encode_checked = true;
                args.push(format!("&{name}"));
            }
            Kind::Variadic(elem) => {
                decode.push(Decode::Variadic { name: name.clone(), elem, field: pb });
                args.push(format!("{name}..."));
            }
            Kind::Response | Kind::Plain => {
                let c = p.conv.as_ref().expect("plain parameters have a conversion");
                if c.converts() {
                    uses_conv = true;
                    decode_checked = true;
                }
                decode.push(Decode::Value { name: name.clone(), value: c.decode(&format!("{req}.{pb}"), &conv) });
                args.push(name.clone());
            }
        }
    }
    for (r, name) in sig.results.iter().zip(&result_names) {
        let pb = go_camel_case(&r.field.name);
        if r.field.number == 1 {
            let to = if r.go.ty.as_ref().is_some_and(|t| t.is_builtin("error")) {
                "ErrorToProto"
            } else {
                "AppErrorToProto"
            };
            // Error conversions cannot fail: no check follows them.
            response.push(FieldInit { name: pb, value: format!("{conv}.{to}({name})") });
            uses_conv = true;
        } else if kind(r.go) != Kind::Response {
            let c = r.conv.as_ref().expect("plain results have a conversion");
            if c.converts() {
                uses_conv = true;
                encode_checked = true;
            }
            response.push(FieldInit { name: pb, value: c.encode(name, &conv) });
        }
    }
    let reads_request = sig.params.iter().any(|p| matches!(kind(p.go), Kind::Plain | Kind::Variadic(_)));
    if shape == Shape::Unary && !reads_request {
        req = "_".to_string();
    }
    let results = if shape == Shape::HttpCall { Vec::new() } else { result_names };
    let (request_field, response_field) = match shape {
        Shape::HttpCall | Shape::HttpHandler => (
            sig.named(&Kind::Request).unwrap_or_default().1,
            sig.named(&Kind::Response).or_else(|| sig.named(&Kind::ResponseWriter)).unwrap_or_default().1,
        ),
        _ => Default::default(),
    };
    ServerParts {
        body: CallServer {
            receiver,
            req,
            conv,
            resp,
            err,
            uses_conv,
            decode_checked,
            encode_checked,
            decode,
            call: ImplCall { results, args },
            response,
        },
        stream,
        writer,
        request_field,
        response_field,
        w,
        r,
    }
}

/// The receiver and signature of a client method.
fn signature(sig: &Sig, receiver: String) -> Signature {
    let params = sig
        .params()
        .map(|(p, n)| Param { name: n.clone(), ty: p.go.ty.as_ref().map(ToString::to_string).unwrap_or_default() })
        .collect();
    let types: Vec<String> =
        sig.results.iter().map(|r| r.go.ty.as_ref().map(ToString::to_string).unwrap_or_default()).collect();
    let results = match types.as_slice() {
        [] => String::new(),
        [one] => one.clone(),
        many => format!("({})", many.join(", ")),
    };
    Signature { receiver, params, results }
}

/// The chunks of the reader parameter of a streaming client method.
fn chunks_in(sig: &Sig, names: &mut Names) -> ChunksIn {
    let (reader, field) = sig.named(&Kind::Reader).unwrap_or_default();
    ChunksIn { reader, field, set_chunk: names.fresh("setChunk") }
}

/// A client method through the shared call path; a streaming one sets its
/// request up in a local, since the helper's other arguments are long.
fn client_call(
    m: &Method,
    hooks: bool,
    sig: &Sig,
    signature: Signature,
    names: &mut Names,
    streams: bool,
    request_type: &str,
) -> CallClient {
    let call = names.fresh("call");
    let resp = names.fresh("resp");
    let err = names.fresh("err");
    let req = names.fresh("req");
    let mut fields = Vec::new();
    let mut outputs = Vec::new();
    for (p, name) in sig.params() {
        let pb = go_camel_case(&p.field.name);
        match kind(p.go) {
            Kind::Output => outputs.push(OutputInto { field: pb, name: name.clone() }),
            Kind::Variadic(_) => {
                fields.push(FieldInit { name: pb, value: format!("convSlice({name}, {call}.anyToValue)") })
            }
            Kind::Response | Kind::Plain => {
                let conv = p.conv.as_ref().expect("plain parameters have a conversion");
                fields.push(FieldInit { name: pb, value: conv.encode(name, &call) });
            }
            // Streams travel beside the request.
            Kind::Reader | Kind::Writer | Kind::ResponseWriter | Kind::Request => {}
        }
    }
    // The request goes in the call, or in a literal on the line before,
    // when the line stays within WIDTH columns; else it is set field by
    // field.
    let fields_len =
        fields.iter().map(|f| f.name.len() + 2 + f.value.len()).sum::<usize>() + 2 * fields.len().saturating_sub(1);
    let literal = "&{}".len() + request_type.len() + fields_len;
    let in_call = "    resp, err := hookUnary(call, x.client., )".len() + m.name.len() + literal;
    let in_local = "    req := ".len() + literal;
    // A hook converts its arguments only when the plugin implements it:
    // a server that sees every hook as implemented (the shim) calls them
    // all, and converting the posts of every fetch for nothing would cost
    // more than the call.
    let gated = m.hook.as_ref().is_some_and(|h| h.gated);
    let in_function = "        return ".len() + literal;
    let layout = if gated && fields.is_empty() {
        RequestLayout::LaterEmpty
    } else if gated && in_function <= WIDTH {
        RequestLayout::Later
    } else if gated {
        RequestLayout::LaterFields
    } else if in_call <= WIDTH && !streams {
        RequestLayout::Inline
    } else if in_local <= WIDTH {
        RequestLayout::Local
    } else {
        RequestLayout::Fields
    };
    let request = RequestInit { req, fields, layout };

    let mut values = Vec::new();
    for r in sig.results {
        let getter = format!("{resp}.Get{}()", go_camel_case(&r.field.name));
        if r.field.number == 1 {
            let from = if r.go.ty.as_ref().is_some_and(|t| t.is_builtin("error")) {
                "ErrorFromProto"
            } else {
                "AppErrorFromProto"
            };
            values.push(format!("{call}.{from}({getter})"));
        } else {
            let conv = r.conv.as_ref().expect("plain results have a conversion");
            values.push(conv.decode(&getter, &call));
        }
    }

    // Failures: the error result's answer, and for hooks the other results.
    let failure = |e: Option<BridgeError>| match e {
        Some(e) if sig.has_error() => Some(Failure { id: e.id, status: e.status }),
        _ => None,
    };
    let (unavailable, not_implemented, fallback) = match &m.hook {
        None => (failure(Some(BridgeError::new(&m.go_name, FallbackCase::Unavailable))), None, None),
        Some(h) => (
            failure(h.unavailable.error.clone()),
            failure(h.not_implemented.error.clone()),
            fallback(&h.not_implemented, &h.unavailable, sig, names),
        ),
    };
    let returns = (!values.is_empty()).then(|| {
        let helper = format!("{}{}", if hooks { "hookResult" } else { "result" }, values.len());
        let mut fallback = fallback;
        if let Some(f) = &mut fallback {
            // A one-line fallback goes inline when the line stays short
            // enough to read it at a glance; else it is named.
            let same = f.same.as_ref().map(|s| s.join(", ")).unwrap_or_default();
            let flag = f.flag.as_ref().map(|f| format!("{f} ")).unwrap_or_default();
            let literal = format!("func({flag}bool) {} {{ return {same} }}", f.results);
            let line = format!("    return {helper}({call}, {err}, {}, {literal})", values.join(", "));
            if f.same.is_none() || line.len() > INLINE_FALLBACK_WIDTH {
                f.name = Some(names.fresh("fallback"));
            }
        }
        Results { helper, values, fallback }
    });
    let uses_response = returns.is_some() || !outputs.is_empty();
    CallClient {
        sig: signature,
        call,
        resp,
        err,
        unavailable,
        not_implemented,
        gated,
        request,
        outputs,
        returns,
        uses_response,
        notify: gated && !uses_response,
    }
}

/// The client of an HTTP handler hook: the runtime's `relayHook`.
fn http_handler_client(m: &Method, sig: &Sig, signature: Signature, names: &mut Names) -> HttpHandlerClient {
    let call = names.fresh("call");
    let head = names.fresh("head");
    let set_frame = names.fresh("setFrame");
    let head_fields = sig
        .params()
        .filter(|(p, _)| matches!(kind(p.go), Kind::Plain))
        .map(|(p, name)| {
            let conv = p.conv.as_ref().expect("plain parameters have a conversion");
            FieldInit { name: go_camel_case(&p.field.name), value: conv.encode(name, &call) }
        })
        .collect();
    let (w, _) = sig.named(&Kind::ResponseWriter).unwrap_or_default();
    let (r, request_field) = sig.named(&Kind::Request).unwrap_or_default();
    let (_, response_field) = sig.named(&Kind::ResponseWriter).unwrap_or_default();
    let status = |f: Option<&Fallback>| f.and_then(|f| f.http_status).unwrap_or(0);
    HttpHandlerClient {
        sig: signature,
        call,
        head,
        set_frame,
        head_fields,
        request_field,
        response_field,
        w,
        r,
        status_not_implemented: status(m.hook.as_ref().map(|h| &h.not_implemented)),
        status_unavailable: status(m.hook.as_ref().map(|h| &h.unavailable)),
    }
}

/// The fallback results of a hook, when any differs from the zero value
/// (the error result is set by the runtime from the failures).
fn fallback(not_implemented: &Fallback, unavailable: &Fallback, sig: &Sig, names: &mut Names) -> Option<FallbackView> {
    let answer = |f: &Fallback| -> Vec<String> {
        sig.results
            .iter()
            .enumerate()
            .map(|(i, r)| match f.echo_param {
                Some(p) if i == 0 => sig.names[p].clone(),
                _ if f.true_result == Some(i) => "true".to_string(),
                _ => zero(r.go.ty.as_ref()),
            })
            .collect()
    };
    let (ni, un) = (answer(not_implemented), answer(unavailable));
    let zeros: Vec<String> = sig.results.iter().map(|r| zero(r.go.ty.as_ref())).collect();
    if ni == zeros && un == zeros {
        return None;
    }
    let types: Vec<String> =
        sig.results.iter().map(|r| r.go.ty.as_ref().map(ToString::to_string).unwrap_or_default()).collect();
    let results = if types.len() == 1 { types[0].clone() } else { format!("({})", types.join(", ")) };
    let mut view = FallbackView { name: None, flag: None, results, same: None, not_implemented: ni, unavailable: un };
    if view.not_implemented == view.unavailable {
        view.same = Some(view.not_implemented.clone());
    } else {
        let flag = names.fresh("notImplemented");
        // A bool answering true exactly when the hook is not implemented.
        if view.not_implemented == ["true"] && view.unavailable == ["false"] {
            view.same = Some(vec![flag.clone()]);
        }
        view.flag = Some(flag);
    }
    Some(view)
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
