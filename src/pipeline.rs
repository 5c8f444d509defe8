//! The whole pipeline, in memory: proto root in, rendered files out.

use std::collections::BTreeMap;
use std::path::Path;

use crate::diag::Result;
use crate::model::Model;
use crate::plugins::{self, Plugin};
use crate::render::Templates;
use crate::{build, load, lower, render, validate};

/// Loads, builds and validates the model of the proto root.
pub fn model(proto: &Path) -> Result<Model> {
    let loaded = load::load(proto)?;
    let model = build::build(&loaded);
    validate::validate(&model, proto)?;
    Ok(model)
}

/// Runs every stage up to rendering, and the protoc plugins; nothing touches
/// the output directory. `dir` is where plugin commands run.
pub fn generate(
    proto: &Path,
    templates: Templates,
    plugins: &[Plugin],
    dir: &Path,
) -> Result<BTreeMap<String, String>> {
    let loaded = load::load(proto)?;
    let model = build::build(&loaded);
    validate::validate(&model, proto)?;
    let files = lower::lower(&model)?;
    let engine = render::engine(templates)?;
    let mut rendered = render::render(&engine, &files)?;
    for (path, text) in plugins::run(plugins, &loaded, dir)? {
        if rendered.insert(path.clone(), text).is_some() {
            return Err(anyhow::anyhow!("a plugin and a template both produce {path}").into());
        }
    }
    Ok(rendered)
}
