//! The views of `hooks.py` (`HookName`, the `Plugin` base class) and
//! `_servicer.py` (the hooks service over a `Plugin`), from the service with
//! the `hooks` option.
//!
//! A hook's Python return type follows its Go results: the value result
//! (`None` allowed where Go returns a pointer), `Reject` where Go returns a
//! rejection reason (a `string` result), and errors are raised, not
//! returned.

use serde::Serialize;

use super::client::class_name;
use super::code::{docstring, fit};
use super::names::{Classes, ImportLine, Imports, pb_module, snake};
use super::values::{Kind, PyValue, value};
use crate::diag::Diagnostic;
use crate::model::{GoValue, Method, Model, Role, Service};

#[derive(Serialize)]
pub struct HooksView {
    pub stdlib: Vec<ImportLine>,
    pub local: Vec<ImportLine>,
    pub hooks: Vec<HookView>,
}

#[derive(Serialize)]
pub struct ServicerView {
    pub stdlib: Vec<ImportLine>,
    pub local: Vec<ImportLine>,
    pub pb: String,
    pub grpc_module: String,
    pub service: String,
    pub hooks: Vec<ServicerHook>,
}

#[derive(Serialize)]
pub struct HookView {
    /// The Go name: the `HookName` member and the RPC.
    pub name: String,
    pub method: String,
    pub def: String,
    /// `message_will_be_posted(c: PluginContext, post: Post) -> Post | Reject | None`,
    /// for the docs.
    #[serde(skip)]
    pub signature: String,
    pub docstring: String,
    /// The base class's body: the neutral answer.
    pub neutral: String,
}

#[derive(Serialize)]
pub struct ServicerHook {
    pub name: String,
    /// `unary`, `http` or `upload`.
    pub shape: &'static str,
    pub request: String,
    pub response: String,
    /// The dispatcher call at the method body's indent (or one deeper when
    /// `in_band`).
    pub call: String,
    /// Errors travel in the response's error field.
    pub in_band: bool,
    /// Gates: `return <response with the rejection reason>`, at the indent
    /// of an `if` body.
    pub reject: String,
    /// `return <response>` after the call.
    pub respond: String,
    /// The plugin's method.
    pub method: String,
    /// Streaming shapes: the keyword arguments of the runtime helper.
    pub stream_args: Vec<String>,
}

