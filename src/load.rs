//! Stage 1, load: every `.proto` under the proto root, compiled by protox with
//! source info kept, into a descriptor pool.
//!
//! Imports resolve against the root first, then the option vocabulary
//! embedded in the binary (so input trees need not carry a copy of
//! `mmbindgen/v1/options.proto`), then the well-known types.

use std::collections::{BTreeMap, HashSet};
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
    resolver.add(Parsed::new(root, &files));
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
///
/// Symbolic links are followed, as long as they stay inside the root; a file
/// reached under several names is listed once, under the name the other
/// files import it by (or, if none does, its real path).
fn discover(root: &Path) -> Result<Vec<String>> {
    if !root.is_dir() {
        return Err(Failure::one(
            Diagnostic::new("the proto root is not a directory")
                .at(format!("--proto {}", root.display()))
                .note("name the directory that holds the .proto files with --proto (or `proto` in mm-bindgen.toml)"),
        ));
    }
    let real_root = root.canonicalize().map_err(|e| unreadable(root, &e))?;
    let mut problems = Vec::new();
    // Real path of every file, with the names it is reached under.
    let mut by_real: BTreeMap<PathBuf, Vec<String>> = BTreeMap::new();
    let mut walk = walkdir::WalkDir::new(root).follow_links(true).sort_by_file_name().into_iter();
    while let Some(entry) = walk.next() {
        let entry = match entry {
            Ok(entry) => entry,
            Err(e) => {
                let place = e.path().unwrap_or(root).display().to_string();
                let d = match e.loop_ancestor() {
                    Some(ancestor) => {
                        Diagnostic::new(format!("symbolic link loop: this leads back to {}", ancestor.display()))
                            .note("remove the link, or point it at a directory that does not contain it")
                    }
                    None => Diagnostic::new(format!("cannot read: {}", std::io::Error::from(e))),
                };
                problems.push(d.at(place));
                continue;
            }
        };
        let path = entry.path();
        if entry.path_is_symlink() {
            match path.canonicalize() {
                Ok(real) if real.starts_with(&real_root) => {}
                Ok(real) => {
                    problems.push(
                        Diagnostic::new(format!("symbolic link leaves the proto root: it points to {}", real.display()))
                            .at(path.display().to_string())
                            .note("every input must lie under the proto root: copy the target in, or make --proto a directory that contains it"),
                    );
                    if entry.file_type().is_dir() {
                        walk.skip_current_dir();
                    }
                    continue;
                }
                Err(e) => {
                    problems.push(Diagnostic::new(format!("broken symbolic link: {e}")).at(path.display().to_string()));
                    continue;
                }
            }
        }
        if entry.file_type().is_file() && path.extension().is_some_and(|x| x == "proto") {
            let real = path.canonicalize().map_err(|e| unreadable(path, &e))?;
            let rel = path.strip_prefix(root).expect("walkdir yields paths under its root");
            let name: Vec<String> = rel.components().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect();
            by_real.entry(real).or_default().push(name.join("/"));
        }
    }
    if !problems.is_empty() {
        return Err(Failure::Input(problems));
    }
    let imported = imported_names(by_real.keys());
    let mut files = Vec::new();
    for (real, names) in &by_real {
        let real_name = real
            .strip_prefix(&real_root)
            .ok()
            .map(|rel| rel.components().map(|c| c.as_os_str().to_string_lossy()).collect::<Vec<_>>().join("/"));
        let used: Vec<&String> = names.iter().filter(|n| imported.contains(n.as_str())).collect();
        match used.as_slice() {
            [] => files.push(real_name.filter(|n| names.contains(n)).unwrap_or_else(|| names[0].clone())),
            [one] => files.push((*one).clone()),
            [first, second, ..] => problems.push(
                Diagnostic::new(format!(
                    "this file is imported under two names, `{first}` and `{second}` (through a symbolic link)"
                ))
                .at(root.join(first.as_str()).display().to_string())
                .note("import it under one name everywhere"),
            ),
        }
    }
    if !problems.is_empty() {
        return Err(Failure::Input(problems));
    }
    files.sort();
    if files.is_empty() {
        return Err(Failure::one(
            Diagnostic::new("no .proto files found")
                .at(format!("--proto {}", root.display()))
                .note("name the directory that holds the .proto files with --proto (or `proto` in mm-bindgen.toml)"),
        ));
    }
    Ok(files)
}

