//! Strict names. Tera makes an undefined variable in `{{ }}` an error, but
//! an undefined name (or a missing last field) in an `{% if %}` condition is
//! false and a loop over it is empty, so a misspelt name there would
//! silently drop output. This check reads every template into a tree of
//! tags, then walks the tree of each output file's root template the way
//! tera renders it, with the file's view: `{% for %}` and `{% set %}` bind
//! names, `{% include %}` walks the included template in the includer's
//! scope, a `{% component %}` body sees its arguments. Every name an
//! expression reads (conditions, loop targets, `set` values, `{{ }}`) must
//! resolve in the scope; a path through a loop variable must exist in some
//! item of the list it iterates. Every branch is checked, taken or not,
//! but one that cannot render with the view: a condition `name == "text"`
//! where `name` is a string the view never sets to that text (the variant
//! tag of a list of tagged views, `m.shape == "http_call"` in a file
//! without such a method). The branch of each variant is checked with the
//! views that hold it; a misspelt tag would be skipped too, so a template
//! that dispatches over tags ends in an `else` that fails the render
//! (`throw`).

use std::collections::BTreeMap;

use tera::Value;
use tera::value::ValueKind;

/// Words inside an expression that are not variables.
const KEYWORDS: &[&str] = &["and", "or", "not", "in", "is", "if", "else", "true", "false", "none", "None", "null"];

/// Names tera defines itself.
const BUILTINS: &[&str] = &["loop", "__tera_context"];

/// An expression: the variable paths it reads, on the line it starts.
#[derive(Debug, Clone, PartialEq)]
struct Expr {
    line: usize,
    paths: Vec<Vec<String>>,
    /// Paths tested with `is defined` or `is undefined`.
    tested: Vec<Vec<String>>,
    /// `name == "text"`: the path and the text.
    equals: Option<(Vec<String>, String)>,
}

impl Expr {
    fn new(line: usize, text: &str) -> Expr {
        let (paths, tested) = paths(text);
        Expr { line, paths, tested, equals: equals(text) }
    }
}

/// The path and text of a condition that compares one dotted name with a
/// string literal: `m.shape == "unary"`.
fn equals(expr: &str) -> Option<(Vec<String>, String)> {
    let (name, text) = expr.split_once("==")?;
    let text = text.trim().strip_prefix('"')?.strip_suffix('"')?;
    if text.contains('"') {
        return None;
    }
    Some((simple_path(name)?, text.to_string()))
}

/// A template as a tree of the tags that matter for names.
#[derive(Debug, Clone, PartialEq)]
enum Node {
    /// `{{ expr }}`, or an expression in a tag that binds nothing.
    Read(Expr),
    If {
        branches: Vec<(Expr, Vec<Node>)>,
        otherwise: Vec<Node>,
    },
    For {
        names: Vec<String>,
        target: Expr,
        simple: Option<Vec<String>>,
        body: Vec<Node>,
        otherwise: Vec<Node>,
    },
    Set {
        name: String,
        global: bool,
        value: Expr,
        simple: Option<Vec<String>>,
    },
    /// `{% set name %}...{% endset %}`: a string.
    SetBlock {
        name: String,
        global: bool,
        body: Vec<Node>,
    },
    Include {
        line: usize,
        template: String,
    },
    /// A component definition: its body sees its arguments.
    Component {
        args: Vec<String>,
        body: Vec<Node>,
    },
    /// `{% block %}` and `{% filter %}` bodies render in place.
    Body(Vec<Node>),
}

/// A parsed template.
#[derive(Debug, Default)]
pub struct Template {
    nodes: Vec<Node>,
}

/// A place that reads a name its scope does not define.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Undefined {
    pub template: String,
    pub line: usize,
    pub path: String,
    /// The `{% include %}` chain that led there, outermost first, as
    /// `(template, line)`.
    pub included_from: Vec<(String, usize)>,
}

