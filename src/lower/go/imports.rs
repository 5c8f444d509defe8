//! Imports as data: each output file collects the packages its code refers
//! to (by alias), and gets them back as sorted import lines, standard
//! library first, with an explicit name wherever the package name is not the
//! last element of the import path.

use std::collections::{BTreeMap, BTreeSet};

use crate::model::Model;
use crate::validate::qualifiers;

/// Packages the generated code uses beyond the proto's own `go_import`s.
const BUILTIN: &[(&str, &str)] = &[
    ("context", "context"),
    ("errors", "errors"),
    ("grpc", "google.golang.org/grpc"),
    ("http", "net/http"),
    ("io", "io"),
    ("plugin", "github.com/mattermost/mattermost/server/public/plugin"),
    ("pluginpb", "mmbindgen.dev/generated/go/pluginpb"),
    ("sync", "sync"),
    ("time", "time"),
];

#[derive(Default)]
pub struct Imports {
    aliases: BTreeSet<String>,
}

/// One line of an import block.
#[derive(serde::Serialize, Debug, PartialEq, Eq)]
pub struct ImportLine {
    /// `name "path"` or `"path"`.
    pub spec: String,
}

/// The import lines of a file, in two groups.
#[derive(serde::Serialize, Debug, Default)]
pub struct ImportBlock {
    pub std: Vec<ImportLine>,
    pub other: Vec<ImportLine>,
}

impl Imports {
    /// Records a package by its alias.
    pub fn add(&mut self, alias: &str) {
        self.aliases.insert(alias.to_string());
    }

    /// Records every package a Go type expression refers to.
    pub fn add_type(&mut self, go_type: &str) {
        for q in qualifiers(go_type) {
            self.add(q);
        }
    }

    /// Resolves the aliases to import lines.
    pub fn block(&self, model: &Model) -> Result<ImportBlock, String> {
        let mut paths: BTreeMap<&str, &str> = BUILTIN.iter().copied().collect();
        for i in &model.go_imports {
            paths.insert(&i.alias, &i.path);
        }
        let mut std = BTreeMap::new();
        let mut other = BTreeMap::new();
        for alias in &self.aliases {
            let path = paths.get(alias.as_str()).ok_or_else(|| format!("no import path for `{alias}`"))?;
            let last = path.rsplit('/').next().unwrap_or(path);
            let spec = if last == alias { format!("\"{path}\"") } else { format!("{alias} \"{path}\"") };
            let first = path.split('/').next().unwrap_or("");
            let group = if first.contains('.') { &mut other } else { &mut std };
            group.insert(path.to_string(), ImportLine { spec });
        }
        Ok(ImportBlock { std: std.into_values().collect(), other: other.into_values().collect() })
    }
}
