//! Strict conditions. Tera makes an undefined variable in `{{ }}` an error
//! but treats it as false in `{% if %}`, so a misspelt name there would
//! silently drop output. This check finds every name a condition reads and
//! makes sure the view defines it.

use std::collections::BTreeSet;

use serde_json::Value;

/// Words inside a condition that are not variables.
const KEYWORDS: &[&str] = &["and", "or", "not", "in", "is", "true", "false", "none", "loop"];

/// The variable paths read by the `if`/`elif` conditions of a template, and
/// the loop variables it declares.
#[derive(Debug, Default, PartialEq)]
pub struct Conditions {
    pub paths: Vec<Vec<String>>,
    /// Names bound by `{% for %}` and `{% set %}`.
    pub loop_vars: BTreeSet<String>,
    /// Templates pulled in with `{% include %}`.
    pub includes: Vec<String>,
}

impl Conditions {
    /// Adds what another template (an included one) reads and binds.
    pub fn merge(&mut self, other: &Conditions) {
        self.paths.extend(other.paths.iter().cloned());
        self.loop_vars.extend(other.loop_vars.iter().cloned());
    }
}

/// Scans a template source.
pub fn scan(source: &str) -> Conditions {
    let mut out = Conditions::default();
    let mut rest = source;
    while let Some(start) = rest.find("{%") {
        let after = &rest[start + 2..];
        let Some(end) = after.find("%}") else { break };
        let tag = after[..end].trim_matches(|c: char| c == '-' || c.is_whitespace());
        rest = &after[end + 2..];
        if let Some(expr) = tag.strip_prefix("if ").or_else(|| tag.strip_prefix("elif ")) {
            out.paths.extend(paths(expr));
        } else if let Some(header) = tag.strip_prefix("for ")
            && let Some((vars, _)) = header.split_once(" in ")
        {
            out.loop_vars.extend(vars.split(',').map(|v| v.trim().to_string()));
        }
    }
    out
}

/// Dotted variable paths in an expression, ignoring strings, filters and
/// tests (the word after `|` or `is`), numbers and keywords.
fn paths(expr: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let mut chars = expr.char_indices().peekable();
    let mut skip_next_word = false;
    while let Some((i, c)) = chars.next() {
        match c {
            '"' | '\'' | '`' => {
                for (_, d) in chars.by_ref() {
                    if d == c {
                        break;
                    }
                }
            }
            '|' => skip_next_word = true,
            c if c.is_alphabetic() || c == '_' => {
                let mut end = i + c.len_utf8();
                while let Some(&(j, d)) = chars.peek() {
                    if d.is_alphanumeric() || d == '_' || d == '.' {
                        end = j + d.len_utf8();
                        chars.next();
                    } else {
                        break;
                    }
                }
                let word = &expr[i..end];
                if skip_next_word {
                    skip_next_word = false;
                } else if word == "is" {
                    skip_next_word = true;
                } else if !KEYWORDS.contains(&word.split('.').next().unwrap_or(word)) {
                    out.push(word.split('.').map(String::from).collect());
                }
            }
            _ => {}
        }
    }
    out
}

/// The paths of `conditions` that `view` does not define. A path that starts
/// at a loop variable must have every later segment somewhere in the view as
/// a key; any other path must resolve from the top.
pub fn undefined(conditions: &Conditions, view: &Value) -> Vec<String> {
    let mut keys = BTreeSet::new();
    all_keys(view, &mut keys);
    conditions
        .paths
        .iter()
        .filter(|path| {
            if conditions.loop_vars.contains(&path[0]) {
                !path[1..].iter().all(|k| keys.contains(k.as_str()))
            } else {
                !resolves(view, path)
            }
        })
        .map(|path| path.join("."))
        .collect()
}

fn all_keys<'a>(v: &'a Value, out: &mut BTreeSet<&'a str>) {
    match v {
        Value::Object(map) => {
            for (k, v) in map {
                out.insert(k);
                all_keys(v, out);
            }
        }
        Value::Array(items) => items.iter().for_each(|v| all_keys(v, out)),
        _ => {}
    }
}

fn resolves(v: &Value, path: &[String]) -> bool {
    match path.split_first() {
        None => true,
        Some((head, rest)) => match v {
            Value::Object(map) => map.get(head).is_some_and(|v| resolves(v, rest)),
            _ => false,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn scans_conditions_and_loops() {
        let c = scan(
            "{% if a and not b.c %}{%- elif d | length > 0 %}{% endif %}{% for x in xs -%}{% if x.y is defined and 'e' in s %}{% endif %}{% endfor %}",
        );
        let paths: Vec<String> = c.paths.iter().map(|p| p.join(".")).collect();
        assert_eq!(paths, ["a", "b.c", "d", "x.y", "s"]);
        assert_eq!(c.loop_vars.iter().collect::<Vec<_>>(), ["x"]);
    }

    #[test]
    fn finds_undefined_names() {
        let c = scan(
            "{% if title %}{% endif %}{% if titel %}{% endif %}{% for m in ms %}{% if m.ok %}{% endif %}{% if m.okk %}{% endif %}{% endfor %}",
        );
        let view = json!({"title": "", "ms": [{"ok": true}]});
        assert_eq!(undefined(&c, &view), ["titel", "m.okk"]);
    }
}
