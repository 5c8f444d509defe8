//! A small reader of Go declarations: the methods of an interface with
//! their doc comments, the exported fields of structs, and named types.
//! It reads the formatting gofmt produces (one method per line, tabs),
//! which is what `plugin/api.go`, `plugin/hooks.go` and `model/` use.

/// One interface method.
#[derive(Debug, Clone)]
pub struct GoMethod {
    pub name: String,
    /// The doc comment, markers removed, lines joined with `\n`.
    pub doc: String,
    pub params: Vec<GoParam>,
    pub results: Vec<GoParam>,
    /// 1-based line of the method in its file.
    pub line: u32,
}

/// A parameter or result; `name` is empty when Go does not name it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GoParam {
    pub name: String,
    pub ty: String,
}

/// The methods of `type <iface> interface { ... }` in `src`, in order.
/// Types declared in the file's own package are qualified with `pkg`.
pub fn interface_methods(src: &str, iface: &str, pkg: &str) -> Result<Vec<GoMethod>, String> {
    let header = format!("type {iface} interface {{");
    let lines: Vec<&str> = src.lines().collect();
    let start = lines.iter().position(|l| l.trim_end() == header).ok_or_else(|| format!("no `{header}`"))?;
    let mut methods = Vec::new();
    let mut doc: Vec<String> = Vec::new();
    let mut i = start + 1;
    while i < lines.len() {
        let line = lines[i].trim();
        if lines[i].starts_with('}') {
            return Ok(methods);
        }
        if let Some(comment) = line.strip_prefix("//") {
            doc.push(comment.strip_prefix(' ').unwrap_or(comment).to_string());
        } else if line.is_empty() {
            doc.clear();
        } else if line.contains('(') {
            // A method; its signature may continue on the next lines.
            let first = i;
            let mut text = line.to_string();
            while depth(&text) > 0 && i + 1 < lines.len() {
                i += 1;
                text.push(' ');
                text.push_str(lines[i].trim());
            }
            let m = method(&text, pkg).map_err(|e| format!("line {}: {e}: {text}", first + 1))?;
            methods.push(GoMethod { doc: doc.join("\n"), line: (first + 1) as u32, ..m });
            doc.clear();
        } else {
            // An embedded interface.
            doc.clear();
        }
        i += 1;
    }
    Err(format!("`{header}` is not closed"))
}

fn depth(text: &str) -> i32 {
    text.chars()
        .map(|c| match c {
            '(' | '[' | '{' => 1,
            ')' | ']' | '}' => -1,
            _ => 0,
        })
        .sum()
}

/// `Name(params) results`.
fn method(text: &str, pkg: &str) -> Result<GoMethod, String> {
    let open = text.find('(').ok_or("no parameter list")?;
    let name = text[..open].trim().to_string();
    if name.is_empty() || !name.chars().all(|c| c.is_alphanumeric() || c == '_') {
        return Err("not a method".into());
    }
    let close = matching(text, open).ok_or("unbalanced parentheses")?;
    let params = list(&text[open + 1..close], pkg)?;
    let rest = text[close + 1..].trim();
    let results = if rest.starts_with('(') {
        let end = matching(rest, 0).ok_or("unbalanced result list")?;
        list(&rest[1..end], pkg)?
    } else if rest.is_empty() {
        Vec::new()
    } else {
        vec![GoParam { name: String::new(), ty: qualify(rest, pkg) }]
    };
    Ok(GoMethod { name, doc: String::new(), params, results, line: 0 })
}