/// The names the files import (`import "a/b.proto";`), read without parsing:
/// only to choose between the names of a file reached through a link.
fn imported_names<'a>(files: impl Iterator<Item = &'a PathBuf>) -> HashSet<String> {
    let mut names = HashSet::new();
    for file in files {
        let Ok(text) = std::fs::read_to_string(file) else { continue };
        for line in text.lines() {
            let line = line.trim_start();
            let Some(rest) = line.strip_prefix("import") else { continue };
            let mut quoted = rest.split(['"', '\'']);
            if let (Some(_), Some(name)) = (quoted.next(), quoted.next()) {
                names.insert(name.to_string());
            }
        }
    }
    names
}

fn unreadable(path: &Path, e: &std::io::Error) -> Failure {
    Failure::one(Diagnostic::new(format!("cannot read: {e}")).at(path.display().to_string()))
}

/// The files under the root, read and parsed on every core before the
/// compiler links them one by one; each is read and parsed as
/// `IncludeFileResolver` would, so results and errors are the same. A file
/// is served once; a second request falls through to the next resolver.
struct Parsed {
    files: std::sync::Mutex<std::collections::HashMap<String, std::result::Result<File, protox::Error>>>,
}

impl Parsed {
    fn new(root: &Path, names: &[String]) -> Parsed {
        let parsed = crate::parallel::map(names, |name| (name.clone(), File::open(name, &root.join(name))));
        Parsed { files: std::sync::Mutex::new(parsed.into_iter().collect()) }
    }
}

impl FileResolver for Parsed {
    fn open_file(&self, name: &str) -> std::result::Result<File, protox::Error> {
        let parsed = self.files.lock().expect("parsing does not panic").remove(name);
        parsed.unwrap_or_else(|| Err(protox::Error::file_not_found(name)))
    }
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
    let span = err.labels().and_then(|mut labels| labels.next()).map(|l| *l.inner());
    let text = err.file().and_then(|f| std::fs::read_to_string(root.join(f)).ok());
    let message = match (text, span) {
        (Some(text), Some(span)) => unsupported(&text, span.offset(), &err.to_string()),
        _ => None,
    }
    .unwrap_or_else(|| err.to_string());
    let mut d = Diagnostic::new(message);
    let file = err.file().map(|f| root.join(f).display().to_string());
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

/// Names the protobuf feature behind a parser error, when it is one that
/// protoc accepts but the parser mm-bindgen uses (protox) does not.
fn unsupported(text: &str, offset: usize, message: &str) -> Option<String> {
    let line_start = text[..offset.min(text.len())].rfind('\n').map_or(0, |i| i + 1);
    let line = text[line_start..].lines().next().unwrap_or("").trim_start_matches('\u{feff}').trim_start();
    if offset == 0 && text.starts_with('\u{feff}') {
        return Some(
            "unsupported: the file starts with a byte-order mark (U+FEFF); save it as UTF-8 without a BOM".into(),
        );
    }
    if line.starts_with("edition") || message.contains("unknown syntax 'editions'") {
        return Some(
            "unsupported: protobuf editions (`edition = \"2023\"`); mm-bindgen reads proto2 and proto3 files only"
                .into(),
        );
    }
    if line.starts_with("extensions") && message.contains("found '['") {
        return Some(
            "unsupported: options on an extension range given as a single number (`extensions 4 [...]`); write the range as `extensions 4 to 4 [...]`".into(),
        );
    }
    None
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
            return Some(line.trim_end_matches(['\n', '\r']).replace('\t', " ").replace('\u{feff}', ""));
        }
        pos = end;
    }
    None
}

#[cfg(test)]
mod tests {
    use std::fs;
    use std::os::unix::fs::symlink;

    use super::*;

