//! Assert stage: assertions and captures compiled once (JSONPaths parsed, regexes built,
//! expected values compiled as templates).
use jsonpath_rust::parser::model::JpQuery;
use regex::Regex;

use crate::scenario::{AssertionSpec, Predicate, Quantifier};
use crate::template::{Compiled, CompiledJson, Templates};

/// A compile error: the field (relative to the assertion) and the message.
pub type PlanError = (String, String);

/// Parses a JSONPath, with a message QA can act on. The same path written in many steps
/// is parsed once.
pub fn compile_jsonpath(path: &str) -> Result<JpQuery, String> {
    static CACHE: std::sync::OnceLock<
        std::sync::Mutex<std::collections::HashMap<String, JpQuery>>,
    > = std::sync::OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    if let Some(q) = cache.lock().ok().and_then(|c| c.get(path).cloned()) {
        return Ok(q);
    }
    let q = jsonpath_rust::parser::parse_json_path(path.trim())
        .map_err(|e| format!("invalid JSONPath `{path}`: {}", first_line(&e.to_string())))?;
    if let Ok(mut c) = cache.lock() {
        c.insert(path.to_string(), q.clone());
    }
    Ok(q)
}

pub(super) fn first_line(s: &str) -> String {
    s.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// What an assertion looks at.
#[derive(Clone, Debug)]
pub enum Subject {
    /// HTTP status.
    Status,
    /// A response header (lower-case name).
    Header(String),
    /// JSONPath over the response JSON.
    JsonPath(JpQuery, String),
    /// JSONPath over collected items.
    Items(JpQuery, String),
    /// The body text or a program's combined output.
    Body,
    /// A program's exit code.
    ExitCode,
    /// A file in the run folder.
    File(String),
    /// A boolean template expression.
    Expr(Compiled, String),
    /// Every nested check.
    AllOf(Vec<Check>),
    /// At least one nested check.
    AnyOf(Vec<Check>),
}

/// A compiled predicate.
#[derive(Clone, Debug, Default)]
pub struct PredicatePlan {
    /// `(operator, expected)` pairs for equals … not_contains, one_of.
    pub ops: Vec<(&'static str, CompiledJson)>,
    /// Regex with its source.
    pub matches: Option<(Regex, String)>,
    /// Regex that must not match, with its source.
    pub not_matches: Option<(Regex, String)>,
    /// Existence.
    pub exists: Option<bool>,
    /// Length predicate.
    pub length: Option<Box<PredicatePlan>>,
    /// Line-count predicate.
    pub lines: Option<Box<PredicatePlan>>,
    /// JSON type name.
    pub type_name: Option<String>,
}

const TYPES: &[&str] = &[
    "string", "number", "integer", "boolean", "array", "object", "null", "datetime",
];

impl PredicatePlan {
    /// Compiles a predicate; `field` prefixes error paths.
    pub fn compile(p: &Predicate, t: &mut Templates, field: &str) -> Result<Self, PlanError> {
        let mut ops = Vec::new();
        for (op, value) in p.operands() {
            if let Some(v) = value {
                let c = CompiledJson::compile(t, v)
                    .map_err(|(sub, e)| (format!("{field}{op}{sub}"), e.message))?;
                ops.push((op, c));
            }
        }
        if let Some(list) = &p.one_of {
            let v = serde_json::Value::Array(list.clone());
            let c = CompiledJson::compile(t, &v)
                .map_err(|(sub, e)| (format!("{field}one_of{sub}"), e.message))?;
            ops.push(("one_of", c));
        }
        let regex =
            |src: &Option<String>, op: &str| -> Result<Option<(Regex, String)>, PlanError> {
                src.as_ref()
                    .map(|src| {
                        Regex::new(src).map(|re| (re, src.clone())).map_err(|e| {
                            (
                                format!("{field}{op}"),
                                format!("invalid regex: {}", first_line(&e.to_string())),
                            )
                        })
                    })
                    .transpose()
            };
        let matches = regex(&p.matches, "matches")?;
        let not_matches = regex(&p.not_matches, "not_matches")?;
        let length = match &p.length {
            Some(inner) => Some(Box::new(Self::compile(
                inner,
                t,
                &format!("{field}length."),
            )?)),
            None => None,
        };
        let lines = match &p.lines {
            Some(inner) => Some(Box::new(Self::compile(
                inner,
                t,
                &format!("{field}lines."),
            )?)),
            None => None,
        };
        if let Some(ty) = &p.r#type {
            if !TYPES.contains(&ty.as_str()) {
                return Err((
                    format!("{field}type"),
                    format!("unknown type `{ty}`; expected one of {}", TYPES.join(", ")),
                ));
            }
        }
        Ok(PredicatePlan {
            ops,
            matches,
            not_matches,
            exists: p.exists,
            length,
            lines,
            type_name: p.r#type.clone(),
        })
    }

    /// Whether nothing is checked.
    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
            && self.matches.is_none()
            && self.not_matches.is_none()
            && self.exists.is_none()
            && self.length.is_none()
            && self.lines.is_none()
            && self.type_name.is_none()
    }
}

