//! How one Go parameter or result travels in Python: its annotation as a
//! parameter and as a result, and the expressions that put it into a
//! message and take it out (`design/python.md`, "Types of values").

use super::names::{Classes, Imports};
use crate::model::{Cardinality, Field, Model, TypeRef};

/// What a value is, for the shapes of the Python side.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    /// A scalar, a model message, a list or a map: protobuf's constructor
    /// and attributes carry it as it is.
    Plain,
    /// A scalar with presence (a Go pointer, or `[]byte` where nil means
    /// missing): `None` when unset.
    Presence,
    /// A model message: `None` when unset where the type allows it.
    Message,
    /// `google.protobuf.Struct` as a dict.
    Struct,
    /// `google.protobuf.Value` as a plain value.
    Value,
    /// A Go value carried as encoding/json bytes in a message's `json` field;
    /// the message class (module and name) is imported where it is built.
    Json { module: String, class: String },
    /// Variadic `...any`: `*args` of plain values.
    Variadic,
    /// `io.Reader`: a binary file or an iterable of chunks.
    Reader,
    /// `io.Writer`, `http.ResponseWriter`, `*http.Request`, `*http.Response`:
    /// handled by the method's shape.
    Stream,
}

/// One Go value as the Python side sees it.
#[derive(Debug, Clone)]
pub struct PyValue {
    pub kind: Kind,
    /// The annotation of a parameter receiving it (`Sequence[Post]`).
    pub param_type: String,
    /// The annotation of a value handed out (`list[Post]`).
    pub result_type: String,
    /// The Go zero value in Python, as a default argument.
    pub zero: String,
}

/// The Python shape of a field, or why the target cannot carry it.
pub fn value(
    field: &Field,
    go_type: &str,
    model: &Model,
    classes: &Classes,
    imports: &mut Imports,
) -> Result<PyValue, String> {
    match go_type {
        "io.Reader" => return Ok(simple(Kind::Reader, "ByteSource", "ByteSource", "b\"\"")),
        "*http.Request" => {
            imports.class("_http", "HTTPRequest");
            return Ok(simple(Kind::Stream, "HTTPRequest", "HTTPRequest", "None"));
        }
        "*http.Response" => {
            imports.class("_http", "HTTPResponse");
            return Ok(simple(Kind::Stream, "HTTPResponse", "HTTPResponse", "None"));
        }
        "http.ResponseWriter" => {
            imports.class("_http", "ResponseWriter");
            return Ok(simple(Kind::Stream, "ResponseWriter", "ResponseWriter", "None"));
        }
        "io.Writer" => return Ok(simple(Kind::Stream, "", "", "None")),
        t if t.starts_with("...") => {
            return Ok(simple(Kind::Variadic, "object", "object", "()"));
        }
        _ => {}
    }
    let elem = |ty: &TypeRef, imports: &mut Imports| -> Result<(Kind, String), String> {
        match ty {
            TypeRef::Scalar(s) => Ok((Kind::Plain, scalar(s).to_string())),
            TypeRef::Enum(name) => {
                let (module, qual) =
                    classes.get(name).ok_or_else(|| format!("enum `{name}` is not under the proto root"))?;
                Ok((Kind::Plain, format!("{}.ValueType", imports.class(module, qual))))
            }
            TypeRef::Message(name) => match name.as_str() {
                "google.protobuf.Struct" => {
                    imports.typing("Any");
                    Ok((Kind::Struct, "dict[str, Any]".to_string()))
                }
                "google.protobuf.Value" => {
                    imports.typing("Any");
                    Ok((Kind::Value, "Any".to_string()))
                }
                _ => {
                    let msg =
                        model.message(name).ok_or_else(|| format!("message `{name}` is not under the proto root"))?;
                    let (module, qual) = classes.get(name).expect("messages under the root have classes");
                    if msg.json {
                        imports.typing("Any");
                        Ok((
                            Kind::Json { module: module.to_string(), class: qual.to_string() },
                            "dict[str, Any]".to_string(),
                        ))
                    } else {
                        Ok((Kind::Message, imports.class(module, qual)))
                    }
                }
            },
        }
    };
    match field.cardinality {
        Cardinality::Singular => {
            let (kind, ty) = elem(&field.ty, imports)?;
            let zero = match &field.ty {
                TypeRef::Scalar(s) => scalar_zero(s).to_string(),
                _ => "0".to_string(),
            };
            Ok(PyValue { kind, param_type: ty.clone(), result_type: ty, zero })
        }
        Cardinality::Optional => {
            let (kind, ty) = elem(&field.ty, imports)?;
            match kind {
                Kind::Plain => Ok(PyValue {
                    kind: Kind::Presence,
                    param_type: format!("{ty} | None"),
                    result_type: format!("{ty} | None"),
                    zero: "None".into(),
                }),
                _ => Ok(PyValue { kind, param_type: ty.clone(), result_type: ty, zero: "None".into() }),
            }
        }
        Cardinality::Repeated => {
            let (kind, ty) = elem(&field.ty, imports)?;
            if !matches!(kind, Kind::Plain | Kind::Message) {
                return Err("the Python target carries lists of scalars and of model messages only".into());
            }
            imports.collections("Sequence");
            Ok(PyValue {
                kind: Kind::Plain,
                param_type: format!("Sequence[{ty}]"),
                result_type: format!("list[{ty}]"),
                zero: "()".into(),
            })
        }
        Cardinality::Map => {
            let (kind, ty) = elem(&field.ty, imports)?;
            let key = match &field.map_key {
                Some(TypeRef::Scalar(s)) => scalar(s),
                _ => return Err("map keys are scalars".into()),
            };
            if !matches!(kind, Kind::Plain | Kind::Message) {
                return Err("the Python target carries maps of scalars and of model messages only".into());
            }
            imports.collections("Mapping");
            Ok(PyValue {
                kind: Kind::Plain,
                param_type: format!("Mapping[{key}, {ty}]"),
                result_type: format!("dict[{key}, {ty}]"),
                zero: "{}".into(),
            })
        }
    }
}

