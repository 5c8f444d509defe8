//! The descriptor a `_pb2.py` embeds, and what its pure-Python block says
//! about it, computed on the wire format.
//!
//! protoc's Python generator embeds `FileDescriptor::CopyTo` serialized by
//! C++: fields in field-number order (extensions of option messages too, in
//! number order), no `source_code_info`, `json_name` only where the proto
//! sets it, no `syntax` for proto2, and without options of source retention.
//! The compiler's encoding differs on each point, so [`embed`] rewrites it
//! record by record. Custom options (extensions) of one options message are
//! put in number order too; no element of the tested protos has several
//! different custom options, so protoc's order for those is not verified.
//! Known limits: `edition` is not
//! carried by the compiled descriptors, so editions files would lose it;
//! only custom options are checked for source retention (no option of
//! `descriptor.proto` that proto2 and proto3 files can set has it).
//!
//! Field numbers used below are those of `google/protobuf/descriptor.proto`.

use std::collections::{HashMap, HashSet};

use super::wire::{self, Record, WireError};

/// `FieldOptions.retention` value of options dropped from generated code.
const RETENTION_SOURCE: u64 = 2;
/// `FieldDescriptorProto.type` of message fields.
const TYPE_MESSAGE: u64 = 11;

/// A file's descriptor as `_pb2.py` embeds it.
pub struct Embedded {
    /// The serialized `FileDescriptorProto`, byte-identical to protoc's.
    pub bytes: Vec<u8>,
    /// The file's own options, if any (`DESCRIPTOR`'s `_serialized_options`).
    pub file_options: Option<Vec<u8>>,
    /// Every other element with options, in protoc's order.
    pub options: Vec<ElementOptions>,
    /// Where each message, enum and service lies in `bytes`, in protoc's order.
    pub intervals: Vec<Interval>,
}

/// How the generated module reaches a descriptor: a module global set by the
/// builder (`_globals["_OUTER_INNER"]`), optionally a member of it
/// (`.fields_by_name["x"]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Element {
    pub global: String,
    /// The table and the key: (`fields_by_name`, `x`).
    pub member: Option<(&'static str, String)>,
}

pub struct ElementOptions {
    pub element: Element,
    pub serialized: Vec<u8>,
}

/// `_serialized_start` and `_serialized_end` of a message, enum or service.
pub struct Interval {
    pub global: String,
    pub start: usize,
    pub end: usize,
}

/// What the rewrite needs to know about option types across files: the
/// fields (extensions included, under their extendee) with source retention
/// and the message type of message fields, by (message full name, number).
#[derive(Default)]
pub struct Schema {
    source_retention: HashSet<(String, u32)>,
    message_type: HashMap<(String, u32), String>,
}

impl Schema {
    /// Learns the messages and extensions of every file.
    pub fn new<'a>(files: impl IntoIterator<Item = &'a [u8]>) -> Result<Self, WireError> {
        let mut schema = Schema::default();
        for file in files {
            let records = wire::parse(file)?;
            let package = records.iter().find(|r| r.number == 2).and_then(Record::text).unwrap_or("");
            for r in &records {
                match r.number {
                    4 => schema.message(package, bytes(r))?,
                    7 => schema.field(None, bytes(r))?,
                    _ => {}
                }
            }
        }
        Ok(schema)
    }

    fn message(&mut self, scope: &str, buf: &[u8]) -> Result<(), WireError> {
        let records = wire::parse(buf)?;
        let name = records.iter().find(|r| r.number == 1).and_then(Record::text).unwrap_or("");
        let full = if scope.is_empty() { name.to_string() } else { format!("{scope}.{name}") };
        for r in &records {
            match r.number {
                2 => self.field(Some(&full), bytes(r))?,
                6 => self.field(None, bytes(r))?,
                3 => self.message(&full, bytes(r))?,
                _ => {}
            }
        }
        Ok(())
    }

    /// A field of `owner`, or an extension (owner `None`: its extendee).
    fn field(&mut self, owner: Option<&str>, buf: &[u8]) -> Result<(), WireError> {
        let records = wire::parse(buf)?;
        let text = |n: u32| records.iter().find(|r| r.number == n).and_then(Record::text);
        let varint = |n: u32| records.iter().find(|r| r.number == n).and_then(Record::varint);
        let owner = match owner {
            Some(o) => o.to_string(),
            None => text(2).unwrap_or("").trim_start_matches('.').to_string(),
        };
        let Some(number) = varint(3).and_then(|n| u32::try_from(n).ok()) else { return Ok(()) };
        if let Some(options) = records.iter().find(|r| r.number == 8) {
            let retention = wire::parse(bytes(options))?.iter().filter(|r| r.number == 17).find_map(Record::varint);
            if retention == Some(RETENTION_SOURCE) {
                self.source_retention.insert((owner.clone(), number));
            }
        }
        if varint(5) == Some(TYPE_MESSAGE)
            && let Some(t) = text(6)
        {
            self.message_type.insert((owner, number), t.trim_start_matches('.').to_string());
        }
        Ok(())
    }
}

