//! How one value crosses between its Go model type and its protobuf field:
//! a pair of expression patterns (`{}` stands for the source expression),
//! chosen from the proto shape of the field and its resolved `go_type`.
//!
//! Element conversions of slices and maps go through the generic runtime
//! helpers (`sliceToProto`, `mapFromProto`, ...), which accept model values
//! and pointers alike, so a named slice type such as `model.ChannelMembers`
//! needs no declaration of its element shape.

use crate::model::{Cardinality, Field, GoType, Model, TypeRef};

/// The Go package alias the message code is imported under.
pub const PB: &str = "pluginpb";

/// A conversion in both directions. `$c` in a pattern stands for the
/// `Converter` the code converts with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conv {
    /// Model value → proto field value.
    pub to_proto: String,
    /// Proto field value → model value.
    pub from_proto: String,
    /// Go types the patterns spell out (for imports).
    pub types: Vec<GoType>,
}

impl Conv {
    fn new(to_proto: impl Into<String>, from_proto: impl Into<String>) -> Self {
        Conv { to_proto: to_proto.into(), from_proto: from_proto.into(), types: Vec::new() }
    }

    fn direct() -> Self {
        Conv::new("{}", "{}")
    }

    /// The patterns spell out `ty`, which the file must import.
    fn spelling(mut self, ty: Option<&GoType>) -> Self {
        self.types.extend(ty.cloned());
        self
    }

    /// The model → proto expression for `expr`, converting with `conv`.
    pub fn encode(&self, expr: &str, conv: &str) -> String {
        self.to_proto.replace("$c", conv).replace("{}", expr)
    }

    /// The proto → model expression for `expr`, converting with `conv`.
    pub fn decode(&self, expr: &str, conv: &str) -> String {
        self.from_proto.replace("$c", conv).replace("{}", expr)
    }

    /// Whether the conversion goes through the `Converter` (and may fail).
    pub fn converts(&self) -> bool {
        self.to_proto.contains("$c") || self.from_proto.contains("$c")
    }
}

/// The Go type protoc-gen-go gives a scalar.
pub use crate::build::go_scalar as scalar_go;

/// The name of the converter pair of a model message (`Post` for
/// `mattermost.plugin.v1.Post`): `c.PostToProto` / `c.PostFromProto`.
pub fn converter_name(full_name: &str) -> &str {
    full_name.rsplit('.').next().unwrap_or(full_name)
}

/// The conversion of a field, or why it is not supported.
pub fn field_conv(field: &Field, model: &Model) -> Result<Conv, String> {
    shape_conv(field, model)
}

