//! The whole pipeline, in memory: proto root in, rendered files out.

use std::collections::BTreeMap;
use std::path::Path;

use crate::diag::Result;
use crate::model::Model;
use crate::render::Templates;
use crate::{build, load, lower, render, validate};

/// Loads, builds and validates the model of the proto root.
pub fn model(proto: &Path) -> Result<Model> {
    let loaded = load::load(proto)?;
    let model = build::build(&loaded);
    validate::validate(&model, proto)?;
    Ok(model)
}

/// Runs every stage up to rendering; nothing touches the output directory.
pub fn generate(proto: &Path, templates: Templates) -> Result<BTreeMap<String, String>> {
    let model = model(proto)?;
    let files = lower::lower(&model)?;
    let engine = render::engine(templates)?;
    render::render(&engine, &files)
}
