//! The option vocabulary of `proto/mmbindgen/v1/options.proto`, decoded once
//! from the descriptors' dynamic options into typed Rust values.
//!
//! The structs mirror the proto messages field for field (same numbers); a
//! unit test compiles the embedded `options.proto` and checks that every
//! field there is known here, so the two cannot drift apart.

use prost_reflect::{DescriptorPool, DynamicMessage, ExtensionDescriptor, Value};

#[derive(Clone, PartialEq, prost::Message)]
pub struct GoImport {
    #[prost(string, tag = "1")]
    pub alias: String,
    #[prost(string, tag = "2")]
    pub path: String,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct FileOptions {
    #[prost(message, repeated, tag = "1")]
    pub go_import: Vec<GoImport>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct ServiceOptions {
    #[prost(string, tag = "1")]
    pub go_interface: String,
    #[prost(bool, tag = "2")]
    pub hooks: bool,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct MethodOptions {
    #[prost(string, tag = "1")]
    pub go_name: String,
    #[prost(string, tag = "2")]
    pub min_server_version: String,
    #[prost(string, repeated, tag = "3")]
    pub tags: Vec<String>,
    #[prost(string, tag = "4")]
    pub deprecated: String,
    #[prost(bool, tag = "5")]
    pub experimental: bool,
    #[prost(message, optional, tag = "6")]
    pub not_implemented: Option<HookFallback>,
    #[prost(message, optional, tag = "7")]
    pub unavailable: Option<HookFallback>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct HookFallback {
    #[prost(bool, tag = "1")]
    pub error: bool,
    #[prost(string, tag = "2")]
    pub echo: String,
    #[prost(bool, tag = "3")]
    pub bool_result: bool,
    #[prost(uint32, tag = "4")]
    pub http_status: u32,
    #[prost(string, tag = "5")]
    pub reason: String,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct SkippedField {
    #[prost(string, tag = "1")]
    pub go_name: String,
    #[prost(string, tag = "2")]
    pub reason: String,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct MessageOptions {
    #[prost(string, tag = "1")]
    pub go_type: String,
    #[prost(bool, tag = "2")]
    pub json: bool,
    #[prost(message, repeated, tag = "3")]
    pub skip: Vec<SkippedField>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct FieldOptions {
    #[prost(string, tag = "1")]
    pub go_name: String,
    #[prost(string, tag = "2")]
    pub go_type: String,
    #[prost(uint32, tag = "3")]
    pub go_param: u32,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct EnumOptions {
    #[prost(string, tag = "1")]
    pub go_type: String,
}

/// The extensions of the vocabulary, as found in the pool. A proto set that
/// never imports `options.proto` has none of them, and every option is unset.
pub struct Extensions {
    file: Option<ExtensionDescriptor>,
    service: Option<ExtensionDescriptor>,
    method: Option<ExtensionDescriptor>,
    message: Option<ExtensionDescriptor>,
    field: Option<ExtensionDescriptor>,
    enumeration: Option<ExtensionDescriptor>,
}

impl Extensions {
    pub fn new(pool: &DescriptorPool) -> Self {
        let get = |name: &str| pool.get_extension_by_name(&format!("mmbindgen.v1.{name}"));
        Extensions {
            file: get("file"),
            service: get("service"),
            method: get("method"),
            message: get("message"),
            field: get("field"),
            enumeration: get("enum"),
        }
    }

    pub fn file(&self, options: &DynamicMessage) -> FileOptions {
        decode(options, self.file.as_ref())
    }
    pub fn service(&self, options: &DynamicMessage) -> ServiceOptions {
        decode(options, self.service.as_ref())
    }
    pub fn method(&self, options: &DynamicMessage) -> MethodOptions {
        decode(options, self.method.as_ref())
    }
    pub fn message(&self, options: &DynamicMessage) -> MessageOptions {
        decode(options, self.message.as_ref())
    }
    pub fn field(&self, options: &DynamicMessage) -> FieldOptions {
        decode(options, self.field.as_ref())
    }
    pub fn enumeration(&self, options: &DynamicMessage) -> EnumOptions {
        decode(options, self.enumeration.as_ref())
    }
}

/// Reads one extension of a descriptor's options into its typed struct.
fn decode<T: prost::Message + Default>(options: &DynamicMessage, ext: Option<&ExtensionDescriptor>) -> T {
    let Some(ext) = ext else { return T::default() };
    if !options.has_extension(ext) {
        return T::default();
    }
    match &*options.get_extension(ext) {
        Value::Message(m) => {
            let bytes = prost::Message::encode_to_vec(m);
            // The bytes were produced from a message of the very schema `T`
            // mirrors (checked by the test below), so decoding cannot fail.
            T::decode(bytes.as_slice()).expect("option message matches its Rust mirror")
        }
        _ => T::default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every field of every option message in `options.proto` must be known
    /// to the Rust mirrors: a field added there and forgotten here would be
    /// silently dropped by `decode`.
    #[test]
    fn mirrors_cover_options_proto() {
        let mut compiler = protox::Compiler::with_file_resolver(EmbeddedOnly);
        compiler.open_file(crate::load::OPTIONS_PROTO_NAME).unwrap();
        let pool = compiler.descriptor_pool();
        let known: &[(&str, &[(&str, u32)])] = &[
            ("GoImport", &[("alias", 1), ("path", 2)]),
            ("FileOptions", &[("go_import", 1)]),
            ("ServiceOptions", &[("go_interface", 1), ("hooks", 2)]),
            (
                "MethodOptions",
                &[
                    ("go_name", 1),
                    ("min_server_version", 2),
                    ("tags", 3),
                    ("deprecated", 4),
                    ("experimental", 5),
                    ("not_implemented", 6),
                    ("unavailable", 7),
                ],
            ),
            ("HookFallback", &[("error", 1), ("echo", 2), ("bool_result", 3), ("http_status", 4), ("reason", 5)]),
            ("SkippedField", &[("go_name", 1), ("reason", 2)]),
            ("MessageOptions", &[("go_type", 1), ("json", 2), ("skip", 3)]),
            ("FieldOptions", &[("go_name", 1), ("go_type", 2), ("go_param", 3)]),
            ("EnumOptions", &[("go_type", 1)]),
        ];
        let messages: Vec<_> = pool.all_messages().filter(|m| m.package_name() == "mmbindgen.v1").collect();
        assert_eq!(messages.len(), known.len(), "options.proto has messages the Rust side does not mirror");
        for (name, fields) in known {
            let m = pool.get_message_by_name(&format!("mmbindgen.v1.{name}")).unwrap();
            let actual: Vec<(String, u32)> = m.fields().map(|f| (f.name().to_string(), f.number())).collect();
            let expected: Vec<(String, u32)> = fields.iter().map(|(n, k)| (n.to_string(), *k)).collect();
            assert_eq!(actual, expected, "{name}");
        }
        assert!(Extensions::new(&pool).enumeration.is_some());
    }

    struct EmbeddedOnly;
    impl protox::file::FileResolver for EmbeddedOnly {
        fn open_file(&self, name: &str) -> Result<protox::file::File, protox::Error> {
            if name == crate::load::OPTIONS_PROTO_NAME {
                protox::file::File::from_source(name, crate::load::OPTIONS_PROTO)
            } else {
                protox::file::GoogleFileResolver::new().open_file(name)
            }
        }
    }
}
