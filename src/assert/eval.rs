//! Assert stage: evaluating compiled checks against an observation.
use std::borrow::Cow;

use jsonpath_rust::parser::model::JpQuery;
use serde_json::Value;

use super::compare::{compare, loose_equals};
use super::jsonpath::select;
pub use super::observation::Observation;
use super::plan::{Check, PredicatePlan, Subject};
use crate::record::AssertionRecord;
use crate::scenario::Quantifier;
use crate::template::{Templates, parse_instant};

fn selected<'a>(query: &JpQuery, doc: Option<&'a Value>) -> Vec<Cow<'a, Value>> {
    doc.map(|d| select(query, d))
        .unwrap_or_default()
        .into_iter()
        .map(Cow::Borrowed)
        .collect()
}

pub(super) fn short(v: &Value) -> String {
    let s = match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    if s.chars().count() > 120 {
        format!("{}…", s.chars().take(120).collect::<String>())
    } else {
        s
    }
}

/// Evaluates one check; `ctx` is the template context (for expected values and `expr`).
pub fn eval_check(
    check: &Check,
    obs: &Observation,
    t: &Templates,
    ctx: &minijinja::Value,
) -> AssertionRecord {
    let (passed, description, expected, actual, message) = eval_inner(check, obs, t, ctx);
    AssertionRecord {
        description: check.name.clone().unwrap_or(description),
        passed,
        soft: check.soft,
        expected,
        actual,
        message,
    }
}

/// A check's outcome: passed, description, expected, actual, message.
pub(crate) type Outcome = (bool, String, String, String, Option<String>);

/// How many failing values an `all`/`any`/`none` check names.
pub(super) const FAILING_SHOWN: usize = 5;

fn eval_inner(check: &Check, obs: &Observation, t: &Templates, ctx: &minijinja::Value) -> Outcome {
    let (label, selection): (String, Vec<Cow<Value>>) = match &check.subject {
        Subject::Status => (
            "status".into(),
            obs.status
                .map(|s| Cow::Owned(Value::from(s)))
                .into_iter()
                .collect(),
        ),
        Subject::Header(name) => (
            format!("header {name}"),
            obs.headers
                .get(name)
                .map(|v| Cow::Owned(Value::String(v.clone())))
                .into_iter()
                .collect(),
        ),
        Subject::JsonPath(q, src) => (src.clone(), selected(q, obs.json.doc())),
        Subject::Items(q, src) => {
            // Judged as the walk's pages came, or read back from its file when the
            // items were too many to hold.
            if let Some(streamed) = super::stream::judged(check, obs, t, ctx) {
                return streamed;
            }
            (format!("items {src}"), selected(q, obs.items.as_deref()))
        }
        Subject::ExitCode => (
            "exit code".into(),
            obs.json
                .doc()
                .and_then(|j| j.get("exit_code"))
                .filter(|c| !c.is_null())
                .map(|c| Cow::Owned(c.clone()))
                .into_iter()
                .collect(),
        ),
        Subject::File(name) => (
            format!("file {name}"),
            obs.files
                .get(name)
                .map(|t| Cow::Owned(Value::String(t.to_string())))
                .into_iter()
                .collect(),
        ),
        Subject::Body => (
            "body".into(),
            vec![Cow::Owned(Value::String(obs.body_text().to_string()))],
        ),
        Subject::Expr(c, src) => {
            return match t.eval(c, ctx) {
                Ok(v) => {
                    let shown = serde_json::to_string(&v).unwrap_or_else(|_| v.to_string());
                    (v.is_true(), src.clone(), "true".into(), shown, None)
                }
                Err(e) => (
                    false,
                    src.clone(),
                    "true".into(),
                    "error".into(),
                    Some(e.message),
                ),
            };
        }
        Subject::AllOf(list) | Subject::AnyOf(list) => {
            let all = matches!(check.subject, Subject::AllOf(_));
            let results: Vec<Outcome> = list.iter().map(|c| eval_inner(c, obs, t, ctx)).collect();
            let passed = if all {
                results.iter().all(|r| r.0)
            } else {
                results.iter().any(|r| r.0)
            };
            let word = if all { "all of" } else { "any of" };
            let parts: Vec<String> = results
                .iter()
                .map(|r| format!("{} {}: {}", if r.0 { "✓" } else { "✗" }, r.1, r.3))
                .collect();
            let description = format!(
                "{word}: {}",
                results
                    .iter()
                    .map(|r| r.1.clone())
                    .collect::<Vec<_>>()
                    .join("; ")
            );
            let expected = results
                .iter()
                .map(|r| r.2.clone())
                .collect::<Vec<_>>()
                .join(&format!(" {word} "));
            return (passed, description, expected, parts.join("; "), None);
        }
    };
    let predicate = &check.predicate;
    let expected = match render_expected(predicate, t, ctx) {
        Ok(e) => e,
        Err(msg) => return (false, label, "?".into(), "not evaluated".into(), Some(msg)),
    };
    let expected_text = describe(predicate, &expected);
    match check.quantifier {
        Quantifier::Value => {
            let value: Option<Cow<Value>> = match selection.len() {
                0 => None,
                1 => selection.into_iter().next(),
                _ => Some(Cow::Owned(Value::Array(
                    selection.into_iter().map(Cow::into_owned).collect(),
                ))),
            };
            let actual = value
                .as_deref()
                .map(short)
                .unwrap_or_else(|| "nothing".into());
            match test(predicate, &expected, value.as_deref()) {
                Ok(()) => (true, label, expected_text, actual, None),
                Err(why) => (false, label, expected_text, actual, Some(why)),
            }
        }
        q => {
            let total = selection.len();
            let mut failing = Vec::new();
            let mut passing = 0usize;
            for (i, v) in selection.iter().enumerate() {
                match test(predicate, &expected, Some(v)) {
                    Ok(()) => passing += 1,
                    Err(why) => {
                        if failing.len() < FAILING_SHOWN {
                            failing.push(format!("[{i}] {} ({why})", short(v)));
                        }
                    }
                }
            }
            summarize(
                q,
                label,
                expected_text,
                (total, passing),
                failing,
                check.allow_empty,
            )
        }
    }
}