/// Literal operands of the wrong type, caught before the run: `status: "200 OK"`, a
/// `gte` that is neither a number nor a datetime, a `length` that is not a number.
/// `numeric`: the subject is a number (a status, an exit code, a length).
fn check_literals(p: &Predicate, numeric: bool, field: &str) -> Result<(), PlanError> {
    let literal = |v: &serde_json::Value| -> Option<serde_json::Value> {
        match v {
            serde_json::Value::String(s) if s.contains("{{") || s.contains("{%") => None,
            other => Some(other.clone()),
        }
    };
    let is_number = |v: &serde_json::Value| match v {
        serde_json::Value::Number(_) => true,
        serde_json::Value::String(s) => s.trim().parse::<f64>().is_ok(),
        _ => false,
    };
    let ordered = |v: &serde_json::Value| {
        is_number(v)
            || v.as_str()
                .is_some_and(|s| crate::template::parse_instant(s).is_some())
    };
    let mut operands: Vec<(&str, &serde_json::Value)> = Vec::new();
    // `contains` takes any text: only the comparisons have a type to check.
    for (op, value) in p.operands() {
        if matches!(op, "contains" | "not_contains") {
            continue;
        }
        if let Some(v) = value {
            operands.push((op, v));
        }
    }
    if let Some(list) = &p.one_of {
        operands.extend(list.iter().map(|v| ("one_of", v)));
    }
    for (op, v) in operands {
        let Some(v) = literal(v) else { continue };
        let is_order = matches!(op, "gt" | "gte" | "lt" | "lte");
        if numeric && !is_number(&v) {
            return Err((
                format!("{field}{op}"),
                format!("this compares a number: `{v}` is not one"),
            ));
        }
        if is_order && !ordered(&v) {
            return Err((
                format!("{field}{op}"),
                format!("`{op}` orders numbers and datetimes: `{v}` is neither"),
            ));
        }
    }
    if let Some(inner) = &p.length {
        check_literals(inner, true, &format!("{field}length."))?;
    }
    if let Some(inner) = &p.lines {
        check_literals(inner, true, &format!("{field}lines."))?;
    }
    Ok(())
}

/// A compiled assertion.
#[derive(Clone, Debug)]
pub struct Check {
    /// Name for the report.
    pub name: Option<String>,
    /// Warn only.
    pub soft: bool,
    /// What is looked at.
    pub subject: Subject,
    /// How the selection is judged.
    pub quantifier: Quantifier,
    /// The predicate.
    pub predicate: PredicatePlan,
    /// `all` over nothing passes.
    pub allow_empty: bool,
}

