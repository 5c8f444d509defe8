//! The model: what the proto files say, as plain Rust data.
//!
//! This is the contract between `build` and every later stage. Nothing here
//! refers to descriptor types; every option is already decoded into a typed
//! field, and every Go name and Go type is resolved (explicit option or the
//! documented default). `mm-bindgen list --json` prints this structure, so
//! field names are part of the documented JSON format (see README).

use serde::Serialize;

/// Everything loaded from the proto root.
#[derive(Debug, Clone, Serialize)]
pub struct Model {
    /// The proto files under the root, sorted by path.
    pub files: Vec<File>,
    /// Go import aliases declared through the `(mmbindgen.v1.file).go_import` option, sorted by alias.
    pub go_imports: Vec<GoImport>,
    /// Services in file order, then declaration order.
    pub services: Vec<Service>,
    /// Messages (nested ones included, map entries excluded) in file and declaration order.
    pub messages: Vec<Message>,
    /// Enums (nested ones included) in file and declaration order.
    pub enums: Vec<Enum>,
    /// Extension fields (proto2 `extend`) declared under the root, in file
    /// and declaration order; absent from the JSON when there are none.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub extensions: Vec<Extension>,
    /// Every compiled file the generated code needs at run time (the files
    /// under the root and what they import, well-known types excluded), in
    /// dependency order, as encoded `FileDescriptorProto`s with options and
    /// source info: the message modules of targets that embed descriptors
    /// are written from them.
    #[serde(skip)]
    pub descriptors: Vec<FileDescriptor>,
    /// Position of each message in `messages`, by full name.
    #[serde(skip)]
    pub message_index: std::collections::HashMap<String, usize>,
    /// The proto root as the user gave it, for printing places.
    #[serde(skip)]
    pub root: std::path::PathBuf,
}

/// A proto file under the root.
#[derive(Debug, Clone, Serialize)]
pub struct File {
    /// Path relative to the proto root, with `/` separators.
    pub path: String,
    pub package: String,
    /// The standard `go_package` option, if set.
    pub go_package: Option<String>,
}

/// A compiled file as an encoded `google.protobuf.FileDescriptorProto`.
#[derive(Debug, Clone)]
pub struct FileDescriptor {
    /// The import name, e.g. `mattermost/plugin/v1/common.proto`.
    pub name: String,
    pub bytes: Vec<u8>,
}

/// A Go import alias that `go_type` expressions may use.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, PartialOrd, Ord)]
pub struct GoImport {
    pub alias: String,
    pub path: String,
}

/// Where an element is declared. Lines and columns are 1-based.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, Default)]
pub struct Location {
    pub file: String,
    pub line: u32,
    pub column: u32,
}

/// The comments attached to an element, with the comment markers and the
/// single leading space of each line removed. Line ends are normalised to LF.
#[derive(Debug, Clone, Serialize, Default)]
pub struct Comments {
    pub leading: String,
    pub trailing: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Service {
    pub name: String,
    pub full_name: String,
    pub file: String,
    pub location: Location,
    pub comments: Comments,
    /// The Go interface the service mirrors (`plugin.API`), if declared.
    pub go_interface: Option<String>,
    /// The service is a plugin's hooks (the `hooks` option): the plugin
    /// serves it, and its methods carry hook fallbacks.
    pub hooks: bool,
    pub methods: Vec<Method>,
}

/// How an RPC streams.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Streaming {
    Unary,
    Client,
    Server,
    Bidi,
}

