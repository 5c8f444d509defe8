//! The Go target: the adapters between the Go interfaces and the gRPC
//! services, in package `bridge` of the module the message code lives in.
//!
//! For every service that mirrors a Go interface (`go_interface`) in a file
//! with a `go_package`, it renders a gRPC server calling a Go implementation
//! and a Go implementation calling the gRPC service; converters for every
//! model message; `go.mod`; and the hand-written runtime of `runtime/go/`
//! with its tests, copied beside them: the parts of it the model needs (see
//! [`Part`]).

mod conv;
mod convert;
mod imports;
mod names;
mod service;

use include_dir::{Dir, include_dir};
use serde::Serialize;

use super::{OutputFile, Target, file};
use crate::config::GoHome;
use crate::diag::{Failure, Result};
use crate::model::{Model, Role};
use service::{PLUGIN, Shape};

/// The hand-written runtime, shipped into the bridge package.
static RUNTIME: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/runtime/go");

/// The Go target, writing into its Go home (`[go]` in `mm-bindgen.toml`).
pub struct Go {
    pub home: GoHome,
}

#[derive(Serialize)]
struct ModuleView<'a> {
    module: &'a str,
}

#[derive(Serialize)]
struct PackageView<'a> {
    package: &'a str,
}

/// `doc.go`: the package documentation, one comment line each (with its
/// leading space), written for what this bridge holds.
#[derive(Serialize)]
struct DocView<'a> {
    package: &'a str,
    lines: Vec<String>,
}

/// What the package documentation describes of one bridged service.
struct Bridged {
    prefix: String,
    interface: String,
    service: String,
    hooks: bool,
}

/// The package documentation of a bridge: the adapters of each service,
/// the converters, the launcher and the error convention where they ship.
fn package_doc(package: &str, bridged: &[Bridged], converters: bool, needs: &[Part]) -> Vec<String> {
    let interfaces: Vec<&str> = bridged.iter().map(|b| b.interface.as_str()).collect();
    let (noun, list, services) = match interfaces.as_slice() {
        [one] => ("interface", one.to_string(), "its gRPC service"),
        [init @ .., last] => ("interfaces", format!("{} and {last}", init.join(", ")), "their gRPC services"),
        [] => ("interfaces", String::new(), "their gRPC services"),
    };
    let article =
        |word: &str| if word.starts_with(['a', 'e', 'i', 'o', 'u', 'A', 'E', 'I', 'O', 'U']) { "an" } else { "a" };
    let mut bullets: Vec<String> = bridged
        .iter()
        .map(|b| {
            let mut text = format!(
                "{p}Server serves the {s} service by calling {a} {i}, and {p}Client implements {i} by calling the service",
                p = b.prefix,
                s = b.service,
                a = article(&b.interface),
                i = b.interface
            );
            if b.hooks {
                text.push_str(
                    ", asking the plugin once which hooks it implements and answering the others itself, as each hook's documentation says",
                );
            }
            text
        })
        .collect();
    if converters {
        bullets.push("Converter converts every model type to and from its message".into());
    }
    if needs.contains(&Part::Plugin) {
        bullets.push(
            "Launch runs a Python plugin: it serves the plugin's API calls with an APIServer and starts the plugin process through go-plugin, as Mattermost starts a Go plugin, and returns the plugin's HooksClient".into(),
        );
    }
    let mut lines =
        wrap(&format!("Package {package} connects the Go {noun} {list} to {services}, in both directions:"), "", "");
    lines.push(String::new());
    let last = bullets.len().saturating_sub(1);
    for (i, bullet) in bullets.iter().enumerate() {
        let end = if i == last { "." } else { ";" };
        lines.extend(wrap(&format!("{bullet}{end}"), "  - ", "    "));
    }
    if needs.contains(&Part::Errors) {
        lines.push(String::new());
        lines.extend(wrap(
            "Errors follow one convention: an error result crosses as the AppError in field 1 of the response, every field kept; gRPC status codes only report transport failures.",
            "",
            "",
        ));
    }
    lines.into_iter().map(|l| if l.is_empty() { l } else { format!(" {l}") }).collect()
}

