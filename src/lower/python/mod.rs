//! The Python target: the installable package `mattermost_plugin` in
//! `python/` (see `design/python.md`): the message modules written from the
//! compiled descriptors, the typed API clients, the hook base class and its
//! servicer, and the hand-written runtime of `runtime/python/`.

mod client;
mod code;
mod hooks;
mod names;
mod pb;
mod values;

use include_dir::{Dir, include_dir};
use serde::Serialize;

use super::{OutputFile, Target, file};
use crate::diag::{Failure, Result};
use crate::model::Model;

/// The hand-written runtime, shipped into the package.
static RUNTIME: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/runtime/python");

/// The import name of the package.
pub const PACKAGE: &str = "mattermost_plugin";

/// The oldest grpcio (and grpcio-health-checking) the package supports: the
/// first release whose health checking runs on protobuf 6.
pub const GRPC_FLOOR: &str = "1.72.1";

pub struct Python;

#[derive(Serialize)]
struct Empty {}

/// The distribution name of the package on an index.
pub const DISTRIBUTION: &str = "mattermost-plugin";

/// The oldest Python the package supports.
pub const PYTHON_FLOOR: &str = "3.10";

/// Where a plugin's manifest names its entry script.
pub const MANIFEST_KEY: &str = "props.python.main";

/// `pyproject.toml`: the names, the dependency floors, and whether the
/// package has its README.
#[derive(Serialize)]
struct ProjectView {
    distribution: &'static str,
    python_floor: &'static str,
    grpc_floor: &'static str,
    protobuf_floor: String,
    readme: bool,
}

/// `README.md`, the guide for plugin authors, written when the package has
/// both the client and the plugin side.
#[derive(Serialize)]
struct ReadmeView {
    distribution: &'static str,
    package: &'static str,
    python_floor: &'static str,
    manifest_key: &'static str,
    api_methods: usize,
    hooks: usize,
}

impl Target for Python {
    fn lower(&self, model: &Model) -> Result<Vec<OutputFile>> {
        // The Python half talks to the Go half: it covers the services the Go
        // target bridges that mirror the plugin interfaces.
        let bridged = covered(model);
        if bridged.is_empty() {
            return Ok(Vec::new());
        }
        runtime_needs(model, &bridged)?;
        let mut files = vec![file(&format!("python/{PACKAGE}/py.typed"), "python/py.typed.tera", Vec::new(), Empty {})];
        files.extend(pb::modules(model)?);
        let classes = names::Classes::new(model);
        let mut problems = Vec::new();
        let (mut api, mut hook_services) = (Vec::new(), Vec::new());
        for s in bridged {
            if s.hooks {
                hook_services.push(s);
            } else {
                api.push(s);
            }
        }
        for extra in [api.get(1), hook_services.get(1)].into_iter().flatten() {
            problems.push(model.diagnostic(
                &extra.location,
                format!("service `{}`", extra.full_name),
                "the Python target supports one API service (`go_interface`) and one hooks service (`go_interface` and `hooks`)".into(),
            ));
        }
        let sources = |s: &crate::model::Service| vec![s.file.clone()];
        let (mut api_methods, mut hook_count) = (None, None);
        if let Some(api) = api.first() {
            match client::client(model, api, &classes) {
                Ok(view) => {
                    api_methods = Some(view.methods.len());
                    files.push(file(
                        &format!("python/{PACKAGE}/client.py"),
                        "python/client.py.tera",
                        sources(api),
                        view,
                    ))
                }
                Err(mut p) => problems.append(&mut p),
            }
        }
        if let Some(hook_service) = hook_services.first() {
            match hooks::hooks(model, hook_service, &classes) {
                Ok((base, servicer)) => {
                    hook_count = Some(base.hooks.len());
                    files.push(file(
                        &format!("python/{PACKAGE}/hooks.py"),
                        "python/hooks.py.tera",
                        sources(hook_service),
                        base,
                    ));
                    files.push(file(
                        &format!("python/{PACKAGE}/_servicer.py"),
                        "python/servicer.py.tera",
                        sources(hook_service),
                        servicer,
                    ));
                }
                Err(mut p) => problems.append(&mut p),
            }
        }
        if !problems.is_empty() {
            return Err(Failure::Input(problems));
        }
        let readme = api_methods.zip(hook_count).map(|(api_methods, hooks)| ReadmeView {
            distribution: DISTRIBUTION,
            package: PACKAGE,
            python_floor: PYTHON_FLOOR,
            manifest_key: MANIFEST_KEY,
            api_methods,
            hooks,
        });
        files.push(file(
            "python/pyproject.toml",
            "python/pyproject.toml.tera",
            Vec::new(),
            ProjectView {
                distribution: DISTRIBUTION,
                python_floor: PYTHON_FLOOR,
                grpc_floor: GRPC_FLOOR,
                protobuf_floor: format!("{}.{}", pb::GENCODE_VERSION.0, pb::GENCODE_VERSION.1),
                readme: readme.is_some(),
            },
        ));
        if let Some(readme) = readme {
            let sources = api.iter().chain(&hook_services).map(|s| s.file.clone()).collect();
            files.push(file("python/README.md", "python/readme.md.tera", sources, readme));
        }
        files.push(file(
            &format!("python/{PACKAGE}/model.py"),
            "python/model.py.tera",
            model.files.iter().map(|f| f.path.clone()).collect(),
            model_view(model, &classes),
        ));
        let init = InitView { api: !api.is_empty(), hooks: !hook_services.is_empty() };
        files.push(file(&format!("python/{PACKAGE}/__init__.py"), "python/init.py.tera", Vec::new(), init));
        files.extend(super::runtime(&RUNTIME, "py", "python", "runtime/python", "python/runtime.py.tera", |t| t));
        Ok(files)
    }
}

