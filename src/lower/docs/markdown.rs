//! Markdown text rules: how proto comments and names are made safe for the
//! places they are printed in (paragraphs, table cells, code spans,
//! headings), and the anchors headings get.
//!
//! Comments are Markdown already (as in most proto documentation tools), so
//! inline markup (code spans, emphasis, links) is kept. What a comment must
//! not do is change the structure of the page around it, so block syntax
//! that would reach outside the comment's entry is neutralised: headings
//! (`#`, and `===`/`---` underlines), thematic breaks, link reference
//! definitions and HTML are escaped, and a code fence the comment leaves
//! open is closed at its end.

use std::collections::HashMap;

/// Comment text as Markdown paragraphs that stay inside their entry.
pub fn paragraphs(comment: &str) -> String {
    let mut out: Vec<String> = Vec::new();
    // The open fence: its character and length.
    let mut fence: Option<(char, usize)> = None;
    // Whether the previous line was blank (or there was none), which is
    // where an indented code block may start.
    let mut after_blank = true;
    let mut in_indented_code = false;
    let mut in_list = false;
    // The text of the paragraph being collected, so that code spans are
    // found across its lines.
    let mut paragraph: Vec<String> = Vec::new();
    let flush = |paragraph: &mut Vec<String>, out: &mut Vec<String>| {
        if !paragraph.is_empty() {
            out.push(inline(&paragraph.join("\n")));
            paragraph.clear();
        }
    };
    for line in comment.lines() {
        if let Some((c, n)) = fence {
            out.push(line.to_string());
            if closes_fence(line, c, n) {
                fence = None;
            }
            continue;
        }
        if let Some(open) = opens_fence(line) {
            flush(&mut paragraph, &mut out);
            out.push(line.to_string());
            fence = Some(open);
            after_blank = false;
            continue;
        }
        if line.trim().is_empty() {
            flush(&mut paragraph, &mut out);
            out.push(String::new());
            after_blank = true;
            continue;
        }
        let indent = indent_width(line);
        // Inside a list, an indented line may continue an item rather than
        // start code: it is then text, and escaped as text.
        if indent < 4 && starts_list_item(line) {
            in_list = true;
        } else if indent == 0 && after_blank {
            in_list = false;
        }
        if indent >= 4 && !in_list && (after_blank || in_indented_code) && paragraph.is_empty() {
            // An indented code block: shown as written.
            out.push(line.to_string());
            in_indented_code = true;
            after_blank = false;
            continue;
        }
        in_indented_code = false;
        after_blank = false;
        paragraph.push(block_line(line, indent));
    }
    flush(&mut paragraph, &mut out);
    if let Some((c, n)) = fence {
        out.push(c.to_string().repeat(n));
    }
    while out.last().is_some_and(String::is_empty) {
        out.pop();
    }
    out.join("\n")
}

/// Comment text inside a table cell: one line, `|` escaped, HTML escaped
/// outside code spans, paragraph breaks kept as `<br>`.
pub fn cell(comment: &str) -> String {
    let paragraphs: Vec<String> = comment
        .split("\n\n")
        .map(|p| p.split('\n').map(str::trim).filter(|l| !l.is_empty()).collect::<Vec<_>>().join(" "))
        .filter(|p| !p.is_empty())
        .map(|p| escape_pipes(&inline(&p)))
        .collect();
    paragraphs.join("<br><br>")
}

/// Plain text (a name, a tag) as inline Markdown: every character that
/// could start markup is backslash-escaped.
pub fn text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_ascii_punctuation() && c != '.' && c != ',' && c != '-' && c != '/' && c != ':' {
            out.push('\\');
        }
        out.push(c);
    }
    out
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

/// The anchor GitHub derives from a heading's text: lowercase, spaces to
/// hyphens, punctuation other than `-` and `_` dropped.
pub fn slug(heading: &str) -> String {
    heading
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c.to_lowercase().next().unwrap_or(c)),
            _ => None,
        })
        .collect()
}

/// The anchors of one page's headings, handed out in the order the headings
/// appear, numbered as GitHub numbers repeated headings (`x`, `x-1`, ...),
/// so that a link always reaches the heading it was made for.
#[derive(Default)]
pub struct Anchors {
    seen: HashMap<String, usize>,
}

impl Anchors {
    /// The anchor of the next heading on the page, whose text is `heading`.
    pub fn next(&mut self, heading: &str) -> String {
        let base = slug(heading);
        let mut anchor = base.clone();
        while self.seen.contains_key(&anchor) {
            let count = self.seen.entry(base.clone()).or_insert(0);
            *count += 1;
            anchor = format!("{base}-{count}");
        }
        self.seen.insert(anchor.clone(), 0);
        anchor
    }
}

/// A line of a paragraph with the block syntax it would start escaped.
fn block_line(line: &str, indent: usize) -> String {
    if indent >= 4 {
        // A continuation line of a paragraph: never a block start.
        return line.to_string();
    }
    let body = line.trim_start();
    let lead = &line[..line.len() - body.len()];
    let first = body.chars().next().unwrap_or(' ');
    let escape = match first {
        // ATX heading.
        '#' => true,
        // Setext underline or thematic break: only these characters.
        '=' | '-' | '*' | '_' => body.chars().all(|c| c == first || c == ' ' || c == '\t'),
        // Link reference definition, which would vanish from the text.
        '[' => body.contains("]:"),
        _ => false,
    };
    if escape { format!("{lead}\\{body}") } else { line.to_string() }
}

