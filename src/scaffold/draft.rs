//! Drafting proto declarations for a Go method: Go types to proto fields
//! under the conventions of `options.proto`, and the text of the RPC and its
//! request and response messages.

use std::collections::{BTreeSet, HashMap};

use heck::{ToLowerCamelCase, ToSnakeCase};

use super::goapi::{GoMethod, GoParam};
use crate::model::{Cardinality, Model, TypeRef};

/// What the drafts may refer to.
pub struct Types {
    /// The package of the file the drafts go into.
    pub package: String,
    /// Messages and enums by Go type (`model.User`): full name and file.
    messages: HashMap<String, (String, String)>,
    enums: HashMap<String, (String, String)>,
    /// Messages that wrap a list of one scalar (`map<string, StringList>`
    /// stands for `map[string][]string`): their files, by full name.
    wrappers: HashMap<String, String>,
    /// Named Go types of the model package with a basic underlying type.
    named: HashMap<String, String>,
}

impl Types {
    pub fn new(model: &Model, package: &str, named: HashMap<String, String>) -> Self {
        let mut messages = HashMap::new();
        let mut wrappers = HashMap::new();
        for m in &model.messages {
            if let Some(g) = &m.go_type {
                messages.entry(g.clone()).or_insert((m.full_name.clone(), m.file.clone()));
            } else if let [f] = m.fields.as_slice()
                && f.cardinality == Cardinality::Repeated
                && matches!(f.ty, TypeRef::Scalar(_))
            {
                wrappers.insert(m.full_name.clone(), m.file.clone());
            }
        }
        let enums = model
            .enums
            .iter()
            .filter_map(|e| e.go_type.clone().map(|g| (g, (e.full_name.clone(), e.file.clone()))))
            .collect();
        Types { package: package.to_string(), messages, enums, wrappers, named }
    }
}

/// A drafted field.
#[derive(Debug, Clone)]
pub struct FieldDraft {
    /// `repeated `, `optional ` or empty.
    pub label: &'static str,
    /// The proto type as written (`string`, `User`, `map<string, bool>`).
    pub ty: String,
    /// The `go_type` option, when the default is not the Go type.
    pub go_type: Option<String>,
    /// The field carries an `io.Reader`: the request is a client stream.
    pub stream: bool,
}

/// The drafts of one method, and what else they need.
#[derive(Debug, Default)]
pub struct Drafted {
    pub rpc: String,
    pub messages: String,
    /// Proto files the drafts refer to.
    pub imports: BTreeSet<String>,
    /// List wrapper messages to add (name, text), shared by all drafts.
    pub wrappers: Vec<(String, String)>,
}

const SCALARS: [(&str, &str); 8] = [
    ("string", "string"),
    ("bool", "bool"),
    ("int32", "int32"),
    ("int64", "int64"),
    ("uint32", "uint32"),
    ("uint64", "uint64"),
    ("float64", "double"),
    ("float32", "float"),
];

fn scalar(go: &str) -> Option<&'static str> {
    SCALARS.iter().find(|(g, _)| *g == go).map(|(_, p)| *p)
}

impl Types {
    /// The proto name to write for a full name.
    fn reference(&self, full: &str) -> String {
        match full.strip_prefix(&format!("{}.", self.package)) {
            Some(short) => short.to_string(),
            None => full.to_string(),
        }
    }