/// The Go import path of the plugin interfaces.
const PLUGIN: &str = "github.com/mattermost/mattermost/server/public/plugin";

/// The services the Python target covers: those the Go target bridges that
/// mirror `plugin.API` or `plugin.Hooks`. The SDK is a Mattermost plugin's
/// side of the bridge; other bridged interfaces have no Python side.
fn covered(model: &Model) -> Vec<&crate::model::Service> {
    model
        .bridged_services()
        .into_iter()
        .filter(|s| {
            s.go_interface.as_deref().is_some_and(|i| {
                crate::build::parse_go_type(i, &model.go_imports)
                    .is_ok_and(|t| t.is_named(PLUGIN, "API") || t.is_named(PLUGIN, "Hooks"))
            })
        })
        .collect()
}

/// The messages the hand-written runtime imports, by the file it imports
/// them from; the file must be under the proto root with that path.
const RUNTIME_NEEDS: &[(&str, &str, bool)] = &[
    ("mattermost/plugin/v1/common.proto", "mattermost.plugin.v1.AppError", false),
    ("mattermost/plugin/v1/common.proto", "mattermost.plugin.v1.PluginContext", false),
    ("mattermost/plugin/v1/common.proto", "mattermost.plugin.v1.HTTPRequest", false),
    ("mattermost/plugin/v1/common.proto", "mattermost.plugin.v1.HTTPResponse", false),
    ("mattermost/plugin/v1/model_file.proto", "mattermost.plugin.v1.FileInfo", true),
];

/// Fails, naming each missing message, when the proto tree lacks what the
/// runtime imports (the last column: only with a hooks service).
fn runtime_needs(model: &Model, services: &[&crate::model::Service]) -> Result<()> {
    let hooks = services.iter().any(|s| s.hooks);
    let first = services[0];
    let missing: Vec<String> = RUNTIME_NEEDS
        .iter()
        .filter(|(_, _, for_hooks)| hooks || !for_hooks)
        .filter(|(file, name, _)| model.message(name).is_none_or(|m| m.file != *file))
        .map(|(file, name, _)| format!("`{name}` ({file})"))
        .collect();
    let problems: Vec<_> = (!missing.is_empty())
        .then(|| {
            model.diagnostic(
                &first.location,
                format!("service `{}`", first.full_name),
                format!(
                    "the Python SDK's runtime imports messages the proto root lacks: {}; add those files, or leave this service without a Python side",
                    missing.join(", ")
                ),
            )
        })
        .into_iter()
        .collect();
    if problems.is_empty() { Ok(()) } else { Err(Failure::Input(problems)) }
}

/// What `__init__.py` exports: the client with an API service, the plugin
/// side with a hooks service.
#[derive(Serialize)]
struct InitView {
    api: bool,
    hooks: bool,
}

#[derive(Serialize)]
struct ModelView {
    imports: Vec<names::ImportLine>,
    names: Vec<String>,
}

/// The Python signature of every method the target generates (the client's
/// methods and the plugin's hooks), by the method's full name
/// (`package.Service.Method`); empty when the Python target does not cover
/// the model.
pub fn signatures(model: &Model) -> std::collections::HashMap<String, String> {
    let classes = names::Classes::new(model);
    let mut out = std::collections::HashMap::new();
    for s in covered(model) {
        let key = |m: &str| format!("{}.{m}", s.full_name);
        if s.hooks {
            if let Ok((view, _)) = hooks::hooks(model, s, &classes) {
                out.extend(view.hooks.into_iter().map(|h| (key(&h.name), h.signature)));
            }
        } else if let Ok(view) = client::client(model, s, &classes) {
            out.extend(view.methods.into_iter().map(|m| (key(&m.rpc), m.signature)));
        }
    }
    out
}

/// `model.py`: every model message (with `go_type`) and enum, re-exported
/// under its own name.
fn model_view(model: &Model, classes: &names::Classes) -> ModelView {
    let mut imports = names::Imports::default();
    let mut all = Vec::new();
    let models = model.messages.iter().filter(|m| m.go_type.is_some());
    for full in models.map(|m| &m.full_name).chain(model.enums.iter().map(|e| &e.full_name)) {
        if let Some((module, qual)) = classes.get(full)
            && !qual.contains('.')
        {
            imports.class(module, qual);
            all.push(qual.to_string());
        }
    }
    all.sort();
    all.dedup();
    ModelView { imports: imports.local("."), names: all }
}
