//! The docs target read as Markdown: every relative link and anchor of the
//! generated docs resolves and every page is reachable from the index, and
//! no comment can change the structure of a page. Pages are parsed with
//! pulldown-cmark (CommonMark with GitHub tables), so the checks see the
//! structure a reader's renderer sees, not the text.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs;
use std::path::Path;
use std::process::Command;

use pulldown_cmark::{Event, HeadingLevel, Options, Parser, Tag, TagEnd};

const BIN: &str = env!("CARGO_BIN_EXE_mm-bindgen");

/// What a page is made of, as a Markdown parser sees it.
#[derive(Default, Debug)]
struct Page {
    /// Level, text and anchor of each heading, in order.
    headings: Vec<(u32, String, String)>,
    /// Target and text of each link, in order.
    links: Vec<(String, String)>,
    /// The cells of each table, row by row (head first).
    tables: Vec<Vec<Vec<String>>>,
    code_blocks: usize,
    /// Raw HTML as the parser found it (blocks and inline).
    html: Vec<String>,
}

fn parse(text: &str) -> Page {
    let mut page = Page::default();
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut heading: Option<(u32, String)> = None;
    let mut link: Option<(String, String)> = None;
    let mut cell: Option<String> = None;
    for event in Parser::new_ext(text, Options::ENABLE_TABLES) {
        match event {
            Event::Start(Tag::Heading { level, .. }) => heading = Some((level_number(level), String::new())),
            Event::End(TagEnd::Heading(_)) => {
                let (level, text) = heading.take().expect("heading open");
                let anchor = github_anchor(&text, &mut seen);
                page.headings.push((level, text, anchor));
            }
            Event::Start(Tag::Link { dest_url, .. }) => link = Some((dest_url.to_string(), String::new())),
            Event::End(TagEnd::Link) => page.links.push(link.take().expect("link open")),
            Event::Start(Tag::Table(_)) => page.tables.push(Vec::new()),
            Event::Start(Tag::TableHead) | Event::Start(Tag::TableRow) => {
                page.tables.last_mut().expect("in a table").push(Vec::new())
            }
            Event::Start(Tag::TableCell) => cell = Some(String::new()),
            Event::End(TagEnd::TableCell) => {
                let text = cell.take().expect("cell open");
                page.tables.last_mut().and_then(|t| t.last_mut()).expect("in a row").push(text);
            }
            Event::Start(Tag::CodeBlock(_)) => page.code_blocks += 1,
            Event::Html(h) | Event::InlineHtml(h) => page.html.push(h.to_string()),
            Event::Text(t) | Event::Code(t) => {
                for open in [heading.as_mut().map(|h| &mut h.1), link.as_mut().map(|l| &mut l.1), cell.as_mut()]
                    .into_iter()
                    .flatten()
                {
                    open.push_str(&t);
                }
            }
            _ => {}
        }
    }
    page
}

fn level_number(level: HeadingLevel) -> u32 {
    match level {
        HeadingLevel::H1 => 1,
        HeadingLevel::H2 => 2,
        HeadingLevel::H3 => 3,
        HeadingLevel::H4 => 4,
        HeadingLevel::H5 => 5,
        HeadingLevel::H6 => 6,
    }
}

/// The anchor GitHub gives a heading with this text, numbering repeats.
fn github_anchor(text: &str, seen: &mut HashMap<String, usize>) -> String {
    let base: String = text
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || *c == ' ' || *c == '-' || *c == '_')
        .map(|c| if c == ' ' { '-' } else { c })
        .collect();
    let mut anchor = base.clone();
    while seen.contains_key(&anchor) {
        let n = seen.entry(base.clone()).or_insert(0);
        *n += 1;
        anchor = format!("{base}-{n}");
    }
    seen.insert(anchor.clone(), 0);
    anchor
}

