//! The two renderings of a diff: Markdown for a pull-request comment, and
//! JSON (the schema is in the README).

use std::collections::BTreeSet;

use serde::Serialize;

use super::{Change, Element, Kind, Report, Scope};

/// Counts of distinct elements per kind of change.
fn counts(report: &Report, element: Element) -> [usize; 3] {
    let mut out = [0; 3];
    for (i, kind) in [Kind::Added, Kind::Removed, Kind::Changed].into_iter().enumerate() {
        let distinct: BTreeSet<(&Scope, &str)> = report
            .changes
            .iter()
            .filter(|c| c.element == element && c.kind == kind)
            .map(|c| (&c.scope, c.name.as_str()))
            .collect();
        out[i] = distinct.len();
    }
    out
}

/// The Markdown report: a summary, then a table per service, message and
/// enum that changed.
pub fn markdown(report: &Report) -> String {
    let mut out = format!("## API changes against `{}`\n\n", report.against);
    if report.changes.is_empty() {
        out.push_str("No changes.\n");
        return out;
    }
    let breaking = report.breaking();
    let compatible = report.changes.len() - breaking;
    out.push_str(&format!("Breaking: **{breaking}**, compatible: {compatible}.\n\n"));
    out.push_str("| | added | removed | changed |\n|---|---:|---:|---:|\n");
    for element in Element::ALL {
        let [a, r, c] = counts(report, element);
        if a + r + c > 0 {
            out.push_str(&format!("| {} | {a} | {r} | {c} |\n", element.plural()));
        }
    }
    let mut scopes: Vec<&Scope> = Vec::new();
    for c in &report.changes {
        if !scopes.contains(&&c.scope) {
            scopes.push(&c.scope);
        }
    }
    for scope in scopes {
        let title = match scope {
            Scope::Service(n) => format!("Service `{n}`"),
            Scope::Message(n) => format!("Message `{n}`"),
            Scope::Enum(n) => format!("Enum `{n}`"),
            Scope::Tree => "Go imports".to_string(),
        };
        out.push_str(&format!(
            "\n### {title}\n\n| element | change | before | after | wire | source |\n|---|---|---|---|---|---|\n"
        ));
        for c in report.changes.iter().filter(|c| &c.scope == scope) {
            out.push_str(&row(c));
        }
    }
    out
}

fn row(c: &Change) -> String {
    let element = match c.element {
        Element::Service => "service".to_string(),
        Element::Rpc => format!("RPC `{}`", c.name),
        Element::Hook => format!("hook `{}`", c.name),
        Element::Message => "message".to_string(),
        Element::Field => format!("field `{}`", c.name),
        Element::Enum => "enum".to_string(),
        Element::EnumValue => format!("value `{}`", c.name),
        Element::GoImport => format!("`{}`", c.name),
    };
    let change =
        if c.aspect.is_empty() { c.kind.as_str().to_string() } else { format!("{} `{}`", c.kind.as_str(), c.aspect) };
    let impact = |i: super::Impact| match i {
        super::Impact::Breaking => "**breaking**".to_string(),
        other => other.as_str().to_string(),
    };
    format!(
        "| {element} | {change} | {} | {} | {} | {} |\n",
        code(&c.old),
        code(&c.new),
        impact(c.wire),
        impact(c.source)
    )
}

/// A table cell holding `text` as code.
fn code(text: &str) -> String {
    if text.is_empty() {
        return String::new();
    }
    let text = text.replace('\n', " ").replace('|', "\\|");
    if text.contains('`') { format!("`` {text} ``") } else { format!("`{text}`") }
}

#[derive(Serialize)]
struct JsonReport<'a> {
    against: &'a str,
    breaking: bool,
    summary: Summary,
    changes: Vec<JsonChange<'a>>,
}

#[derive(Serialize)]
struct Summary {
    breaking: usize,
    compatible: usize,
    counts: serde_json::Map<String, serde_json::Value>,
}

#[derive(Serialize)]
struct JsonChange<'a> {
    #[serde(flatten)]
    change: &'a Change,
    breaking: bool,
}

/// The JSON report.
pub fn json(report: &Report) -> String {
    let mut counts_map = serde_json::Map::new();
    for element in Element::ALL {
        let [added, removed, changed] = counts(report, element);
        counts_map.insert(
            element.as_str().to_string(),
            serde_json::json!({"added": added, "removed": removed, "changed": changed}),
        );
    }
    let breaking = report.breaking();
    let view = JsonReport {
        against: &report.against,
        breaking: breaking > 0,
        summary: Summary { breaking, compatible: report.changes.len() - breaking, counts: counts_map },
        changes: report.changes.iter().map(|c| JsonChange { change: c, breaking: c.breaking() }).collect(),
    };
    let mut text = serde_json::to_string_pretty(&view).expect("the report is plain data");
    text.push('\n');
    text
}