fn simple(kind: Kind, param: &str, result: &str, zero: &str) -> PyValue {
    PyValue { kind, param_type: param.into(), result_type: result.into(), zero: zero.into() }
}

/// The Python type of a proto scalar.
fn scalar(s: &str) -> &'static str {
    match s {
        "string" => "str",
        "bool" => "bool",
        "bytes" => "bytes",
        "double" | "float" => "float",
        _ => "int",
    }
}

fn scalar_zero(s: &str) -> &'static str {
    match s {
        "string" => "\"\"",
        "bool" => "False",
        "bytes" => "b\"\"",
        "double" | "float" => "0.0",
        _ => "0",
    }
}

impl PyValue {
    /// Imports what `encode` (when `encoding`) or `decode` refer to.
    pub fn import_codec(&self, imports: &mut Imports, encoding: bool) {
        match &self.kind {
            Kind::Json { module, class } => {
                if encoding {
                    imports.class(module, class);
                }
                imports.module("_convert");
            }
            Kind::Struct | Kind::Value | Kind::Variadic => {
                imports.module("_convert");
            }
            Kind::Reader => {
                imports.class("_transport", "ByteSource");
            }
            _ => {}
        }
    }

    /// The expression that puts `expr` into a message field through the
    /// message's constructor (`None` leaves the field unset).
    pub fn encode(&self, expr: &str) -> String {
        match &self.kind {
            Kind::Plain | Kind::Presence | Kind::Message | Kind::Reader | Kind::Stream => expr.to_string(),
            Kind::Struct => format!("_convert.to_struct({expr})"),
            Kind::Value => format!("_convert.to_value({expr})"),
            Kind::Json { class, .. } => format!("_convert.to_json({class}, {expr})"),
            Kind::Variadic => format!("_convert.to_values({expr})"),
        }
    }

    /// The expression that takes the value of field `field` out of message
    /// `msg`; `nullable` says whether an unset message becomes `None`.
    pub fn decode(&self, msg: &str, field: &str, nullable: bool) -> String {
        let attr = format!("{msg}.{field}");
        match &self.kind {
            Kind::Plain if self.result_type.starts_with("list[") => format!("list({attr})"),
            Kind::Plain if self.result_type.starts_with("dict[") => format!("dict({attr})"),
            Kind::Presence => format!("{attr} if {msg}.HasField(\"{field}\") else None"),
            Kind::Message if nullable => format!("{attr} if {msg}.HasField(\"{field}\") else None"),
            Kind::Struct => format!("_convert.from_struct({attr})"),
            Kind::Value => format!("_convert.from_value({attr})"),
            Kind::Json { .. } => format!("_convert.from_json({attr})"),
            _ => attr,
        }
    }
}
