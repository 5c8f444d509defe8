//! Stage 1, load: every `.proto` under the proto root, compiled by protox with
//! source info kept, into a descriptor pool.
//!
//! Imports resolve against the root first, then the option vocabulary
//! embedded in the binary (so input trees need not carry a copy of
//! `mmbindgen/v1/options.proto`), then the well-known types.

use std::path::{Path, PathBuf};

use miette::Diagnostic as _;
use prost_reflect::DescriptorPool;
use protox::file::{ChainFileResolver, File, FileResolver, GoogleFileResolver, IncludeFileResolver};

use crate::diag::{Diagnostic, Failure, Result};

/// The import name of the option vocabulary.
pub const OPTIONS_PROTO_NAME: &str = "mmbindgen/v1/options.proto";
/// The option vocabulary, compiled into the binary from `proto/` itself.
pub const OPTIONS_PROTO: &str = include_str!("../proto/mmbindgen/v1/options.proto");

/// The loaded input: the descriptor pool and the names of the files under the
/// root (sorted), which are the ones the model covers.
pub struct Loaded {
    pub pool: DescriptorPool,
    pub files: Vec<String>,
    /// The proto root as the user gave it, for printing places.
    pub root: PathBuf,
}

/// Compiles every `.proto` file under `root`.
pub fn load(root: &Path) -> Result<Loaded> {
    let files = discover(root)?;
    let mut resolver = ChainFileResolver::new();
    resolver.add(IncludeFileResolver::new(root.to_path_buf()));
    resolver.add(EmbeddedOptions);
    resolver.add(GoogleFileResolver::new());
    let mut compiler = protox::Compiler::with_file_resolver(resolver);
    compiler.include_source_info(true).include_imports(true);
    for name in &files {
        compiler.open_file(name).map_err(|e| Failure::one(protox_diagnostic(root, &e)))?;
    }
    Ok(Loaded { pool: compiler.descriptor_pool(), files, root: root.to_path_buf() })
}

/// Lists the `.proto` files under `root` as import names, sorted.
fn discover(root: &Path) -> Result<Vec<String>> {
    if !root.is_dir() {
        return Err(Failure::one(Diagnostic::new("the proto root is not a directory").at(root.display().to_string())));
    }
    let mut files = Vec::new();
    for entry in walkdir::WalkDir::new(root).sort_by_file_name() {
        let entry = entry.map_err(|e| anyhow::anyhow!("reading {}: {e}", root.display()))?;
        let path = entry.path();
        if entry.file_type().is_file() && path.extension().is_some_and(|x| x == "proto") {
            let rel = path.strip_prefix(root).expect("walkdir yields paths under its root");
            let name: Vec<String> = rel.components().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect();
            files.push(name.join("/"));
        }
    }
    files.sort();
    if files.is_empty() {
        return Err(Failure::one(Diagnostic::new("no .proto files found").at(root.display().to_string())));
    }
    Ok(files)
}

/// Serves the embedded option vocabulary when the root does not have it.
struct EmbeddedOptions;

impl FileResolver for EmbeddedOptions {
    fn open_file(&self, name: &str) -> std::result::Result<File, protox::Error> {
        if name == OPTIONS_PROTO_NAME {
            File::from_source(name, OPTIONS_PROTO)
        } else {
            Err(protox::Error::file_not_found(name))
        }
    }
}

/// Turns a protox error into a diagnostic carrying `path:line:col` and the
/// offending source line, using the span protox attaches to its errors.
fn protox_diagnostic(root: &Path, err: &protox::Error) -> Diagnostic {
    let message = err.to_string();
    let mut d = Diagnostic::new(message);
    let file = err.file().map(|f| root.join(f).display().to_string());
    let span = err.labels().and_then(|mut labels| labels.next()).map(|l| *l.inner());
    match (file, span, err.source_code()) {
        (Some(file), Some(span), Some(source)) => match source.read_span(&span, 0, 0) {
            Ok(contents) => {
                let (line, col) = (contents.line() + 1, contents.column() + 1);
                d = d.at(format!("{file}:{line}:{col}"));
                if let Some(text) = source_line(source, span.offset()) {
                    d = d.note(format!("{line:>4} | {text}")).note(format!("     | {}^", " ".repeat(col - 1)));
                }
            }
            Err(_) => d = d.at(file),
        },
        (Some(file), _, _) => d = d.at(file),
        _ => {}
    }
    if let Some(help) = err.help() {
        d = d.note(format!("help: {help}"));
    }
    d
}

/// The text of the source line containing `offset`.
fn source_line(source: &dyn miette::SourceCode, offset: usize) -> Option<String> {
    let contents = source.read_span(&(offset, 0).into(), 1, 1).ok()?;
    let text = std::str::from_utf8(contents.data()).ok()?;
    // With one line of context on each side, the wanted line is the one that
    // starts at or before `offset` and ends after it.
    let start = contents.span().offset();
    let mut pos = start;
    for line in text.split_inclusive('\n') {
        let end = pos + line.len();
        if offset >= pos && (offset < end || end == start + text.len()) {
            return Some(line.trim_end_matches(['\n', '\r']).replace('\t', " "));
        }
        pos = end;
    }
    None
}
