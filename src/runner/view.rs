//! Run stage: what templates see of a step — `steps.<id>` and `response` — built from
//! shared values (JSON documents are views, not copies; a step's fields are made when a
//! template reads them, so a step nobody refers to costs one allocation).
use std::sync::{Arc, OnceLock};

use minijinja::Value;
use minijinja::value::{Enumerator, Object, ObjectRepr};

use super::outcome::ActionOutcome;
use crate::assert::Observation;
use crate::record::{FailureClass, StepOutcome, StepRecord};

fn json_value(doc: Option<&Arc<serde_json::Value>>) -> Value {
    doc.map(|d| crate::template::JsonView::value(d.clone()))
        .unwrap_or(Value::from(()))
}

/// `response` in templates: status, headers, the JSON body (shared, not copied) and,
/// with `body`, the text. Made when read: a body in a file is parsed (or read) only when
/// a template asks for it.
pub(crate) fn response_value(obs: &Observation, body: bool) -> Value {
    Value::from_object(ResponseView {
        obs: obs.clone(),
        body,
        text: OnceLock::new(),
    })
}

#[derive(Debug)]
struct ResponseView {
    obs: Observation,
    body: bool,
    text: OnceLock<Value>,
}

impl Object for ResponseView {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Map
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        Some(match key.as_str()? {
            "status" => Value::from(self.obs.status),
            "headers" => crate::template::to_value(&self.obs.headers),
            "json" => json_value(self.obs.json.get()),
            "body" if self.body => self
                .text
                .get_or_init(|| Value::from(self.obs.body_text()))
                .clone(),
            _ => return None,
        })
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        if self.body {
            Enumerator::Str(&["status", "headers", "json", "body"])
        } else {
            Enumerator::Str(&["status", "headers", "json"])
        }
    }
}

/// `steps.<id>`: a finished (or skipped) step.
#[derive(Debug)]
struct StepView {
    id: String,
    outcome: StepOutcome,
    failure_class: Option<FailureClass>,
    code: Option<String>,
    attempts: usize,
    used_fallback: bool,
    captures: Arc<serde_json::Value>,
    action: Option<Arc<ActionOutcome>>,
    // Made on first read: a template in a loop reads them again and again.
    response: OnceLock<Value>,
    request: OnceLock<Value>,
    rows: OnceLock<Value>,
}

const FIELDS: &[&str] = &[
    "attempts",
    "captures",
    "code",
    "failed",
    "failure_class",
    "id",
    "items",
    "json",
    "outcome",
    "passed",
    "queries",
    "request",
    "response",
    "rows",
    "skipped",
    "status",
    "text",
    "used_fallback",
];

impl StepView {
    fn observation(&self) -> Option<&Observation> {
        self.action.as_deref().map(|a| &a.observation)
    }

    /// SQL results: the step's JSON when it rendered text tables.
    fn queries(&self) -> Option<&Arc<serde_json::Value>> {
        let a = self.action.as_deref()?;
        a.text.as_ref()?;
        a.observation.json.get()
    }

    fn field(&self, name: &str) -> Option<Value> {
        let none = || Value::from(());
        Some(match name {
            "id" => Value::from(self.id.as_str()),
            "outcome" => crate::template::to_value(self.outcome),
            "passed" => Value::from(self.outcome == StepOutcome::Passed),
            "failed" => Value::from(self.outcome == StepOutcome::Failed),
            "skipped" => Value::from(self.outcome == StepOutcome::Skipped),
            "failure_class" => crate::template::to_value(self.failure_class),
            "code" => Value::from(self.code.clone()),
            "captures" => crate::template::JsonView::value(self.captures.clone()),
            "attempts" => Value::from(self.attempts),
            "used_fallback" => Value::from(self.used_fallback),
            "status" => Value::from(self.observation().and_then(|o| o.status)),
            "response" => self
                .response
                .get_or_init(|| {
                    self.observation()
                        .map(|o| response_value(o, true))
                        .unwrap_or_else(none)
                })
                .clone(),
            "json" => json_value(self.observation().and_then(|o| o.json.get())),
            "request" => self
                .request
                .get_or_init(|| {
                    self.action
                        .as_deref()
                        .map(|a| crate::template::to_value(&a.request))
                        .unwrap_or_else(none)
                })
                .clone(),
            "items" => {
                let walk = self.observation().and_then(|o| o.walk.as_deref());
                match walk.and_then(|w| {
                    w.refusal(&format!("`steps.{}.items` cannot be read whole", self.id))
                }) {
                    // Too many to hold: reading them whole is an error naming the file.
                    Some(why) => Value::from(minijinja::Error::new(
                        minijinja::ErrorKind::InvalidOperation,
                        why,
                    )),
                    None => json_value(self.observation().and_then(|o| o.items.as_ref())),
                }
            }
            "text" => Value::from(self.action.as_deref().and_then(|a| a.text.clone())),
            "queries" => json_value(self.queries()),
            // The first query's rows, for the common one-query snapshot.
            "rows" => self
                .rows
                .get_or_init(|| {
                    self.queries()
                        .and_then(|q| q.as_object()?.values().next()?.get("rows"))
                        .map(crate::template::to_value)
                        .unwrap_or_else(none)
                })
                .clone(),
            _ => return None,
        })
    }
}

impl Object for StepView {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Map
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        self.field(key.as_str()?)
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Str(FIELDS)
    }
}

/// A page walk's items, for a reconcile side.
pub(crate) enum StepItems {
    /// Held in memory: a list.
    Held(Arc<serde_json::Value>),
    /// In a file of the run folder, one JSON line each: its name, path, and how many.
    File(String, Arc<std::path::Path>, u64),
}

/// The items the step `id` (its view) collected over its pages.
pub(crate) fn walk_items(view: &Value, id: &str) -> Result<StepItems, String> {
    let step = view
        .downcast_object_ref::<StepView>()
        .ok_or_else(|| format!("`{id}` is not one page walk"))?;
    if step.outcome == StepOutcome::Skipped {
        return Err(format!("`{id}` was skipped, so it collected no items"));
    }
    let obs = step
        .observation()
        .ok_or_else(|| format!("`{id}` collected no items"))?;
    let walk = obs
        .walk
        .as_deref()
        .ok_or_else(|| format!("`{id}` walked no pages"))?;
    match (&walk.file, &obs.items) {
        (Some((name, path)), _) => Ok(StepItems::File(name.clone(), path.clone(), walk.count)),
        (None, Some(items)) => Ok(StepItems::Held(items.clone())),
        (None, None) => Err(format!("`{id}` collected no items")),
    }
}

/// The view of a step: its record's outcome and captures, and what its action produced.
/// `raw` holds the captured values as they are (the record keeps them masked); without
/// it, the record's are used.
pub(crate) fn step_view(
    record: &StepRecord,
    action: Option<Arc<ActionOutcome>>,
    raw: Option<&serde_json::Map<String, serde_json::Value>>,
) -> Value {
    let captures = serde_json::Value::Object(match raw {
        Some(raw) => raw.clone(),
        None => record
            .captures
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
    });
    Value::from_object(StepView {
        id: record.id.clone(),
        outcome: record.outcome,
        failure_class: record.failure.as_ref().map(|f| f.class),
        code: record.attempts.last().map(|a| a.code.clone()),
        attempts: record.attempts.len(),
        used_fallback: record.used_fallback,
        captures: Arc::new(captures),
        action,
        response: OnceLock::new(),
        request: OnceLock::new(),
        rows: OnceLock::new(),
    })
}