impl Streaming {
    /// The name used in `list` and in `list --json`.
    pub fn as_str(self) -> &'static str {
        match self {
            Streaming::Unary => "unary",
            Streaming::Client => "client",
            Streaming::Server => "server",
            Streaming::Bidi => "bidi",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Method {
    pub name: String,
    /// The Go method name (the `go_name` option, else the RPC name).
    pub go_name: String,
    /// Full name of the request message.
    pub request: String,
    /// Full name of the response message.
    pub response: String,
    pub streaming: Streaming,
    pub location: Location,
    pub comments: Comments,
    /// First server version offering the method, empty when not declared.
    pub min_server_version: String,
    pub tags: Vec<String>,
    /// Deprecation note (the `deprecated` option of the vocabulary; the
    /// standard `deprecated = true` alone gives a note saying so); empty
    /// when the method is not deprecated.
    pub deprecated: String,
    pub experimental: bool,
    /// Methods of a hooks service: what the hooks client answers without
    /// the plugin.
    pub hook: Option<Hook>,
    /// The Go signature the RPC stands for, derived from the request and
    /// response fields under the conventions of `options.proto`.
    pub go: GoSignature,
}

/// How the hooks client treats one hook.
#[derive(Debug, Clone, Serialize)]
pub struct Hook {
    /// The client asks `Implemented` before calling; false for `Implemented`
    /// itself, the RPC that answers which hooks the plugin implements.
    pub gated: bool,
    /// The answer when the plugin does not implement the hook.
    pub not_implemented: Fallback,
    /// The answer when the call fails.
    pub unavailable: Fallback,
}

/// A hook result the hooks client decides without the plugin, resolved
/// against the Go signature; what is not set is a zero value.
#[derive(Debug, Clone, Serialize, Default)]
pub struct Fallback {
    /// The AppError returned in the error result.
    pub error: Option<BridgeError>,
    /// The request field returned unchanged as the first result, as the
    /// option names it, and the position of its Go parameter (unset when no
    /// parameter carries that field: a validation error).
    pub echo: String,
    pub echo_param: Option<usize>,
    /// The bool result answered `true`, by position in the Go results
    /// (unset when the option asks for it but there is no bool result: a
    /// validation error).
    pub true_result: Option<usize>,
    /// Whether the option asked for a true bool result.
    pub bool_result: bool,
    /// HTTP hooks: the status answered when nothing was written yet.
    pub http_status: Option<u32>,
    /// Why this answer is the right one.
    pub reason: String,
}

/// The kind of answer a [`Fallback`] gives, in the order it decides them:
/// what the docs and `diff` describe in words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer<'a> {
    /// An HTTP hook's status.
    Http(u32),
    /// An AppError in the error result.
    Error(&'a BridgeError),
    /// The request field of that name returned unchanged.
    Echo(&'a str),
    /// A bool result answered `true`.
    True,
    /// A hook without results: nothing to answer.
    Nothing,
    /// Every result its zero value.
    Zero,
}

impl Fallback {
    /// What this answer is, for a method with or without Go results.
    pub fn answer(&self, has_results: bool) -> Answer<'_> {
        if let Some(status) = self.http_status {
            Answer::Http(status)
        } else if let Some(e) = &self.error {
            Answer::Error(e)
        } else if self.echo_param.is_some() {
            Answer::Echo(&self.echo)
        } else if self.true_result.is_some() {
            Answer::True
        } else if has_results {
            Answer::Zero
        } else {
            Answer::Nothing
        }
    }
}

/// Which of the two cases a bridge error stands for.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum FallbackCase {
    NotImplemented,
    Unavailable,
}

/// An AppError made by the bridge itself instead of an answer.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct BridgeError {
    /// `plugin.bridge.<method_in_snake_case>.not_implemented` or `.unavailable`.
    pub id: String,
    /// 501 for not implemented, 503 for unavailable.
    pub status: u16,
}

impl BridgeError {
    /// The error the bridge returns for a Go method in one of the two cases:
    /// the one naming rule of bridge error ids.
    pub fn new(go_name: &str, case: FallbackCase) -> Self {
        use heck::ToSnakeCase;
        let (suffix, status) = match case {
            FallbackCase::NotImplemented => ("not_implemented", 501),
            FallbackCase::Unavailable => ("unavailable", 503),
        };
        BridgeError { id: format!("plugin.bridge.{}.{suffix}", go_name.to_snake_case()), status }
    }
}

/// A Go method signature: parameters and results, in Go order.
#[derive(Debug, Clone, Serialize, Default)]
pub struct GoSignature {
    pub params: Vec<GoValue>,
    /// Results in Go order; the error, when there is one, is last.
    pub results: Vec<GoValue>,
}

impl GoSignature {
    /// `Name(a T, b U) (R, error)`, the method `name` with this signature.
    pub fn method(&self, name: &str) -> String {
        let params: Vec<String> = self.params.iter().map(|p| format!("{} {}", p.name, p.go_type)).collect();
        let results: Vec<&str> = self.results.iter().map(|r| r.go_type.as_str()).collect();
        let results = match results.as_slice() {
            [] => String::new(),
            [one] => format!(" {one}"),
            many => format!(" ({})", many.join(", ")),
        };
        format!("{name}({}){results}", params.join(", "))
    }
}