/// Every `.md` file under `dir`, parsed, by path relative to `dir`.
fn read_docs(dir: &Path) -> BTreeMap<String, Page> {
    let mut pages = BTreeMap::new();
    for entry in walkdir::WalkDir::new(dir) {
        let entry = entry.unwrap();
        if entry.path().extension().is_some_and(|x| x == "md") {
            let rel = entry.path().strip_prefix(dir).unwrap();
            let key = rel.components().map(|c| c.as_os_str().to_string_lossy()).collect::<Vec<_>>().join("/");
            pages.insert(key, parse(&fs::read_to_string(entry.path()).unwrap()));
        }
    }
    pages
}

/// `target` (a relative link) resolved against the page `from`.
fn resolve(from: &str, target: &str) -> String {
    let mut parts: Vec<&str> = from.split('/').collect();
    parts.pop();
    for part in target.split('/') {
        match part {
            ".." => {
                parts.pop();
            }
            "." | "" => {}
            p => parts.push(p),
        }
    }
    parts.join("/")
}

/// Checks every relative link of a docs tree and that every page is
/// reachable from `index.md`; returns the problems and the number of links
/// checked.
fn check_links(pages: &BTreeMap<String, Page>) -> (Vec<String>, usize) {
    let mut problems = Vec::new();
    let mut checked = 0;
    let mut edges: HashMap<&str, Vec<String>> = HashMap::new();
    for (path, page) in pages {
        for (target, text) in &page.links {
            if target.contains("://") || target.starts_with("mailto:") {
                continue;
            }
            checked += 1;
            let (file, fragment) = target.split_once('#').unwrap_or((target, ""));
            let resolved = if file.is_empty() { path.clone() } else { resolve(path, file) };
            let Some(to) = pages.get(&resolved) else {
                problems.push(format!("{path}: link [{text}]({target}) names a missing page {resolved}"));
                continue;
            };
            if !fragment.is_empty() && !to.headings.iter().any(|(_, _, a)| a == fragment) {
                problems.push(format!("{path}: link [{text}]({target}) names a missing anchor in {resolved}"));
            }
            edges.entry(path).or_default().push(resolved);
        }
    }
    let mut reached: HashSet<String> = HashSet::new();
    let mut pending = vec!["index.md".to_string()];
    while let Some(p) = pending.pop() {
        if reached.insert(p.clone()) {
            pending.extend(edges.get(p.as_str()).cloned().unwrap_or_default());
        }
    }
    for path in pages.keys().filter(|p| !reached.contains(*p)) {
        problems.push(format!("{path} is not reachable from index.md"));
    }
    (problems, checked)
}

#[test]
fn every_link_in_the_generated_docs_resolves() {
    let mut trees = vec![Path::new("generated/docs").to_path_buf()];
    for case in fs::read_dir("tests/golden").unwrap() {
        let docs = case.unwrap().path().join("expected/docs");
        if docs.is_dir() {
            trees.push(docs);
        }
    }
    assert!(trees.len() > 3, "golden cases with docs are missing: {trees:?}");
    for tree in trees {
        let pages = read_docs(&tree);
        assert!(pages.contains_key("index.md"), "{} has no index.md", tree.display());
        let (problems, checked) = check_links(&pages);
        assert!(problems.is_empty(), "{}:\n{}", tree.display(), problems.join("\n"));
        assert!(checked >= pages.len() - 1, "{}: only {checked} links in {} pages", tree.display(), pages.len());
        if tree.ends_with("generated/docs") {
            assert!(checked > 2000, "the reference links every RPC and type: only {checked} links");
        }
    }
}

#[test]
fn the_link_checker_finds_broken_links_and_unreachable_pages() {
    let pages: BTreeMap<String, Page> = [
        ("index.md", "# Index\n\n[a](a.md#there) [b](sub/b.md#b) [gone](gone.md)\n"),
        ("a.md", "# A\n\n## Here\n"),
        ("sub/b.md", "# B\n\n[up](../a.md#here)\n"),
        ("lost.md", "# Lost\n"),
    ]
    .into_iter()
    .map(|(p, t)| (p.to_string(), parse(t)))
    .collect();
    let (problems, checked) = check_links(&pages);
    assert_eq!(checked, 4);
    assert_eq!(
        problems,
        [
            "index.md: link [a](a.md#there) names a missing anchor in a.md",
            "index.md: link [gone](gone.md) names a missing page gone.md",
            "lost.md is not reachable from index.md",
        ]
    );
}