/// One piece of template source: a tag's keyword and the rest, or an
/// expression, with its line.
struct Piece<'a> {
    line: usize,
    keyword: &'a str,
    rest: &'a str,
}

/// Splits a source into `{% %}` tags and `{{ }}` expressions (keyword
/// `{{`), skipping comments and raw blocks.
fn pieces(source: &str) -> Vec<Piece<'_>> {
    let mut out = Vec::new();
    let mut pos = 0;
    let mut raw = false;
    while let Some(found) = source[pos..].find('{') {
        let start = pos + found;
        let open = source.get(start..start + 2).unwrap_or("");
        let close = match open {
            "{%" => "%}",
            "{{" if !raw => "}}",
            "{#" if !raw => "#}",
            _ => {
                pos = start + 1;
                continue;
            }
        };
        let Some(len) = source[start + 2..].find(close) else { break };
        let inner = source[start + 2..start + 2 + len].trim_matches(|c: char| c == '-' || c.is_whitespace());
        pos = start + 2 + len + 2;
        let line = source[..start].matches('\n').count() + 1;
        match open {
            "{{" => out.push(Piece { line, keyword: "{{", rest: inner }),
            "{%" => {
                let (keyword, rest) = inner.split_once(char::is_whitespace).unwrap_or((inner, ""));
                if raw {
                    raw = keyword != "endraw";
                } else if keyword == "raw" {
                    raw = true;
                } else {
                    out.push(Piece { line, keyword, rest: rest.trim() });
                }
            }
            _ => {}
        }
    }
    out
}

/// Parses a template source. Tera has checked its syntax already; what this
/// parser does not follow it reads as a flat list.
pub fn parse(source: &str) -> Template {
    let pieces = pieces(source);
    let mut i = 0;
    let mut nodes = Vec::new();
    while i < pieces.len() {
        // A stray end tag (tera would have refused it) is skipped.
        let (mut more, _) = nodes_until(&pieces, &mut i, &[]);
        nodes.append(&mut more);
        i += 1;
    }
    Template { nodes }
}

/// Parses nodes until one of the `ends` keywords (not consumed; `i` points
/// at it), returning the nodes and the keyword found.
fn nodes_until<'a>(pieces: &[Piece<'a>], i: &mut usize, ends: &[&str]) -> (Vec<Node>, Option<&'a str>) {
    let mut nodes = Vec::new();
    while let Some(p) = pieces.get(*i) {
        if ends.contains(&p.keyword) {
            return (nodes, Some(p.keyword));
        }
        *i += 1;
        let expr = |text: &str| Expr::new(p.line, text);
        match p.keyword {
            "{{" => nodes.push(Node::Read(expr(p.rest))),
            "if" => {
                let mut branches = Vec::new();
                let mut condition = expr(p.rest);
                let mut otherwise = Vec::new();
                loop {
                    let (body, end) = nodes_until(pieces, i, &["elif", "else", "endif"]);
                    branches.push((condition, body));
                    let Some(end) = end else { break };
                    let tag = &pieces[*i];
                    *i += 1;
                    match end {
                        "elif" => condition = Expr::new(tag.line, tag.rest),
                        "else" => {
                            otherwise = nodes_until(pieces, i, &["endif"]).0;
                            *i += 1;
                            break;
                        }
                        _ => break,
                    }
                }
                nodes.push(Node::If { branches, otherwise });
            }
            "for" => {
                let (vars, target) = p.rest.split_once(" in ").unwrap_or((p.rest, ""));
                let names = vars.split(',').map(|v| v.trim().to_string()).collect();
                let (body, end) = nodes_until(pieces, i, &["else", "endfor"]);
                let mut otherwise = Vec::new();
                if end == Some("else") {
                    *i += 1;
                    otherwise = nodes_until(pieces, i, &["endfor"]).0;
                }
                *i += 1;
                nodes.push(Node::For { names, target: expr(target), simple: simple_path(target), body, otherwise });
            }
            "set" | "set_global" => {
                let global = p.keyword == "set_global";
                match p.rest.split_once('=').filter(|(_, value)| !value.starts_with('=')) {
                    Some((name, value)) => nodes.push(Node::Set {
                        name: name.trim().to_string(),
                        global,
                        value: expr(value),
                        simple: simple_path(value),
                    }),
                    None => {
                        let name = p.rest.split(|c: char| c == '|' || c.is_whitespace()).next().unwrap_or("");
                        let body = nodes_until(pieces, i, &["endset"]).0;
                        *i += 1;
                        nodes.push(Node::SetBlock { name: name.to_string(), global, body });
                    }
                }
            }
            "include" => {
                let quoted = p.rest.trim_start_matches(['"', '\'', '`']);
                let template = quoted.split(['"', '\'', '`']).next().unwrap_or("").to_string();
                nodes.push(Node::Include { line: p.line, template });
            }
            "component" => {
                let args = p
                    .rest
                    .split_once('(')
                    .map(|(_, a)| a.rsplit_once(')').map_or(a, |(a, _)| a))
                    .unwrap_or("")
                    .split(',')
                    .filter_map(|a| a.split([':', '=']).next())
                    .map(|a| a.trim().to_string())
                    .filter(|a| !a.is_empty())
                    .collect();
                let body = nodes_until(pieces, i, &["endcomponent"]).0;
                *i += 1;
                nodes.push(Node::Component { args, body });
            }
            "block" | "filter" => {
                let end = if p.keyword == "block" { "endblock" } else { "endfilter" };
                let body = nodes_until(pieces, i, &[end]).0;
                *i += 1;
                nodes.push(Node::Body(body));
            }
            // extends, break, continue, end tags tera matched: nothing to read.
            _ => {}
        }
    }
    (nodes, None)
}

