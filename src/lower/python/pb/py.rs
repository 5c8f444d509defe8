//! Python text of the message modules that `ruff format` leaves as it is:
//! bytes literals, calls and the assignments of the pure-Python block, laid
//! out the way ruff lays them out at the package's line length.

use super::super::code::LINE_LENGTH;

/// A bytes literal equal to `bytes`: printable ASCII as itself, `\t`, `\n`,
/// `\r`, `\\`, everything else `\xNN` (lowercase). It is quoted the way
/// ruff wants: double quotes, unless single quotes need fewer escapes.
pub fn bytes_literal(bytes: &[u8]) -> String {
    let doubles = bytes.iter().filter(|&&b| b == b'"').count();
    let singles = bytes.iter().filter(|&&b| b == b'\'').count();
    let quote = if doubles > singles { b'\'' } else { b'"' };
    let mut out = String::with_capacity(bytes.len() + 3);
    out.push('b');
    out.push(quote as char);
    for &b in bytes {
        match b {
            b'\\' => out.push_str("\\\\"),
            b'\t' => out.push_str("\\t"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            _ if b == quote => {
                out.push('\\');
                out.push(b as char);
            }
            0x20..=0x7e => out.push(b as char),
            _ => out.push_str(&format!("\\x{b:02x}")),
        }
    }
    out.push(quote as char);
    out
}

fn fits(line: &str) -> bool {
    line.chars().count() <= LINE_LENGTH
}

/// A call `head(args)` at `indent` as ruff formats it: on one line when it
/// fits, else the arguments on one line of their own when they fit there
/// (and without a trailing comma), else one per line with a trailing comma.
/// `head` ends with the opening parenthesis; `tail` starts with the closing one.
pub fn call(indent: usize, head: &str, args: &[String], tail: &str) -> String {
    let pad = " ".repeat(indent);
    let flat = format!("{pad}{head}{}{tail}", args.join(", "));
    if fits(&flat) {
        return flat;
    }
    let inner = format!("{pad}    {}", args.join(", "));
    // A single argument is never exploded: there is no comma to split at.
    if fits(&inner) || args.len() == 1 {
        return format!("{pad}{head}\n{inner}\n{pad}{tail}");
    }
    let mut out = format!("{pad}{head}\n");
    for a in args {
        out.push_str(&format!("{pad}    {a},\n"));
    }
    out.push_str(&format!("{pad}{tail}"));
    out
}

/// A line at `indent` that may hold one subscript (`name: T[X]`,
/// `) -> T[X]:`), split as ruff splits it when the line is too long: the
/// subscript's content on its own line, or one item per line with a
/// trailing comma when that does not fit either.
pub fn subscript_line(indent: usize, line: &str) -> String {
    let pad = " ".repeat(indent);
    let one = format!("{pad}{line}");
    let (Some(open), Some(close)) = (line.find('['), line.rfind(']')) else { return one };
    if fits(&one) || close < open {
        return one;
    }
    let (head, inner, tail) = (&line[..=open], &line[open + 1..close], &line[close..]);
    let hugged = format!("{pad}    {inner}");
    let items = top_level_items(inner);
    if fits(&hugged) || items.len() == 1 {
        return format!("{pad}{head}\n{hugged}\n{pad}{tail}");
    }
    let mut out = format!("{pad}{head}\n");
    for item in items {
        out.push_str(&format!("{pad}    {item},\n"));
    }
    out.push_str(&format!("{pad}{tail}"));
    out
}

/// The comma-separated items of a subscript's content, nested brackets kept whole.
fn top_level_items(inner: &str) -> Vec<&str> {
    let (mut items, mut depth, mut start) = (Vec::new(), 0usize, 0);
    for (i, c) in inner.char_indices() {
        match c {
            '[' | '(' => depth += 1,
            ']' | ')' => depth = depth.saturating_sub(1),
            ',' if depth == 0 => {
                items.push(inner[start..i].trim());
                start = i + 1;
            }
            _ => {}
        }
    }
    items.push(inner[start..].trim());
    items
}

/// The target of an assignment of the pure-Python block: `_globals["N"]`,
/// optionally `.table["key"]`, then `.attribute`.
pub struct Target<'a> {
    pub global: &'a str,
    pub member: Option<(&'a str, &'a str)>,
    pub attribute: &'a str,
}

impl Target<'_> {
    fn flat(&self) -> String {
        let member = self.member.map(|(t, k)| format!(".{t}[{}]", quoted(k))).unwrap_or_default();
        format!("_globals[{}]{member}{}", quoted(self.global), self.attribute)
    }
}

/// A string literal of a descriptor name (names are identifiers).
fn quoted(name: &str) -> String {
    format!("\"{name}\"")
}

/// `target = value` at `indent`, laid out as ruff does when it is too long:
/// the target split at its last subscript when that fits, else at its first,
/// else at both; a string value that still overflows goes in parentheses
/// when that makes it fit.
pub fn assign(indent: usize, target: &Target, value: &str, value_is_string: bool) -> String {
    let pad = " ".repeat(indent);
    let flat = format!("{pad}{} = {value}", target.flat());
    if fits(&flat) {
        return flat;
    }
    let plain = split_target(indent, target, &format!(" = {value}"));
    if plain.iter().all(|l| fits(l)) || !value_is_string {
        return plain.join("\n");
    }
    let mut wrapped = split_target(indent, target, " = (");
    wrapped.push(format!("{pad}    {value}"));
    wrapped.push(format!("{pad})"));
    if wrapped.iter().all(|l| fits(l)) { wrapped.join("\n") } else { plain.join("\n") }
}

