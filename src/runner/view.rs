//! Run stage: what templates see of a step — `steps.<id>` and `response` — built from
//! shared values (JSON documents are views, not copies).
use std::collections::BTreeMap;

use minijinja::Value;

use super::http_step::ActionOutcome;
use crate::assert::Observation;
use crate::record::{StepOutcome, StepRecord};

fn json_value(doc: Option<&std::sync::Arc<serde_json::Value>>) -> Value {
    doc.map(|d| crate::template::JsonView::value(d.clone()))
        .unwrap_or(Value::from(()))
}

/// `response` in templates: status, headers, the JSON body (shared, not copied) and,
/// with `body`, the text.
pub(crate) fn response_value(obs: &Observation, body: bool) -> Value {
    let mut map: BTreeMap<&str, Value> = BTreeMap::new();
    map.insert("status", Value::from(obs.status));
    map.insert("headers", crate::template::to_value(&obs.headers));
    map.insert("json", json_value(obs.json.as_ref()));
    if body {
        map.insert("body", Value::from(&*obs.body));
    }
    Value::from(map)
}

pub(crate) fn step_view(record: &StepRecord, action: Option<&ActionOutcome>) -> Value {
    let mut map: BTreeMap<&str, Value> = BTreeMap::new();
    map.insert("id", Value::from(record.id.as_str()));
    map.insert("outcome", crate::template::to_value(record.outcome));
    map.insert("passed", Value::from(record.outcome == StepOutcome::Passed));
    map.insert("failed", Value::from(record.outcome == StepOutcome::Failed));
    map.insert(
        "skipped",
        Value::from(record.outcome == StepOutcome::Skipped),
    );
    map.insert(
        "failure_class",
        crate::template::to_value(record.failure.as_ref().map(|f| f.class)),
    );
    map.insert(
        "code",
        Value::from(record.attempts.last().map(|a| a.code.clone())),
    );
    map.insert("captures", crate::template::to_value(&record.captures));
    map.insert("attempts", Value::from(record.attempts.len()));
    map.insert("used_fallback", Value::from(record.used_fallback));
    let o = action;
    map.insert("status", Value::from(o.and_then(|h| h.observation.status)));
    map.insert(
        "response",
        o.map(|h| response_value(&h.observation, true))
            .unwrap_or(Value::from(())),
    );
    map.insert(
        "json",
        json_value(o.and_then(|h| h.observation.json.as_ref())),
    );
    map.insert(
        "request",
        o.map(|h| crate::template::to_value(&h.request))
            .unwrap_or(Value::from(())),
    );
    map.insert(
        "items",
        json_value(o.and_then(|h| h.observation.items.as_ref())),
    );
    map.insert("text", Value::from(o.and_then(|h| h.text.clone())));
    let queries = o
        .filter(|h| h.text.is_some())
        .and_then(|h| h.observation.json.as_ref());
    map.insert("queries", json_value(queries));
    // `steps.<id>.rows`: the first query's rows, for the common one-query snapshot.
    let first_rows = queries.and_then(|q| q.as_object()?.values().next()?.get("rows").cloned());
    map.insert(
        "rows",
        first_rows
            .map(crate::template::to_value)
            .unwrap_or(Value::from(())),
    );
    Value::from(map)
}