/// The path of an expression that is one dotted name, possibly filtered
/// (`m.params | length` is not: what a filter returns is not the list).
fn simple_path(expr: &str) -> Option<Vec<String>> {
    let expr = expr.trim();
    let valid = !expr.is_empty()
        && expr.chars().all(|c| c.is_alphanumeric() || c == '_' || c == '.')
        && expr.split('.').all(|s| !s.is_empty())
        && !KEYWORDS.contains(&expr);
    valid.then(|| expr.split('.').map(String::from).collect())
}

/// Dotted variable paths an expression reads, ignoring strings, numbers,
/// keywords, filter and test names (the word after `|` or `is [not]`),
/// function names (before `(`), keyword-argument names (before `=`), and
/// what follows a subscript. A path tested with `is defined` or `is
/// undefined` is not required to exist: that is how a template asks; such
/// paths are returned second.
fn paths(expr: &str) -> (Vec<Vec<String>>, Vec<Vec<String>>) {
    let mut out = Vec::new();
    let mut tested = Vec::new();
    let bytes = expr.as_bytes();
    let mut i = 0;
    let mut skip_next_word = false;
    let mut after_subscript = false;
    while i < bytes.len() {
        let c = bytes[i] as char;
        match c {
            '"' | '\'' | '`' => {
                i += 1;
                while i < bytes.len() && bytes[i] as char != c {
                    i += 1;
                }
                i += 1;
            }
            '|' => {
                skip_next_word = true;
                i += 1;
            }
            ']' => {
                after_subscript = true;
                i += 1;
            }
            '.' if after_subscript => {
                // `a[0].b`: the fields after a subscript are not checked.
                i += 1;
                while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_' || bytes[i] == b'.') {
                    i += 1;
                }
            }
            c if c.is_ascii_digit() => {
                while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'.' || bytes[i] == b'_') {
                    i += 1;
                }
            }
            c if c.is_alphabetic() || c == '_' => {
                let start = i;
                while i < bytes.len() && ((bytes[i] as char).is_alphanumeric() || bytes[i] == b'_' || bytes[i] == b'.')
                {
                    i += 1;
                }
                let word = expr[start..i].trim_end_matches('.');
                let rest = expr[i..].trim_start();
                let head = word.split('.').next().unwrap_or(word);
                after_subscript = false;
                if skip_next_word {
                    skip_next_word = word == "not";
                } else if word == "is" {
                    skip_next_word = true;
                } else if is_existence_test(rest) {
                    tested.push(word.split('.').map(String::from).collect());
                } else if KEYWORDS.contains(&head)
                    || rest.starts_with('(')
                    || (rest.starts_with('=') && !rest.starts_with("=="))
                {
                } else {
                    out.push(word.split('.').map(String::from).collect());
                }
            }
            _ => {
                if !c.is_whitespace() {
                    after_subscript = false;
                }
                i += c.len_utf8().max(1);
            }
        }
    }
    (out, tested)
}

