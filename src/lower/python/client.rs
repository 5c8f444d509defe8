//! The view of `client.py`: `PluginAPI` and `AsyncPluginAPI`, one method per
//! RPC of the API service, and a named tuple per method with several
//! results.

use serde::Serialize;

use super::code::{docstring, fit};
use super::names::{Classes, ImportLine, Imports, pb_module, snake};
use super::values::{Kind, PyValue, value};
use crate::diag::Diagnostic;
use crate::model::{GoValue, Method, Model, Role, Service, Streaming};

#[derive(Serialize)]
pub struct ClientView {
    pub stdlib: Vec<ImportLine>,
    pub local: Vec<ImportLine>,
    pub service: String,
    pub grpc_module: String,
    pub results: Vec<ResultTuple>,
    pub methods: Vec<ApiMethod>,
}

/// A named tuple of the results of a method with several.
#[derive(Serialize)]
pub struct ResultTuple {
    pub name: String,
    pub docstring: String,
    /// `image: bytes`
    pub fields: Vec<String>,
}

#[derive(Serialize)]
pub struct ApiMethod {
    /// The RPC (and Go) name, e.g. `GetUser`.
    pub rpc: String,
    /// `get_user(user_id: str, *, timeout: float | None = None) -> User`,
    /// for the docs.
    #[serde(skip)]
    pub signature: String,
    /// The `def` line(s) of the sync and the async method.
    pub def_sync: String,
    pub def_async: String,
    pub docstring: String,
    /// `req = plugin_api_pb2.GetUserRequest(user_id=user_id)`, at body indent.
    pub request: String,
    /// The call, at body indent, sync and async (`resp = ...` or a bare call).
    pub call_sync: String,
    pub call_async: String,
    /// `return ...` at body indent; empty when the method returns nothing.
    pub ret: String,
}

/// Go names of parameters that are options or paging: keyword-only, with
/// the Go zero value as default.
fn is_option(py_name: &str, go_type: &str) -> bool {
    let base = go_type.trim_start_matches(['*', '[', ']']).rsplit('.').next().unwrap_or("");
    matches!(py_name, "page" | "per_page" | "limit" | "offset")
        || py_name.ends_with("options")
        || py_name.ends_with("opts")
        || base.ends_with("Options")
        || base.ends_with("Opts")
}

/// Names the generated methods use for themselves.
const RESERVED: &[&str] = &["self", "timeout", "req", "resp"];

fn param_name(go: &GoValue) -> String {
    let name = snake(&go.name);
    if RESERVED.contains(&name.as_str()) { format!("{name}_") } else { name }
}