fn matching(text: &str, open: usize) -> Option<usize> {
    let mut d = 0;
    for (i, c) in text.char_indices().skip_while(|(i, _)| *i < open) {
        match c {
            '(' | '[' | '{' => d += 1,
            ')' | ']' | '}' => {
                d -= 1;
                if d == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
}

/// A parameter or result list: `a, b string, c *model.X`, or only types.
fn list(text: &str, pkg: &str) -> Result<Vec<GoParam>, String> {
    let mut items = Vec::new();
    let (mut d, mut start) = (0, 0);
    for (i, c) in text.char_indices() {
        match c {
            '(' | '[' | '{' => d += 1,
            ')' | ']' | '}' => d -= 1,
            ',' if d == 0 => {
                items.push(text[start..i].trim());
                start = i + 1;
            }
            _ => {}
        }
    }
    if !text[start..].trim().is_empty() {
        items.push(text[start..].trim());
    }
    // Named when any item is `name type`.
    let split = |item: &str| -> Option<(String, String)> {
        let (name, ty) = item.split_once(' ')?;
        let ident = name.chars().all(|c| c.is_alphanumeric() || c == '_') && !name.is_empty();
        (ident && !matches!(name, "map" | "chan" | "func" | "interface" | "struct"))
            .then(|| (name.to_string(), ty.trim().to_string()))
    };
    let named = items.iter().any(|i| split(i).is_some());
    let mut out: Vec<GoParam> = Vec::new();
    if named {
        let mut pending: Vec<String> = Vec::new();
        for item in items {
            match split(item) {
                Some((name, ty)) => {
                    let ty = qualify(&ty, pkg);
                    for p in pending.drain(..) {
                        out.push(GoParam { name: p, ty: ty.clone() });
                    }
                    out.push(GoParam { name, ty });
                }
                None => pending.push(item.to_string()),
            }
        }
        if !pending.is_empty() {
            return Err(format!("parameters without a type: {}", pending.join(", ")));
        }
    } else {
        out = items.into_iter().map(|t| GoParam { name: String::new(), ty: qualify(t, pkg) }).collect();
    }
    Ok(out)
}

/// Writes `interface{}` as `any` and qualifies the exported names of the
/// file's own package (`Context` in package plugin is `plugin.Context`).
pub fn qualify(ty: &str, pkg: &str) -> String {
    let ty = ty.replace("interface{}", "any");
    let mut out = String::new();
    let mut word = String::new();
    let flush = |word: &mut String, out: &mut String| {
        if word.starts_with(|c: char| c.is_ascii_uppercase()) && !out.ends_with('.') {
            out.push_str(pkg);
            out.push('.');
        }
        out.push_str(word);
        word.clear();
    };
    for c in ty.chars() {
        if c.is_alphanumeric() || c == '_' {
            word.push(c);
        } else {
            flush(&mut word, &mut out);
            out.push(c);
        }
    }
    flush(&mut word, &mut out);
    out
}

/// A `type X struct { ... }` with its exported field names (an embedded
/// field is named by its type).
#[derive(Debug, Clone)]
pub struct GoStruct {
    pub name: String,
    pub fields: Vec<String>,
}

/// The structs and the named non-struct types (`type X string`) of a file.
pub fn declarations(src: &str) -> (Vec<GoStruct>, Vec<(String, String)>) {
    let (mut structs, mut named) = (Vec::new(), Vec::new());
    let mut lines = src.lines();
    while let Some(line) = lines.next() {
        let Some(rest) = line.strip_prefix("type ") else { continue };
        let Some((name, def)) = rest.split_once(' ') else { continue };
        let def = def.trim();
        if def == "struct {" {
            let mut fields = Vec::new();
            let mut d = 1;
            for body in lines.by_ref() {
                if d == 1 && body.starts_with('}') {
                    break;
                }
                let t = body.trim();
                let before = d;
                d += depth(t.split("//").next().unwrap_or_default().split('`').next().unwrap_or_default());
                if before != 1 || t.starts_with("//") || t.is_empty() {
                    continue;
                }
                let decl = t.split('`').next().unwrap_or_default().trim();
                let names = field_names(decl);
                fields.extend(
                    names.into_iter().filter(|n| n.starts_with(|c: char| c.is_ascii_uppercase())).map(String::from),
                );
            }
            structs.push(GoStruct { name: name.to_string(), fields });
        } else if !def.starts_with('=') && !def.ends_with('{') && !def.contains('(') {
            named.push((name.to_string(), def.to_string()));
        }
    }
    (structs, named)
}

/// The names a struct field line declares: `A, B int` declares A and B,
/// `Name Type` declares Name, an embedded `*pkg.Type` declares Type.
fn field_names(decl: &str) -> Vec<&str> {
    let ident = |s: &str| s.find(|c: char| !(c.is_alphanumeric() || c == '_')).unwrap_or(s.len());
    let mut names = Vec::new();
    let mut rest = decl;
    loop {
        let n = ident(rest);
        let (name, after) = rest.split_at(n);
        if let Some(more) = after.strip_prefix(',') {
            names.push(name);
            rest = more.trim_start();
        } else if n > 0 && after.starts_with(char::is_whitespace) {
            names.push(name);
            return names;
        } else {
            // Embedded: named by its type.
            return vec![decl.trim_start_matches('*').rsplit('.').next().unwrap_or_default()];
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_interface_methods_with_docs_and_grouped_parameters() {
        let src = "package plugin\n\ntype API interface {\n\t// Gets.\n\t//\n\t// @tag User\n\tGet(teamID, userID string, c *Context) (*model.User, *model.AppError)\n\n\tPut(m map[string][]string,\n\t\trd io.Reader) error\n\tLog(msg string, keyValuePairs ...interface{})\n\tZ() (ok bool, err error)\n}\n";
        let ms = interface_methods(src, "API", "plugin").unwrap();
        let names: Vec<_> = ms.iter().map(|m| m.name.as_str()).collect();
        assert_eq!(names, ["Get", "Put", "Log", "Z"]);
        assert_eq!(ms[0].doc, "Gets.\n\n@tag User");
        let p = |n: &str, t: &str| GoParam { name: n.into(), ty: t.into() };
        assert_eq!(ms[0].params, [p("teamID", "string"), p("userID", "string"), p("c", "*plugin.Context")]);
        assert_eq!(ms[0].results, [p("", "*model.User"), p("", "*model.AppError")]);
        assert_eq!(ms[1].params, [p("m", "map[string][]string"), p("rd", "io.Reader")]);
        assert_eq!(ms[1].line, 9);
        assert_eq!(ms[2].params[1], p("keyValuePairs", "...any"));
        assert_eq!(ms[3].results, [p("ok", "bool"), p("err", "error")]);
    }

    #[test]
    fn reads_struct_fields_and_named_types() {
        let src = "type Emoji struct {\n\tId string `json:\"id\"`\n\tA, B int\n\tmodel.Embedded\n\thidden int\n\tNested struct {\n\t\tInner int\n\t}\n}\n\ntype Kind string\n";
        let (structs, named) = declarations(src);
        assert_eq!(structs[0].fields, ["Id", "A", "B", "Embedded", "Nested"]);
        assert_eq!(named, [("Kind".to_string(), "string".to_string())]);
    }
}