fn is_existence_test(rest: &str) -> bool {
    let Some(test) = rest.strip_prefix("is ") else { return false };
    let test = test.trim_start();
    let test = test.strip_prefix("not ").map_or(test, str::trim_start);
    ["defined", "undefined"].iter().any(|t| {
        test.strip_prefix(t).is_some_and(|after| !after.starts_with(|c: char| c.is_alphanumeric() || c == '_'))
    })
}

/// What the check knows of a value: the union of every value an expression
/// may take (the items of a list merged into one shape).
/// The most values a string may take and still count as a tag.
const TAG_VALUES: usize = 16;

#[derive(Debug, Clone, PartialEq)]
enum Shape {
    /// Anything: an argument, a computed value, a list with no items.
    Unknown,
    /// A number or boolean, or a string of unknown value.
    Scalar,
    /// A string, with the values it takes: a tag, which has a few; a
    /// string with more than [`TAG_VALUES`] is free text, a `Scalar`.
    Text(std::collections::BTreeSet<String>),
    /// `null`: merges into whatever else the place holds.
    Null,
    Object(BTreeMap<String, Shape>),
    List(Box<Shape>),
}

impl Shape {
    fn of(v: &Value) -> Shape {
        match v.kind() {
            ValueKind::Undefined | ValueKind::None => Shape::Null,
            ValueKind::String => Shape::Text([v.as_str().unwrap_or_default().to_string()].into()),
            ValueKind::Array => {
                let items = v.as_array().unwrap_or(&[]);
                let item = items.iter().map(Shape::of).reduce(Shape::merge).unwrap_or(Shape::Unknown);
                Shape::List(Box::new(item))
            }
            ValueKind::Map => {
                Shape::Object(v.as_map().into_iter().flatten().map(|(k, v)| (k.to_string(), Shape::of(v))).collect())
            }
            _ => Shape::Scalar,
        }
    }

    fn merge(self, other: Shape) -> Shape {
        match (self, other) {
            (Shape::Null, s) | (s, Shape::Null) => s,
            (Shape::Object(mut a), Shape::Object(b)) => {
                for (k, v) in b {
                    let merged = match a.remove(&k) {
                        Some(old) => old.merge(v),
                        None => v,
                    };
                    a.insert(k, merged);
                }
                Shape::Object(a)
            }
            (Shape::List(a), Shape::List(b)) => match (*a, *b) {
                (Shape::Unknown, s) | (s, Shape::Unknown) => Shape::List(Box::new(s)),
                (a, b) => Shape::List(Box::new(a.merge(b))),
            },
            (Shape::Text(mut a), Shape::Text(b)) => {
                a.extend(b);
                if a.len() > TAG_VALUES { Shape::Scalar } else { Shape::Text(a) }
            }
            (Shape::Scalar | Shape::Text(_), Shape::Scalar | Shape::Text(_)) => Shape::Scalar,
            _ => Shape::Unknown,
        }
    }