/// The lines of a target split at its subscripts, `rest` after the attribute.
fn split_target(indent: usize, target: &Target, rest: &str) -> Vec<String> {
    let pad = " ".repeat(indent);
    let global = quoted(target.global);
    let attribute = target.attribute;
    let Some((table, key)) = target.member else {
        return vec![format!("{pad}_globals["), format!("{pad}    {global}"), format!("{pad}]{attribute}{rest}")];
    };
    let key = quoted(key);
    let last = vec![
        format!("{pad}_globals[{global}].{table}["),
        format!("{pad}    {key}"),
        format!("{pad}]{attribute}{rest}"),
    ];
    if fits(&last[0]) && fits(&last[2]) {
        return last;
    }
    let first = vec![
        format!("{pad}_globals["),
        format!("{pad}    {global}"),
        format!("{pad}].{table}[{key}]{attribute}{rest}"),
    ];
    if fits(&first[2]) {
        return first;
    }
    if fits(&last[0]) {
        return last;
    }
    vec![
        format!("{pad}_globals["),
        format!("{pad}    {global}"),
        format!("{pad}].{table}["),
        format!("{pad}    {key}"),
        format!("{pad}]{attribute}{rest}"),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_literals() {
        assert_eq!(bytes_literal(b"a\\b\n\x00\x82\t"), "b\"a\\\\b\\n\\x00\\x82\\t\"");
        assert_eq!(bytes_literal(b"say \"hi\""), "b'say \"hi\"'");
        assert_eq!(bytes_literal(b"it's \"x\""), "b'it\\'s \"x\"'");
    }

    #[test]
    fn calls() {
        let args: Vec<String> = ["a".into(), "b".into()].into();
        assert_eq!(call(0, "f(", &args, ")"), "f(a, b)");
        let long: Vec<String> = (0..8).map(|i| format!("argument_{i}")).collect();
        let head = "a_long_function_name(";
        assert_eq!(call(0, head, &long, ")"), format!("{head}\n    {}\n)", long.join(", ")));
        let longer: Vec<String> = (0..12).map(|i| format!("argument_{i}")).collect();
        assert!(call(0, head, &longer, ")").ends_with("    argument_11,\n)"));
    }

    #[test]
    fn subscript_lines() {
        assert_eq!(subscript_line(4, ") -> T[X]:"), "    ) -> T[X]:");
        let long = format!(") -> _containers.RepeatedCompositeFieldContainer[_m.{}]:", "S".repeat(60));
        let text = subscript_line(4, &long);
        assert_eq!(
            text,
            format!("    ) -> _containers.RepeatedCompositeFieldContainer[\n        _m.{}\n    ]:", "S".repeat(60))
        );
        let map = format!("x: M[_a.{0}, _b.{0}],", "K".repeat(50));
        assert_eq!(
            subscript_line(8, &map),
            format!("        x: M[\n            _a.{0},\n            _b.{0},\n        ],", "K".repeat(50))
        );
    }

    /// The layouts ruff 0.17 gives these statements at line length 100.
    #[test]
    fn assignments() {
        let name = format!("_{}", "A".repeat(40));
        let t = Target { global: &name, member: None, attribute: "._serialized_start" };
        assert_eq!(assign(4, &t, "18359", false), format!("    _globals[\"{name}\"]._serialized_start = 18359"));
        let t = Target { global: &name, member: None, attribute: "._serialized_options" };
        assert_eq!(
            assign(4, &t, "b\"\\202\\200\\031\\010\\n\\006userID\"", true),
            format!(
                "    _globals[\n        \"{name}\"\n    ]._serialized_options = b\"\\202\\200\\031\\010\\n\\006userID\""
            )
        );
        let t = Target {
            global: &name,
            member: Some(("fields_by_name", "some_field_name")),
            attribute: "._loaded_options",
        };
        assert_eq!(
            assign(4, &t, "None", false),
            format!(
                "    _globals[\"{name}\"].fields_by_name[\n        \"some_field_name\"\n    ]._loaded_options = None"
            )
        );
        let long = format!("_{}", "A".repeat(70));
        let t = Target {
            global: &long,
            member: Some(("fields_by_name", "some_field_name")),
            attribute: "._loaded_options",
        };
        assert_eq!(
            assign(4, &t, "None", false),
            format!(
                "    _globals[\n        \"{long}\"\n    ].fields_by_name[\"some_field_name\"]._loaded_options = None"
            )
        );
        let t = Target { global: "DESCRIPTOR", member: None, attribute: "._serialized_options" };
        let value = format!("b\"{}\"", "x".repeat(76));
        assert_eq!(
            assign(4, &t, &value, true),
            format!("    _globals[\n        \"DESCRIPTOR\"\n    ]._serialized_options = (\n        {value}\n    )")
        );
    }
}
