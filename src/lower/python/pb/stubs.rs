//! `_pb2.pyi`: typed stubs of a message module, with the precision and the
//! conventions of mypy-protobuf. Messages are `@typing.final` classes with a
//! typed attribute per scalar field and a read-only property per message,
//! repeated and map field, keyword-only `__init__` arguments, and
//! `HasField`, `ClearField` and `WhichOneof` that accept only the names that
//! make sense. Enums are a `ValueType` (`NewType` of int) and an
//! `EnumTypeWrapper` metaclass carrying the values. Every name the stubs use
//! is imported under a leading underscore and builtins are spelled
//! `_builtins.x`, so no field name (`str`, `type`, `property`) can shadow
//! them; classes are referred to through module-level `Global___X` aliases
//! for the same reason. Fields named with a Python keyword cannot be
//! attributes and appear only in `ClearField`. Proto comments become
//! docstrings.

use std::collections::BTreeMap;

use prost_types::field_descriptor_proto::{Label, Type};
use prost_types::{DescriptorProto, EnumDescriptorProto, FieldDescriptorProto, FileDescriptorProto};
use serde::Serialize;

use super::super::code::{LINE_LENGTH, docstring, fit};
use super::super::names::KEYWORDS;
use super::{Comments, Index, Module, py};
use crate::diag::Result;

#[derive(Serialize)]
pub struct StubView {
    /// The module docstring (the comment above `syntax`), laid out.
    docstring: Option<String>,
    /// Groups of import lines: standard library, protobuf, message modules.
    imports: Vec<String>,
    /// Whether `_Never` is used (it is imported under a version check).
    never: bool,
    /// Top-level enums then messages, each laid out with its aliases.
    items: Vec<String>,
}

/// What the stub's text refers to, so that exactly those names are imported.
#[derive(Default)]
struct Uses {
    abc: bool,
    builtins: bool,
    containers: bool,
    descriptor: bool,
    enum_type_wrapper: bool,
    message: bool,
    never: bool,
    type_alias: bool,
    typing: bool,
}

struct Stubs<'a> {
    module: &'a Module,
    index: &'a Index,
    comments: &'a Comments,
    /// proto2: singular scalars have presence too.
    proto2: bool,
    uses: Uses,
    /// Modules of other files: proto file -> alias.
    imports: BTreeMap<String, String>,
}

pub fn view(module: &Module, proto: &FileDescriptorProto, index: &Index, comments: &Comments) -> Result<StubView> {
    let proto2 = !matches!(proto.syntax(), "proto3" | "editions");
    let mut s = Stubs { module, index, comments, proto2, uses: Uses::default(), imports: BTreeMap::new() };
    s.uses.descriptor = true;
    let mut items = Vec::new();
    for (i, e) in proto.enum_type.iter().enumerate() {
        items.push(s.enumeration(e, 0, "", &[5, i as i32]));
    }
    for (i, m) in proto.message_type.iter().enumerate() {
        let mut text = s.message(m, 0, "", &[4, i as i32])?;
        s.uses.type_alias = true;
        text.push_str(&format!("\n\n{}", global_alias(m.name())));
        items.push(text);
    }
    let docstring = comments.get(&[12]).map(|c| docstring(0, c));
    Ok(StubView { docstring, imports: s.import_groups(), never: s.uses.never, items })
}

/// `Global___X: _TypeAlias = X`, the class under a name no field shadows;
/// in parentheses when too long for one line, as ruff puts it.
fn global_alias(name: &str) -> String {
    let one = format!("Global___{name}: _TypeAlias = {name}");
    if one.chars().count() <= LINE_LENGTH { one } else { format!("Global___{name}: _TypeAlias = (\n    {name}\n)") }
}

/// A name usable as a Python identifier (not a keyword).
fn is_identifier(name: &str) -> bool {
    !KEYWORDS.contains(&name)
}

