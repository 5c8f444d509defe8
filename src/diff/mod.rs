//! `mm-bindgen diff`: the API change between two proto trees.
//!
//! Both trees are loaded, built and validated like `generate` does, and the
//! two models are compared element by element: services and their RPCs or
//! hooks, messages and their fields, enums and their values, reserved names
//! and numbers, and every option that decides the generated source. Each
//! change is classified twice: on the wire (what an old peer still
//! understands) and in the generated source (the Go and Python signatures,
//! the converters, the hooks client's answers, the documented contract).

mod compare;
mod report;
mod revision;

use serde::Serialize;

pub use compare::compare;
pub use report::{json, markdown};
pub use revision::{OldTree, resolve};

/// What happened to an element.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Added,
    Removed,
    Changed,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Added => "added",
            Kind::Removed => "removed",
            Kind::Changed => "changed",
        }
    }
}

/// The kind of element a change is about.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum Element {
    Service,
    Rpc,
    Hook,
    Message,
    Field,
    Enum,
    EnumValue,
    GoImport,
}

impl Element {
    pub const ALL: [Element; 8] = [
        Element::Service,
        Element::Rpc,
        Element::Hook,
        Element::Message,
        Element::Field,
        Element::Enum,
        Element::EnumValue,
        Element::GoImport,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Element::Service => "service",
            Element::Rpc => "rpc",
            Element::Hook => "hook",
            Element::Message => "message",
            Element::Field => "field",
            Element::Enum => "enum",
            Element::EnumValue => "enum_value",
            Element::GoImport => "go_import",
        }
    }

    /// The plural used in the summary table.
    pub fn plural(self) -> &'static str {
        match self {
            Element::Service => "services",
            Element::Rpc => "RPCs",
            Element::Hook => "hooks",
            Element::Message => "messages",
            Element::Field => "fields",
            Element::Enum => "enums",
            Element::EnumValue => "enum values",
            Element::GoImport => "Go imports",
        }
    }
}

/// Whether a change breaks those who depend on the old state.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Impact {
    /// Nothing changes here.
    None,
    Compatible,
    Breaking,
}

impl Impact {
    pub fn as_str(self) -> &'static str {
        match self {
            Impact::None => "none",
            Impact::Compatible => "compatible",
            Impact::Breaking => "breaking",
        }
    }
}

/// Where a change is reported: under a service, a message, an enum, or the
/// tree as a whole (Go imports).
#[derive(Debug, Clone, Serialize, PartialEq, Eq, PartialOrd, Ord)]
#[serde(tag = "kind", content = "name", rename_all = "snake_case")]
pub enum Scope {
    Service(String),
    Message(String),
    Enum(String),
    Tree,
}

/// One change.
#[derive(Debug, Clone, Serialize)]
pub struct Change {
    pub scope: Scope,
    pub element: Element,
    /// The element's name: full name for services, messages and enums; the
    /// short name for RPCs, hooks, fields and enum values (their scope says
    /// where); the alias for Go imports.
    pub name: String,
    pub kind: Kind,
    /// For `changed`: which property changed (e.g. `type`, `go_signature`,
    /// `min_server_version`); empty otherwise.
    pub aspect: String,
    /// The old and the new value of the property, as text; empty when there
    /// is none (an added or removed element).
    pub old: String,
    pub new: String,
    pub wire: Impact,
    pub source: Impact,
    /// Where the element is declared in the new tree (`file:line`, relative
    /// to the proto root); empty for removed elements.
    pub at: String,
    #[serde(skip)]
    pub line: u32,
}

impl Change {
    pub fn breaking(&self) -> bool {
        self.wire == Impact::Breaking || self.source == Impact::Breaking
    }
}

/// The result of a comparison.
#[derive(Debug, Clone)]
pub struct Report {
    /// How the old tree was named on the command line.
    pub against: String,
    pub changes: Vec<Change>,
}

impl Report {
    pub fn breaking(&self) -> usize {
        self.changes.iter().filter(|c| c.breaking()).count()
    }
}
