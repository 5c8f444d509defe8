//! The Go target: the adapters between the Go interfaces and the gRPC
//! services, in package `bridge` of the module the message code lives in.
//!
//! For every service that mirrors a Go interface (`go_interface`) in a file
//! with a `go_package`, it renders a gRPC server calling a Go implementation
//! and a Go implementation calling the gRPC service; converters for every
//! model message; `go.mod`; and the hand-written runtime of `runtime/go/`
//! with its tests, copied beside them.

mod conv;
mod convert;
mod imports;
mod names;
mod service;

use include_dir::{Dir, include_dir};
use serde::Serialize;

use super::{OutputFile, Target, file};
use crate::diag::{Failure, Result};
use crate::model::Model;

/// The hand-written runtime, shipped into the bridge package.
static RUNTIME: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/runtime/go");

/// The import path the message code must have (`go_package`), whose parent
/// is the module of the generated Go code.
pub const PB_PATH: &str = "mmbindgen.dev/generated/go/pluginpb";
const MODULE: &str = "mmbindgen.dev/generated/go";

pub struct Go;

#[derive(Serialize)]
struct ModuleView {
    module: &'static str,
}

impl Target for Go {
    fn lower(&self, model: &Model) -> Result<Vec<OutputFile>> {
        let services = model.bridged_services();
        if services.is_empty() {
            return Ok(Vec::new());
        }
        let mut problems = Vec::new();
        for s in &services {
            let go_package = model.files.iter().find(|f| f.path == s.file).and_then(|f| f.go_package.as_deref());
            if go_package.map(|p| p.split(';').next().unwrap_or(p)) != Some(PB_PATH) {
                problems.push(model.diagnostic(
                    &s.location,
                    format!("service `{}`", s.full_name),
                    format!("the Go target expects the file's go_package to be \"{PB_PATH}\""),
                ));
            }
        }
        let mut files = vec![file("go/go.mod", "go/go.mod.tera", Vec::new(), ModuleView { module: MODULE })];
        for f in &model.files {
            match convert::converters(model, &f.path) {
                Ok(Some(view)) => {
                    let stem = f.path.rsplit('/').next().unwrap_or(&f.path).trim_end_matches(".proto");
                    files.push(file(
                        &format!("go/bridge/convert_{stem}.go"),
                        "go/convert.go.tera",
                        vec![f.path.clone()],
                        view,
                    ));
                }
                Ok(None) => {}
                Err(mut p) => problems.append(&mut p),
            }
        }
        for s in services {
            match service::service(model, s) {
                Ok(view) => {
                    let stem = view.prefix.to_lowercase();
                    files.push(file(
                        &format!("go/bridge/{stem}_server.go"),
                        "go/server.go.tera",
                        vec![s.file.clone()],
                        &view,
                    ));
                    files.push(file(
                        &format!("go/bridge/{stem}_client.go"),
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
        files.extend(super::runtime(&RUNTIME, "go", "go/bridge", "runtime/go", "go/runtime.go.tera"));
        Ok(files)
    }
}
