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
            Failure::Partial(d) => {
                write!(
                    f,
                    "{d}\nthe output directory is partly updated; fix the problem and run `mm-bindgen generate` again"
                )
            }
        }
    }
}

pub type Result<T> = std::result::Result<T, Failure>;