    /// A proto field for a Go type, or why there is none.
    fn field(&self, go: &str, d: &mut Drafted) -> Result<FieldDraft, String> {
        let plain = |ty: &str| FieldDraft { label: "", ty: ty.to_string(), go_type: None, stream: false };
        let typed = |label, ty: String, go_type: &str| FieldDraft {
            label,
            ty,
            go_type: Some(go_type.to_string()),
            stream: false,
        };
        if let Some(p) = scalar(go) {
            return Ok(plain(p));
        }
        match go {
            "int" => return Ok(typed("", "int64".into(), "int")),
            "[]byte" => return Ok(plain("bytes")),
            "any" => {
                d.imports.insert("google/protobuf/struct.proto".into());
                return Ok(plain("google.protobuf.Value"));
            }
            "map[string]any" => {
                d.imports.insert("google/protobuf/struct.proto".into());
                return Ok(plain("google.protobuf.Struct"));
            }
            "...any" => {
                d.imports.insert("google/protobuf/struct.proto".into());
                return Ok(typed("repeated ", "google.protobuf.Value".into(), go));
            }
            "io.Reader" => return Ok(FieldDraft { stream: true, ..typed("", "bytes".into(), go) }),
            "map[string]string" => return Ok(plain("map<string, string>")),
            _ => {}
        }
        if let Some(inner) = go.strip_prefix('*') {
            if let Some((full, file)) = self.messages.get(inner) {
                d.imports.insert(file.clone());
                return Ok(plain(&self.reference(full)));
            }
            if let Some(p) = scalar(inner) {
                return Ok(FieldDraft { label: "optional ", ..plain(p) });
            }
            return Err(format!("`{go}`: no message has go_type `{inner}`"));
        }
        if let Some((full, file)) = self.messages.get(go) {
            d.imports.insert(file.clone());
            return Ok(typed("", self.reference(full), go));
        }
        if let Some((full, file)) = self.enums.get(go) {
            d.imports.insert(file.clone());
            return Ok(plain(&self.reference(full)));
        }
        if let Some(p) = go.strip_prefix("model.").and_then(|n| self.named.get(n)).and_then(|u| scalar(u)) {
            return Ok(typed("", p.into(), go));
        }
        if let Some(elem) = go.strip_prefix("[]") {
            let f = self.field(elem, d)?;
            if !f.label.is_empty() || f.ty.starts_with("map<") || f.stream || f.ty == "bytes" && elem != "[]byte" {
                return Err(format!("`{go}`: a list of `{elem}` has no proto field"));
            }
            return Ok(FieldDraft { label: "repeated ", go_type: f.go_type.map(|_| go.to_string()), ..f });
        }
        if let Some(value) = go.strip_prefix("map[string]") {
            if let Some(elem) = value.strip_prefix("[]")
                && let Some(p) = scalar(elem)
            {
                use heck::ToUpperCamelCase;
                let name = format!("{}List", p.to_upper_camel_case());
                let full = format!("{}.{name}", self.package);
                match self.wrappers.get(&full) {
                    Some(file) => {
                        d.imports.insert(file.clone());
                    }
                    None if !d.wrappers.iter().any(|(n, _)| *n == name) => {
                        let text = format!(
                            "// A list of {p} values: a map value standing for a Go `[]{elem}`.\nmessage {name} {{\n  // The values, in order.\n  repeated {p} values = 1;\n}}\n"
                        );
                        d.wrappers.push((name.clone(), text));
                    }
                    None => {}
                }
                let wrapper = name;
                return Ok(typed("", format!("map<string, {wrapper}>"), go));
            }
            let f = self.field(value, d)?;
            if !f.label.is_empty() || f.ty.starts_with("map<") || f.stream {
                return Err(format!("`{go}`: a map of `{value}` has no proto field"));
            }
            return Ok(typed("", format!("map<string, {}>", f.ty), go));
        }
        Err(format!("`{go}`: no proto type for this Go type"))
    }