    /// The shape of one item when iterating over this one.
    fn item(&self) -> Shape {
        match self {
            Shape::List(item) => (**item).clone(),
            Shape::Object(map) => map.values().cloned().reduce(Shape::merge).unwrap_or(Shape::Unknown),
            _ => Shape::Unknown,
        }
    }
}

/// Names bound while walking, innermost frame last.
struct Scope {
    frames: Vec<BTreeMap<String, Shape>>,
    /// Whether the view's top level is visible (not in a component body).
    view: bool,
    /// Paths an enclosing `{% if %}` tests with `is defined`: what starts
    /// with them is not checked.
    guards: Vec<Vec<String>>,
}

impl Scope {
    fn get(&self, name: &str) -> Option<&Shape> {
        self.frames.iter().rev().find_map(|f| f.get(name))
    }

    fn bind(&mut self, name: &str, shape: Shape, global: bool) {
        let frame = if global { self.frames.first_mut() } else { self.frames.last_mut() };
        frame.expect("a scope has a frame").insert(name.to_string(), shape);
    }
}

/// Walks templates against one view.
struct Walk<'a> {
    templates: &'a BTreeMap<String, Template>,
    root: Shape,
    stack: Vec<(String, usize)>,
    found: Vec<Undefined>,
}

/// The places in `template` (and what it includes) that read a name the
/// view of the file does not define.
pub fn undefined(templates: &BTreeMap<String, Template>, template: &str, view: &Value) -> Vec<Undefined> {
    let mut walk = Walk { templates, root: Shape::of(view), stack: Vec::new(), found: Vec::new() };
    let mut scope = Scope { frames: vec![BTreeMap::new()], view: true, guards: Vec::new() };
    walk.template(template, &mut scope);
    walk.found.sort();
    walk.found.dedup();
    walk.found
}