fn shape_conv(field: &Field, model: &Model) -> Result<Conv, String> {
    let g = field.go_type.as_str();
    let spelled = field.go.as_ref();
    let unsupported = || Err(format!("Go type `{g}` of a {:?} `{}` field", field.cardinality, field.ty.name()));
    match (&field.ty, field.cardinality) {
        (TypeRef::Scalar(s), Cardinality::Singular) => {
            let p = scalar_go(s);
            if g == p {
                Ok(Conv::direct())
            } else {
                Ok(Conv::new(format!("{p}({{}})"), format!("{g}({{}})")).spelling(spelled))
            }
        }
        (TypeRef::Scalar(s), Cardinality::Optional) if s == "bytes" => match g {
            "[]byte" => Ok(Conv::direct()),
            "*[]byte" => Ok(Conv::new("bytesFromPtr({})", "bytesToPtr({})")),
            _ => unsupported(),
        },
        (TypeRef::Scalar(s), Cardinality::Optional) => {
            let p = scalar_go(s);
            if g == format!("*{p}") {
                Ok(Conv::direct())
            } else if let Some(target) = g.strip_prefix('*') {
                let helper = if s == "string" { "strPtr" } else { "numPtr" };
                Ok(Conv::new(format!("{helper}[{p}]({{}})"), format!("{helper}[{target}]({{}})")).spelling(spelled))
            } else {
                unsupported()
            }
        }
        (TypeRef::Scalar(s), Cardinality::Repeated) => {
            let p = format!("[]{}", scalar_go(s));
            if g == p {
                Ok(Conv::direct())
            } else {
                Ok(Conv::new(format!("{p}({{}})"), format!("{g}({{}})")).spelling(spelled))
            }
        }
        (TypeRef::Scalar(v), Cardinality::Map) => {
            let key = field.map_key.as_ref().map(|k| scalar_go(k.name())).unwrap_or("");
            let p = format!("map[{key}]{}", scalar_go(v));
            if g == p {
                Ok(Conv::direct())
            } else {
                Ok(Conv::new(format!("{p}({{}})"), format!("{g}({{}})")).spelling(spelled))
            }
        }
        (TypeRef::Message(m), Cardinality::Optional | Cardinality::Singular) => message_conv(m, g, spelled, model),
        (TypeRef::Message(m), Cardinality::Repeated) => match m.as_str() {
            "google.protobuf.Struct" => {
                Ok(Conv::new("convSlice({}, $c.mapToStruct)", format!("convSliceTo[{g}]({{}}, structToMap)"))
                    .spelling(spelled))
            }
            "google.protobuf.Value" if g == "[]any" => {
                Ok(Conv::new("convSlice({}, $c.anyToValue)", format!("convSliceTo[{g}]({{}}, valueToAny)"))
                    .spelling(spelled))
            }
            _ => {
                let name = model_message(m, model).ok_or_else(|| format!("repeated `{m}`: not a model message"))?;
                Ok(Conv::new(
                    format!("sliceToProto({{}}, $c.{name}ToProto)"),
                    format!("sliceFromProto[{g}]({{}}, $c.{name}FromProto)"),
                )
                .spelling(spelled))
            }
        },
        (TypeRef::Message(m), Cardinality::Map) => {
            if let Some((field, elem)) = list_wrapper(m, model) {
                // A message wrapping a list, standing for a Go slice value.
                let pb = format!("{PB}.{}", super::names::go_camel_case(converter_name(m)));
                let wrap = format!("func(v []{elem}) *{pb} {{ return &{pb}{{{field}: v}} }}");
                return Ok(Conv::new(
                    format!("mapConv({{}}, {wrap})"),
                    format!("mapConvTo[{g}]({{}}, (*{pb}).Get{field})"),
                )
                .spelling(spelled));
            }
            let name = model_message(m, model).ok_or_else(|| format!("map of `{m}`: not a model message"))?;
            Ok(Conv::new(
                format!("mapToProto({{}}, $c.{name}ToProto)"),
                format!("mapFromProto[{g}]({{}}, $c.{name}FromProto)"),
            )
            .spelling(spelled))
        }
        (TypeRef::Enum(_), _) => Err("enum fields".to_string()),
    }
}

/// A singular message field: well-known types, or a model message passed as
/// a pointer (the default) or as a value.
fn message_conv(m: &str, g: &str, spelled: Option<&GoType>, model: &Model) -> Result<Conv, String> {
    match m {
        "google.protobuf.Struct" if g == "map[string]any" => Ok(Conv::new("$c.mapToStruct({})", "structToMap({})")),
        "google.protobuf.Struct" => {
            Ok(Conv::new("$c.mapToStruct(map[string]any({}))", format!("{g}(structToMap({{}}))")).spelling(spelled))
        }
        "google.protobuf.Value" if g == "any" => Ok(Conv::new("$c.anyToValue({})", "valueToAny({})")),
        "google.protobuf.Timestamp" if g == "time.Time" => Ok(Conv::new("timeToProto({})", "timeFromProto({})")),
        _ => {
            let msg = model.message(m).ok_or_else(|| format!("`{m}` is not declared under the proto root"))?;
            let Some(go_type) = &msg.go_type else {
                return Err(format!("`{m}` declares no go_type"));
            };
            let name = converter_name(m);
            if g == format!("*{go_type}") {
                Ok(Conv::new(format!("$c.{name}ToProto({{}})"), format!("$c.{name}FromProto({{}})")))
            } else if g == go_type {
                Ok(Conv::new(format!("$c.{name}ToProto(&{{}})"), format!("deref($c.{name}FromProto({{}}))")))
            } else {
                Err(format!("Go type `{g}` for message `{m}` (Go type `{go_type}`)"))
            }
        }
    }
}

