//! Run stage: the checks every step kind gets without asking (2xx, exit code 0, every
//! query ran, every page of a walk read once), the files `file` checks read, and captures.
use std::collections::BTreeMap;
use std::path::Path;

use minijinja::Value;

use super::outcome::ActionOutcome;
use super::process_step::ProcessFacts;
use crate::assert::{CaptureKind, Observation, select_all};
use crate::record::AssertionRecord;

/// Reads the files `file` checks look at (nested ones included).
pub(crate) fn collect_files(
    check: &crate::assert::Check,
    dir: &Path,
    files: &mut BTreeMap<String, std::sync::Arc<str>>,
) {
    use crate::assert::Subject;
    match &check.subject {
        Subject::File(name) if !files.contains_key(name) => {
            if let Ok(text) = std::fs::read_to_string(dir.join(name)) {
                files.insert(name.clone(), std::sync::Arc::from(text.as_str()));
            }
        }
        Subject::AllOf(list) | Subject::AnyOf(list) => {
            list.iter().for_each(|c| collect_files(c, dir, files))
        }
        _ => {}
    }
}

pub(crate) fn implicit_exit(facts: Option<&ProcessFacts>) -> AssertionRecord {
    let code = facts.and_then(|f| f.exit_code);
    AssertionRecord {
        description: "exit code".into(),
        passed: code == Some(0),
        soft: false,
        expected: "0".into(),
        actual: match (code, facts.is_some_and(|f| f.timed_out)) {
            (_, true) => "killed on timeout".into(),
            (Some(c), _) => c.to_string(),
            (None, _) => "no exit code".into(),
        },
        message: None,
    }
}

pub(crate) fn implicit_queries(outcome: &ActionOutcome) -> AssertionRecord {
    let hard: Vec<String> = outcome
        .query_errors
        .iter()
        .filter(|e| !e.2)
        .map(|e| format!("{}: {}", e.0, e.1))
        .collect();
    let soft = outcome.query_errors.iter().filter(|e| e.2).count();
    AssertionRecord {
        description: "every query ran".into(),
        passed: hard.is_empty(),
        soft: false,
        expected: "no errors (optional queries may fail)".into(),
        actual: if hard.is_empty() {
            format!("ok ({soft} optional queries failed)")
        } else {
            hard.join("; ")
        },
        message: None,
    }
}

pub(crate) fn implicit_status(obs: &Observation) -> AssertionRecord {
    let actual = obs
        .status
        .map(|s| s.to_string())
        .unwrap_or_else(|| "no answer (000)".into());
    AssertionRecord {
        description: "status".into(),
        passed: obs.status.is_some_and(|s| (200..300).contains(&s)),
        soft: false,
        expected: "2xx".into(),
        actual,
        message: None,
    }
}

pub(crate) fn capture(
    cap: &crate::assert::CapturePlan,
    obs: &Observation,
    t: &crate::template::Templates,
    ctx: &Value,
) -> Result<serde_json::Value, String> {
    let pick = |vals: Vec<&serde_json::Value>| -> serde_json::Value {
        if cap.all {
            serde_json::Value::Array(vals.into_iter().cloned().collect())
        } else {
            vals.into_iter()
                .next()
                .cloned()
                .unwrap_or(serde_json::Value::Null)
        }
    };
    Ok(match &cap.kind {
        CaptureKind::JsonPath(q) => {
            pick(obs.json.doc().map(|j| select_all(q, j)).unwrap_or_default())
        }
        CaptureKind::Items(q) => {
            // Items too many to hold are not read back whole for a capture.
            let walk = obs.walk.as_deref();
            if let Some(why) =
                walk.and_then(|w| w.refusal("a capture of `items:` reads them whole"))
            {
                return Err(why);
            }
            pick(
                obs.items
                    .as_deref()
                    .map(|j| select_all(q, j))
                    .unwrap_or_default(),
            )
        }
        CaptureKind::Header(h) => obs
            .headers
            .get(h)
            .map(|v| serde_json::Value::String(v.clone()))
            .unwrap_or_default(),
        CaptureKind::Expr(c) => t.eval_json(c, ctx).map_err(|e| e.message)?,
        CaptureKind::Regex(re, group) => {
            let value_of = |caps: regex::Captures| -> serde_json::Value {
                let m = match group {
                    Some(g) => caps.name(g),
                    None => caps.iter().skip(1).flatten().next().or_else(|| caps.get(0)),
                };
                m.map(|m| serde_json::Value::String(m.as_str().to_string()))
                    .unwrap_or_default()
            };
            let body = obs.body_text();
            if cap.all {
                serde_json::Value::Array(re.captures_iter(&body).map(value_of).collect())
            } else {
                re.captures(&body).map(value_of).unwrap_or_default()
            }
        }
    })
}

/// The failed assertions of a page walk: it stopped at `max_pages`, or asked for a page
/// twice.
pub(super) fn walk_assertions(outcome: &ActionOutcome) -> Vec<AssertionRecord> {
    let mut out = Vec::new();
    if outcome.pages_left {
        out.push(AssertionRecord {
            description: "every page was read".into(),
            passed: false,
            soft: false,
            expected: "the last page (no next page, or `paginate.until` true) before `max_pages`"
                .into(),
            actual: format!("stopped after {} pages with more announced", outcome.pages),
            message: Some("raise paginate.max_pages, or check the stop condition".into()),
        });
    }
    if let Some(e) = &outcome.page_loop {
        out.push(AssertionRecord {
            description: "every page is new".into(),
            passed: false,
            soft: false,
            expected: "each next cursor or URL asked for once".into(),
            actual: format!("stopped after {} pages", outcome.pages),
            message: Some(e.clone()),
        });
    }
    out
}
