//! The Python target: the installable package `mattermost_plugin` in
//! `python/` (see `design/python.md`): the message modules written from the
//! compiled descriptors, the typed API clients, the hook base class and its
//! servicer, and the hand-written runtime of `runtime/python/`.

mod pb;

use include_dir::{Dir, include_dir};
use serde::Serialize;

use super::{Header, OutputFile, Target};
use crate::diag::Result;
use crate::model::Model;

/// The hand-written runtime, shipped into the package.
static RUNTIME: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/runtime/python");

/// The import name of the package.
pub const PACKAGE: &str = "mattermost_plugin";

pub struct Python;

#[derive(Serialize)]
struct FileView<T: Serialize> {
    header: Header,
    #[serde(flatten)]
    body: T,
}

#[derive(Serialize)]
struct Empty {}

#[derive(Serialize)]
struct RuntimeView {
    text: String,
}

impl Target for Python {
    fn lower(&self, model: &Model) -> Result<Vec<OutputFile>> {
        if !model.services.iter().any(|s| s.go_interface.is_some()) {
            return Ok(Vec::new());
        }
        let mut files = vec![
            file("python/pyproject.toml", "python/pyproject.toml.tera", Vec::new(), Empty {}),
            file(&format!("python/{PACKAGE}/py.typed"), "python/py.typed.tera", Vec::new(), Empty {}),
        ];
        files.extend(pb::modules(model)?);
        let mut runtime = Vec::new();
        runtime_files(&RUNTIME, &mut runtime);
        for f in runtime {
            let name = f.path().to_string_lossy().replace('\\', "/");
            let text = f.contents_utf8().expect("runtime sources are UTF-8").to_string();
            files.push(file(
                &format!("python/{name}"),
                "python/runtime.py.tera",
                vec![format!("runtime/python/{name}")],
                RuntimeView { text },
            ));
        }
        Ok(files)
    }
}

/// The `.py` files of the runtime, recursively, in path order.
fn runtime_files<'a>(dir: &'a Dir<'a>, out: &mut Vec<&'a include_dir::File<'a>>) {
    for entry in dir.entries() {
        match entry {
            include_dir::DirEntry::Dir(d) => runtime_files(d, out),
            include_dir::DirEntry::File(f) if f.path().extension().is_some_and(|x| x == "py") => out.push(f),
            include_dir::DirEntry::File(_) => {}
        }
    }
    out.sort_by_key(|f| f.path());
}

fn file<T: Serialize>(path: &str, template: &'static str, sources: Vec<String>, body: T) -> OutputFile {
    OutputFile::new(path.to_string(), template, &FileView { header: Header::new(sources), body })
}
