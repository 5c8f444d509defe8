//! Views of the model converters: one file per proto file that declares
//! model messages, one `ToProto` / `FromProto` pair per message.

use serde::Serialize;

use super::conv::{PB, field_conv};
use super::imports::{ImportBlock, Imports};
use super::names::go_camel_case;
use crate::config::GoHome;
use crate::diag::Diagnostic;
use crate::model::{Message, Model};

#[derive(Serialize)]
pub struct ConvertersView {
    pub imports: ImportBlock,
    pub messages: Vec<MessageConv>,
}

#[derive(Serialize)]
pub struct MessageConv {
    /// The converter name, e.g. `Post`.
    pub name: String,
    /// The Go model type, e.g. `model.Post`.
    pub go_type: String,
    /// The message type, e.g. `pluginpb.Post`.
    pub pb_type: String,
    /// The value travels as JSON.
    pub json: bool,
    /// Assignments `p.X = ...` from `v`.
    pub to_proto: Vec<String>,
    /// Assignments `v.X = ...` from `p`.
    pub from_proto: Vec<String>,
}

/// Whether a message gets generated converters: it mirrors a Go type and
/// maps no unexported field (those are converted by runtime code).
pub fn generated(m: &Message) -> bool {
    m.go_type.is_some() && !m.fields.iter().any(|f| f.go_name.starts_with(|c: char| c.is_ascii_lowercase()))
}

/// The converters of the model messages declared in `file`; `None` if there are none.
pub fn converters(model: &Model, home: &GoHome, file: &str) -> Result<Option<ConvertersView>, Vec<Diagnostic>> {
    let mut imports = Imports::default();
    let mut messages = Vec::new();
    let mut problems = Vec::new();
    for m in model.messages.iter().filter(|m| m.file == file && generated(m)) {
        let go_type = m.go_type.clone().expect("generated() checks go_type");
        if let Some(ty) = &m.go {
            imports.add_type(ty);
        }
        imports.add((PB, &home.messages));
        let mut to_proto = Vec::new();
        let mut from_proto = Vec::new();
        if !m.json {
            for f in &m.fields {
                let pb_field = go_camel_case(&f.name);
                match field_conv(f, model) {
                    Ok(conv) => {
                        for t in &conv.types {
                            imports.add_type(t);
                        }
                        to_proto.push(format!("p.{pb_field} = {}", conv.encode(&format!("v.{}", f.go_name), "c")));
                        from_proto.push(format!("v.{} = {}", f.go_name, conv.decode(&format!("p.{pb_field}"), "c")));
                    }
                    Err(why) => problems.push(model.diagnostic(
                        &f.location,
                        format!("field `{}.{}`", m.full_name, f.name),
                        format!("the Go target cannot convert this field: {why}"),
                    )),
                }
            }
        }
        messages.push(MessageConv {
            name: m.name.clone(),
            go_type,
            pb_type: format!("{PB}.{}", go_camel_case(&m.name)),
            json: m.json,
            to_proto,
            from_proto,
        });
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    if messages.is_empty() {
        return Ok(None);
    }
    let imports = imports.block().map_err(|e| vec![Diagnostic::new(e).element(format!("Go converters of {file}"))])?;
    Ok(Some(ConvertersView { imports, messages }))
}
