//! Assert stage: evaluating compiled checks against an observation.
use std::borrow::Cow;

use jsonpath_rust::parser::model::JpQuery;
use serde_json::Value;

use super::jsonpath::select;
pub use super::observation::Observation;
use super::plan::{Check, Subject};
use super::predicate::{FAILING_SHOWN, Outcome, describe, render_expected, short, summarize, test};
use crate::record::AssertionRecord;
use crate::scenario::Quantifier;
use crate::template::Templates;

fn selected<'a>(query: &JpQuery, doc: Option<&'a Value>) -> Vec<Cow<'a, Value>> {
    doc.map(|d| select(query, d))
        .unwrap_or_default()
        .into_iter()
        .map(Cow::Borrowed)
        .collect()
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