    /// The RPC and its messages for a Go method; `hook` for a method of the
    /// hooks service, which also gets drafted fallbacks.
    pub fn method(&self, m: &GoMethod, hook: bool, d: &mut Drafted) -> Result<(), String> {
        let facts = Facts::read(&m.doc);
        let mut request = Vec::new();
        let mut stream = false;
        let mut names = BTreeSet::new();
        for p in &m.params {
            if matches!(p.ty.as_str(), "io.Writer" | "http.ResponseWriter" | "*http.Request") {
                return Err(format!(
                    "parameter `{} {}`: draft it by hand (see the HTTP and writer conventions)",
                    p.name, p.ty
                ));
            }
            let f = self.field(&p.ty, d).map_err(|e| format!("parameter `{}`: {e}", p.name))?;
            stream |= f.stream;
            request.push(field_line(p, &f, request.len() + 1, &mut names, "parameter"));
        }
        let mut response = Vec::new();
        let (values, error) = match m.results.last() {
            Some(last) if last.ty == "error" || last.ty == "*model.AppError" => {
                (&m.results[..m.results.len() - 1], Some(last))
            }
            _ => (&m.results[..], None),
        };
        if let Some(e) = error {
            let (full, file) = self.messages.get("model.AppError").ok_or("no message has go_type `model.AppError`")?;
            d.imports.insert(file.clone());
            let go_type = if e.ty == "error" { " [(mmbindgen.v1.field).go_type = \"error\"]" } else { "" };
            response.push(format!(
                "  // Unset on success; otherwise the application error.\n  {} error = 1{go_type};",
                self.reference(full)
            ));
        }
        let mut names = BTreeSet::from(["error".to_string()]);
        for (i, r) in values.iter().enumerate() {
            let f = self.field(&r.ty, d).map_err(|e| format!("result {}: {e}", i + 1))?;
            if f.stream {
                return Err(format!("result {}: an `io.Reader` result has no convention", i + 1));
            }
            response.push(field_line(r, &f, i + 2, &mut names, "result"));
        }
        let doc = comment(&facts.text, "  ");
        let mut options = vec![];
        if !facts.min_server_version.is_empty() {
            options.push(format!("min_server_version: \"{}\"", facts.min_server_version));
        }
        if !facts.tags.is_empty() {
            let tags: Vec<String> = facts.tags.iter().map(|t| format!("\"{t}\"")).collect();
            options.push(format!("tags: [{}]", tags.join(", ")));
        }
        if !facts.deprecated.is_empty() {
            options.push(format!("deprecated: \"{}\"", facts.deprecated.replace('\\', "\\\\").replace('"', "\\\"")));
        }
        if facts.experimental {
            options.push("experimental: true".into());
        }
        if hook {
            let fallback = fallback(m);
            for case in ["not_implemented", "unavailable"] {
                options.push(format!("{case}: {fallback}"));
            }
        }
        let body = match options.len() {
            0 => ";".to_string(),
            1 | 2 if !hook => format!(" {{\n    option (mmbindgen.v1.method) = {{{}}};\n  }}", options.join(" ")),
            _ => {
                format!(" {{\n    option (mmbindgen.v1.method) = {{\n      {}\n    }};\n  }}", options.join("\n      "))
            }
        };
        let name = &m.name;
        let req_stream = if stream { "stream " } else { "" };
        d.rpc.push_str(&format!("\n{doc}  rpc {name}({req_stream}{name}Request) returns ({name}Response){body}\n"));
        let req_doc = if stream {
            format!(
                "// One message of the client stream of {name}: the `io.Reader` arrives in chunks of at most 64 KiB,\n// the other fields in the first message only."
            )
        } else {
            format!("// The parameters of {name}.")
        };
        let block = |lines: &[String]| {
            if lines.is_empty() { "{}".to_string() } else { format!("{{\n{}\n}}", lines.join("\n\n")) }
        };
        d.messages.push_str(&format!(
            "\n{req_doc}\nmessage {name}Request {}\n\n// The results of {name}.\nmessage {name}Response {}\n",
            block(&request),
            block(&response)
        ));
        Ok(())
    }
}

/// The neutral answer for a drafted hook: the parameter of the first
/// result's type returned unchanged, else zero values. The reason says that
/// a person has to confirm it.
fn fallback(m: &GoMethod) -> String {
    let echo = m.results.first().and_then(|r| m.params.iter().find(|p| p.ty == r.ty && r.ty.contains('.')));
    match echo {
        Some(p) => format!(
            "{{echo: \"{}\" reason: \"Drafted by mm-bindgen scaffold: `{}` is returned unchanged. Confirm it against design/hook-policy.md.\"}}",
            p.name.to_snake_case(),
            p.name
        ),
        None => "{reason: \"Drafted by mm-bindgen scaffold: zero values, no error. Confirm it against design/hook-policy.md.\"}".to_string(),
    }
}

