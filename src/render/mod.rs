//! Stage 5, render: views through tera templates into file contents.
//!
//! Templates are embedded in the binary; `--templates DIR` replaces the whole
//! set. Autoescaping is off (no target is HTML) and an undefined variable is
//! an error, so a misspelt name fails the run instead of printing nothing
//! (tera checks `{{ }}` as it renders; [`strict`] checks every name that
//! every template reads, conditions and loops included, before rendering).

mod strict;

use std::collections::BTreeMap;
use std::path::Path;

use include_dir::{Dir, include_dir};

use crate::diag::{Diagnostic, Failure, Result};
use crate::lower::OutputFile;

static EMBEDDED: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/templates");

/// Where templates come from.
pub enum Templates<'a> {
    Embedded,
    Dir(&'a Path),
}

/// The loaded templates, parsed again for the names they read.
pub struct Engine {
    tera: tera::Tera,
    parsed: BTreeMap<String, strict::Template>,
    /// The directory of `--templates`, to name template files in errors.
    dir: Option<std::path::PathBuf>,
}

/// Loads the templates.
pub fn engine(source: Templates) -> Result<Engine> {
    let mut sources: Vec<(String, String)> = Vec::new();
    let dir = match source {
        Templates::Embedded => None,
        Templates::Dir(dir) => Some(dir.to_path_buf()),
    };
    match source {
        Templates::Embedded => collect_embedded(&EMBEDDED, &mut sources),
        Templates::Dir(dir) => {
            if !dir.is_dir() {
                return Err(Failure::one(
                    Diagnostic::new("the templates directory does not exist").at(dir.display().to_string()),
                ));
            }
            for entry in walkdir::WalkDir::new(dir).sort_by_file_name() {
                let entry = entry.map_err(|e| anyhow::anyhow!("reading {}: {e}", dir.display()))?;
                let path = entry.path();
                if entry.file_type().is_file() && path.extension().is_some_and(|x| x == "tera") {
                    let name = path
                        .strip_prefix(dir)
                        .expect("under dir")
                        .components()
                        .map(|c| c.as_os_str().to_string_lossy())
                        .collect::<Vec<_>>()
                        .join("/");
                    let text = std::fs::read_to_string(path).map_err(|e| {
                        Failure::one(
                            Diagnostic::new(format!("cannot read template: {e}")).at(path.display().to_string()),
                        )
                    })?;
                    sources.push((name, text));
                }
            }
        }
    }
    let mut tera = tera::Tera::new();
    tera.autoescape_on(Vec::<&str>::new());
    let mut parsed = BTreeMap::new();
    for (name, text) in &sources {
        tera.add_raw_template(name, text).map_err(|e| template_error(name, &e))?;
        parsed.insert(name.clone(), strict::parse(text));
    }
    Ok(Engine { tera, parsed, dir })
}

fn collect_embedded(dir: &Dir<'static>, out: &mut Vec<(String, String)>) {
    for file in dir.files() {
        if file.path().extension().is_some_and(|x| x == "tera") {
            let name = file.path().to_string_lossy().replace('\\', "/");
            out.push((name, file.contents_utf8().expect("templates are UTF-8").to_string()));
        }
    }
    for sub in dir.dirs() {
        collect_embedded(sub, out);
    }
}

/// What rendering one file gave.
enum Rendered {
    Text(String),
    Undefined(Vec<strict::Undefined>),
    Failed(Diagnostic),
}

/// Renders one output file: the strict-name check, then tera.
fn render_one(engine: &Engine, f: &OutputFile) -> Result<Rendered> {
    let undefined = strict::undefined(&engine.parsed, f.template, &f.view);
    if !undefined.is_empty() {
        return Ok(Rendered::Undefined(undefined));
    }
    // Copies of tera's values share their contents: the context costs a
    // reference per top-level name.
    let mut context = tera::Context::new();
    let names = f.view.as_map().ok_or_else(|| anyhow::anyhow!("view of {}: not a map", f.path))?;
    for (name, value) in names {
        let name = name.as_str().ok_or_else(|| anyhow::anyhow!("view of {}: a name that is not a string", f.path))?;
        context.insert_value(name.to_string(), value.clone());
    }
    Ok(match engine.tera.render(f.template, &context) {
        // Every file ends with exactly one line end, whatever the
        // whitespace control of the template's last tags left.
        Ok(text) => Rendered::Text(format!("{}\n", text.trim_end_matches('\n'))),
        Err(e) => Rendered::Failed(template_error(f.template, &e).note(format!("while rendering {}", f.path))),
    })
}

