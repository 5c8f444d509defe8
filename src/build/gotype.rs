//! Go names and types of fields, and Go signatures of methods, under the
//! conventions documented at the top of `options.proto`.
//!
//! This is the one place where those conventions live: the Go target uses
//! the resolved values, and the parity gate checks them against the real Go
//! interfaces through `list --json`.

use std::collections::HashMap;

use heck::{ToLowerCamelCase, ToUpperCamelCase};

use crate::model::{Cardinality, Field, GoImport, GoSignature, GoType, GoValue, Message, Role, TypeRef};

/// What the defaults need to know about other types: the `go_type` of every
/// message and enum, by full name.
pub struct GoTypes<'a> {
    pub messages: HashMap<&'a str, &'a str>,
    pub enums: HashMap<&'a str, &'a str>,
}

/// The default Go name of a field: UpperCamelCase for struct fields (messages
/// that mirror a Go type), lowerCamelCase for parameters and results.
pub fn default_go_name(field_name: &str, in_model_message: bool) -> String {
    if in_model_message { field_name.to_upper_camel_case() } else { field_name.to_lower_camel_case() }
}

/// The default Go type of a field; empty when it has none.
pub fn default_go_type(field: &Field, types: &GoTypes) -> String {
    let elem = element(&field.ty, types);
    if elem.is_empty() {
        return String::new();
    }
    match field.cardinality {
        Cardinality::Repeated => format!("[]{elem}"),
        Cardinality::Map => {
            let key = field.map_key.as_ref().map(|k| element(k, types)).unwrap_or_default();
            format!("map[{key}]{elem}")
        }
        Cardinality::Optional => match &field.ty {
            TypeRef::Scalar(s) if s != "bytes" => format!("*{elem}"),
            _ => elem,
        },
        Cardinality::Singular => elem,
    }
}

/// The Go type of one value of a proto type.
fn element(ty: &TypeRef, types: &GoTypes) -> String {
    match ty {
        TypeRef::Scalar(s) => scalar(s).to_string(),
        TypeRef::Message(name) => match name.as_str() {
            "google.protobuf.Struct" => "map[string]any".to_string(),
            "google.protobuf.Value" => "any".to_string(),
            "google.protobuf.ListValue" => "[]any".to_string(),
            _ => types.messages.get(name.as_str()).map(|t| format!("*{t}")).unwrap_or_default(),
        },
        TypeRef::Enum(name) => types.enums.get(name.as_str()).map(|t| t.to_string()).unwrap_or_default(),
    }
}

/// The Go type of a proto scalar, as protoc-gen-go declares it (empty for a
/// non-scalar name).
pub fn scalar(s: &str) -> &'static str {
    match s {
        "string" => "string",
        "bool" => "bool",
        "bytes" => "[]byte",
        "double" => "float64",
        "float" => "float32",
        "int32" | "sint32" | "sfixed32" => "int32",
        "int64" | "sint64" | "sfixed64" => "int64",
        "uint32" | "fixed32" => "uint32",
        "uint64" | "fixed64" => "uint64",
        _ => "",
    }
}

/// The Go signature an RPC stands for: parameters are the request fields in
/// order, with response fields marked `go_param` put at their positions;
/// results are the other response fields from number 2 in number order, then
/// field 1 (the error) when present.
pub fn signature(request: &Message, response: &Message) -> GoSignature {
    let value = |f: &Field, role: Role| GoValue {
        name: f.go_name.clone(),
        go_type: f.go_type.clone(),
        role,
        field: f.name.clone(),
        ty: f.go.clone(),
    };
    let mut params: Vec<GoValue> = request.fields.iter().map(|f| value(f, Role::Param)).collect();
    let mut outputs: Vec<&Field> = response.fields.iter().filter(|f| f.go_param > 0).collect();
    outputs.sort_by_key(|f| f.go_param);
    for f in outputs {
        let at = (f.go_param as usize - 1).min(params.len());
        params.insert(at, value(f, Role::Output));
    }
    let mut results: Vec<&Field> = response.fields.iter().filter(|f| f.go_param == 0 && f.number != 1).collect();
    results.sort_by_key(|f| f.number);
    let mut results: Vec<GoValue> = results.into_iter().map(|f| value(f, Role::Result)).collect();
    if let Some(error) = response.fields.iter().find(|f| f.number == 1 && f.go_param == 0) {
        results.push(value(error, Role::Error));
    }
    GoSignature { params, results }
}