/// `text` in lines of at most 76 characters after the comment marker, the
/// first led by `first`, the others by `rest`.
fn wrap(text: &str, first: &str, rest: &str) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = first.to_string();
    let mut empty = true;
    for word in text.split(' ') {
        if !empty && line.len() + 1 + word.len() > 76 {
            lines.push(std::mem::replace(&mut line, rest.to_string()));
            empty = true;
        }
        if !empty {
            line.push(' ');
        }
        line.push_str(word);
        empty = false;
    }
    lines.push(line);
    lines
}

impl Target for Go {
    fn lower(&self, model: &Model) -> Result<Vec<OutputFile>> {
        let services = model.bridged_services();
        if services.is_empty() {
            return Ok(Vec::new());
        }
        let home = &self.home;
        let mut problems = Vec::new();
        for s in &services {
            let go_package = model.files.iter().find(|f| f.path == s.file).and_then(|f| f.go_package.as_deref());
            if go_package.map(|p| p.split(';').next().unwrap_or(p)) != Some(home.messages.as_str()) {
                problems.push(model.diagnostic(
                    &s.location,
                    format!("service `{}`", s.full_name),
                    format!(
                        "the Go target expects the file's go_package to be \"{}\" (`messages` of `[go]` in mm-bindgen.toml)",
                        home.messages
                    ),
                ));
            }
        }
        let dir = format!("go/{}", home.package);
        let mut files = vec![file("go/go.mod", "go/go.mod.tera", Vec::new(), ModuleView { module: &home.module })];
        let package = |body: serde_json::Value| {
            let mut view = serde_json::to_value(PackageView { package: &home.package }).expect("plain data");
            if let (Some(view), serde_json::Value::Object(body)) = (view.as_object_mut(), body) {
                view.extend(body);
            }
            view
        };
        for f in &model.files {
            match convert::converters(model, home, &f.path) {
                Ok(Some(view)) => {
                    let stem = f.path.rsplit('/').next().unwrap_or(&f.path).trim_end_matches(".proto");
                    files.push(file(
                        &format!("{dir}/convert_{stem}.go"),
                        "go/convert.go.tera",
                        vec![f.path.clone()],
                        package(serde_json::to_value(view).expect("plain data")),
                    ));
                }
                Ok(None) => {}
                Err(mut p) => problems.append(&mut p),
            }
        }
        let mut needs = vec![Part::Core];
        if services.iter().flat_map(|s| &s.methods).flat_map(|m| &m.go.results).any(|v| v.role == Role::Error) {
            needs.push(Part::Errors);
        }
        let bridges = |name: &str| {
            services
                .iter()
                .filter_map(|s| s.go_interface.as_deref())
                .any(|i| crate::build::parse_go_type(i, &model.go_imports).is_ok_and(|t| t.is_named(PLUGIN, name)))
        };
        if bridges("API") && bridges("Hooks") {
            needs.push(Part::Plugin);
        }
        let mut bridged = Vec::new();
        for s in services {
            match service::service(model, home, s) {
                Ok(view) => {
                    bridged.push(Bridged {
                        prefix: view.prefix.clone(),
                        interface: view.go_interface.clone(),
                        service: view.service.clone(),
                        hooks: view.hooks,
                    });
                    if view.methods.iter().any(|m| matches!(m.shape(), Shape::HttpCall | Shape::HttpHandler))
                        && !needs.contains(&Part::Http)
                    {
                        needs.push(Part::Http);
                    }
                    let stem = view.prefix.to_lowercase();
                    let view = package(serde_json::to_value(view).expect("plain data"));
                    files.push(file(
                        &format!("{dir}/{stem}_server.go"),
                        "go/server.go.tera",
                        vec![s.file.clone()],
                        &view,
                    ));
                    files.push(file(
                        &format!("{dir}/{stem}_client.go"),
                        "go/client.go.tera",
                        vec![s.file.clone()],
                        &view,
                    ));
                }
                Err(mut p) => problems.append(&mut p),
            }
        }
        if !problems.is_empty() {
            return Err(Failure::Input(problems));
        }
        // Tests ship too, so the runtime is tested where it runs.
        let in_home = |text: String| if *home == GoHome::default() { text } else { runtime_home(&text, home) };
        let mut runtime = super::runtime(&RUNTIME, "go", &dir, "runtime/go", "go/runtime.go.tera", in_home);
        runtime.retain(|f| needs.contains(&part(f.path.rsplit('/').next().unwrap_or_default())));
        files.extend(runtime);
        let converters = files.iter().any(|f| f.template == "go/convert.go.tera");
        files.push(file(
            &format!("{dir}/doc.go"),
            "go/doc.go.tera",
            Vec::new(),
            DocView { package: &home.package, lines: package_doc(&home.package, &bridged, converters, &needs) },
        ));
        Ok(files)
    }
}