/// The outcome of `all`/`any`/`none` over `total` selected values, `passing` of which
/// met the predicate; `failing` holds the first few that did not.
pub(super) fn summarize(
    q: Quantifier,
    label: String,
    expected_text: String,
    (total, passing): (usize, usize),
    failing: Vec<String>,
    allow_empty: bool,
) -> Outcome {
    let failed = total - passing;
    let (ok, actual) = match q {
        Quantifier::All => (
            failed == 0 && (total > 0 || allow_empty),
            if total == 0 {
                "nothing selected".into()
            } else {
                format!("{passing} of {total} values match")
            },
        ),
        Quantifier::Any => (passing > 0, format!("{passing} of {total} values match")),
        _ => (passing == 0, format!("{passing} of {total} values match")),
    };
    let word = match q {
        Quantifier::All => "every",
        Quantifier::Any => "some",
        _ => "no",
    };
    let message = if ok || failing.is_empty() {
        None
    } else {
        Some(format!("not matching: {}", failing.join(", ")))
    };
    (
        ok,
        format!("{word} {label}"),
        expected_text,
        actual,
        message,
    )
}

pub(super) struct Expected {
    pub(super) ops: Vec<(&'static str, Value)>,
    pub(super) length: Option<Box<Expected>>,
    pub(super) lines: Option<Box<Expected>>,
}

pub(super) fn render_expected(
    p: &PredicatePlan,
    t: &Templates,
    ctx: &minijinja::Value,
) -> Result<Expected, String> {
    let ops = p
        .ops
        .iter()
        .map(|(op, c)| c.render(t, ctx).map(|v| (*op, v)).map_err(|e| e.message))
        .collect::<Result<_, _>>()?;
    let length = match &p.length {
        Some(inner) => Some(Box::new(render_expected(inner, t, ctx)?)),
        None => None,
    };
    let lines = match &p.lines {
        Some(inner) => Some(Box::new(render_expected(inner, t, ctx)?)),
        None => None,
    };
    Ok(Expected { ops, length, lines })
}

pub(super) fn describe(p: &PredicatePlan, e: &Expected) -> String {
    let mut parts: Vec<String> = e
        .ops
        .iter()
        .map(|(op, v)| {
            let sym = match *op {
                "equals" => "==",
                "not_equals" => "!=",
                "lt" => "<",
                "lte" => "<=",
                "gt" => ">",
                "gte" => ">=",
                "contains" => "contains",
                "not_contains" => "not contains",
                _ => "one of",
            };
            format!("{sym} {}", short(v))
        })
        .collect();
    if let Some((_, src)) = &p.matches {
        parts.push(format!("matches /{src}/"));
    }
    if let Some((_, src)) = &p.not_matches {
        parts.push(format!("does not match /{src}/"));
    }
    if let Some(ex) = p.exists {
        parts.push(if ex {
            "exists".into()
        } else {
            "does not exist".into()
        });
    }
    if let (Some(lp), Some(le)) = (&p.length, &e.length) {
        parts.push(format!("length {}", describe(lp, le)));
    }
    if let (Some(lp), Some(le)) = (&p.lines, &e.lines) {
        parts.push(format!("lines {}", describe(lp, le)));
    }
    if let Some(ty) = &p.type_name {
        parts.push(format!("is {ty}"));
    }
    parts.join(" and ")
}

fn type_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

pub(super) fn has_type(v: &Value, ty: &str) -> bool {
    match ty {
        "number" => v.is_number(),
        "datetime" => v.as_str().and_then(parse_instant).is_some(),
        other => type_of(v) == other,
    }
}

pub(super) fn test(p: &PredicatePlan, e: &Expected, actual: Option<&Value>) -> Result<(), String> {
    if let Some(want) = p.exists {
        if want != actual.is_some() {
            return Err(if want {
                "nothing selected".into()
            } else {
                "a value exists".into()
            });
        }
    }
    let Some(actual) = actual else {
        return if p.exists == Some(false) {
            Ok(())
        } else {
            Err("nothing selected".into())
        };
    };
    for (op, expected) in &e.ops {
        let ok = match *op {
            "equals" => loose_equals(actual, expected),
            "not_equals" => !loose_equals(actual, expected),
            "lt" | "lte" | "gt" | "gte" => match compare(actual, expected) {
                Some(ord) => match *op {
                    "lt" => ord.is_lt(),
                    "lte" => ord.is_le(),
                    "gt" => ord.is_gt(),
                    _ => ord.is_ge(),
                },
                None => {
                    return Err(format!(
                        "{} and {} cannot be compared",
                        short(actual),
                        short(expected)
                    ));
                }
            },
            "contains" => contains(actual, expected),
            "not_contains" => !contains(actual, expected),
            _ => expected
                .as_array()
                .is_some_and(|l| l.iter().any(|x| loose_equals(actual, x))),
        };
        if !ok {
            return Err(format!("{op} {} failed", short(expected)));
        }
    }
    if p.matches.is_some() || p.not_matches.is_some() {
        let text = match actual {
            Value::String(s) => Cow::Borrowed(s.as_str()),
            other => Cow::Owned(other.to_string()),
        };
        if let Some((re, src)) = &p.matches {
            if !re.is_match(&text) {
                return Err(format!("does not match /{src}/"));
            }
        }
        if let Some((re, src)) = &p.not_matches {
            if let Some(m) = re.find(&text) {
                return Err(format!("matches /{src}/ at `{}`", m.as_str()));
            }
        }
    }
    if let (Some(lp), Some(le)) = (&p.length, &e.length) {
        let len = match actual {
            Value::String(s) => s.chars().count(),
            Value::Array(a) => a.len(),
            Value::Object(o) => o.len(),
            _ => return Err(format!("{} has no length", type_of(actual))),
        };
        test(lp, le, Some(&Value::from(len))).map_err(|why| format!("length {len}: {why}"))?;
    }
    if let (Some(lp), Some(le)) = (&p.lines, &e.lines) {
        let Value::String(text) = actual else {
            return Err(format!("{} is not text", type_of(actual)));
        };
        let n = text.lines().count();
        test(lp, le, Some(&Value::from(n))).map_err(|why| format!("{n} lines: {why}"))?;
    }
    if let Some(ty) = &p.type_name {
        if !has_type(actual, ty) {
            return Err(format!("is {}, not {ty}", type_of(actual)));
        }
    }
    Ok(())
}

fn contains(actual: &Value, needle: &Value) -> bool {
    match actual {
        Value::String(s) => match needle {
            Value::String(n) => s.contains(n.as_str()),
            other => s.contains(&other.to_string()),
        },
        Value::Array(items) => items.iter().any(|i| loose_equals(i, needle)),
        Value::Object(map) => needle.as_str().is_some_and(|k| map.contains_key(k)),
        _ => false,
    }
}