/// The predeclared Go types a `go_type` may name.
const BUILTINS: &[&str] = &[
    "any",
    "bool",
    "byte",
    "complex128",
    "complex64",
    "error",
    "float32",
    "float64",
    "int",
    "int16",
    "int32",
    "int64",
    "int8",
    "rune",
    "string",
    "uint",
    "uint16",
    "uint32",
    "uint64",
    "uint8",
    "uintptr",
];

/// Parses a Go type expression (`map[string]*model.Post`, `...any`): the
/// qualifiers must be aliases that `imports` declares.
pub fn parse(text: &str, imports: &[GoImport]) -> Result<GoType, String> {
    let mut rest = text;
    let ty = parse_type(&mut rest, imports, true)?;
    if !rest.is_empty() {
        return Err(format!("unexpected `{rest}` after a type"));
    }
    Ok(ty)
}

fn parse_type(rest: &mut &str, imports: &[GoImport], top: bool) -> Result<GoType, String> {
    let boxed = |rest: &mut &str| parse_type(rest, imports, false).map(Box::new);
    if let Some(r) = rest.strip_prefix("...") {
        if !top {
            return Err("`...` can only start a type".into());
        }
        *rest = r;
        return Ok(GoType::Variadic(boxed(rest)?));
    }
    if let Some(r) = rest.strip_prefix('*') {
        *rest = r;
        return Ok(GoType::Pointer(boxed(rest)?));
    }
    if let Some(r) = rest.strip_prefix("[]") {
        *rest = r;
        return Ok(GoType::Slice(boxed(rest)?));
    }
    if let Some(r) = rest.strip_prefix("map[") {
        *rest = r;
        let key = boxed(rest)?;
        *rest = rest.strip_prefix(']').ok_or("a map key type must be followed by `]`")?;
        return Ok(GoType::Map(key, boxed(rest)?));
    }
    let first = ident(rest).ok_or_else(|| format!("expected a type at `{rest}`"))?;
    let Some(r) = rest.strip_prefix('.') else {
        return if BUILTINS.contains(&first) {
            Ok(GoType::Builtin(first.to_string()))
        } else {
            Err(format!("is not a predeclared type (qualify it: `pkg.{first}`)"))
        };
    };
    *rest = r;
    let name = ident(rest).ok_or_else(|| format!("expected a type name after `{first}.`"))?;
    let import = imports
        .iter()
        .find(|i| i.alias == first)
        .ok_or_else(|| format!("uses `{first}`, which no `(mmbindgen.v1.file).go_import` declares"))?;
    Ok(GoType::Named { path: import.path.clone(), package: first.to_string(), name: name.to_string() })
}

/// Takes a Go identifier off the front of `rest`.
fn ident<'a>(rest: &mut &'a str) -> Option<&'a str> {
    let end = rest.find(|c: char| !(c.is_alphanumeric() || c == '_')).unwrap_or(rest.len());
    if end == 0 || rest.starts_with(|c: char| c.is_ascii_digit()) {
        return None;
    }
    let (id, r) = rest.split_at(end);
    *rest = r;
    Some(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn imports() -> Vec<GoImport> {
        vec![
            GoImport { alias: "model".into(), path: "github.com/mattermost/mattermost/server/public/model".into() },
            GoImport { alias: "json".into(), path: "encoding/json".into() },
            GoImport { alias: "http".into(), path: "net/http".into() },
        ]
    }

    #[test]
    fn parses_and_prints_go_types() {
        for t in
            ["string", "*model.Post", "[]*model.Post", "map[string]*model.Post", "map[string]json.RawMessage", "...any"]
        {
            assert_eq!(parse(t, &imports()).unwrap().to_string(), t);
        }
        let t = parse("map[string][]*model.Post", &imports()).unwrap();
        let named: Vec<String> = t.named().iter().map(|n| n.to_string()).collect();
        assert_eq!(named, ["model.Post"]);
        assert!(parse("http.ResponseWriter", &imports()).unwrap().is_named("net/http", "ResponseWriter"));
    }

    #[test]
    fn rejects_bad_go_types() {
        for (t, why) in [
            ("*mdl.Post", "uses `mdl`"),
            ("Post", "not a predeclared type"),
            ("map[string", "followed by `]`"),
            ("[]...any", "can only start"),
            ("string x", "unexpected"),
            ("model.", "expected a type name"),
            ("", "expected a type"),
        ] {
            let err = parse(t, &imports()).unwrap_err();
            assert!(err.contains(why), "{t}: {err}");
        }
    }
}
