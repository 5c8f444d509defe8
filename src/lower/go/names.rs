//! Go names: the identifiers protoc-gen-go gives to proto elements, so that
//! generated code refers to its fields and types exactly.

/// protoc-gen-go's `GoCamelCase`: `user_id` → `UserId`, `ip_address` →
/// `IpAddress`, `foo_1` → `Foo_1`, `_x` → `XX`.
pub fn go_camel_case(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let next_lower = i + 1 < b.len() && b[i + 1].is_ascii_lowercase();
        if c == b'.' && next_lower {
            // skipped: ".x" becomes "X" below
        } else if c == b'.' {
            out.push('_');
        } else if c == b'_' && (i == 0 || b[i - 1] == b'.') {
            out.push('X');
        } else if c == b'_' && next_lower {
            // skipped: "_x" becomes "X"
        } else if c.is_ascii_digit() {
            out.push(c as char);
        } else {
            out.push(c.to_ascii_uppercase() as char);
            while i + 1 < b.len() && b[i + 1].is_ascii_lowercase() {
                i += 1;
                out.push(b[i] as char);
            }
        }
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::go_camel_case;

    #[test]
    fn matches_protoc_gen_go() {
        let cases = [
            ("user_id", "UserId"),
            ("ip_address", "IpAddress"),
            ("id", "Id"),
            ("json", "Json"),
            ("foo_1", "Foo_1"),
            ("foo1bar", "Foo1Bar"),
            ("_x", "XX"),
            ("fooBar", "FooBar"),
            ("FOO", "FOO"),
            ("mfa_used_timestamps", "MfaUsedTimestamps"),
            ("a.b_c", "ABC"),
            ("a.B", "A_B"),
        ];
        for (input, want) in cases {
            assert_eq!(go_camel_case(input), want, "{input}");
        }
    }
}