/// The content of a length-delimited record (descriptor sub-messages and
/// strings always are).
fn bytes<'a>(r: &Record<'a>) -> &'a [u8] {
    r.bytes().unwrap_or(&[])
}

/// Rewrites a compiled `FileDescriptorProto` as protoc embeds it, and lists
/// the options and intervals of the pure-Python block.
pub fn embed(file: &[u8], schema: &Schema) -> Result<Embedded, WireError> {
    let records = wire::parse(file)?;
    let explicit = explicit_json_names(&records)?;
    let rewrite = Rewrite { schema, explicit: explicit.as_ref() };
    let mut out = Vec::new();
    let mut counts: HashMap<u32, i32> = HashMap::new();
    for r in &records {
        let index = counts.entry(r.number).or_default();
        let path = [r.number as i32, *index];
        *index += 1;
        let sub = match r.number {
            9 => continue,
            12 if r.text() == Some("proto2") => continue,
            4 => rewrite.message(bytes(r), &path)?,
            5 => rewrite.enumeration(bytes(r))?,
            6 => rewrite.service(bytes(r))?,
            7 => rewrite.field(bytes(r), &path)?,
            8 => rewrite.options(bytes(r), "google.protobuf.FileOptions")?,
            _ => {
                out.push(raw(r));
                continue;
            }
        };
        out.push((r.number, tagged(r.number, &sub)));
    }
    let bytes = join(out);
    let mut embedded = Embedded { file_options: None, options: Vec::new(), intervals: Vec::new(), bytes: Vec::new() };
    describe(&bytes, &mut embedded)?;
    embedded.bytes = bytes;
    Ok(embedded)
}

/// The record unchanged, under its number.
fn raw(r: &Record) -> (u32, Vec<u8>) {
    let mut v = Vec::new();
    r.encode(&mut v);
    (r.number, v)
}

fn tagged(number: u32, content: &[u8]) -> Vec<u8> {
    let mut v = Vec::new();
    wire::put_bytes(&mut v, number, content);
    v
}

/// Records in field-number order; repeated fields keep their order.
fn join(mut records: Vec<(u32, Vec<u8>)>) -> Vec<u8> {
    records.sort_by_key(|(n, _)| *n);
    records.into_iter().flat_map(|(_, b)| b).collect()
}

/// The paths of fields whose `json_name` is written in the proto, from the
/// source info (`None` when the file has none: then a `json_name` is kept
/// only when it differs from the default, so an explicit one equal to the
/// default is lost).
fn explicit_json_names(file: &[Record]) -> Result<Option<HashSet<Vec<i32>>>, WireError> {
    let Some(info) = file.iter().find(|r| r.number == 9) else { return Ok(None) };
    let mut paths = HashSet::new();
    for location in wire::parse(bytes(info))?.iter().filter(|r| r.number == 1) {
        let mut path = Vec::new();
        for r in wire::parse(bytes(location))?.iter().filter(|r| r.number == 1) {
            match r.value {
                wire::Value::Varint(v) => path.push(v as i32),
                wire::Value::Bytes(packed) => {
                    let mut pos = 0;
                    while pos < packed.len() {
                        let rest = &packed[pos..];
                        let len = rest.iter().position(|b| b & 0x80 == 0).map_or(rest.len(), |i| i + 1);
                        let v = rest[..len].iter().rev().fold(0u64, |acc, b| (acc << 7) | u64::from(b & 0x7f));
                        path.push(v as i32);
                        pos += len;
                    }
                }
                _ => {}
            }
        }
        // FieldDescriptorProto.json_name is field 10.
        if path.last() == Some(&10) {
            path.pop();
            paths.insert(path);
        }
    }
    Ok(Some(paths))
}

