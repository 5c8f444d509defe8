//! Diagnostics: user errors that name a place, and the exit codes.
//!
//! Every stage reports problems in the input as [`Diagnostic`]s; they are
//! collected into a [`Failure`] so that all problems of a run are shown at
//! once. Bugs in mm-bindgen itself are `anyhow` errors and are labelled as
//! internal when printed.

use std::fmt;

/// Exit codes follow diff(1).
pub const EXIT_OK: u8 = 0;
pub const EXIT_DIFFERENCES: u8 = 1;
pub const EXIT_TROUBLE: u8 = 2;

/// One problem in the input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// `path:line:col` (or just `path`) of the offending element, if known.
    pub place: Option<String>,
    /// The element, e.g. "field `pkg.Msg.name`".
    pub element: Option<String>,
    pub message: String,
    /// Extra lines shown under the message (a source excerpt, a hint).
    pub notes: Vec<String>,
}

impl Diagnostic {
    pub fn new(message: impl Into<String>) -> Self {
        Diagnostic { place: None, element: None, message: message.into(), notes: Vec::new() }
    }

    pub fn at(mut self, place: impl Into<String>) -> Self {
        self.place = Some(place.into());
        self
    }

    pub fn element(mut self, element: impl Into<String>) -> Self {
        self.element = Some(element.into());
        self
    }

    pub fn note(mut self, note: impl Into<String>) -> Self {
        self.notes.push(note.into());
        self
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "error: ")?;
        if let Some(place) = &self.place {
            write!(f, "{place}: ")?;
        }
        if let Some(element) = &self.element {
            write!(f, "{element}: ")?;
        }
        write!(f, "{}", self.message)?;
        for note in &self.notes {
            write!(f, "\n  {note}")?;
        }
        Ok(())
    }
}

/// Why a command did not succeed.
#[derive(Debug)]
pub enum Failure {
    /// Problems in the input (proto files, options, templates, configuration).
    Input(Vec<Diagnostic>),
    /// A bug or an environment problem (I/O).
    Internal(anyhow::Error),
    /// A write into the output directory failed and could not be fully
    /// undone; the diagnostic says which file is in which state.
    Partial(Diagnostic),
}

impl Failure {
    pub fn one(d: Diagnostic) -> Self {
        Failure::Input(vec![d])
    }
}

impl From<anyhow::Error> for Failure {
    fn from(e: anyhow::Error) -> Self {
        Failure::Internal(e)
    }
}

impl From<Diagnostic> for Failure {
    fn from(d: Diagnostic) -> Self {
        Failure::one(d)
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Input(ds) => {
                for d in ds {
                    writeln!(f, "{d}")?;
                }
                let n = ds.len();
                write!(f, "{n} error{} found; nothing was written", if n == 1 { "" } else { "s" })
            }
            Failure::Internal(e) => write!(f, "internal error: {e:#}"),
            Failure::Partial(d) => write!(f, "{d}\n{PARTIAL_NOTE}"),
        }
    }
}

/// What a `Failure::Partial` adds to its diagnostic.
const PARTIAL_NOTE: &str =
    "the output directory is partly updated; fix the problem and run `mm-bindgen generate` again";

pub type Result<T> = std::result::Result<T, Failure>;

/// How diagnostics are printed (`--error-format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum ErrorFormat {
    /// `error: file:line:col: element: message`, with notes below.
    #[default]
    Human,
    /// GitHub Actions workflow commands (`::error file=…,line=…,col=…::…`),
    /// which the runner turns into annotations on the pull request.
    Github,
    /// One JSON object per line: `severity`, `file`, `line`, `column`,
    /// `element`, `message`, `notes`.
    Json,
}

/// A place split into its parts; `line` and `column` are 0 when unknown.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Place {
    pub file: String,
    pub line: u32,
    pub column: u32,
}

impl Place {
    /// Splits `path:line:col`, `path:line` or `path`.
    pub fn parse(place: &str) -> Place {
        let mut parts = place.rsplitn(3, ':');
        let last = parts.next().unwrap_or_default();
        let middle = parts.next();
        let rest = parts.next();
        match (rest, middle.and_then(|m| m.parse().ok()), last.parse::<u32>().ok()) {
            (Some(file), Some(line), Some(column)) => Place { file: file.to_string(), line, column },
            (_, _, Some(line)) if middle.is_some() => {
                let file = place[..place.len() - last.len() - 1].to_string();
                Place { file, line, column: 0 }
            }
            _ => Place { file: place.to_string(), line: 0, column: 0 },
        }
    }
}

