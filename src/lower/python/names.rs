//! Python names: snake_case identifiers that are never keywords, module
//! paths of the message modules, and the class each proto message becomes.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use heck::ToSnakeCase;

use crate::model::Model;

/// Python's keywords and soft keywords that cannot name a parameter.
pub const KEYWORDS: &[&str] = &[
    "False", "None", "True", "and", "as", "assert", "async", "await", "break", "class", "continue", "def", "del",
    "elif", "else", "except", "finally", "for", "from", "global", "if", "import", "in", "is", "lambda", "nonlocal",
    "not", "or", "pass", "raise", "return", "try", "while", "with", "yield",
];

/// A Go name as a Python identifier: `GetUserByUsername` -> `get_user_by_username`,
/// `userID` -> `user_id`, a keyword gets a trailing underscore.
pub fn snake(go_name: &str) -> String {
    let s = go_name.to_snake_case();
    if KEYWORDS.contains(&s.as_str()) { format!("{s}_") } else { s }
}

/// The module of a proto file relative to the package:
/// `mattermost/plugin/v1/common.proto` -> `pb.mattermost.plugin.v1.common_pb2`.
pub fn pb_module(proto_file: &str) -> String {
    let stem = proto_file.trim_end_matches(".proto");
    format!("pb.{}_pb2", stem.replace('-', "_").replace('/', "."))
}

/// Where each message class lives: the module (relative to the package, or
/// absolute for well-known types) and its name within the module
/// (`Outer.Inner` for nested messages).
pub struct Classes {
    by_name: HashMap<String, (String, String)>,
}

impl Classes {
    pub fn new(model: &Model) -> Self {
        let mut by_name = HashMap::new();
        let files: HashMap<&str, &str> = model.files.iter().map(|f| (f.path.as_str(), f.package.as_str())).collect();
        for m in &model.messages {
            let package = files.get(m.file.as_str()).copied().unwrap_or("");
            let qual = m.full_name.strip_prefix(package).map(|n| n.trim_start_matches('.')).unwrap_or(&m.name);
            by_name.insert(m.full_name.clone(), (pb_module(&m.file), qual.to_string()));
        }
        for e in &model.enums {
            let package = files.get(e.file.as_str()).copied().unwrap_or("");
            let qual = e.full_name.strip_prefix(package).map(|n| n.trim_start_matches('.')).unwrap_or(&e.name);
            by_name.insert(e.full_name.clone(), (pb_module(&e.file), qual.to_string()));
        }
        Classes { by_name }
    }

    /// The module and qualified name of a message or enum under the root.
    pub fn get(&self, full_name: &str) -> Option<(&str, &str)> {
        self.by_name.get(full_name).map(|(m, q)| (m.as_str(), q.as_str()))
    }
}

/// The imports of one generated module: classes imported by name from the
/// message modules, and whole modules under an alias.
#[derive(Default)]
pub struct Imports {
    /// module (relative, without the leading dot) -> names
    names: BTreeMap<String, BTreeSet<String>>,
    /// (module, alias)
    modules: BTreeSet<(String, String)>,
    typing: BTreeSet<&'static str>,
    collections: BTreeSet<&'static str>,
}

/// One `from X import a, b` statement of a view, laid out to fit the line
/// length.
#[derive(serde::Serialize)]
pub struct ImportLine {
    pub text: String,
}

impl ImportLine {
    fn new(from: &str, mut names: Vec<String>) -> Self {
        use super::code::{LINE_LENGTH, fit};
        names.sort_by_key(|n| isort_key(n));
        let one = format!("from {from} import {}", names.join(", "));
        let text = if one.chars().count() <= LINE_LENGTH {
            one
        } else {
            fit(0, &format!("from {from} import ("), &names, ")")
        };
        ImportLine { text }
    }
}

impl Imports {
    /// Imports the top-level class of a qualified name and returns how code
    /// refers to the class.
    pub fn class(&mut self, module: &str, qual: &str) -> String {
        let top = qual.split('.').next().unwrap_or(qual);
        self.names.entry(module.to_string()).or_default().insert(top.to_string());
        qual.to_string()
    }

    /// Imports a message module under its own last name (`plugin_api_pb2`).
    pub fn module(&mut self, module: &str) -> String {
        let (parent, last) = module.rsplit_once('.').unwrap_or(("", module));
        self.modules.insert((parent.to_string(), last.to_string()));
        last.to_string()
    }

    pub fn typing(&mut self, name: &'static str) {
        self.typing.insert(name);
    }

    pub fn collections(&mut self, name: &'static str) {
        self.collections.insert(name);
    }

    /// The standard library imports: `collections.abc` and `typing` names.
    pub fn stdlib(&self) -> Vec<ImportLine> {
        let mut lines = Vec::new();
        if !self.collections.is_empty() {
            lines.push(ImportLine::new("collections.abc", self.collections.iter().map(|s| s.to_string()).collect()));
        }
        if !self.typing.is_empty() {
            lines.push(ImportLine::new("typing", self.typing.iter().map(|s| s.to_string()).collect()));
        }
        lines
    }

    /// The package-relative imports, sorted by module: `from .pb.x import a_pb2`
    /// lines first come as modules of their parent, then classes by name.
    /// `prefix` is the relative prefix of the importing module (`.`).
    pub fn local(&self, prefix: &str) -> Vec<ImportLine> {
        let mut lines: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (parent, last) in &self.modules {
            lines.entry(format!("{prefix}{parent}")).or_default().insert(last.clone());
        }
        for (module, names) in &self.names {
            lines.entry(format!("{prefix}{module}")).or_default().extend(names.iter().cloned());
        }
        let mut lines: Vec<_> = lines.into_iter().collect();
        lines.sort_by_key(|(from, _)| from.to_lowercase());
        lines.into_iter().map(|(from, names)| ImportLine::new(&from, names.into_iter().collect())).collect()
    }
}

/// The order isort (and ruff's `I` rules) give imported names: constants,
/// then classes, then everything else, each case-insensitively.
fn isort_key(name: &str) -> (u8, String) {
    let rank = if name.len() > 1 && !name.chars().any(|c| c.is_lowercase()) {
        0
    } else if name.starts_with(|c: char| c.is_uppercase()) {
        1
    } else {
        2
    };
    (rank, name.to_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snake_names() {
        assert_eq!(snake("GetUserByUsername"), "get_user_by_username");
        assert_eq!(snake("KVSetWithOptions"), "kv_set_with_options");
        assert_eq!(snake("userID"), "user_id");
        assert_eq!(snake("OnSAMLLogin"), "on_saml_login");
        assert_eq!(snake("from"), "from_");
        assert_eq!(pb_module("mattermost/plugin/v1/common.proto"), "pb.mattermost.plugin.v1.common_pb2");
    }
}
