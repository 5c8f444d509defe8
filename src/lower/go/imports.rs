//! Imports as data: each output file collects the packages its code refers
//! to, by import path and the name the code uses, and gets them back as
//! sorted import lines, standard library first, with an explicit name
//! wherever the name is not the last element of the import path.

use std::collections::BTreeMap;

use crate::model::GoType;

/// Packages the generated code uses beyond the types of the model.
pub const CONTEXT: (&str, &str) = ("context", "context");
pub const GRPC: (&str, &str) = ("grpc", "google.golang.org/grpc");
pub const HTTP: (&str, &str) = ("http", "net/http");

#[derive(Default)]
pub struct Imports {
    /// Import path → the name the code uses.
    paths: BTreeMap<String, String>,
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
    /// Records a package by the name the code uses and its import path.
    pub fn add(&mut self, (name, path): (&str, &str)) {
        self.paths.insert(path.to_string(), name.to_string());
    }

    /// Records every package a Go type refers to.
    pub fn add_type(&mut self, ty: &GoType) {
        for named in ty.named() {
            if let GoType::Named { path, package, .. } = named {
                self.add((package, path));
            }
        }
    }

    /// The import lines; an error names a package imported under two names.
    pub fn block(&self) -> Result<ImportBlock, String> {
        let mut names: BTreeMap<&str, &str> = BTreeMap::new();
        let mut block = ImportBlock::default();
        for (path, name) in &self.paths {
            if let Some(other) = names.insert(name, path) {
                return Err(format!("`{name}` names both \"{other}\" and \"{path}\""));
            }
            let last = path.rsplit('/').next().unwrap_or(path);
            let spec = if last == name { format!("\"{path}\"") } else { format!("{name} \"{path}\"") };
            let first = path.split('/').next().unwrap_or("");
            let group = if first.contains('.') { &mut block.other } else { &mut block.std };
            group.push(ImportLine { spec });
        }
        Ok(block)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_and_names_imports() {
        let mut i = Imports::default();
        i.add(HTTP);
        i.add(("pluginpb", "example.com/golden/pb"));
        i.add_type(&GoType::Pointer(Box::new(GoType::Named {
            path: "github.com/mattermost/gosaml2".into(),
            package: "saml2".into(),
            name: "AssertionInfo".into(),
        })));
        let b = i.block().unwrap();
        let specs = |l: &[ImportLine]| l.iter().map(|l| l.spec.clone()).collect::<Vec<_>>();
        assert_eq!(specs(&b.std), ["\"net/http\""]);
        assert_eq!(specs(&b.other), ["pluginpb \"example.com/golden/pb\"", "saml2 \"github.com/mattermost/gosaml2\""]);
        i.add(("http", "example.com/http"));
        assert!(i.block().unwrap_err().contains("`http` names both"));
    }
}