/// One field declaration with its comment.
fn field_line(p: &GoParam, f: &FieldDraft, number: usize, names: &mut BTreeSet<String>, role: &str) -> String {
    // Go does not always name results; the proto field then takes a name
    // from the type, and the Go name follows from it.
    let mut name = if p.name.is_empty() { result_name(&p.ty) } else { p.name.to_snake_case() };
    while !names.insert(name.clone()) {
        name.push('_');
    }
    let mut options = Vec::new();
    if !p.name.is_empty() && name.to_lower_camel_case() != p.name {
        options.push(format!("go_name: \"{}\"", p.name));
    }
    if let Some(g) = &f.go_type {
        options.push(format!("go_type: \"{g}\""));
    }
    let options = match options.len() {
        0 => String::new(),
        1 => format!(" [(mmbindgen.v1.field).{}]", options[0].replacen(": ", " = ", 1)),
        _ => format!(" [(mmbindgen.v1.field) = {{{}}}]", options.join(" ")),
    };
    let what = if p.name.is_empty() {
        format!("The Go {role} `{}`.", p.ty)
    } else {
        format!("The Go {role} `{} {}`.", p.name, p.ty)
    };
    format!("  // {what}\n  {}{} {name} = {number}{options};", f.label, f.ty)
}

/// A name for an unnamed result, from its type: `*model.FileInfo` is
/// `file_info`, `[]*model.User` is `users`, a basic type is `value`.
fn result_name(ty: &str) -> String {
    let list = ty.starts_with("[]");
    let base = ty.trim_start_matches(['[', ']', '*']);
    match base.split_once('.') {
        Some((_, name)) if name.starts_with(|c: char| c.is_ascii_uppercase()) => {
            let snake = name.to_snake_case();
            if list { format!("{snake}s") } else { snake }
        }
        _ => "value".to_string(),
    }
}

/// A proto comment block for `text`, each line prefixed with `indent`.
fn comment(text: &str, indent: &str) -> String {
    let text = text.trim();
    if text.is_empty() {
        return String::new();
    }
    text.lines().map(|l| if l.is_empty() { format!("{indent}//\n") } else { format!("{indent}// {l}\n") }).collect()
}

/// The facts the method options restate from a Go doc comment, and the
/// comment without them.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Facts {
    pub min_server_version: String,
    pub tags: Vec<String>,
    pub deprecated: String,
    pub experimental: bool,
    pub text: String,
}

impl Facts {
    pub fn read(doc: &str) -> Facts {
        let mut f = Facts { experimental: doc.contains("EXPERIMENTAL"), ..Facts::default() };
        let mut kept = Vec::new();
        for line in doc.lines() {
            let t = line.trim();
            if let Some(v) = t.strip_prefix("Minimum server version:") {
                if f.min_server_version.is_empty() {
                    f.min_server_version = v.trim().trim_end_matches('.').to_string();
                }
            } else if let Some(tag) = t.strip_prefix("@tag ") {
                f.tags.push(tag.trim().to_string());
            } else {
                kept.push(line);
            }
        }
        for para in doc.split("\n\n") {
            if let Some(rest) = para.trim().strip_prefix("Deprecated:") {
                let words: Vec<&str> = rest.split_whitespace().collect();
                f.deprecated = if words.is_empty() { "Deprecated:".into() } else { words.join(" ") };
                break;
            }
        }
        let mut text = kept.join("\n");
        while text.contains("\n\n\n") {
            text = text.replace("\n\n\n", "\n\n");
        }
        f.text = text.trim().to_string();
        f
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doc_facts() {
        let f = Facts::read(
            "Gets a thing.\n\n@tag User\n@tag Team\nMinimum server version: 9.5.\n\nDeprecated: use Other\ninstead.",
        );
        assert_eq!(f.min_server_version, "9.5");
        assert_eq!(f.tags, ["User", "Team"]);
        assert_eq!(f.deprecated, "use Other instead.");
        assert!(!f.experimental);
        assert_eq!(f.text, "Gets a thing.\n\nDeprecated: use Other\ninstead.");
    }

    #[test]
    fn result_names() {
        assert_eq!(result_name("*model.FileInfo"), "file_info");
        assert_eq!(result_name("[]*model.User"), "users");
        assert_eq!(result_name("bool"), "value");
    }
}
