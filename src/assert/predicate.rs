//! Assert stage: a predicate judged against one value — the expected values rendered,
//! the operators applied (`eq`, `gt`, `contains`, `type`, `length`, `lines`, …), and the
//! words that describe what was expected.
use std::borrow::Cow;

use serde_json::Value;

use super::compare::{compare, loose_equals};
use super::plan::PredicatePlan;
use crate::scenario::Quantifier;
use crate::template::{Templates, parse_instant};

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

/// A check's outcome: passed, description, expected, actual, message.
pub(crate) type Outcome = (bool, String, String, String, Option<String>);

/// How many failing values an `all`/`any`/`none` check names.
pub(super) const FAILING_SHOWN: usize = 5;

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