/// One Go parameter or result and the proto field that carries it.
#[derive(Debug, Clone, Serialize)]
pub struct GoValue {
    pub name: String,
    /// The Go type expression, e.g. `*model.Post`. Empty when the field's
    /// type has no Go counterpart (a protocol message without `go_type`).
    pub go_type: String,
    /// What the value is, which also says which message holds its field.
    pub role: Role,
    /// The proto field name.
    pub field: String,
    /// `go_type` parsed; `None` when it is empty.
    #[serde(skip)]
    pub ty: Option<GoType>,
}

/// A Go type expression as a tree, parsed once in `build` from a `go_type`
/// (or a default): named types carry their package's import path, so
/// imports, shapes and conversions never look at the spelling.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum GoType {
    /// A predeclared type: `string`, `int64`, `bool`, `byte`, `any`, `error`.
    Builtin(String),
    /// A type of another package: `model.Post` is `{ path:
    /// "github.com/mattermost/mattermost/server/public/model", package:
    /// "model", name: "Post" }`. `package` is the qualifier the proto's
    /// `go_import` declares for `path`.
    Named {
        path: String,
        package: String,
        name: String,
    },
    Pointer(Box<GoType>),
    Slice(Box<GoType>),
    Map(Box<GoType>, Box<GoType>),
    /// The last parameter of a variadic function: `...any`.
    Variadic(Box<GoType>),
}

impl GoType {
    /// Whether this is the named type `name` of the package at `path`.
    pub fn is_named(&self, path: &str, name: &str) -> bool {
        matches!(self, GoType::Named { path: p, name: n, .. } if p == path && n == name)
    }

    /// Whether this is a pointer to the named type `name` of `path`.
    pub fn is_pointer_to(&self, path: &str, name: &str) -> bool {
        matches!(self, GoType::Pointer(t) if t.is_named(path, name))
    }

    /// Whether this is the predeclared type `name`.
    pub fn is_builtin(&self, name: &str) -> bool {
        matches!(self, GoType::Builtin(n) if n == name)
    }

    /// Every named type in the expression, outermost first.
    pub fn named(&self) -> Vec<&GoType> {
        let mut out = Vec::new();
        let mut stack = vec![self];
        while let Some(t) = stack.pop() {
            match t {
                GoType::Builtin(_) => {}
                GoType::Named { .. } => out.push(t),
                GoType::Pointer(e) | GoType::Slice(e) | GoType::Variadic(e) => stack.push(e),
                GoType::Map(k, v) => {
                    stack.push(v);
                    stack.push(k);
                }
            }
        }
        out
    }
}

impl std::fmt::Display for GoType {
    /// The Go spelling, with the declared qualifiers.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            GoType::Builtin(n) => f.write_str(n),
            GoType::Named { package, name, .. } => write!(f, "{package}.{name}"),
            GoType::Pointer(t) => write!(f, "*{t}"),
            GoType::Slice(t) => write!(f, "[]{t}"),
            GoType::Map(k, v) => write!(f, "map[{k}]{v}"),
            GoType::Variadic(t) => write!(f, "...{t}"),
        }
    }
}

/// The part a proto field plays in a Go signature.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// A parameter carried by a request field.
    Param,
    /// A parameter the callee writes to (`io.Writer`, `http.ResponseWriter`,
    /// an output `any`), carried by a response field with `go_param`.
    Output,
    /// A result carried by a response field.
    Result,
    /// The error result, carried by response field 1.
    Error,
}

