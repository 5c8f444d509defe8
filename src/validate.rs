//! Stage 3, validate: what the compiler accepts but the conventions forbid.
//!
//! Every rule reports the element and its `file:line:col`; all problems are
//! collected so a run shows them at once.

use std::collections::{HashMap, HashSet};

use heck::{ToLowerCamelCase, ToSnakeCase};

use crate::diag::{Diagnostic, Failure, Result};
use crate::model::{Cardinality, Field, Location, Message, Model, Role, TypeRef};

/// Checks the model. Rules about the options hold whatever is rendered;
/// collisions of the names a target derives are checked only when that
/// target renders something: the Go and Python targets cover the services
/// that mirror a Go interface in a file with a `go_package`.
pub fn validate(model: &Model) -> Result<()> {
    let mut v = Validator { model, problems: Vec::new() };
    v.imports(model);
    let responses = v.services(model);
    let go = !model.bridged_services().is_empty();
    for m in &model.messages {
        v.message(m, &responses, model, go);
    }
    if v.problems.is_empty() { Ok(()) } else { Err(Failure::Input(v.problems)) }
}

struct Validator<'a> {
    model: &'a Model,
    problems: Vec<Diagnostic>,
}

impl Validator<'_> {
    fn report(&mut self, at: &Location, element: String, message: String) {
        let d = self.model.diagnostic(at, element, message);
        self.problems.push(d);
    }

    fn imports(&mut self, model: &Model) {
        let mut seen: HashMap<&str, &str> = HashMap::new();
        for i in &model.go_imports {
            if let Some(other) = seen.insert(&i.alias, &i.path) {
                let d = Diagnostic::new(format!(
                    "Go import alias `{}` is declared with two paths: {other:?} and {:?}",
                    i.alias, i.path
                ))
                .element("option `(mmbindgen.v1.file).go_import`");
                self.problems.push(d);
            }
        }
    }

    /// Checks services that mirror a Go interface; returns the full names of
    /// their response messages (where `go_param` is allowed).
    fn services(&mut self, model: &Model) -> HashSet<String> {
        let mut responses = HashSet::new();
        let mut used: HashMap<String, String> = HashMap::new();
        let mut short_names: HashMap<String, &str> = HashMap::new();
        let bridged: HashSet<&str> = model.bridged_services().iter().map(|s| s.full_name.as_str()).collect();
        for s in &model.services {
            // The Go and Python outputs are named after the short name (the
            // docs name a page after the full name where short names meet).
            if bridged.contains(s.full_name.as_str())
                && let Some(other) = short_names.insert(s.name.to_snake_case(), &s.full_name)
            {
                self.report(
                    &s.location,
                    format!("service `{}`", s.full_name),
                    format!(
                        "its name collides with service `{other}`: the Go and Python outputs are named after the service's short name, rename one of them"
                    ),
                );
            }
            let mut python_names: HashMap<String, &str> = HashMap::new();
            for m in &s.methods {
                let element = format!("method `{}.{}`", s.full_name, m.name);
                // Python method names; the Python target covers bridged services.
                if bridged.contains(s.full_name.as_str())
                    && let Some(other) = python_names.insert(m.name.to_snake_case(), &m.name)
                {
                    self.report(
                        &m.location,
                        element.clone(),
                        format!("its snake_case name collides with method `{other}` (both would be one Python method): rename one of them"),
                    );
                }
                if !m.min_server_version.is_empty() && !is_version(&m.min_server_version) {
                    self.report(
                        &m.location,
                        element.clone(),
                        format!(
                            "min_server_version {:?} is not a version like \"5.2\" or \"9.11.1\"",
                            m.min_server_version
                        ),
                    );
                }
                if s.go_interface.is_none() {
                    continue;
                }
                for (role, name) in [("request", &m.request), ("response", &m.response)] {
                    if model.message(name).is_none() {
                        self.report(
                            &m.location,
                            element.clone(),
                            format!("its {role} `{name}` is not declared under the proto root"),
                        );
                    }
                }
                let first_use = responses.insert(m.response.clone());
                for name in [&m.request, &m.response] {
                    if let Some(other) = used.insert(name.clone(), m.name.clone()) {
                        self.report(
                            &m.location,
                            element.clone(),
                            format!("message `{name}` is already used by RPC `{other}`: every RPC has its own request and response"),
                        );
                    }
                }
                for v in m.go.params.iter().chain(&m.go.results) {
                    if v.go_type.is_empty() {
                        self.report(
                            &m.location,
                            element.clone(),
                            format!("{} field `{}` has no Go type: give it a `go_type` option or use a message that declares one", v.role.message(), v.field),
                        );
                    }
                }
                if let Some(hook) = &m.hook {
                    if !s.hooks {
                        self.report(
                            &m.location,
                            element.clone(),
                            "hook fallbacks (`not_implemented`, `unavailable`) belong to methods of a service with the `hooks` option".to_string(),
                        );
                    }
                    for fallback in [&hook.not_implemented, &hook.unavailable] {
                        if !fallback.echo.is_empty() && fallback.echo_param.is_none() {
                            self.report(
                                &m.location,
                                element.clone(),
                                format!(
                                    "hook fallback echoes `{}`, which is not a field of `{}`",
                                    fallback.echo, m.request
                                ),
                            );
                        }
                        if fallback.bool_result && fallback.true_result.is_none() {
                            self.report(
                                &m.location,
                                element.clone(),
                                "hook fallback sets `bool_result`, but the Go method has no bool result".to_string(),
                            );
                        }
                        if fallback.error.is_some() && m.go.results.last().is_none_or(|r| r.role != Role::Error) {
                            self.report(
                                &m.location,
                                element.clone(),
                                "hook fallback sets `error`, but the Go method has no error result".to_string(),
                            );
                        }
                    }
                }
                if let Some(resp) = model.message(&m.response).filter(|_| first_use) {
                    if let Some(error) = resp.fields.iter().find(|f| f.number == 1 && f.go_param == 0)
                        && error.go_type != "*model.AppError"
                        && error.go_type != "error"
                    {
                        self.report(
                                &error.location,
                                format!("field `{}.{}`", resp.full_name, error.name),
                                format!("field 1 of a response is the error: its Go type must be `*model.AppError` or `error`, not `{}`", error.go_type),
                            );
                    }
                    let params = m.go.params.len() as u32;
                    let mut positions = HashSet::new();
                    for f in resp.fields.iter().filter(|f| f.go_param > 0) {
                        if f.go_param > params || !positions.insert(f.go_param) {
                            self.report(
                                &f.location,
                                format!("field `{}.{}`", resp.full_name, f.name),
                                format!(
                                    "go_param {} is out of range or taken (the Go method has {params} parameters)",
                                    f.go_param
                                ),
                            );
                        }
                    }
                }
            }
        }
        responses
    }

    /// Checks a message; `go` says whether the Go target renders (and
    /// with it the Go names of the fields).
    fn message(&mut self, m: &Message, responses: &HashSet<String>, model: &Model, go: bool) {
        let element = |f: &Field| format!("field `{}.{}`", m.full_name, f.name);
        let mut go_names: HashMap<&str, &str> = HashMap::new();
        let mut camel: HashMap<String, &str> = HashMap::new();
        for f in &m.fields {
            if let Some(other) = go_names.insert(&f.go_name, &f.name)
                && go
            {
                self.report(
                    &f.location,
                    element(f),
                    format!(
                        "its Go name `{}` is also the Go name of field `{other}`: rename one of them or set `go_name`",
                        f.go_name
                    ),
                );
            }
            if let Some(other) = camel.insert(f.name.to_lower_camel_case(), &f.name)
                && go
            {
                self.report(
                    &f.location,
                    element(f),
                    format!("its camelCase name collides with field `{other}`: rename one of them"),
                );
            }
            if f.go_param > 0 && !responses.contains(&m.full_name) {
                self.report(
                    &f.location,
                    element(f),
                    "go_param is only meaningful in the response of an RPC that mirrors a Go method".into(),
                );
            }
            self.go_type_aliases(&f.go_type, &f.location, element(f), model);
        }
        if let Some(t) = &m.go_type {
            self.go_type_aliases(t, &m.location, format!("message `{}`", m.full_name), model);
        }
        let msg_element = format!("message `{}`", m.full_name);
        if m.json {
            let ok = matches!(m.fields.as_slice(), [f] if f.name == "json" && f.number == 1 && f.ty == TypeRef::Scalar("bytes".into()) && f.cardinality == Cardinality::Singular);
            if !ok {
                self.report(
                    &m.location,
                    msg_element.clone(),
                    "a message carried as JSON must have exactly one field, `bytes json = 1`".into(),
                );
            }
            if m.go_type.is_none() {
                self.report(
                    &m.location,
                    msg_element.clone(),
                    "a message carried as JSON needs the Go type it carries (`go_type`)".into(),
                );
            }
        }
        let mut skipped = HashSet::new();
        for s in &m.skipped {
            if s.go_name.is_empty() || s.reason.trim().is_empty() {
                self.report(
                    &m.location,
                    msg_element.clone(),
                    "every skipped field needs a Go name and a reason".into(),
                );
            } else if !skipped.insert(s.go_name.as_str()) {
                self.report(&m.location, msg_element.clone(), format!("Go field `{}` is skipped twice", s.go_name));
            } else if go_names.contains_key(s.go_name.as_str()) {
                self.report(
                    &m.location,
                    msg_element.clone(),
                    format!("Go field `{}` is both mapped and skipped", s.go_name),
                );
            }
        }
    }

    /// A Go type expression must parse, with declared qualifiers only.
    fn go_type_aliases(&mut self, go_type: &str, at: &Location, element: String, model: &Model) {
        if go_type.is_empty() {
            return;
        }
        if let Err(why) = crate::build::parse_go_type(go_type, &model.go_imports) {
            self.report(at, element, format!("Go type `{go_type}` {why}"));
        }
    }
}

fn is_version(v: &str) -> bool {
    let parts: Vec<&str> = v.split('.').collect();
    (2..=3).contains(&parts.len()) && parts.iter().all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions() {
        for ok in ["5.2", "10.11", "9.11.1"] {
            assert!(is_version(ok), "{ok}");
        }
        for bad in ["", "5", "five", "5.", "5.2.1.0", "v5.2"] {
            assert!(!is_version(bad), "{bad}");
        }
    }
}