/// Renders every output file; the map is keyed and so sorted by path. The
/// files are rendered on every available core; the outcome (output and
/// diagnostics, in file order) does not depend on how many there are.
pub fn render(engine: &Engine, files: &[OutputFile]) -> Result<BTreeMap<String, String>> {
    let results: Vec<Result<Rendered>> = crate::parallel::map(files, |f| render_one(engine, f));
    let mut out = BTreeMap::new();
    let mut problems = Vec::new();
    // A partial shared by many files is reported once per place.
    let mut reported = std::collections::BTreeSet::new();
    for (f, result) in files.iter().zip(results) {
        match result? {
            Rendered::Text(text) => {
                if out.insert(f.path.clone(), text).is_some() {
                    return Err(anyhow::anyhow!("two outputs share the path {}", f.path).into());
                }
            }
            Rendered::Undefined(undefined) => {
                for u in undefined {
                    if reported.insert((u.template.clone(), u.line, u.path.clone())) {
                        problems.push(undefined_error(engine, &u, &f.path));
                    }
                }
            }
            Rendered::Failed(d) => problems.push(d),
        }
    }
    if problems.is_empty() { Ok(out) } else { Err(Failure::Input(problems)) }
}

/// An undefined name as a diagnostic: the template file and line, the
/// name, and the includes that led there.
fn undefined_error(engine: &Engine, u: &strict::Undefined, output: &str) -> Diagnostic {
    let file = |name: &str| match &engine.dir {
        Some(dir) => dir.join(name).display().to_string(),
        None => format!("templates/{name}"),
    };
    let mut d = Diagnostic::new(format!(
        "`{}` is not defined here (a condition or loop over it would silently drop output)",
        u.path
    ))
    .at(format!("{}:{}", file(&u.template), u.line))
    .element(format!("template `{}`", u.template));
    for (template, line) in u.included_from.iter().rev() {
        d = d.note(format!("included from {}:{line}", file(template)));
    }
    d.note(format!("while rendering {output}"))
}

/// A template error as a diagnostic: tera's message names the template and
/// the line; its causes are kept as notes.
fn template_error(name: &str, e: &tera::Error) -> Diagnostic {
    let text = e.to_string();
    let mut d = Diagnostic::new(text.trim_start_matches("error: ")).element(format!("template `{name}`"));
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        d = d.note(s.to_string());
        source = s.source();
    }
    d
}

#[cfg(test)]
mod tests {
    fn render_one(template: &str, view: serde_json::Value) -> std::result::Result<String, String> {
        let mut tera = tera::Tera::new();
        tera.autoescape_on(Vec::<&str>::new());
        tera.add_raw_template("t", template).map_err(|e| e.to_string())?;
        let ctx = tera::Context::from_serialize(&view).unwrap();
        tera.render("t", &ctx).map_err(|e| e.to_string())
    }

    #[test]
    fn undefined_is_an_error() {
        assert!(render_one("{{ missing }}", serde_json::json!({})).is_err());
        assert!(render_one("{{ a.missing }}", serde_json::json!({"a": {}})).is_err());
        assert!(render_one("{% for x in xs %}{{ x.missing }}{% endfor %}", serde_json::json!({"xs": [{}]})).is_err());
    }

    #[test]
    fn no_autoescape() {
        assert_eq!(render_one("{{ s }}", serde_json::json!({"s": "<&>\"'"})).unwrap(), "<&>\"'");
    }
}
