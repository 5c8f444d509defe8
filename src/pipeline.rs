//! The whole pipeline, in memory: proto root in, rendered files out.

use std::collections::BTreeMap;
use std::path::Path;

use crate::config::GoHome;
use crate::diag::Result;
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
/// with the rendering: they are the slow part); nothing touches the output
/// directory. `dir` is where plugin commands run; `go` is where the Go code
/// lives.
pub fn generate(
    proto: &Path,
    templates: Templates,
    plugins: &[Plugin],
    dir: &Path,
    go: &GoHome,
) -> Result<BTreeMap<String, String>> {
    let (loaded, model) = checked(proto)?;
    let (ours, theirs) = std::thread::scope(|scope| {
        let theirs = scope.spawn(|| plugins::run(plugins, &loaded, dir));
        let ours = lower::lower(&model, go).and_then(|files| render::render(&render::engine(templates)?, &files));
        (ours, theirs.join().expect("the plugin thread does not panic"))
    });
    let mut rendered = ours?;
    for (path, text) in theirs? {
        if rendered.insert(path.clone(), text).is_some() {
            return Err(anyhow::anyhow!("a plugin and a template both produce {path}").into());
        }
    }
    Ok(rendered)
}
