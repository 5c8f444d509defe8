//! Views of the four adapters of a service that mirrors a Go interface:
//! the gRPC server that calls a Go implementation, and the Go
//! implementation that calls the gRPC service. The client of a hooks service
//! gates calls on the plugin's `Implemented` answer and falls back as the
//! model's resolved hook fallbacks say.
//!
//! Each method gets the statements of its body prepared here (decode the
//! arguments, call, encode the results), one string per line; the templates
//! lay them out inside the function skeleton of the method's shape.

use heck::ToSnakeCase;
use serde::Serialize;

use super::conv::{Conv, PB, converter_name, field_conv};
use super::imports::{CONTEXT, GRPC, HTTP, ImportBlock, Imports};
use super::names::go_camel_case;
use crate::config::GoHome;
use crate::diag::Diagnostic;
use crate::model::{
    BridgeError, Fallback, FallbackCase, Field, GoType, GoValue, Method, Model, Role, Service, Streaming,
};

/// The shape of a method, which picks its function skeleton.
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

#[derive(Serialize, Default)]
pub struct MethodView {
    pub name: String,
    pub go_name: String,
    /// For hook ids and error ids: `message_will_be_posted`.
    pub snake: String,
    pub shape: Option<Shape>,
    pub request: String,
    pub response: String,
    /// Client signature parts: `a0 string, a1 *model.User`, ` (r0 *model.User, r1 *model.AppError)`
    /// (empty when there are no results).
    pub params: String,
    pub results: String,
    /// Server side.
    pub server_decode: Vec<String>,
    pub server_call: String,
    pub server_encode: Vec<String>,
    /// Client side.
    pub client_encode: Vec<String>,
    pub client_decode: Vec<String>,
    /// `return t0, t1` or `return`.
    pub client_return: String,
    /// Whether the client reads the response (else it is discarded).
    pub uses_response: bool,
    /// Hooks: the client asks Implemented before calling.
    pub gated: bool,
    /// Hooks: status UNIMPLEMENTED means the plugin does not implement it.
    pub hook: bool,
    /// What the client does when the call fails, and (hooks) when the
    /// plugin does not implement the hook.
    pub client_unavailable: Vec<String>,
    pub client_not_implemented: Vec<String>,
    /// Streaming shapes: the fields that carry chunks and frames, and the
    /// Go parameters they stand for.
    pub chunk_field: String,
    pub output_field: String,
    pub reader_arg: String,
    pub writer_arg: String,
    pub context_field: String,
    pub context_arg: String,
    /// `pc := c.PluginContextToProto(a0)`.
    pub context_encode: String,
    pub http_request_field: String,
    pub http_response_field: String,
    /// HTTP shapes: composite literals wrapping a frame `f` into a stream
    /// message (`&pluginpb.PluginHTTPRequest{Request: f}`), the first one
    /// also carrying the plugin context `pc`.
    pub request_frame: String,
    pub first_request_frame: String,
    pub response_frame: String,
    pub http_status_not_implemented: u32,
    pub http_status_unavailable: u32,
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
    let mut methods = Vec::new();
    let mut problems = Vec::new();
    for m in &s.methods {
        match method(model, m, hooks, &mut server, &mut client) {
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

fn method(
    model: &Model,
    m: &Method,
    hooks: bool,
    server: &mut Imports,
    client: &mut Imports,
) -> Result<MethodView, Vec<Diagnostic>> {
    let req = model.message(&m.request).expect("validated");
    let resp = model.message(&m.response).expect("validated");
    let mut problems = Vec::new();
    let lookup = |v| value(v, req, resp);
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
    let snake = m.go_name.to_snake_case();
    let mut view = MethodView {
        name: m.name.clone(),
        go_name: m.go_name.clone(),
        snake: snake.clone(),
        shape: Some(shape),
        request: format!("{PB}.{}", go_camel_case(converter_name(&m.request))),
        response: format!("{PB}.{}", go_camel_case(converter_name(&m.response))),
        gated: m.hook.as_ref().is_some_and(|h| h.gated),
        hook: hooks,
        http_status_not_implemented: m.hook.as_ref().and_then(|h| h.not_implemented.http_status).unwrap_or(0),
        http_status_unavailable: m.hook.as_ref().and_then(|h| h.unavailable.http_status).unwrap_or(0),
        ..Default::default()
    };
    let arg = |i: usize| format!("a{i}");
    let res = |i: usize| format!("r{i}");

    // Client signature.
    view.params = params
        .iter()
        .enumerate()
        .map(|(i, p)| match p.go.go_type.strip_prefix("...") {
            Some(elem) => format!("{} ...{elem}", arg(i)),
            None => format!("{} {}", arg(i), p.go.go_type),
        })
        .collect::<Vec<_>>()
        .join(", ");
    view.results = match results.len() {
        0 => String::new(),
        _ => format!(
            " ({})",
            results
                .iter()
                .enumerate()
                .map(|(i, r)| format!("{} {}", res(i), r.go.go_type))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };

    // Arguments: server decodes them from the request, client encodes them.
    let mut call_args = Vec::new();
    for (i, p) in params.iter().enumerate() {
        let a = arg(i);
        let pb = go_camel_case(&p.field.name);
        let from_req = format!("req.{pb}");
        match kind(p.go) {
            Kind::Reader => {
                view.chunk_field = pb.clone();
                view.reader_arg = a.clone();
                view.server_decode.push(format!(
                    "{a} := recvChunks(req.{pb}, stream.Recv, func(m *{}) []byte {{ return m.{pb} }})",
                    view.request
                ));
                call_args.push(a);
            }
            Kind::Writer => {
                view.output_field = pb.clone();
                view.writer_arg = a.clone();
                view.server_decode.push(format!(
                    "{a} := newChunkWriter(func(b []byte) error {{ return stream.Send(&{}{{{pb}: b}}) }})",
                    view.response
                ));
                call_args.push(a);
            }
            Kind::ResponseWriter => {
                view.http_response_field = pb.clone();
                view.writer_arg = a;
                call_args.push("w".into());
            }
            Kind::Request => {
                view.http_request_field = pb.clone();
                view.reader_arg = a;
                server.add(HTTP);
                call_args.push("r".into());
            }
            Kind::Output => {
                // An output parameter the callee fills in (LoadPluginConfiguration's dest).
                view.server_decode.push(format!("var {a} map[string]any"));
                view.server_encode.push(format!("resp.{pb} = c.mapToStruct({a})"));
                view.client_decode.push(format!("c.structInto(resp.{pb}, {a})"));
                call_args.push(format!("&{a}"));
            }
            Kind::Variadic(elem) => {
                view.server_decode.push(format!("{a} := convSliceTo[[]{elem}]({from_req}, valueToAny)"));
                view.client_encode.push(format!("req.{pb} = convSlice({a}, c.anyToValue)"));
                call_args.push(format!("{a}..."));
            }
            Kind::Response | Kind::Plain => {
                let conv = p.conv.as_ref().expect("plain parameters have a conversion");
                if p.go.ty.as_ref().is_some_and(|t| t.is_pointer_to(PLUGIN, "Context")) {
                    view.context_field = pb.clone();
                    view.context_arg = a.clone();
                    view.context_encode = format!("pc := {}", conv.encode(&a));
                }
                view.server_decode.push(format!("{a} := {}", conv.decode(&from_req)));
                view.client_encode.push(format!("req.{pb} = {}", conv.encode(&a)));
                call_args.push(a);
            }
        }
    }

    // Results: server encodes them into the response, client decodes them.
    let mut temps = Vec::new();
    for (i, r) in results.iter().enumerate() {
        let pb = go_camel_case(&r.field.name);
        let (r_name, t) = (res(i), format!("t{i}"));
        if r.field.number == 1 {
            let (to, from) = if r.go.ty.as_ref().is_some_and(|t| t.is_builtin("error")) {
                ("ErrorToProto", "ErrorFromProto")
            } else {
                ("AppErrorToProto", "AppErrorFromProto")
            };
            view.server_encode.push(format!("resp.{pb} = c.{to}({r_name})"));
            view.client_decode.push(format!("{t} := c.{from}(resp.{pb})"));
        } else if kind(r.go) == Kind::Response {
            view.http_response_field = pb.clone();
            continue;
        } else {
            let conv = r.conv.as_ref().expect("plain results have a conversion");
            view.server_encode.push(format!("resp.{pb} = {}", conv.encode(&r_name)));
            view.client_decode.push(format!("{t} := {}", conv.decode(&format!("resp.{pb}"))));
        }
        temps.push(t);
    }
    let called = format!("s.impl.{}({})", m.go_name, call_args.join(", "));
    view.server_call = if results.is_empty() || shape == Shape::HttpCall {
        called
    } else {
        let names: Vec<String> = (0..results.len()).map(res).collect();
        format!("{} := {called}", names.join(", "))
    };
    view.uses_response = !view.client_decode.is_empty();
    if matches!(shape, Shape::HttpCall | Shape::HttpHandler) {
        let (rq, rs) = (&view.http_request_field, &view.http_response_field);
        view.request_frame = format!("&{}{{{rq}: f}}", view.request);
        view.first_request_frame = if view.context_field.is_empty() {
            view.request_frame.clone()
        } else {
            format!("&{}{{{}: pc, {rq}: f}}", view.request, view.context_field)
        };
        view.response_frame = format!("&{}{{{rs}: f}}", view.response);
        if shape == Shape::HttpHandler {
            // The plugin context travels in the first frame only.
            view.client_encode.clear();
        }
    }
    view.client_return = if temps.is_empty() { "return".into() } else { format!("return {}", temps.join(", ")) };

    // Failures.
    let error_result = results.last().filter(|r| r.field.number == 1).map(|_| res(results.len() - 1));
    // A method without hook options (an API method) returns the bridge's
    // error on any failure.
    let fallback = |f: Option<&Fallback>, case: FallbackCase, err: &str| -> Vec<String> {
        let mut lines = Vec::new();
        let error = match f {
            Some(f) => {
                if let Some(i) = f.echo_param {
                    lines.push(format!("{} = {}", res(0), arg(i)));
                }
                if let Some(i) = f.true_result {
                    lines.push(format!("{} = true", res(i)));
                }
                f.error.clone()
            }
            None => Some(BridgeError::new(&m.go_name, case)),
        };
        if let (Some(e), Some(r)) = (error, &error_result) {
            lines.push(format!("{r} = bridgeError(\"{}\", {}, {err})", e.id, e.status));
        }
        lines
    };
    let hook = m.hook.as_ref();
    view.client_unavailable = fallback(hook.map(|h| &h.unavailable), FallbackCase::Unavailable, "err");
    view.client_not_implemented = fallback(hook.map(|h| &h.not_implemented), FallbackCase::NotImplemented, "nil");
    Ok(view)
}

fn value<'a>(v: &'a GoValue, req: &'a crate::model::Message, resp: &'a crate::model::Message) -> Value<'a> {
    let msg = if v.role == Role::Param { req } else { resp };
    let field = msg.fields.iter().find(|f| f.name == v.field).expect("signature fields exist");
    Value { go: v, field, conv: None }
}

/// The import path of the package of `plugin.Context`.
const PLUGIN: &str = "github.com/mattermost/mattermost/server/public/plugin";

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