pub fn client(model: &Model, service: &Service, classes: &Classes) -> Result<ClientView, Vec<Diagnostic>> {
    let mut imports = Imports::default();
    for name in ["DEFAULT_TIMEOUT", "AsyncCalls", "Calls", "aconnect", "connect"] {
        imports.class("_transport", name);
    }
    let pb = imports.module(&pb_module(&service.file));
    let grpc_module = imports.module(&format!("{}_grpc", pb_module(&service.file)));
    let mut results = Vec::new();
    let mut methods = Vec::new();
    let mut problems = Vec::new();
    for m in &service.methods {
        match method(model, m, classes, &mut imports, &pb) {
            Ok((method, tuple)) => {
                methods.push(method);
                results.extend(tuple);
            }
            Err(mut p) => problems.append(&mut p),
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    Ok(ClientView {
        stdlib: imports.stdlib(),
        local: imports.local("."),
        service: service.name.clone(),
        grpc_module,
        results,
        methods,
    })
}

struct Param {
    name: String,
    value: PyValue,
    field: String,
    option: bool,
}

fn method(
    model: &Model,
    m: &Method,
    classes: &Classes,
    imports: &mut Imports,
    pb: &str,
) -> Result<(ApiMethod, Option<ResultTuple>), Vec<Diagnostic>> {
    let request_msg = model.message(&m.request).expect("validated");
    let response_msg = model.message(&m.response).expect("validated");
    let problem = |field: &str, why: String| {
        let f = request_msg.fields.iter().chain(&response_msg.fields).find(|f| f.name == field);
        let at = f.map(|f| &f.location).unwrap_or(&m.location);
        model.diagnostic(
            at,
            format!("field `{field}` of method `{}`", m.name),
            format!("the Python target cannot carry this field: {why}"),
        )
    };
    let field_of = |v: &GoValue| {
        let msg = if v.role == Role::Param { request_msg } else { response_msg };
        msg.fields.iter().find(|f| f.name == v.field).expect("signature fields exist")
    };
    let mut problems = Vec::new();
    let mut params = Vec::new();
    let mut outputs = Vec::new();
    for v in &m.go.params {
        match value(field_of(v), &v.go_type, model, classes, imports) {
            Ok(value) if v.role == Role::Param => {
                let name = param_name(v);
                let option = is_option(&name, &v.go_type);
                params.push(Param { name, value, field: v.field.clone(), option });
            }
            Ok(value) => outputs.push((v, value)),
            Err(why) => problems.push(problem(&v.field, why)),
        }
    }
    let has_error = m.go.results.iter().any(|r| r.role == Role::Error);
    let mut results: Vec<(&GoValue, PyValue)> = Vec::new();
    for v in m.go.results.iter().filter(|r| r.role == Role::Result) {
        match value(field_of(v), &v.go_type, model, classes, imports) {
            Ok(value) => results.push((v, value)),
            Err(why) => problems.push(problem(&v.field, why)),
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    // An output parameter of type `any` (LoadPluginConfiguration's dest)
    // comes back as a result.
    results.extend(outputs.into_iter().filter(|(v, _)| v.go_type == "any"));

    let shape = if m.go.params.iter().any(|p| p.go_type == "*http.Request") {
        Shape::Http
    } else if params.iter().any(|p| p.value.kind == Kind::Reader) {
        Shape::Upload
    } else if m.streaming == Streaming::Unary {
        Shape::Unary
    } else {
        return Err(vec![model.diagnostic(
            &m.location,
            format!("method `{}`", m.name),
            "the Python target has no client for a streaming RPC with these parameter types".into(),
        )]);
    };

    // Signature.
    let mut sig = vec!["self".to_string()];
    let mut keyword_only = false;
    for p in &params {
        if p.value.kind == Kind::Variadic {
            sig.push(format!("*{}: {}", p.name, p.value.param_type));
            keyword_only = true;
            continue;
        }
        if p.option && !keyword_only {
            sig.push("*".into());
            keyword_only = true;
        }
        if p.option {
            let ty = match p.value.kind {
                Kind::Message => format!("{} | None", p.value.param_type),
                _ => p.value.param_type.clone(),
            };
            sig.push(format!("{}: {ty} = {}", p.name, p.value.zero));
        } else {
            sig.push(format!("{}: {}", p.name, p.value.param_type));
        }
    }
    if !keyword_only {
        sig.push("*".into());
    }
    sig.push("timeout: float | None = None".into());
    let nullable = !has_error;
    let result_type = |v: &PyValue| {
        if v.kind == Kind::Message && nullable { format!("{} | None", v.result_type) } else { v.result_type.clone() }
    };
    let tuple_name = format!("{}Result", m.name);
    let returns = match (shape, results.as_slice()) {
        (Shape::Http, _) => {
            imports.class("_http", "HTTPResponse");
            "HTTPResponse".to_string()
        }
        (_, []) => "None".to_string(),
        (_, [(_, v)]) => result_type(v),
        _ => tuple_name.clone(),
    };
    let name = snake(&m.go_name);
    let def_sync = fit(4, &format!("def {name}("), &sig, &format!(") -> {returns}:"));
    let signature = format!("{name}({}) -> {returns}", sig[1..].join(", "));
    let def_async = fit(4, &format!("async def {name}("), &sig, &format!(") -> {returns}:"));

    // Body.
    let mut fields = Vec::new();
    for p in &params {
        if matches!(p.value.kind, Kind::Reader | Kind::Stream) {
            continue;
        }
        p.value.import_codec(imports, true);
        fields.push(format!("{}={}", p.field, p.value.encode(&p.name)));
    }
    let request_class = format!("{pb}.{}", class_name(&m.request, model));
    let request =
        if shape == Shape::Http { String::new() } else { fit(8, &format!("req = {request_class}("), &fields, ")") };
    for p in params.iter().filter(|p| p.value.kind == Kind::Reader) {
        p.value.import_codec(imports, true);
    }
    let stub = format!("self._stub.{}", m.name);
    let rpc = format!("\"{}\"", m.name);
    let call_args = match shape {
        Shape::Unary => vec![stub, "req".into(), "timeout".into(), rpc],
        Shape::Upload => {
            let reader = params.iter().find(|p| p.value.kind == Kind::Reader).expect("upload shape");
            vec![stub, "req".into(), format!("\"{}\"", reader.field), reader.name.clone(), "timeout".into(), rpc]
        }
        Shape::Http => {
            let frame = m.go.params.iter().find(|p| p.go_type == "*http.Request").expect("http shape");
            let http_param = params.iter().find(|p| p.field == frame.field).expect("http param");
            let response = m.go.results.iter().find(|r| r.go_type == "*http.Response").map(|r| r.field.clone());
            vec![
                stub,
                http_param.name.clone(),
                request_class.clone(),
                format!("\"{}\"", frame.field),
                format!("\"{}\"", response.unwrap_or_default()),
                "timeout".into(),
                rpc,
            ]
        }
    };
    let method_name = match shape {
        Shape::Unary => "unary",
        Shape::Upload => "stream_unary",
        Shape::Http => "http",
    };
    let assign = match shape {
        Shape::Http => "return ",
        _ if results.is_empty() => "",
        _ => "resp = ",
    };
    let call_sync = fit(8, &format!("{assign}self._calls.{method_name}("), &call_args, ")");
    let call_async = fit(8, &format!("{assign}await self._calls.{method_name}("), &call_args, ")");
    for (_, v) in &results {
        v.import_codec(imports, false);
    }
    let decoded: Vec<String> = results.iter().map(|(v, py)| py.decode("resp", &v.field, nullable)).collect();
    let (ret, tuple) = match (shape, decoded.as_slice()) {
        (Shape::Http, _) | (_, []) => (String::new(), None),
        (_, [one]) => (fit(8, "return ", std::slice::from_ref(one), ""), None),
        _ => {
            imports.typing("NamedTuple");
            let tuple = ResultTuple {
                name: tuple_name.clone(),
                docstring: docstring(4, &format!("The results of `{}`.", name)),
                fields: results.iter().map(|(v, py)| format!("{}: {}", snake(&v.name), result_type(py))).collect(),
            };
            (fit(8, &format!("return {tuple_name}("), &decoded, ")"), Some(tuple))
        }
    };
    let mut doc = m.comments.leading.trim().to_string();
    if !m.min_server_version.is_empty() {
        doc.push_str(&format!("\n\nMinimum server version: {}.", m.min_server_version));
    }
    if !m.deprecated.is_empty() {
        doc.push_str(&format!("\n\nDeprecated: {}", m.deprecated));
    }
    Ok((
        ApiMethod {
            rpc: m.name.clone(),
            signature,
            def_sync,
            def_async,
            docstring: docstring(8, &doc),
            request,
            call_sync,
            call_async,
            ret,
        },
        tuple,
    ))
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Shape {
    Unary,
    Upload,
    Http,
}

/// The class name of a protocol message within its module.
pub fn class_name(full_name: &str, model: &Model) -> String {
    let msg = model.message(full_name).expect("validated");
    let package = model.files.iter().find(|f| f.path == msg.file).map(|f| f.package.as_str()).unwrap_or("");
    full_name.strip_prefix(package).map(|n| n.trim_start_matches('.')).unwrap_or(&msg.name).to_string()
}