/// protoc's default JSON name: lowerCamelCase from underscores.
pub fn default_json_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut upper = false;
    for c in name.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.push(c.to_ascii_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

struct Rewrite<'a> {
    schema: &'a Schema,
    explicit: Option<&'a HashSet<Vec<i32>>>,
}

impl Rewrite<'_> {
    /// A `DescriptorProto` at `path` (in source-info terms).
    fn message(&self, buf: &[u8], path: &[i32]) -> Result<Vec<u8>, WireError> {
        let mut out = Vec::new();
        let mut counts: HashMap<u32, i32> = HashMap::new();
        for r in &wire::parse(buf)? {
            let index = counts.entry(r.number).or_default();
            let sub_path: Vec<i32> = path.iter().copied().chain([r.number as i32, *index]).collect();
            *index += 1;
            let sub = match r.number {
                2 | 6 => self.field(bytes(r), &sub_path)?,
                3 => self.message(bytes(r), &sub_path)?,
                4 => self.enumeration(bytes(r))?,
                5 => self.with_options(bytes(r), 3, "google.protobuf.ExtensionRangeOptions")?,
                7 => self.options(bytes(r), "google.protobuf.MessageOptions")?,
                8 => self.with_options(bytes(r), 2, "google.protobuf.OneofOptions")?,
                _ => {
                    out.push(raw(r));
                    continue;
                }
            };
            out.push((r.number, tagged(r.number, &sub)));
        }
        Ok(join(out))
    }

    /// A `FieldDescriptorProto`: `json_name` only where the proto sets it.
    fn field(&self, buf: &[u8], path: &[i32]) -> Result<Vec<u8>, WireError> {
        let records = wire::parse(buf)?;
        let name = records.iter().find(|r| r.number == 1).and_then(Record::text).unwrap_or("");
        let mut out = Vec::new();
        for r in &records {
            match r.number {
                10 => {
                    let explicit = match self.explicit {
                        Some(paths) => paths.contains(path),
                        None => r.text() != Some(default_json_name(name).as_str()),
                    };
                    if explicit {
                        out.push(raw(r));
                    }
                }
                8 => out.push((8, tagged(8, &self.options(bytes(r), "google.protobuf.FieldOptions")?))),
                _ => out.push(raw(r)),
            }
        }
        Ok(join(out))
    }

    /// An `EnumDescriptorProto` and its values.
    fn enumeration(&self, buf: &[u8]) -> Result<Vec<u8>, WireError> {
        let mut out = Vec::new();
        for r in &wire::parse(buf)? {
            match r.number {
                2 => out.push((2, tagged(2, &self.with_options(bytes(r), 3, "google.protobuf.EnumValueOptions")?))),
                3 => out.push((3, tagged(3, &self.options(bytes(r), "google.protobuf.EnumOptions")?))),
                _ => out.push(raw(r)),
            }
        }
        Ok(join(out))
    }

    /// A `ServiceDescriptorProto` and its methods.
    fn service(&self, buf: &[u8]) -> Result<Vec<u8>, WireError> {
        let mut out = Vec::new();
        for r in &wire::parse(buf)? {
            match r.number {
                2 => out.push((2, tagged(2, &self.with_options(bytes(r), 4, "google.protobuf.MethodOptions")?))),
                3 => out.push((3, tagged(3, &self.options(bytes(r), "google.protobuf.ServiceOptions")?))),
                _ => out.push(raw(r)),
            }
        }
        Ok(join(out))
    }

    /// A descriptor whose only rewritten part is its options, in field `number`.
    fn with_options(&self, buf: &[u8], number: u32, kind: &str) -> Result<Vec<u8>, WireError> {
        let mut out = Vec::new();
        for r in &wire::parse(buf)? {
            if r.number == number {
                out.push((number, tagged(number, &self.options(bytes(r), kind)?)));
            } else {
                out.push(raw(r));
            }
        }
        Ok(join(out))
    }

    /// An options message of type `kind` (or any message reached from one):
    /// fields of source retention dropped, the rest in number order.
    fn options(&self, buf: &[u8], kind: &str) -> Result<Vec<u8>, WireError> {
        let mut out = Vec::new();
        for r in &wire::parse(buf)? {
            let key = (kind.to_string(), r.number);
            if self.schema.source_retention.contains(&key) {
                continue;
            }
            match (self.schema.message_type.get(&key), r.bytes()) {
                (Some(inner), Some(content)) => out.push((r.number, tagged(r.number, &self.options(content, inner)?))),
                _ => out.push(raw(r)),
            }
        }
        Ok(join(out))
    }
}