/// One workflow command: `::error file=F,line=L,col=C,title=T::message`.
/// Empty properties are left out.
pub fn github_command(level: &str, place: &Place, title: &str, message: &str) -> String {
    let escape_data = |s: &str| s.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A");
    let escape_property = |s: &str| escape_data(s).replace(':', "%3A").replace(',', "%2C");
    let mut props = Vec::new();
    if !place.file.is_empty() {
        props.push(format!("file={}", escape_property(&place.file)));
    }
    if place.line > 0 {
        props.push(format!("line={}", place.line));
    }
    if place.column > 0 {
        props.push(format!("col={}", place.column));
    }
    if !title.is_empty() {
        props.push(format!("title={}", escape_property(title)));
    }
    let props = if props.is_empty() { String::new() } else { format!(" {}", props.join(",")) };
    format!("::{level}{props}::{}", escape_data(message))
}

/// One JSON line: `severity`, `file`, `line`, `column`, `element`,
/// `message`, `notes` (file and element empty, line and column 0 when
/// unknown).
pub fn json_line(severity: &str, place: &Place, element: &str, message: &str, notes: &[String]) -> String {
    serde_json::json!({
        "severity": severity,
        "file": place.file,
        "line": place.line,
        "column": place.column,
        "element": element,
        "message": message,
        "notes": notes,
    })
    .to_string()
}

impl Diagnostic {
    /// The diagnostic in the given format (without a final line end).
    pub fn render(&self, format: ErrorFormat) -> String {
        let place = self.place.as_deref().map(Place::parse).unwrap_or_default();
        let element = self.element.as_deref().unwrap_or_default();
        match format {
            ErrorFormat::Human => self.to_string(),
            ErrorFormat::Github => {
                let mut message = self.message.clone();
                for note in &self.notes {
                    message.push('\n');
                    message.push_str(note);
                }
                github_command("error", &place, element, &message)
            }
            ErrorFormat::Json => json_line("error", &place, element, &self.message, &self.notes),
        }
    }
}

impl Failure {
    /// The failure in the given format (without a final line end). The human
    /// format is the `Display` text; the others put one diagnostic per line,
    /// and an internal error is a diagnostic without a place.
    pub fn render(&self, format: ErrorFormat) -> String {
        match (format, self) {
            (ErrorFormat::Human, _) => self.to_string(),
            (_, Failure::Input(ds)) => ds.iter().map(|d| d.render(format)).collect::<Vec<_>>().join("\n"),
            (_, Failure::Partial(d)) => {
                let mut d = d.clone();
                d.notes.push(PARTIAL_NOTE.to_string());
                d.render(format)
            }
            (ErrorFormat::Github, Failure::Internal(e)) => {
                github_command("error", &Place::default(), "internal error", &format!("{e:#}"))
            }
            (ErrorFormat::Json, Failure::Internal(e)) => {
                json_line("error", &Place::default(), "internal error", &format!("{e:#}"), &[])
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn places_split_into_file_line_and_column() {
        let p = |file: &str, line, column| Place { file: file.into(), line, column };
        assert_eq!(Place::parse("proto/a.proto:12:3"), p("proto/a.proto", 12, 3));
        assert_eq!(Place::parse("mm-bindgen.toml:4"), p("mm-bindgen.toml", 4, 0));
        assert_eq!(Place::parse("proto"), p("proto", 0, 0));
        assert_eq!(Place::parse("C:/x/a.proto:1:2"), p("C:/x/a.proto", 1, 2));
    }

    #[test]
    fn diagnostics_render_as_workflow_commands_and_json_lines() {
        let d = Diagnostic::new("unknown type `Foo`, 100%").at("p/a.proto:3:9").element("field `x.Y.z`").note("hint");
        assert_eq!(
            d.render(ErrorFormat::Github),
            "::error file=p/a.proto,line=3,col=9,title=field `x.Y.z`::unknown type `Foo`, 100%25%0Ahint"
        );
        let v: serde_json::Value = serde_json::from_str(&d.render(ErrorFormat::Json)).unwrap();
        assert_eq!(v["file"], "p/a.proto");
        assert_eq!(v["line"], 3);
        assert_eq!(v["column"], 9);
        assert_eq!(v["element"], "field `x.Y.z`");
        assert_eq!(v["notes"][0], "hint");
        assert_eq!(d.render(ErrorFormat::Human), d.to_string());
    }
}