/// Comments that try every Markdown and HTML construct that could reach
/// outside their entry.
const HOSTILE: &str = r#"Banner
======

# A heading in a comment
Setext two
---
***
<div>an <b>unclosed</b> block
<!-- an unclosed HTML comment
<script>alert(1)</script>
| a | table |
|---|---|
| in | comment |

[ref]: https://example.com/hijack
> a quote
- a list item

    <i>continued</i> in the item

      indented code <b>
```go
x := <-unclosed"#;

const FIELD: &str = r#"Cell | with pipes \| and \\| escapes, <b>html</b>, # hash
```
fence in a cell
=====
FIELD-END"#;

fn comment(text: &str, indent: &str) -> String {
    text.lines().map(|l| format!("{indent}// {l}\n")).collect()
}

#[test]
fn comments_cannot_change_the_structure_of_a_page() {
    let dir = tempfile::tempdir().unwrap();
    let proto = format!(
        "syntax = \"proto3\";\n\npackage hostile.v1;\n\n{service}service Hostile {{\n{method}  rpc Contents(ContentsRequest) returns (ContentsResponse);\n{method}  rpc Escape(EscapeRequest) returns (Shared);\n  rpc Again(AgainRequest) returns (Shared);\n}}\n\n{message}message ContentsRequest {{\n{field}  string text = 1;\n}}\nmessage ContentsResponse {{}}\nmessage EscapeRequest {{}}\nmessage AgainRequest {{}}\n{message}message Shared {{\n{field}  Mode mode = 1;\n}}\n{message}enum Mode {{\n{field}  MODE_UNSPECIFIED = 0;\n}}\n",
        service = comment(HOSTILE, ""),
        method = comment(HOSTILE, "  "),
        message = comment(HOSTILE, ""),
        field = comment(FIELD, "  "),
    );
    fs::create_dir_all(dir.path().join("in")).unwrap();
    fs::write(dir.path().join("in/hostile.proto"), proto).unwrap();
    let run = Command::new(BIN)
        .current_dir(dir.path())
        .args(["--proto", "in", "--out", "out", "generate", "--skip-plugins"])
        .output()
        .unwrap();
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let pages = read_docs(&dir.path().join("out/docs"));
    let (problems, _) = check_links(&pages);
    assert!(problems.is_empty(), "{}", problems.join("\n"));

    let service = &pages["hostile.md"];
    let headings: Vec<(u32, &str)> = service.headings.iter().map(|(l, t, _)| (*l, t.as_str())).collect();
    assert_eq!(
        headings,
        [
            (1, "Hostile"),
            (2, "Contents"),
            (2, "Contents"),
            (3, "ContentsRequest"),
            (3, "ContentsResponse"),
            (2, "Escape"),
            (3, "EscapeRequest"),
            (2, "Again"),
            (3, "AgainRequest"),
        ],
        "{:#?}",
        service.headings
    );
    // The contents link each RPC to its own heading, never to the section.
    let rpc_anchors: Vec<&str> =
        service.headings.iter().skip(2).filter(|(level, _, _)| *level == 2).map(|(_, _, a)| a.as_str()).collect();
    let contents_links: Vec<&str> =
        service.links.iter().filter_map(|(target, _)| target.strip_prefix('#')).take(3).collect();
    assert_eq!(contents_links, rpc_anchors);
    assert_eq!(rpc_anchors[0], "contents-1");

    // A table in a comment stays a table of that entry's description (the
    // service, the first two RPCs, the request documented with the first);
    // besides them, three RPC facts tables and one field table. Every row
    // has the columns of its head, and a field's comment stays in its cell.
    let (ours, theirs): (Vec<_>, Vec<_>) = service.tables.iter().partition(|t| t[0] != ["a", "table"]);
    assert_eq!(theirs.len(), 4);
    assert!(theirs.iter().all(|t| t.len() == 2 && t[1] == ["in", "comment"]), "{theirs:?}");
    let shapes: Vec<(usize, usize)> = ours.iter().map(|t| (t[0].len(), t.len())).collect();
    assert_eq!(shapes, [(2, 4), (3, 2), (2, 4), (2, 4)], "{ours:#?}");
    for table in &service.tables {
        assert!(table.iter().all(|row| row.len() == table[0].len()), "{table:?}");
    }
    let cell = &ours[1][1][2];
    assert!(cell.starts_with("Cell | with pipes \\| and \\| escapes, <b>html</b>, # hash"), "{cell:?}");
    assert!(cell.ends_with("FIELD-END"), "{cell:?}");

    // The types page: its message and enum, nothing from the comments.
    let types = &pages["types/hostile.md"];
    let headings: Vec<(u32, &str)> = types.headings.iter().map(|(l, t, _)| (*l, t.as_str())).collect();
    assert_eq!(headings, [(1, "Types in hostile.proto"), (2, "Contents"), (2, "Shared"), (2, "Mode")]);
    // Each: its comment's table, its facts (the RPCs that use it), then its
    // fields or values.
    let heads: Vec<usize> = types.tables.iter().map(|t| t[0].len()).collect();
    assert_eq!(heads, [2, 2, 3, 2, 2, 3], "{:#?}", types.tables);
    assert_eq!(types.tables[1][1][0], "Used by");
    assert_eq!(types.tables[4][1], ["Used by", "Escape, Again"]);

    for (path, page) in &pages {
        // Only the header's comments and the cells' line breaks are HTML.
        for html in &page.html {
            let h = html.trim();
            assert!(h == "<br>" || (h.starts_with("<!-- ") && h.ends_with(" -->")), "{path}: raw HTML {html:?}");
        }
    }
    // Each hostile description holds one indented and one fenced code
    // block, closed at the end of its entry: the service, two RPCs and the
    // request documented with the first on the service page, a message and
    // an enum on the types page.
    assert_eq!(service.code_blocks, 2 * 4, "service page");
    assert_eq!(types.code_blocks, 2 * 2, "types page");
}