/// The parts of the runtime, each shipped when the model needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Part {
    /// What every bridge uses: the call path of the client methods, the
    /// chunked streams, the converter's helpers.
    Core,
    /// The error convention: converts error results to and from the
    /// `AppError` message, so it ships when a method has an error result.
    Errors,
    /// HTTP requests and responses streamed as the `HTTPRequest`,
    /// `HTTPResponse` and `HTTPHeader` messages, for the HTTP method shapes.
    Http,
    /// Running a Mattermost plugin process (launcher, go-plugin shim, call
    /// authentication, manifest): it needs the adapters of both `plugin.API`
    /// and `plugin.Hooks`.
    Plugin,
}

/// The part each runtime file belongs to; a unit test checks that every
/// file of `runtime/go` is named here.
const PARTS: &[(&str, Part)] = &[
    ("auth.go", Part::Plugin),
    ("auth_test.go", Part::Plugin),
    ("call.go", Part::Core),
    ("chunk.go", Part::Core),
    ("client.go", Part::Core),
    ("codec_test.go", Part::Http),
    ("convert.go", Part::Core),
    ("errors.go", Part::Errors),
    ("errors_test.go", Part::Errors),
    ("http.go", Part::Http),
    ("http_test.go", Part::Http),
    ("launcher.go", Part::Plugin),
    ("launcher_test.go", Part::Plugin),
    ("manifest.go", Part::Plugin),
    ("shim.go", Part::Plugin),
];

/// The part of a runtime file; a file missing from [`PARTS`] ships with
/// the plugin process, where every part is present.
fn part(name: &str) -> Part {
    PARTS.iter().find(|(n, _)| *n == name).map_or(Part::Plugin, |(_, p)| *p)
}

/// The runtime is written in the default Go home; in another, its package
/// clause names the configured package and the message package is imported
/// from its configured path (under the name the runtime uses), with the
/// import group sorted again as gofmt sorts it.
fn runtime_home(text: &str, home: &GoHome) -> String {
    let default = GoHome::default();
    let old_import = format!("\t\"{}\"", default.messages);
    let new_import = format!("\tpluginpb \"{}\"", home.messages);
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    for line in &mut lines {
        if *line == format!("package {}", default.package) {
            *line = format!("package {}", home.package);
        }
    }
    if let Some(at) = lines.iter().position(|l| *l == old_import) {
        lines[at] = new_import;
        let start = lines[..at].iter().rposition(|l| l.is_empty() || l.ends_with('(')).map_or(0, |i| i + 1);
        let end = lines[at..].iter().position(|l| l.is_empty() || l == ")").map_or(lines.len(), |i| at + i);
        let path = |l: &String| l.split('"').nth(1).unwrap_or_default().to_string();
        lines[start..end].sort_by_key(path);
    }
    let mut out = lines.join("\n");
    if text.ends_with('\n') {
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_runtime_file_has_a_part() {
        let mut files: Vec<String> = RUNTIME.files().map(|f| f.path().to_string_lossy().into_owned()).collect();
        files.sort();
        let listed: Vec<&str> = PARTS.iter().map(|(n, _)| *n).collect();
        assert_eq!(files.iter().map(String::as_str).collect::<Vec<_>>(), listed);
    }

    #[test]
    fn runtime_in_another_home() {
        let home =
            GoHome { module: "example.com/m".into(), messages: "example.com/m/pb".into(), package: "pbridge".into() };
        let text = "// x\n\npackage bridge\n\nimport (\n\t\"io\"\n\n\t\"google.golang.org/grpc\"\n\t\"mmbindgen.dev/generated/go/pluginpb\"\n)\n";
        assert_eq!(
            runtime_home(text, &home),
            "// x\n\npackage pbridge\n\nimport (\n\t\"io\"\n\n\tpluginpb \"example.com/m/pb\"\n\t\"google.golang.org/grpc\"\n)\n"
        );
    }
}