impl Walk<'_> {
    fn template(&mut self, name: &str, scope: &mut Scope) {
        let Some(t) = self.templates.get(name) else { return };
        if self.stack.iter().any(|(n, _)| n == name) {
            return; // recursion: tera would loop; nothing new to check
        }
        self.stack.push((name.to_string(), 0));
        self.nodes(&t.nodes, scope);
        self.stack.pop();
    }

    fn nodes(&mut self, nodes: &[Node], scope: &mut Scope) {
        for node in nodes {
            self.node(node, scope);
        }
    }

    fn node(&mut self, node: &Node, scope: &mut Scope) {
        match node {
            Node::Read(e) => self.read(e, scope),
            Node::If { branches, otherwise } => {
                let guards = scope.guards.len();
                for (condition, _) in branches {
                    scope.guards.extend(condition.tested.iter().cloned());
                }
                for (condition, body) in branches {
                    self.read(condition, scope);
                    if !self.never(condition, scope) {
                        self.nodes(body, scope);
                    }
                }
                self.nodes(otherwise, scope);
                scope.guards.truncate(guards);
            }
            Node::For { names, target, simple, body, otherwise } => {
                self.read(target, scope);
                let item = simple.as_ref().and_then(|p| self.resolve(p, scope)).map_or(Shape::Unknown, Shape::item);
                let mut frame = BTreeMap::new();
                match names.as_slice() {
                    [value] => {
                        frame.insert(value.clone(), item);
                    }
                    [key, value] => {
                        frame.insert(key.clone(), Shape::Scalar);
                        frame.insert(value.clone(), item);
                    }
                    _ => names.iter().for_each(|n| {
                        frame.insert(n.clone(), Shape::Unknown);
                    }),
                }
                scope.frames.push(frame);
                self.nodes(body, scope);
                scope.frames.pop();
                self.nodes(otherwise, scope);
            }
            Node::Set { name, global, value, simple } => {
                self.read(value, scope);
                let shape = simple.as_ref().and_then(|p| self.resolve(p, scope)).cloned().unwrap_or(Shape::Unknown);
                scope.bind(name, shape, *global);
            }
            Node::SetBlock { name, global, body } => {
                self.nodes(body, scope);
                scope.bind(name, Shape::Scalar, *global);
            }
            Node::Include { line, template } => {
                if let Some(top) = self.stack.last_mut() {
                    top.1 = *line;
                }
                self.template(template, scope);
            }
            Node::Component { args, body } => {
                let frame = args.iter().map(|a| (a.clone(), Shape::Unknown)).collect();
                let mut inner = Scope { frames: vec![frame], view: false, guards: Vec::new() };
                self.nodes(body, &mut inner);
            }
            Node::Body(body) => self.nodes(body, scope),
        }
    }

    fn read(&mut self, e: &Expr, scope: &Scope) {
        for path in &e.paths {
            if BUILTINS.contains(&path[0].as_str())
                || scope.guards.iter().any(|g| path.starts_with(g))
                || self.resolve(path, scope).is_some()
            {
                continue;
            }
            let (template, _) = self.stack.last().expect("inside a template");
            self.found.push(Undefined {
                template: template.clone(),
                line: e.line,
                path: path.join("."),
                included_from: self.stack[..self.stack.len() - 1].to_vec(),
            });
        }
    }

    /// Whether a condition `name == "text"` cannot hold with the view:
    /// `name` is a string that never has that text.
    fn never(&self, e: &Expr, scope: &Scope) -> bool {
        let Some((path, text)) = &e.equals else { return false };
        matches!(self.resolve(path, scope), Some(Shape::Text(values)) if !values.contains(text))
    }

    /// The shape of a path in the scope, `None` when it does not exist.
    fn resolve<'s>(&'s self, path: &[String], scope: &'s Scope) -> Option<&'s Shape> {
        static UNKNOWN: Shape = Shape::Unknown;
        let (head, rest) = path.split_first()?;
        let mut shape = match scope.get(head) {
            Some(s) => s,
            None if scope.view => match &self.root {
                Shape::Object(map) => map.get(head)?,
                _ => return None,
            },
            None => return None,
        };
        for key in rest {
            shape = match shape {
                Shape::Object(map) => map.get(key)?,
                Shape::Unknown | Shape::Null => return Some(&UNKNOWN),
                // Lists are indexed by number (`xs.0`).
                Shape::List(item) if key.parse::<usize>().is_ok() => item,
                Shape::List(_) | Shape::Scalar | Shape::Text(_) => return None,
            };
        }
        Some(shape)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn check(sources: &[(&str, &str)], view: serde_json::Value) -> Vec<String> {
        let templates = sources.iter().map(|(n, s)| (n.to_string(), parse(s))).collect();
        undefined(&templates, sources[0].0, &Value::from_serializable(&view))
            .into_iter()
            .map(|u| {
                let from: Vec<String> = u.included_from.iter().map(|(t, l)| format!("{t}:{l}")).collect();
                format!(
                    "{}:{} {}{}",
                    u.template,
                    u.line,
                    u.path,
                    if from.is_empty() { String::new() } else { format!(" <- {}", from.join(" <- ")) }
                )
            })
            .collect()
    }

    #[test]
    fn reads_paths_of_expressions() {
        let p = |e: &str| paths(e).0.into_iter().map(|p| p.join(".")).collect::<Vec<_>>();
        assert_eq!(p("a and not b.c"), ["a", "b.c"]);
        assert_eq!(p("d | length > 0 and 'e' in s"), ["d", "s"]);
        assert_eq!(p("x.y is defined or z is not undefined or w is not none"), ["w"]);
        assert_eq!(p("f(value=g) ~ h[0].i ~ \"j.k\" ~ 1.5"), ["g", "h"]);
        assert_eq!(p("m.shape == \"unary\""), ["m.shape"]);
        assert_eq!(p("x | default(value=y.z)"), ["x", "y.z"]);
    }

    #[test]
    fn finds_undefined_names_in_conditions_loops_and_sets() {
        let found = check(
            &[(
                "t",
                "{% if title %}{% endif %}{% if titel %}{% endif %}\n\
                 {% for m in ms %}{% if m.ok %}{% endif %}{% if m.okk %}{% endif %}{% endfor %}\n\
                 {% for x in xss %}{% endfor %}{% set a = ms %}{% for m in a %}{{ m.nope }}{% endfor %}\n\
                 {% if m %}{% endif %}",
            )],
            json!({"title": "", "ms": [{"ok": true}, {"ok": false, "extra": 1}]}),
        );
        assert_eq!(found, ["t:1 titel", "t:2 m.okk", "t:3 m.nope", "t:3 xss", "t:4 m"]);
    }

    #[test]
    fn includes_see_the_scope_of_the_include_and_report_the_chain() {
        let found = check(
            &[
                (
                    "root",
                    "{% for m in ms %}\n{% set v = m.sub %}{% include \"part\" %}{% endfor %}\n{% include \"part\" %}",
                ),
                (
                    "part",
                    "{% if m.hook %}{% endif %}\n{% if m.hookk %}{% endif %}{% for s in v.list %}{{ s.k }}{% endfor %}",
                ),
            ],
            json!({"ms": [{"hook": true, "sub": {"list": [{"k": 1}]}}]}),
        );
        assert_eq!(
            found,
            [
                "part:1 m.hook <- root:3",
                "part:2 m.hookk <- root:2",
                "part:2 m.hookk <- root:3",
                "part:2 v.list <- root:3"
            ]
        );
    }

    #[test]
    fn branches_not_taken_are_checked_and_components_see_their_arguments() {
        let found = check(
            &[(
                "t",
                "{% if false %}{% if nope %}{% endif %}{% else %}{{ x }}{% endif %}\n\
                 {% component card(title, size=1) %}{% if title.a %}{% endif %}{% if titl %}{% endif %}{% endcomponent card %}\n\
                 {% for m in empty %}{% if m.anything %}{% endif %}{% endfor %}{% for k, v in map %}{% if v.a and v.b %}{% endif %}{% endfor %}",
            )],
            json!({"x": 1, "empty": [], "map": {"one": {"a": 1}, "two": {"a": 2}}}),
        );
        assert_eq!(found, ["t:1 nope", "t:2 titl", "t:3 v.b"]);
    }

    #[test]
    fn null_merges_into_the_other_items() {
        let found = check(
            &[("t", "{% for m in ms %}{% if m.o.k %}{% endif %}{% if m.o.q %}{% endif %}{% endfor %}")],
            json!({"ms": [{"o": null}, {"o": {"k": 1}}]}),
        );
        assert_eq!(found, ["t:1 m.o.q"]);
    }

    #[test]
    fn a_name_tested_with_is_defined_is_not_required_in_that_if() {
        let found = check(
            &[(
                "t",
                "{% if a.b is defined %}{{ a.b.c }}{% else %}{{ a.b }}{% endif %}{{ a.b }}\n{% if z is not undefined %}{{ z }}{% endif %}",
            )],
            json!({"a": {}}),
        );
        assert_eq!(found, ["t:1 a.b"]);
    }

    #[test]
    fn a_branch_on_a_tag_the_view_never_has_is_not_walked() {
        let found = check(
            &[(
                "t",
                "{% for m in ms %}{% if m.shape == \"a\" %}{{ m.x }}{% elif m.shape == \"b\" %}{{ m.y }}{% elif m.shape == \"c\" %}{{ m.z }}{% endif %}{% endfor %}\n\
                 {% if n == 1 %}{{ nope }}{% endif %}{% for m in ms %}{% if m.x == \"b\" %}{{ m.w }}{% endif %}{% endfor %}",
            )],
            json!({"ms": [{"shape": "a", "x": 1}, {"shape": "b", "y": 2}], "n": 1}),
        );
        // No item has shape "c"; a number or a name that is not a string is
        // compared as anything.
        assert_eq!(found, ["t:2 m.w", "t:2 nope"]);
    }
}