#[test]
fn services_sharing_a_short_name_get_a_page_each() {
    let dir = tempfile::tempdir().unwrap();
    for version in ["v1", "v2"] {
        let path = dir.path().join(format!("shapes/{version}/shapes.proto"));
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        let proto = format!(
            "syntax = \"proto3\";\npackage shapes.{version};\nservice Shapes {{\n  rpc Ping(Req) returns (Resp);\n}}\nmessage Req {{}}\nmessage Resp {{}}\n"
        );
        fs::write(path, proto).unwrap();
    }
    // Validation refuses services that share a short name for the targets
    // whose files are named after it; the docs name pages by package.
    let loaded = mm_bindgen::load::load(dir.path()).unwrap();
    let model = mm_bindgen::build::build(&loaded);
    let files = mm_bindgen::lower::lower(&model, &Default::default()).unwrap();
    let engine = mm_bindgen::render::engine(mm_bindgen::render::Templates::Embedded).unwrap();
    let rendered = mm_bindgen::render::render(&engine, &files).unwrap();
    let docs: Vec<&str> = rendered.keys().filter(|p| p.starts_with("docs/")).map(String::as_str).collect();
    assert_eq!(docs, ["docs/index.md", "docs/shapes-v1-shapes.md", "docs/shapes-v2-shapes.md"]);
    let index = parse(&rendered["docs/index.md"]);
    let targets: Vec<&str> = index.links.iter().map(|(t, _)| t.as_str()).collect();
    assert_eq!(targets, ["shapes-v1-shapes.md", "shapes-v2-shapes.md"]);
}