/// Reads the rewritten descriptor back: the elements with options and the
/// intervals, named and ordered as protoc's generator does.
fn describe(file: &[u8], out: &mut Embedded) -> Result<(), WireError> {
    let records = wire::parse(file)?;
    let of = |n: u32| records.iter().filter(move |r| r.number == n);
    out.file_options = of(8).next().map(|r| bytes(r).to_vec()).filter(|o| !o.is_empty());
    // Options: top-level enums, top-level extensions, messages, services.
    for e in of(5) {
        enum_options(bytes(e), "", out)?;
    }
    for x in of(7) {
        let x = wire::parse(bytes(x))?;
        if let Some(o) = options_of(&x, 8) {
            let element = Element { global: name_of(&x).to_string(), member: None };
            out.options.push(ElementOptions { element, serialized: o });
        }
    }
    for m in of(4) {
        message_options(bytes(m), "", out)?;
    }
    for s in of(6) {
        let s = wire::parse(bytes(s))?;
        let global = format!("_{}", name_of(&s).to_ascii_uppercase());
        push_options(out, &global, None, options_of(&s, 3));
        for m in s.iter().filter(|r| r.number == 2) {
            let m = wire::parse(bytes(m))?;
            push_options(out, &global, Some(("methods_by_name", name_of(&m))), options_of(&m, 4));
        }
    }
    // Intervals: top-level enums, messages (each followed by its nested
    // messages, then its enums), services. protoc looks each serialized
    // element up in the file bytes, so an element that serializes like an
    // earlier one (two equal map entries) gets the earlier one's place.
    let place = |r: &Record| {
        let content = bytes(r);
        let start = find(file, content).unwrap_or(r.content);
        (start, start + content.len())
    };
    for e in of(5) {
        let global = format!("_{}", name_of(&wire::parse(bytes(e))?).to_ascii_uppercase());
        let (start, end) = place(e);
        out.intervals.push(Interval { global, start, end });
    }
    for m in of(4) {
        message_intervals(file, m, "", out)?;
    }
    for s in of(6) {
        let global = format!("_{}", name_of(&wire::parse(bytes(s))?).to_ascii_uppercase());
        let (start, end) = place(s);
        out.intervals.push(Interval { global, start, end });
    }
    Ok(())
}

fn name_of<'a>(records: &[Record<'a>]) -> &'a str {
    records.iter().find(|r| r.number == 1).and_then(Record::text).unwrap_or("")
}

/// The options in field `number`, when set and not empty.
fn options_of(records: &[Record], number: u32) -> Option<Vec<u8>> {
    records.iter().find(|r| r.number == number).map(|r| bytes(r).to_vec()).filter(|o| !o.is_empty())
}