    fn failure(root: &Path) -> String {
        match load(root) {
            Ok(_) => panic!("{} loads", root.display()),
            Err(f) => f.to_string(),
        }
    }

    #[test]
    fn symlinked_files_and_directories_are_read_once_under_the_imported_name() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("root");
        fs::create_dir_all(root.join("real/v1")).unwrap();
        fs::create_dir_all(root.join("api")).unwrap();
        fs::write(root.join("real/v1/common.proto"), "syntax = \"proto3\";\npackage c.v1;\nmessage Common {}\n")
            .unwrap();
        fs::write(
            root.join("real/v1/service.proto"),
            "syntax = \"proto3\";\npackage s.v1;\nmessage Req {}\nservice Svc { rpc Get(Req) returns (Req); }\n",
        )
        .unwrap();
        // A directory reached only through a link, whose file imports a
        // file by its linked name.
        symlink(root.join("real/v1"), root.join("api/v1")).unwrap();
        fs::write(
            root.join("user.proto"),
            "syntax = \"proto3\";\npackage u;\nimport \"api/v1/common.proto\";\nmessage U { c.v1.Common c = 1; }\n",
        )
        .unwrap();
        // A file link.
        symlink(root.join("user.proto"), root.join("user-link.proto")).unwrap();
        let loaded = load(&root).unwrap();
        assert_eq!(loaded.files, ["api/v1/common.proto", "real/v1/service.proto", "user.proto"]);
        assert!(loaded.pool.get_service_by_name("s.v1.Svc").is_some());
    }

    #[test]
    fn a_root_reached_through_a_link_is_read() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir_all(dir.path().join("real")).unwrap();
        fs::write(dir.path().join("real/a.proto"), "syntax = \"proto3\";\npackage a;\nmessage A {}\n").unwrap();
        symlink(dir.path().join("real"), dir.path().join("root")).unwrap();
        assert_eq!(load(&dir.path().join("root")).unwrap().files, ["a.proto"]);
    }

    #[test]
    fn a_symlink_loop_is_located() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("root");
        fs::create_dir_all(root.join("a")).unwrap();
        fs::write(root.join("a/x.proto"), "syntax = \"proto3\";\npackage x;\n").unwrap();
        symlink(&root, root.join("a/back")).unwrap();
        let text = failure(&root);
        assert!(text.contains(&format!("{}: symbolic link loop", root.join("a/back").display())), "{text}");
    }

    #[test]
    fn a_link_leaving_the_root_is_located() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("root");
        fs::create_dir_all(dir.path().join("outside")).unwrap();
        fs::create_dir_all(&root).unwrap();
        fs::write(dir.path().join("outside/o.proto"), "syntax = \"proto3\";\npackage o;\n").unwrap();
        fs::write(root.join("in.proto"), "syntax = \"proto3\";\npackage i;\n").unwrap();
        symlink(dir.path().join("outside"), root.join("dir-link")).unwrap();
        symlink(dir.path().join("outside/o.proto"), root.join("file-link.proto")).unwrap();
        let text = failure(&root);
        for link in ["dir-link", "file-link.proto"] {
            assert!(
                text.contains(&format!("{}: symbolic link leaves the proto root", root.join(link).display())),
                "{text}"
            );
        }
        assert!(text.contains("2 errors found"), "{text}");
    }

    #[test]
    fn a_file_imported_under_two_names_is_located() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("root");
        fs::create_dir_all(root.join("real")).unwrap();
        fs::write(root.join("real/c.proto"), "syntax = \"proto3\";\npackage c;\nmessage C {}\n").unwrap();
        symlink(root.join("real"), root.join("alias")).unwrap();
        fs::write(root.join("a.proto"), "syntax = \"proto3\";\nimport \"real/c.proto\";\n").unwrap();
        fs::write(root.join("b.proto"), "syntax = \"proto3\";\nimport \"alias/c.proto\";\n").unwrap();
        let text = failure(&root);
        assert!(text.contains("imported under two names, `alias/c.proto` and `real/c.proto`"), "{text}");
    }
}
