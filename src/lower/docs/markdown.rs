//! Markdown text rules: how proto comments and names are made safe for the
//! places they are printed in (paragraphs, table cells, code spans).

/// Comment text as Markdown paragraphs. Comments are Markdown already (as in
/// most proto documentation tools); only `<` and `&` are escaped so that text
/// like `map<string, Post>` is not taken for HTML.
pub fn paragraphs(comment: &str) -> String {
    escape_html(comment)
}

/// Comment text inside a table cell: one line, `|` escaped, paragraph breaks
/// kept as `<br>`.
pub fn cell(comment: &str) -> String {
    let text = escape_html(comment).replace('|', "\\|");
    let paragraphs: Vec<String> = text
        .split("\n\n")
        .map(|p| p.split('\n').map(str::trim).filter(|l| !l.is_empty()).collect::<Vec<_>>().join(" "))
        .filter(|p| !p.is_empty())
        .collect();
    paragraphs.join("<br><br>")
}

/// A code span that survives backticks inside the text: the fence is one
/// backtick longer than the longest run inside, padded with spaces when the
/// text starts or ends with a backtick.
pub fn code(text: &str) -> String {
    let longest = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest + 1);
    let pad = if text.starts_with('`') || text.ends_with('`') { " " } else { "" };
    format!("{fence}{pad}{text}{pad}{fence}")
}

/// A code span inside a table cell, where `|` must be escaped even in code.
pub fn cell_code(text: &str) -> String {
    code(&text.replace('|', "\\|"))
}

/// The anchor GitHub derives from a heading text: lowercase, spaces to
/// hyphens, punctuation other than `-` and `_` dropped.
pub fn anchor(heading: &str) -> String {
    heading
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c.to_ascii_lowercase()),
            _ => None,
        })
        .collect()
}

fn escape_html(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_cells() {
        let cases = [
            ("plain", "plain"),
            ("a | b", "a \\| b"),
            ("line one\nline two", "line one line two"),
            ("para one\n\npara two", "para one<br><br>para two"),
            ("map<string, Post> & more", "map&lt;string, Post> &amp; more"),
            ("", ""),
        ];
        for (input, want) in cases {
            assert_eq!(cell(input), want, "{input:?}");
        }
    }

    #[test]
    fn code_spans() {
        let cases = [("x", "`x`"), ("a`b", "``a`b``"), ("`x`", "`` `x` ``"), ("a``b", "```a``b```")];
        for (input, want) in cases {
            assert_eq!(code(input), want, "{input:?}");
        }
        assert_eq!(cell_code("a|b"), "`a\\|b`");
    }

    #[test]
    fn anchors() {
        assert_eq!(anchor("GetUser"), "getuser");
        assert_eq!(anchor("Tag: Post & Files"), "tag-post--files");
    }
}