fn push_options(out: &mut Embedded, global: &str, member: Option<(&'static str, &str)>, options: Option<Vec<u8>>) {
    if let Some(serialized) = options {
        let member = member.map(|(table, key)| (table, key.to_string()));
        out.options.push(ElementOptions { element: Element { global: global.to_string(), member }, serialized });
    }
}

/// protoc's module-level name of a message or enum: `_OUTER_INNER`.
fn global_name(scope: &str, name: &str) -> String {
    format!("_{scope}{}", name.to_ascii_uppercase())
}

fn enum_options(buf: &[u8], scope: &str, out: &mut Embedded) -> Result<(), WireError> {
    let e = wire::parse(buf)?;
    let global = global_name(scope, name_of(&e));
    push_options(out, &global, None, options_of(&e, 3));
    for v in e.iter().filter(|r| r.number == 2) {
        let v = wire::parse(bytes(v))?;
        push_options(out, &global, Some(("values_by_name", name_of(&v))), options_of(&v, 3));
    }
    Ok(())
}

/// A message's options after those of its nested messages, enums, oneofs,
/// fields and extensions, as protoc orders them.
fn message_options(buf: &[u8], scope: &str, out: &mut Embedded) -> Result<(), WireError> {
    let m = wire::parse(buf)?;
    let name = name_of(&m);
    let global = global_name(scope, name);
    let inner_scope = format!("{scope}{}_", name.to_ascii_uppercase());
    let of = |n: u32| m.iter().filter(move |r| r.number == n);
    for nested in of(3) {
        message_options(bytes(nested), &inner_scope, out)?;
    }
    for e in of(4) {
        enum_options(bytes(e), &inner_scope, out)?;
    }
    for o in of(8) {
        let o = wire::parse(bytes(o))?;
        push_options(out, &global, Some(("oneofs_by_name", name_of(&o))), options_of(&o, 2));
    }
    for f in of(2) {
        let f = wire::parse(bytes(f))?;
        push_options(out, &global, Some(("fields_by_name", name_of(&f))), options_of(&f, 8));
    }
    for x in of(6) {
        let x = wire::parse(bytes(x))?;
        push_options(out, &global, Some(("extensions_by_name", name_of(&x))), options_of(&x, 8));
    }
    push_options(out, &global, None, options_of(&m, 7));
    Ok(())
}

fn message_intervals(file: &[u8], record: &Record, scope: &str, out: &mut Embedded) -> Result<(), WireError> {
    // Offsets of nested records are relative to their parent's content.
    fn walk(file: &[u8], content: &[u8], at: usize, scope: &str, out: &mut Embedded) -> Result<(), WireError> {
        let m = wire::parse(content)?;
        let name = name_of(&m);
        let start = find(file, content).unwrap_or(at);
        out.intervals.push(Interval { global: global_name(scope, name), start, end: start + content.len() });
        let inner_scope = format!("{scope}{}_", name.to_ascii_uppercase());
        for nested in m.iter().filter(|r| r.number == 3) {
            walk(file, bytes(nested), at + nested.content, &inner_scope, out)?;
        }
        for e in m.iter().filter(|r| r.number == 4) {
            let content = bytes(e);
            let start = find(file, content).unwrap_or(at + e.content);
            let global = global_name(&inner_scope, name_of(&wire::parse(content)?));
            out.intervals.push(Interval { global, start, end: start + content.len() });
        }
        Ok(())
    }
    walk(file, bytes(record), record.content, scope, out)
}

/// The first position of `needle` in `haystack` (an empty needle is found
/// at 0, as `std::string::find` does), with memchr's substring search: a
/// window-by-window comparison took an eighth of a whole regeneration.
fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    memchr::memmem::find(haystack, needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A length-delimited record.
    fn ld(number: u32, content: &[u8]) -> Vec<u8> {
        tagged(number, content)
    }

    #[test]
    fn json_names() {
        assert_eq!(default_json_name("user_id"), "userId");
        assert_eq!(default_json_name("a__b_"), "aB");
        assert_eq!(default_json_name("already"), "already");
    }

    /// A file with one message `M` holding field `user_id` and a nested
    /// enum `E`, encoded the way the compiler does (json_name set, fields in
    /// declaration order, source info), comes out as protoc embeds it, with
    /// the intervals of `M` and `M.E`.
    #[test]
    fn rewrites_like_protoc_and_finds_intervals() {
        let field = [ld(1, b"user_id"), vec![0x18, 1], ld(10, b"userId"), ld(8, &[0x18, 1])].concat();
        let e = [ld(1, b"E"), ld(2, &[ld(1, b"E_ZERO"), vec![0x10, 0]].concat())].concat();
        let message = [ld(1, b"M"), ld(2, &field), ld(4, &e), ld(7, &[0x18, 1])].concat();
        let source_info = ld(1, &ld(1, &[4, 0]));
        let file = [ld(1, b"f.proto"), ld(2, b"p"), ld(4, &message), ld(9, &source_info), ld(12, b"proto3")].concat();

        let schema = Schema::new([file.as_slice()]).unwrap();
        let embedded = embed(&file, &schema).unwrap();

        let field_out = [ld(1, b"user_id"), vec![0x18, 1], ld(8, &[0x18, 1])].concat();
        let message_out = [ld(1, b"M"), ld(2, &field_out), ld(4, &e), ld(7, &[0x18, 1])].concat();
        let expected = [ld(1, b"f.proto"), ld(2, b"p"), ld(4, &message_out), ld(12, b"proto3")].concat();
        assert_eq!(embedded.bytes, expected);

        // `M` starts after the name and package records and its own tag and length.
        let m_start = ld(1, b"f.proto").len() + ld(2, b"p").len() + 2;
        let spans: Vec<_> = embedded.intervals.iter().map(|i| (i.global.as_str(), i.start, i.end)).collect();
        let e_start = find(&embedded.bytes, &e).unwrap();
        assert_eq!(spans, [("_M", m_start, m_start + message_out.len()), ("_M_E", e_start, e_start + e.len())]);
        assert!(e_start > m_start);

        let options: Vec<_> = embedded.options.iter().map(|o| (o.element.clone(), o.serialized.clone())).collect();
        let field_element = Element { global: "_M".into(), member: Some(("fields_by_name", "user_id".into())) };
        let message_element = Element { global: "_M".into(), member: None };
        assert_eq!(options, [(field_element, vec![0x18, 1]), (message_element, vec![0x18, 1])]);
        assert_eq!(embedded.file_options, None);
    }

    /// An explicit json_name (its source location exists) stays, even when
    /// it equals the default; a custom option with source retention goes.
    #[test]
    fn keeps_explicit_json_names_and_drops_source_retention_options() {
        // extend google.protobuf.FieldOptions { string note = 50000 [retention = RETENTION_SOURCE]; }
        let extension = [
            ld(1, b"note"),
            ld(2, b".google.protobuf.FieldOptions"),
            vec![0x18, 0xd0, 0x86, 0x03],
            vec![0x28, 9],
            ld(8, &[0x88, 0x01, 2]),
        ]
        .concat();
        let mut custom = Vec::new();
        wire::put_bytes(&mut custom, 50000, b"dropped");
        let options = [vec![0x18, 1], custom].concat();
        let field = [ld(1, b"a_b"), ld(10, b"aB"), ld(8, &options)].concat();
        let message = [ld(1, b"M"), ld(2, &field)].concat();
        let source_info = ld(1, &ld(1, &[4, 0, 2, 0, 10]));
        let file = [ld(1, b"f.proto"), ld(4, &message), ld(7, &extension), ld(9, &source_info)].concat();

        let schema = Schema::new([file.as_slice()]).unwrap();
        let embedded = embed(&file, &schema).unwrap();
        let field_out = [ld(1, b"a_b"), ld(8, &[0x18, 1]), ld(10, b"aB")].concat();
        let expected =
            [ld(1, b"f.proto"), ld(4, &[ld(1, b"M"), ld(2, &field_out)].concat()), ld(7, &extension)].concat();
        assert_eq!(embedded.bytes, expected);
    }
}
