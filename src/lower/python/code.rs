//! Python text that depends on lengths: lines that fit in the line length
//! stay on one line, others are exploded one item per line with a trailing
//! comma, the two layouts `ruff format` keeps as they are. Docstrings are
//! laid out the way `ruff format` leaves them.

/// The line length of the generated package (its `[tool.ruff]` setting).
pub const LINE_LENGTH: usize = 100;

/// `head(item, item)tail` on one line when it fits at `indent`, else one
/// item per line: `head` ends with the opening bracket and `tail` starts
/// with the closing one.
pub fn fit(indent: usize, head: &str, items: &[String], tail: &str) -> String {
    let pad = " ".repeat(indent);
    let one = format!("{pad}{head}{}{tail}", items.join(", "));
    if one.chars().count() <= LINE_LENGTH || items.is_empty() {
        return one;
    }
    let mut out = format!("{pad}{head}\n");
    for item in items {
        out.push_str(&format!("{pad}    {item},\n"));
    }
    out.push_str(&format!("{pad}{tail}"));
    out
}

/// A docstring at `indent` from comment text: one line when the text is
/// one line, else the text and the closing quotes on their own lines.
/// Backslashes and quote runs are escaped; trailing spaces dropped.
pub fn docstring(indent: usize, text: &str) -> String {
    let pad = " ".repeat(indent);
    let text = text.trim().replace('\\', "\\\\").replace("\"\"\"", "\\\"\\\"\\\"");
    let text = if text.is_empty() { "(Not documented in the proto.)".to_string() } else { text };
    let lines: Vec<&str> = text.lines().map(str::trim_end).collect();
    // A docstring ending with a quote would close early.
    let end = if text.ends_with('"') { " " } else { "" };
    if lines.len() == 1 {
        return format!("{pad}\"\"\"{}{end}\"\"\"", lines[0]);
    }
    let mut out = format!("{pad}\"\"\"{}\n", lines[0]);
    for line in &lines[1..] {
        if line.is_empty() {
            out.push('\n');
        } else {
            out.push_str(&format!("{pad}{line}\n"));
        }
    }
    out.push_str(&format!("{pad}\"\"\""));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fits_or_explodes() {
        assert_eq!(fit(4, "f(", &["a".into(), "b".into()], ")"), "    f(a, b)");
        let long: Vec<String> = (0..30).map(|i| format!("argument_{i}")).collect();
        let text = fit(0, "f(", &long, ")");
        assert!(text.starts_with("f(\n    argument_0,\n"));
        assert!(text.ends_with("    argument_29,\n)"));
    }

    #[test]
    fn docstrings() {
        assert_eq!(docstring(4, "One line."), "    \"\"\"One line.\"\"\"");
        assert_eq!(docstring(0, "A\n\nB  \n"), "\"\"\"A\n\nB\n\"\"\"");
        assert_eq!(docstring(0, "say \"\"\"hi\"\"\""), "\"\"\"say \\\"\\\"\\\"hi\\\"\\\"\\\" \"\"\"");
    }
}