/// `"x", b"x"` for each name, sorted as mypy-protobuf sorts them.
fn literal_items(mut names: Vec<String>) -> Vec<String> {
    names.sort();
    names.dedup();
    names.iter().flat_map(|n| [format!("\"{n}\""), format!("b\"{n}\"")]).collect()
}

/// `head[items]` at `indent`: flat when it fits, else exploded; a single
/// item that does not fit is hugged without a trailing comma (a comma would
/// make a tuple), as ruff does.
fn subscript(indent: usize, head: &str, items: &[String]) -> String {
    if items.len() == 1 {
        let pad = " ".repeat(indent);
        let one = format!("{pad}{head}[{}]", items[0]);
        if one.chars().count() <= LINE_LENGTH {
            return one;
        }
        return format!("{pad}{head}[\n{pad}    {}\n{pad}]", items[0]);
    }
    fit(indent, &format!("{head}["), items, "]")
}

/// A docstring after an attribute or as a body, if the element has a comment.
fn doc(comments: &Comments, indent: usize, path: &[i32]) -> Option<String> {
    comments.get(path).map(|c| docstring(indent, c))
}

impl Stubs<'_> {
    /// The groups of import lines the text needs.
    fn import_groups(&self) -> Vec<String> {
        let u = &self.uses;
        let mut stdlib = Vec::new();
        if u.builtins {
            stdlib.push("import builtins as _builtins".to_string());
        }
        if u.never {
            stdlib.push("import sys".to_string());
        }
        if u.typing || u.type_alias {
            stdlib.push("import typing as _typing".to_string());
        }
        if u.abc {
            stdlib.push("from collections import abc as _abc".to_string());
        }
        if u.type_alias {
            stdlib.push("from typing import TypeAlias as _TypeAlias".to_string());
        }
        let mut third = Vec::new();
        let mut locals = Vec::new();
        let mut google: Vec<(String, String, String)> = Vec::new();
        if u.descriptor {
            google.push(("google.protobuf".into(), "descriptor".into(), "_descriptor".into()));
        }
        if u.message {
            google.push(("google.protobuf".into(), "message".into(), "_message".into()));
        }
        if u.containers {
            google.push(("google.protobuf.internal".into(), "containers".into(), "_containers".into()));
        }
        if u.enum_type_wrapper {
            google.push(("google.protobuf.internal".into(), "enum_type_wrapper".into(), "_enum_type_wrapper".into()));
        }
        for (file, alias) in &self.imports {
            let m = Module::new(file);
            let entry = (m.import_from(self.module), m.name.clone(), alias.clone());
            if m.is_google() { google.push(entry) } else { locals.push(entry) }
        }
        google.sort_by_key(|(from, name, _)| (from.to_lowercase(), name.to_lowercase()));
        for (from, name, alias) in google {
            third.push(super::import_line(&from, &name, &alias, false));
        }
        let mut groups = vec![stdlib.join("\n"), third.join("\n")];
        groups.extend(super::import_groups(locals, false));
        groups.retain(|g| !g.is_empty());
        groups
    }

    /// The alias of another file's module, imported on first use.
    fn import(&mut self, file: &str) -> String {
        if let Some(alias) = self.imports.get(file) {
            return alias.clone();
        }
        let m = Module::new(file);
        let short = format!("_{}", m.name);
        let taken = self.imports.values().any(|a| *a == short) || short == "_builtins" || short == "_typing";
        let alias = if taken { format!("_{}", m.protoc_alias()) } else { short };
        self.imports.insert(file.to_string(), alias.clone());
        alias
    }

    /// How the stub refers to a message or enum class.
    fn class_ref(&mut self, type_name: &str) -> Result<String> {
        let (file, qual, _) = self.index.get(type_name)?;
        if file == self.module.proto {
            Ok(format!("Global___{qual}"))
        } else {
            let alias = self.import(&file);
            Ok(format!("{alias}.{qual}"))
        }
    }

    /// The Python type of one value of a field (the element of a repeated field).
    fn value_type(&mut self, f: &FieldDescriptorProto) -> Result<String> {
        self.uses.builtins = true;
        Ok(match f.r#type() {
            Type::Double | Type::Float => "_builtins.float".into(),
            Type::Int64
            | Type::Uint64
            | Type::Int32
            | Type::Fixed64
            | Type::Fixed32
            | Type::Uint32
            | Type::Sfixed32
            | Type::Sfixed64
            | Type::Sint32
            | Type::Sint64 => "_builtins.int".into(),
            Type::Bool => "_builtins.bool".into(),
            Type::String => "_builtins.str".into(),
            Type::Bytes => "_builtins.bytes".into(),
            Type::Enum => format!("{}.ValueType", self.class_ref(f.type_name())?),
            Type::Message | Type::Group => self.class_ref(f.type_name())?,
        })
    }

    fn is_message(f: &FieldDescriptorProto) -> bool {
        matches!(f.r#type(), Type::Message | Type::Group)
    }

    /// An enum at `indent` inside `scope` (`Outer.` for nested ones): its
    /// value type, its wrapper, the class, and the values as attributes of
    /// the enclosing scope.
    fn enumeration(&mut self, e: &EnumDescriptorProto, indent: usize, scope: &str, path: &[i32]) -> String {
        self.uses.builtins = true;
        self.uses.typing = true;
        self.uses.type_alias = true;
        self.uses.enum_type_wrapper = true;
        let pad = " ".repeat(indent);
        let name = e.name();
        let mut out = format!(
            "{pad}class _{name}:\n{pad}    ValueType = _typing.NewType(\"ValueType\", _builtins.int)\n{pad}    V: _TypeAlias = ValueType\n\n"
        );
        let value_type = format!("{scope}_{name}.ValueType");
        let bases = [format!("_enum_type_wrapper._EnumTypeWrapper[{value_type}]"), "_builtins.type".to_string()];
        out.push_str(&fit(indent, &format!("class _{name}EnumTypeWrapper("), &bases, "):"));
        out.push_str(&format!("\n{pad}    DESCRIPTOR: _descriptor.EnumDescriptor"));
        let mut outer = String::new();
        for (i, v) in e.value.iter().enumerate() {
            if !is_identifier(v.name()) {
                continue;
            }
            let vpath: Vec<i32> = path.iter().copied().chain([2, i as i32]).collect();
            let vdoc = |indent| doc(self.comments, indent, &vpath).map(|d| format!("\n{d}")).unwrap_or_default();
            out.push_str(&format!("\n{pad}    {}: {value_type}  # {}{}", v.name(), v.number(), vdoc(indent + 4)));
            outer.push_str(&format!("\n{pad}{}: {scope}{name}.ValueType  # {}{}", v.name(), v.number(), vdoc(indent)));
        }
        out.push_str("\n\n");
        let head = format!("{pad}class {name}(_{name}, metaclass=_{name}EnumTypeWrapper):");
        match doc(self.comments, indent + 4, path) {
            Some(d) => out.push_str(&format!("{head}\n{d}")),
            None => out.push_str(&format!("{head} ...")),
        }
        if !outer.is_empty() {
            out.push('\n');
            out.push_str(&outer);
        }
        if indent == 0 {
            out.push_str(&format!("\n{}", global_alias(name)));
        }
        out
    }

    /// A message class at `indent` inside `scope` (`Outer.` for nested ones).
    fn message(&mut self, m: &DescriptorProto, indent: usize, scope: &str, path: &[i32]) -> Result<String> {
        self.uses.typing = true;
        self.uses.message = true;
        self.uses.builtins = true;
        let pad = " ".repeat(indent);
        let inner = " ".repeat(indent + 4);
        let name = m.name();
        let mut out = format!("{pad}@_typing.final\n{pad}class {name}(_message.Message):\n");
        if let Some(d) = doc(self.comments, indent + 4, path) {
            out.push_str(&format!("{d}\n\n"));
        }
        out.push_str(&format!("{inner}DESCRIPTOR: _descriptor.Descriptor\n"));
        let nested_scope = format!("{scope}{name}.");
        for (i, e) in m.enum_type.iter().enumerate() {
            let p: Vec<i32> = path.iter().copied().chain([4, i as i32]).collect();
            out.push_str(&format!("\n{}\n", self.enumeration(e, indent + 4, &nested_scope, &p)));
        }
        for (i, n) in m.nested_type.iter().enumerate() {
            let p: Vec<i32> = path.iter().copied().chain([3, i as i32]).collect();
            out.push_str(&format!("\n{}\n", self.message(n, indent + 4, &nested_scope, &p)?));
        }
        out.push('\n');

        // Field numbers, then scalar attributes, then properties.
        let mut attributes = String::new();
        let mut properties = String::new();
        let mut init = vec!["self".to_string()];
        if !m.field.is_empty() {
            init.push("*".to_string());
        }
        let mut has_field = Vec::new();
        let mut clear_field = Vec::new();
        for (i, f) in m.field.iter().enumerate() {
            let fname = f.name();
            out.push_str(&format!("{inner}{}_FIELD_NUMBER: _builtins.int\n", fname.to_ascii_uppercase()));
            clear_field.push(fname.to_string());
            let repeated = f.label() == Label::Repeated;
            let presence =
                !repeated && (Self::is_message(f) || f.proto3_optional() || f.oneof_index.is_some() || self.proto2);
            if presence {
                has_field.push(fname.to_string());
            }
            if !is_identifier(fname) {
                continue;
            }
            let fpath: Vec<i32> = path.iter().copied().chain([2, i as i32]).collect();
            let map = if repeated && Self::is_message(f) {
                self.index.get(f.type_name())?.2.and_then(|t| t.map_entry.clone())
            } else {
                None
            };
            let (property, argument) = if let Some((key, value)) = map {
                self.uses.containers = true;
                self.uses.abc = true;
                let (k, v) = (self.value_type(&key)?, self.value_type(&value)?);
                let container = if Self::is_message(&value) { "MessageMap" } else { "ScalarMap" };
                (Some(format!("_containers.{container}[{k}, {v}]")), format!("_abc.Mapping[{k}, {v}] | None = ..."))
            } else if repeated {
                self.uses.containers = true;
                self.uses.abc = true;
                let t = self.value_type(f)?;
                let container = if Self::is_message(f) {
                    "RepeatedCompositeFieldContainer"
                } else {
                    "RepeatedScalarFieldContainer"
                };
                (Some(format!("_containers.{container}[{t}]")), format!("_abc.Iterable[{t}] | None = ..."))
            } else if Self::is_message(f) {
                let t = self.value_type(f)?;
                (Some(t.clone()), format!("{t} | None = ..."))
            } else {
                let t = self.value_type(f)?;
                let argument = if f.proto3_optional() { format!("{t} | None = ...") } else { format!("{t} = ...") };
                attributes.push_str(&format!("{inner}{fname}: {t}\n"));
                if let Some(d) = doc(self.comments, indent + 4, &fpath) {
                    attributes.push_str(&format!("{d}\n"));
                }
                (None, argument)
            };
            init.push(format!("{fname}: {argument}"));
            if let Some(t) = property {
                properties.push_str(&format!("{inner}@_builtins.property\n"));
                let (ending, body) = match doc(self.comments, indent + 8, &fpath) {
                    Some(d) => (":", format!("\n{d}\n")),
                    None => (": ...", String::new()),
                };
                let flat = format!("{inner}def {fname}(self) -> {t}{ending}");
                if flat.chars().count() <= LINE_LENGTH {
                    properties.push_str(&flat);
                } else {
                    let ret = py::subscript_line(indent + 4, &format!(") -> {t}{ending}"));
                    properties.push_str(&format!("{inner}def {fname}(\n{inner}    self,\n{ret}"));
                }
                properties.push_str(&format!("{body}\n"));
            }
        }
        out.push_str(&attributes);
        out.push_str(&properties);
        // `__init__` is always exploded, as mypy-protobuf writes it.
        out.push_str(&format!("{inner}def __init__(\n"));
        for a in &init {
            out.push_str(&format!("{}\n", py::subscript_line(indent + 8, &format!("{a},"))));
        }
        out.push_str(&format!("{inner}) -> None: ...\n"));

        // Oneofs: real ones and the synthetic `_x` of proto3 optional fields.
        let mut oneofs: Vec<(String, Vec<String>)> = m
            .oneof_decl
            .iter()
            .enumerate()
            .map(|(i, o)| {
                let members = m.field.iter().filter(|f| f.oneof_index == Some(i as i32)).map(|f| f.name().to_string());
                (o.name().to_string(), members.collect())
            })
            .collect();
        oneofs.sort();
        for (o, _) in &oneofs {
            has_field.push(o.clone());
            clear_field.push(o.clone());
        }
        out.push_str(&self.arg_type(indent + 4, "_HasFieldArgType", has_field));
        out.push_str(&format!("{inner}def HasField(self, field_name: _HasFieldArgType) -> _builtins.bool: ...\n"));
        out.push_str(&self.arg_type(indent + 4, "_ClearFieldArgType", clear_field));
        out.push_str(&format!("{inner}def ClearField(self, field_name: _ClearFieldArgType) -> None: ..."));
        match oneofs.len() {
            0 => {
                self.uses.never = true;
                out.push_str(&format!("\n{inner}def WhichOneof(self, oneof_group: _Never) -> None: ..."));
            }
            n => {
                for (o, members) in &oneofs {
                    let (ret, arg) = (format!("_WhichOneofReturnType_{o}"), format!("_WhichOneofArgType_{o}"));
                    let members: Vec<String> = members.iter().map(|m| format!("\"{m}\"")).collect();
                    out.push_str(&format!(
                        "\n{}",
                        subscript(indent + 4, &format!("{ret}: _TypeAlias = _typing.Literal"), &members)
                    ));
                    let names = literal_items(vec![o.clone()]);
                    out.push_str(&format!(
                        "\n{}",
                        subscript(indent + 4, &format!("{arg}: _TypeAlias = _typing.Literal"), &names)
                    ));
                }
                for (o, _) in &oneofs {
                    if n > 1 {
                        out.push_str(&format!("\n{inner}@_typing.overload"));
                    }
                    let params = ["self".to_string(), format!("oneof_group: _WhichOneofArgType_{o}")];
                    let tail = format!(") -> _WhichOneofReturnType_{o} | None: ...");
                    out.push_str(&format!("\n{}", fit(indent + 4, "def WhichOneof(", &params, &tail)));
                }
            }
        }
        self.uses.type_alias = true;
        Ok(out)
    }

    /// `name: _TypeAlias = Literal[...]` of field names, or `_Never`.
    fn arg_type(&mut self, indent: usize, name: &str, names: Vec<String>) -> String {
        if names.is_empty() {
            self.uses.never = true;
            return format!("{}{name}: _TypeAlias = _Never\n", " ".repeat(indent));
        }
        format!("{}\n", subscript(indent, &format!("{name}: _TypeAlias = _typing.Literal"), &literal_items(names)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals() {
        assert_eq!(literal_items(vec!["b".into(), "a".into()]), ["\"a\"", "b\"a\"", "\"b\"", "b\"b\""]);
        let long = "x".repeat(120);
        assert_eq!(subscript(0, "T", std::slice::from_ref(&long)), format!("T[\n    {long}\n]"));
    }
}