impl Check {
    /// Compiles one assertion as written.
    pub fn compile(spec: &AssertionSpec, t: &mut Templates) -> Result<Check, PlanError> {
        let mut subjects: Vec<&str> = Vec::new();
        let mut status_pred = None;
        let mut body_pred = None;
        let mut subject = None;
        if let Some(p) = &spec.status {
            subjects.push("status");
            status_pred = Some(p);
            subject = Some(Subject::Status);
        }
        if let Some(h) = &spec.header {
            subjects.push("header");
            subject = Some(Subject::Header(h.to_ascii_lowercase()));
        }
        if let Some(p) = &spec.jsonpath {
            subjects.push("jsonpath");
            subject = Some(Subject::JsonPath(
                compile_jsonpath(p).map_err(|e| ("jsonpath".to_string(), e))?,
                p.clone(),
            ));
        }
        if let Some(p) = &spec.items {
            subjects.push("items");
            subject = Some(Subject::Items(
                compile_jsonpath(p).map_err(|e| ("items".to_string(), e))?,
                p.clone(),
            ));
        }
        if let Some(p) = &spec.body {
            subjects.push("body");
            body_pred = Some(p);
            subject = Some(Subject::Body);
        }
        if let Some(p) = &spec.exit_code {
            subjects.push("exit_code");
            body_pred = Some(p);
            subject = Some(Subject::ExitCode);
        }
        if let Some(f) = &spec.file {
            subjects.push("file");
            subject = Some(Subject::File(f.clone()));
        }
        if let Some(e) = &spec.expr {
            subjects.push("expr");
            let c = t
                .compile_expr(e)
                .map_err(|err| ("expr".to_string(), err.message))?;
            subject = Some(Subject::Expr(c, e.clone()));
        }
        if let Some(list) = &spec.all_of {
            subjects.push("all_of");
            subject = Some(Subject::AllOf(compile_list(list, t, "all_of")?));
        }
        if let Some(list) = &spec.any_of {
            subjects.push("any_of");
            subject = Some(Subject::AnyOf(compile_list(list, t, "any_of")?));
        }
        let subject = match (subjects.len(), subject) {
            (1, Some(s)) => s,
            (0, _) => {
                return Err((
                    String::new(),
                    "an assertion needs one subject: status, header, jsonpath, items, body, exit_code, file, expr, all_of or any_of".into(),
                ));
            }
            _ => {
                return Err((
                    subjects[1].to_string(),
                    format!(
                        "an assertion has one subject, found {}",
                        subjects.join(" and ")
                    ),
                ));
            }
        };

        let inline = spec.inline_predicate();
        let mut chosen: Vec<(Quantifier, &'static str, Predicate)> = Vec::new();
        if let Some(p) = status_pred.or(body_pred) {
            chosen.push((Quantifier::Value, subjects[0], p.clone()));
        }
        if !inline.is_empty() {
            chosen.push((Quantifier::Value, "", inline));
        }
        for (q, name, p) in [
            (Quantifier::All, "all", &spec.all),
            (Quantifier::Any, "any", &spec.any),
            (Quantifier::None, "none", &spec.none),
        ] {
            if let Some(p) = p {
                chosen.push((q, name, p.clone()));
            }
        }
        let is_compound = matches!(
            subject,
            Subject::Expr(..) | Subject::AllOf(_) | Subject::AnyOf(_)
        );
        if chosen.len() > 1 {
            return Err((
                chosen[1].1.to_string(),
                "one assertion takes one predicate: inline, or one of all/any/none; split it in two".into(),
            ));
        }
        let (quantifier, field, predicate) = match chosen.pop() {
            Some(c) if is_compound => {
                return Err((
                    c.1.to_string(),
                    format!("`{}` takes no predicate", subjects[0]),
                ));
            }
            Some(c) => c,
            None if is_compound => (Quantifier::Value, "", Predicate::default()),
            None => (
                Quantifier::Value,
                "",
                Predicate {
                    exists: Some(true),
                    ..Predicate::default()
                },
            ),
        };
        let prefix = if field.is_empty() {
            String::new()
        } else {
            format!("{field}.")
        };
        let numeric = matches!(subject, Subject::Status | Subject::ExitCode);
        check_literals(&predicate, numeric, &prefix)?;
        let predicate = PredicatePlan::compile(&predicate, t, &prefix)?;
        Ok(Check {
            name: spec.name.clone(),
            soft: spec.soft,
            subject,
            quantifier,
            predicate,
            allow_empty: spec.allow_empty,
        })
    }
}

fn compile_list(
    list: &[AssertionSpec],
    t: &mut Templates,
    field: &str,
) -> Result<Vec<Check>, PlanError> {
    list.iter()
        .enumerate()
        .map(|(i, a)| {
            Check::compile(a, t).map_err(|(sub, e)| {
                let sep = if sub.is_empty() { "" } else { "." };
                (format!("{field}[{i}]{sep}{sub}"), e)
            })
        })
        .collect()
}