impl Role {
    /// `request` or `response`: the message that holds the field.
    pub fn message(self) -> &'static str {
        match self {
            Role::Param => "request",
            Role::Output | Role::Result | Role::Error => "response",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Message {
    pub name: String,
    pub full_name: String,
    pub file: String,
    pub location: Location,
    pub comments: Comments,
    /// The Go type the message mirrors (`model.Post`), if declared.
    pub go_type: Option<String>,
    /// `go_type` parsed (`None` also when it does not parse, which
    /// validation reports).
    #[serde(skip)]
    pub go: Option<GoType>,
    /// The Go value travels as JSON in the single `bytes json = 1` field.
    pub json: bool,
    /// Exported Go fields deliberately not carried, with reasons.
    pub skipped: Vec<SkippedField>,
    pub fields: Vec<Field>,
    /// Real oneofs (proto3 `optional` is not listed here).
    pub oneofs: Vec<String>,
    /// The standard `deprecated` option; absent from the JSON when false.
    #[serde(skip_serializing_if = "is_false")]
    pub deprecated: bool,
}

/// A field declared in an `extend` block.
#[derive(Debug, Clone, Serialize)]
pub struct Extension {
    pub full_name: String,
    /// Full name of the message it extends.
    pub extendee: String,
    /// The file that declares it.
    pub file: String,
    pub field: Field,
}

fn is_false(b: &bool) -> bool {
    !*b
}

#[derive(Debug, Clone, Serialize)]
pub struct SkippedField {
    pub go_name: String,
    pub reason: String,
}

/// How many values a field holds.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Cardinality {
    /// A plain proto3 field: always present, zero value when unset.
    Singular,
    /// Explicit presence: proto3 `optional` or a message-typed field.
    Optional,
    Repeated,
    Map,
}

/// A proto type: a scalar keyword (`string`, `int64`, ...) or the full name of
/// a message or enum.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(tag = "kind", content = "name", rename_all = "snake_case")]
pub enum TypeRef {
    Scalar(String),
    Message(String),
    Enum(String),
}

impl TypeRef {
    /// The name as written in a proto file: the scalar keyword or the full name.
    pub fn name(&self) -> &str {
        match self {
            TypeRef::Scalar(n) | TypeRef::Message(n) | TypeRef::Enum(n) => n,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Field {
    pub name: String,
    pub number: u32,
    pub location: Location,
    pub comments: Comments,
    pub cardinality: Cardinality,
    /// The element type (the value type for maps).
    pub ty: TypeRef,
    /// The key type for maps.
    pub map_key: Option<TypeRef>,
    /// The real oneof this field belongs to.
    pub oneof: Option<String>,
    /// The Go name (struct field, parameter or result name).
    pub go_name: String,
    /// The resolved Go type; empty when there is none (see `GoValue`).
    pub go_type: String,
    /// Whether `go_type` came from the option rather than the default.
    pub go_type_explicit: bool,
    /// `go_type` parsed; `None` when it is empty (or does not parse, which
    /// validation reports).
    #[serde(skip)]
    pub go: Option<GoType>,
    /// In a response: the 1-based Go parameter position this field fills.
    pub go_param: u32,
    /// A proto2 `required` field; absent from the JSON when false.
    #[serde(skip_serializing_if = "is_false")]
    pub required: bool,
    /// The standard `deprecated` option; absent from the JSON when false.
    #[serde(skip_serializing_if = "is_false")]
    pub deprecated: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct Enum {
    pub name: String,
    pub full_name: String,
    pub file: String,
    pub location: Location,
    pub comments: Comments,
    pub go_type: Option<String>,
    pub values: Vec<EnumValue>,
}

#[derive(Debug, Clone, Serialize)]
pub struct EnumValue {
    pub name: String,
    pub number: i32,
    pub comments: Comments,
}

impl Model {
    /// Looks a message up by full name.
    pub fn message(&self, full_name: &str) -> Option<&Message> {
        self.message_index.get(full_name).map(|&i| &self.messages[i])
    }

    /// A diagnostic about an element, placed at `root/file:line:col`.
    pub fn diagnostic(&self, at: &Location, element: String, message: String) -> crate::diag::Diagnostic {
        let place = format!("{}:{}:{}", self.root.join(&at.file).display(), at.line, at.column);
        crate::diag::Diagnostic::new(message).at(place).element(element)
    }

    /// The services the bridge covers: those that mirror a Go interface, in a
    /// file with a `go_package` (the Go code's home).
    pub fn bridged_services(&self) -> Vec<&Service> {
        self.services
            .iter()
            .filter(|s| s.go_interface.is_some())
            .filter(|s| self.files.iter().any(|f| f.path == s.file && f.go_package.is_some()))
            .collect()
    }

    /// Rebuilds the name index after `messages` changed.
    pub fn index(&mut self) {
        self.message_index = self.messages.iter().enumerate().map(|(i, m)| (m.full_name.clone(), i)).collect();
    }
}