pub fn hooks(
    model: &Model,
    service: &Service,
    classes: &Classes,
) -> Result<(HooksView, ServicerView), Vec<Diagnostic>> {
    let mut base = Imports::default();
    let mut serv = Imports::default();
    for name in ["Dispatcher", "HandlerFailed", "file_will_be_uploaded", "serve_http"] {
        serv.class("_dispatch", name);
    }
    for name in ["HookName", "Plugin"] {
        serv.class("hooks", name);
    }
    let pb = serv.module(&pb_module(&service.file));
    let grpc_module = serv.module(&format!("{}_grpc", pb_module(&service.file)));
    for name in ["TYPE_CHECKING", "TypeAlias", "TypeVar"] {
        base.typing(name);
    }
    base.collections("Awaitable");
    let mut hooks = Vec::new();
    let mut servicer = Vec::new();
    let mut problems = Vec::new();
    for m in service.methods.iter().filter(|m| m.hook.as_ref().is_some_and(|h| h.gated)) {
        match hook(model, m, classes, &mut base, &mut serv, &pb) {
            Ok((h, s)) => {
                hooks.push(h);
                servicer.push(s);
            }
            Err(mut p) => problems.append(&mut p),
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    Ok((
        HooksView { stdlib: base.stdlib(), local: base.local("."), hooks },
        ServicerView {
            stdlib: serv.stdlib(),
            local: serv.local("."),
            pb,
            grpc_module,
            service: service.name.clone(),
            hooks: servicer,
        },
    ))
}

fn hook(
    model: &Model,
    m: &Method,
    classes: &Classes,
    base: &mut Imports,
    serv: &mut Imports,
    pb: &str,
) -> Result<(HookView, ServicerHook), Vec<Diagnostic>> {
    let request_msg = model.message(&m.request).expect("validated");
    let response_msg = model.message(&m.response).expect("validated");
    let field_of = |v: &GoValue| {
        let msg = if v.role == Role::Param { request_msg } else { response_msg };
        msg.fields.iter().find(|f| f.name == v.field).expect("signature fields exist")
    };
    let problem = |v: &GoValue, why: String| {
        model.diagnostic(
            &field_of(v).location,
            format!("field `{}` of hook `{}`", v.field, m.name),
            format!("the Python target cannot carry this field: {why}"),
        )
    };
    let shape = if m.go.params.iter().any(|p| p.go_type == "http.ResponseWriter") {
        "http"
    } else if m.go.params.iter().any(|p| p.go_type == "io.Reader") {
        "upload"
    } else {
        "unary"
    };
    // Parameters, typed in both modules (the servicer only passes them on).
    let mut params: Vec<(String, PyValue, &GoValue)> = Vec::new();
    let mut problems = Vec::new();
    for v in m.go.params.iter() {
        if v.go_type == "io.Writer" {
            continue;
        }
        let mut py = match value(field_of(v), &v.go_type, model, classes, base) {
            Ok(py) => py,
            Err(why) => {
                problems.push(problem(v, why));
                continue;
            }
        };
        if py.kind == Kind::Reader {
            base.class("_dispatch", "UploadStream");
            py.param_type = "UploadStream".into();
        }
        params.push((snake(&v.name), py, v));
    }
    let rejection = m.go.results.iter().find(|r| r.role == Role::Result && r.go_type == "string");
    let results: Vec<&GoValue> =
        m.go.results.iter().filter(|r| r.role == Role::Result && r.go_type != "string").collect();
    let in_band = m.go.results.iter().any(|r| r.role == Role::Error);
    let mut value_result = None;
    for v in &results {
        match value(field_of(v), &v.go_type, model, classes, base) {
            Ok(py) => value_result = Some((*v, py)),
            Err(why) => problems.push(problem(v, why)),
        }
    }
    if results.len() > 1 {
        problems.push(model.diagnostic(
            &m.location,
            format!("hook `{}`", m.name),
            "the Python target supports hooks with one result besides a rejection reason and an error".into(),
        ));
    }
    if !problems.is_empty() {
        return Err(problems);
    }

    // The return type.
    let mut parts = Vec::new();
    let mut allows_none = false;
    if let Some((v, py)) = &value_result {
        parts.push(py.result_type.clone());
        allows_none = v.go_type.starts_with('*') && !matches!(py.kind, Kind::Plain);
    }
    if shape == "upload" {
        base.class("_dispatch", "FileReplacement");
        parts.push("FileReplacement".into());
    }
    if rejection.is_some() {
        base.class("_dispatch", "Reject");
        serv.class("_dispatch", "Reject");
        parts.push("Reject".into());
        allows_none = true;
    }
    if parts.is_empty() || allows_none {
        parts.push("None".into());
    }
    let returns = parts.join(" | ");
    let name = snake(&m.go_name);
    let mut sig = vec!["self".to_string()];
    sig.extend(params.iter().map(|(n, py, _)| format!("{n}: {}", py.param_type)));
    let def = fit(4, &format!("def {name}("), &sig, &format!(") -> MaybeAwaitable[{returns}]:"));
    let signature = format!("{name}({}) -> {returns}", sig[1..].join(", "));
    let neutral = if allows_none || returns == "None" {
        "return None".to_string()
    } else {
        let hook = m.hook.as_ref().expect("hooks have fallbacks");
        let (_, py) = value_result.as_ref().expect("a value result");
        if let Some(i) = hook.not_implemented.echo_param {
            format!("return list({})", snake(&m.go.params[i].name))
        } else if hook.not_implemented.true_result.is_some() {
            "return True".into()
        } else if py.kind == Kind::Message {
            format!("return {}()", py.result_type)
        } else if py.result_type.starts_with("list[") {
            "return []".into()
        } else {
            format!("return {}", py.zero)
        }
    };
    let mut doc = m.comments.leading.trim().to_string();
    if !m.min_server_version.is_empty() {
        doc.push_str(&format!("\n\nMinimum server version: {}.", m.min_server_version));
    }

    // The servicer's side.
    let handler = format!("self._plugin.{name}");
    let request = class_name(&m.request, model);
    let response = class_name(&m.response, model);
    let mut args = vec!["context".to_string(), format!("\"{}\"", m.name), handler];
    let stream_args = if shape == "unary" {
        args.extend(params.iter().map(|(_, py, v)| {
            py.import_codec(serv, false);
            py.decode("request", &v.field, false)
        }));
        args.push(format!("in_band_errors={}", if in_band { "True" } else { "False" }));
        Vec::new()
    } else {
        let field = |pred: &dyn Fn(&GoValue) -> bool| {
            m.go.params.iter().find(|p| pred(p)).map(|p| p.field.clone()).unwrap_or_default()
        };
        let context_field = field(&|p| p.go_type == "*plugin.Context");
        if shape == "http" {
            let request_field = field(&|p| p.go_type == "*http.Request");
            let response_field = field(&|p| p.go_type == "http.ResponseWriter");
            vec![
                format!("context_field=\"{context_field}\""),
                format!("request_field=\"{request_field}\""),
                format!("response_type={pb}.{response}"),
                format!("response_field=\"{response_field}\""),
            ]
        } else {
            let info_field = field(&|p| p.go_type == "*model.FileInfo");
            let file_field = field(&|p| p.go_type == "io.Reader");
            let output_field = field(&|p| p.go_type == "io.Writer");
            let reject_field = rejection.map(|r| r.field.clone()).unwrap_or_default();
            let replacement_field = value_result.as_ref().map(|(v, _)| v.field.clone()).unwrap_or_default();
            vec![
                format!("context_field=\"{context_field}\""),
                format!("info_field=\"{info_field}\""),
                format!("file_field=\"{file_field}\""),
                format!("response_type={pb}.{response}"),
                format!("output_field=\"{output_field}\""),
                format!("info_result_field=\"{replacement_field}\""),
                format!("reject_field=\"{reject_field}\""),
            ]
        }
    };
    let indent = if in_band { 12 } else { 8 };
    let has_result = value_result.is_some() || rejection.is_some();
    let head = if has_result { "result = await self._dispatcher.call(" } else { "await self._dispatcher.call(" };
    let call = fit(indent, head, &args, ")");
    let respond_fields: Vec<String> = value_result
        .iter()
        .map(|(v, py)| {
            py.import_codec(serv, true);
            format!("{}={}", v.field, py.encode("result"))
        })
        .collect();
    let respond = fit(8, &format!("return {pb}.{response}("), &respond_fields, ")");
    let reject = rejection
        .map(|r| fit(12, &format!("return {pb}.{response}("), &[format!("{}=result.reason", r.field)], ")"))
        .unwrap_or_default();
    Ok((
        HookView { name: m.name.clone(), method: name.clone(), signature, def, docstring: docstring(8, &doc), neutral },
        ServicerHook {
            name: m.name.clone(),
            shape,
            request,
            response,
            call,
            in_band,
            reject,
            respond,
            method: name.clone(),
            stream_args,
        },
    ))
}