/// Inline text with `<` and `&` escaped outside code spans, so that text
/// like `map<string, Post>` is not taken for HTML while code spans keep
/// their text as written.
fn inline(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'`' {
            let run = bytes[i..].iter().take_while(|&&b| b == b'`').count();
            if let Some(end) = closing_run(&text[i + run..], run) {
                let stop = i + run + end + run;
                out.push_str(&text[i..stop]);
                i = stop;
            } else {
                out.push_str(&text[i..i + run]);
                i += run;
            }
            continue;
        }
        let c = text[i..].chars().next().expect("in bounds");
        match c {
            '<' => out.push_str("&lt;"),
            '&' => out.push_str("&amp;"),
            c => out.push(c),
        }
        i += c.len_utf8();
    }
    out
}

/// The offset in `rest` of a backtick run of exactly `run` backticks.
fn closing_run(rest: &str, run: usize) -> Option<usize> {
    let bytes = rest.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'`' {
            let n = bytes[i..].iter().take_while(|&&b| b == b'`').count();
            if n == run {
                return Some(i);
            }
            i += n;
        } else {
            i += 1;
        }
    }
    None
}

/// `|` escaped for a table cell; a backslash before it is escaped too, so
/// that `\|` in a comment does not become an escaped backslash and a cell
/// break.
fn escape_pipes(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c == '|' {
            if out.ends_with('\\') {
                out.push('\\');
            }
            out.push_str("\\|");
        } else {
            out.push(c);
        }
    }
    out
}

/// A line starting a list item: `-`, `*` or `+`, or a number and `.` or
/// `)`, then a space (or the end of the line).
fn starts_list_item(line: &str) -> bool {
    let body = line.trim_start();
    let rest = match body.chars().next() {
        Some('-' | '*' | '+') => &body[1..],
        Some(c) if c.is_ascii_digit() => {
            let digits = body.chars().take_while(char::is_ascii_digit).count();
            match body[digits..].chars().next() {
                Some('.' | ')') => &body[digits + 1..],
                _ => return false,
            }
        }
        _ => return false,
    };
    rest.is_empty() || rest.starts_with(' ') || rest.starts_with('\t')
}

fn indent_width(line: &str) -> usize {
    let mut width = 0;
    for c in line.chars() {
        match c {
            ' ' => width += 1,
            '\t' => width += 4 - width % 4,
            _ => break,
        }
    }
    width
}

/// A line opening a fenced code block: up to three spaces, then three or
/// more backticks (with no backtick after them) or tildes.
fn opens_fence(line: &str) -> Option<(char, usize)> {
    if indent_width(line) >= 4 {
        return None;
    }
    let body = line.trim_start();
    let c = body.chars().next()?;
    if c != '`' && c != '~' {
        return None;
    }
    let n = body.chars().take_while(|&x| x == c).count();
    if n < 3 || (c == '`' && body[n..].contains('`')) {
        return None;
    }
    Some((c, n))
}

fn closes_fence(line: &str, c: char, n: usize) -> bool {
    if indent_width(line) >= 4 {
        return false;
    }
    let body = line.trim();
    body.len() >= n && body.chars().all(|x| x == c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_cells() {
        let cases = [
            ("plain", "plain"),
            ("a | b", "a \\| b"),
            ("a \\| b", "a \\\\\\| b"),
            ("line one\nline two", "line one line two"),
            ("para one\n\npara two", "para one<br><br>para two"),
            ("map<string, Post> & more", "map&lt;string, Post> &amp; more"),
            ("`map<string, Post>`", "`map<string, Post>`"),
            ("", ""),
        ];
        for (input, want) in cases {
            assert_eq!(cell(input), want, "{input:?}");
        }
    }

    #[test]
    fn paragraphs_keep_inline_markup_and_lose_block_syntax() {
        let cases = [
            ("Title\n=====\ntext", "Title\n\\=====\ntext"),
            ("# Heading", "\\# Heading"),
            ("text\n---", "text\n\\---"),
            ("- a list item", "- a list item"),
            ("[x]: http://example.com", "\\[x]: http://example.com"),
            ("a <b>tag</b> & `<kept>`", "a &lt;b>tag&lt;/b> &amp; `<kept>`"),
            ("```go\nx := <-c", "```go\nx := <-c\n```"),
            ("~~~~\n~~~\n# in code", "~~~~\n~~~\n# in code\n~~~~"),
            ("```\nclosed\n```\n# after", "```\nclosed\n```\n\\# after"),
            ("    <indented code>", "    <indented code>"),
            ("- item\n\n    <b>continued</b>", "- item\n\n    &lt;b>continued&lt;/b>"),
            ("1. item\n\ntext\n\n    <code>", "1. item\n\ntext\n\n    <code>"),
            ("text\n    <continued>", "text\n    &lt;continued>"),
            ("a `span\nacross` lines <", "a `span\nacross` lines &lt;"),
        ];
        for (input, want) in cases {
            assert_eq!(paragraphs(input), want, "{input:?}");
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
        assert_eq!(slug("GetUser"), "getuser");
        assert_eq!(slug("Tag: Post & Files"), "tag-post--files");
        let mut a = Anchors::default();
        let got: Vec<String> = ["Contents", "Contents", "Contents-1", "Contents"].iter().map(|h| a.next(h)).collect();
        assert_eq!(got, ["contents", "contents-1", "contents-1-1", "contents-2"]);
    }
}
