//! The whole pipeline, in memory: proto root in, rendered files out.

use std::collections::BTreeMap;
use std::path::Path;

use crate::config::GoHome;
use crate::diag::{Diagnostic, Result};
use crate::load::Loaded;
use crate::model::Model;
use crate::plugins::{self, Plugin};
use crate::render::Templates;
use crate::{build, load, lower, render, validate};

/// Loads, builds and validates the model of the proto root.
pub fn model(proto: &Path) -> Result<Model> {
    Ok(checked(proto)?.1)
}

fn checked(proto: &Path) -> Result<(Loaded, Model)> {
    let loaded = load::load(proto)?;
    let model = build::build(&loaded);
    validate::validate(&model)?;
    Ok((loaded, model))
}

/// Runs every stage up to rendering, and the protoc plugins (in parallel
/// with everything after loading: they are the slow part); nothing touches
/// the output directory. `dir` is where plugin commands run; `go` is where
/// the Go code lives.
pub fn generate(
    proto: &Path,
    templates: Templates,
    plugins: &[Plugin],
    dir: &Path,
    go: &GoHome,
) -> Result<BTreeMap<String, String>> {
    let loaded = load::load(proto)?;
    let (ours, theirs) = std::thread::scope(|scope| {
        // The plugins need only the compiled descriptors. When a later stage
        // fails they have run for nothing, and the failure is reported.
        let theirs = scope.spawn(|| plugins::run(plugins, &loaded, dir));
        let ours = (|| {
            let model = build::build(&loaded);
            validate::validate(&model)?;
            let files = lower::lower(&model, go)?;
            render::render(&render::engine(templates)?, &files)
        })();
        (ours, theirs.join().expect("the plugin thread does not panic"))
    });
    let mut rendered = ours?;
    for (path, text) in theirs? {
        if rendered.insert(path.clone(), text).is_some() {
            return Err(Diagnostic::new(format!("a protoc plugin and mm-bindgen's own templates both produce {path}"))
                .at(crate::config::CONFIG_FILE)
                .note("give the plugin an `out` directory that mm-bindgen's targets do not write into")
                .into());
        }
    }
    Ok(rendered)
}