/// A message without `go_type` whose only field is a repeated scalar wraps
/// a Go slice (proto has no map of lists): its field's Go name and the
/// element type.
fn list_wrapper(m: &str, model: &Model) -> Option<(String, &'static str)> {
    let msg = model.message(m)?;
    match msg.fields.as_slice() {
        [f] if msg.go_type.is_none() && f.cardinality == Cardinality::Repeated => match &f.ty {
            TypeRef::Scalar(s) => Some((super::names::go_camel_case(&f.name), scalar_go(s))),
            _ => None,
        },
        _ => None,
    }
}

/// The converter name of a model message (one with a `go_type`).
fn model_message<'a>(m: &'a str, model: &Model) -> Option<&'a str> {
    model.message(m).filter(|msg| msg.go_type.is_some()).map(|_| converter_name(m))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Comments, Location};

    fn field(ty: TypeRef, cardinality: Cardinality, go_type: &str) -> Field {
        Field {
            name: "f".into(),
            number: 1,
            location: Location::default(),
            comments: Comments::default(),
            cardinality,
            ty,
            map_key: Some(TypeRef::Scalar("string".into())),
            oneof: None,
            go_name: "F".into(),
            go_type: go_type.into(),
            go_type_explicit: true,
            go: crate::build::parse_go_type(go_type, &imports()).ok(),
            go_param: 0,
            required: false,
            deprecated: false,
        }
    }

    #[test]
    fn scalar_conversions() {
        let model = empty_model();
        let s = |k: &str| TypeRef::Scalar(k.into());
        let cases = [
            (field(s("string"), Cardinality::Singular, "string"), "{}", "{}"),
            (field(s("int64"), Cardinality::Singular, "int"), "int64({})", "int({})"),
            (field(s("string"), Cardinality::Singular, "model.ChannelType"), "string({})", "model.ChannelType({})"),
            (field(s("int64"), Cardinality::Optional, "*int"), "numPtr[int64]({})", "numPtr[int]({})"),
            (field(s("string"), Cardinality::Optional, "*string"), "{}", "{}"),
            (field(s("string"), Cardinality::Repeated, "model.StringArray"), "[]string({})", "model.StringArray({})"),
            (field(s("string"), Cardinality::Map, "model.StringMap"), "map[string]string({})", "model.StringMap({})"),
            (field(s("bytes"), Cardinality::Optional, "*[]byte"), "bytesFromPtr({})", "bytesToPtr({})"),
        ];
        for (f, to, from) in cases {
            let conv = field_conv(&f, &model).unwrap();
            assert_eq!((conv.to_proto.as_str(), conv.from_proto.as_str()), (to, from), "{}", f.go_type);
            let imported = conv.types.iter().any(|t| !t.named().is_empty());
            assert_eq!(imported, f.go.as_ref().is_some_and(|t| !t.named().is_empty()), "{}", f.go_type);
        }
    }

    fn imports() -> Vec<crate::model::GoImport> {
        vec![crate::model::GoImport { alias: "model".into(), path: "example.com/model".into() }]
    }

    fn empty_model() -> Model {
        Model {
            files: vec![],
            go_imports: vec![],
            services: vec![],
            messages: vec![],
            enums: vec![],
            extensions: vec![],
            descriptors: vec![],
            message_index: Default::default(),
            root: Default::default(),
        }
    }
}
