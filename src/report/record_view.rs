//! Report stage: the run record as report templates see it (`run`), read in place. A
//! 10,000-step record is not converted into template values up front (that copy was the
//! largest allocation of `qtscen render`); each field is made when a template reads it.
use std::sync::{Arc, OnceLock};

use minijinja::Value;
use minijinja::value::{Enumerator, Object, ObjectRepr};

use crate::record::{Attempt, RunRecord, StepRecord};
use crate::template::to_value;

/// `run`: the whole record.
#[derive(Debug)]
pub struct RunView(pub Arc<RunRecord>);

const RUN_FIELDS: &[&str] = &[
    "record_version",
    "qtscen_version",
    "scenario",
    "scenario_file",
    "description",
    "title",
    "started_at",
    "finished_at",
    "duration_ms",
    "outcome",
    "exit_code",
    "tags",
    "skip_tags",
    "only_steps",
    "needed_steps",
    "vars",
    "env",
    "steps",
    "summary",
    "artifacts",
    "verdict",
];

impl Object for RunView {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Map
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let r = &*self.0;
        Some(match key.as_str()? {
            "record_version" => Value::from(r.record_version),
            "qtscen_version" => Value::from(r.qtscen_version.as_str()),
            "scenario" => Value::from(r.scenario.as_str()),
            "scenario_file" => Value::from(r.scenario_file.as_str()),
            "description" => to_value(&r.description),
            "title" => Value::from(r.title.as_str()),
            "started_at" => Value::from(r.started_at.as_str()),
            "finished_at" => Value::from(r.finished_at.as_str()),
            "duration_ms" => Value::from(r.duration_ms),
            "outcome" => to_value(r.outcome),
            "exit_code" => Value::from(r.exit_code),
            "tags" => to_value(&r.tags),
            "skip_tags" => to_value(&r.skip_tags),
            "only_steps" => to_value(&r.only_steps),
            "needed_steps" => to_value(&r.needed_steps),
            "vars" => to_value(&r.vars),
            "env" => to_value(&r.env),
            "steps" => Value::from_object(StepsView(self.0.clone())),
            "summary" => to_value(&r.summary),
            "artifacts" => to_value(&r.artifacts),
            "verdict" => to_value(&r.verdict),
            _ => return None,
        })
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Str(RUN_FIELDS)
    }
}

/// `run.steps`.
#[derive(Debug)]
struct StepsView(Arc<RunRecord>);

impl Object for StepsView {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Seq
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let i = index(key, self.0.steps.len())?;
        Some(Value::from_object(StepView(self.0.clone(), i)))
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Seq(self.0.steps.len())
    }
}

/// A step of `run.steps`, by index.
#[derive(Debug)]
struct StepView(Arc<RunRecord>, usize);

const STEP_FIELDS: &[&str] = &[
    "id",
    "title",
    "description",
    "kind",
    "tags",
    "selected",
    "outcome",
    "skip_reason",
    "failure",
    "started_at",
    "duration_ms",
    "attempts",
    "assertions",
    "captures",
    "items_count",
    "output",
    "notes",
    "used_fallback",
    "artifacts",
];

impl StepView {
    fn step(&self) -> &StepRecord {
        &self.0.steps[self.1]
    }
}

impl Object for StepView {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Map
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let s = self.step();
        Some(match key.as_str()? {
            "id" => Value::from(s.id.as_str()),
            "title" => Value::from(s.title.as_str()),
            "description" => to_value(&s.description),
            "kind" => Value::from(s.kind.as_str()),
            "tags" => to_value(&s.tags),
            "selected" => Value::from(s.selected),
            "outcome" => to_value(s.outcome),
            "skip_reason" => to_value(&s.skip_reason),
            "failure" => to_value(&s.failure),
            "started_at" => to_value(&s.started_at),
            "duration_ms" => Value::from(s.duration_ms),
            "attempts" => Value::from_object(AttemptsView(self.0.clone(), self.1)),
            "assertions" => to_value(&s.assertions),
            "captures" => to_value(&s.captures),
            "items_count" => to_value(s.items_count),
            "output" => to_value(&s.output),
            "notes" => to_value(&s.notes),
            "used_fallback" => Value::from(s.used_fallback),
            "artifacts" => to_value(&s.artifacts),
            _ => return None,
        })
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Str(STEP_FIELDS)
    }
}

/// A step's `attempts`.
#[derive(Debug)]
struct AttemptsView(Arc<RunRecord>, usize);

impl Object for AttemptsView {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Seq
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let i = index(key, self.0.steps[self.1].attempts.len())?;
        Some(Value::from_object(AttemptView {
            run: self.0.clone(),
            step: self.1,
            attempt: i,
            request: OnceLock::new(),
            response: OnceLock::new(),
        }))
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Seq(self.0.steps[self.1].attempts.len())
    }
}

/// One attempt of a step, by step and attempt index. Its request and response are
/// converted once however often a template reads them (`a.request.method`, then
/// `a.request.url_readable`).
#[derive(Debug)]
struct AttemptView {
    run: Arc<RunRecord>,
    step: usize,
    attempt: usize,
    request: OnceLock<Value>,
    response: OnceLock<Value>,
}

const ATTEMPT_FIELDS: &[&str] = &[
    "attempt",
    "of",
    "page",
    "fallback",
    "started_at",
    "duration_ms",
    "request",
    "curl",
    "response",
    "transport_error",
    "code",
    "retry_after_ms",
    "label",
    "server_error",
    "resent",
];

impl AttemptView {
    fn attempt(&self) -> &Attempt {
        &self.run.steps[self.step].attempts[self.attempt]
    }
}

impl Object for AttemptView {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Map
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let a = self.attempt();
        Some(match key.as_str()? {
            "attempt" => Value::from(a.attempt),
            "of" => Value::from(a.of),
            "page" => to_value(a.page),
            "fallback" => Value::from(a.fallback),
            "started_at" => Value::from(a.started_at.as_str()),
            "duration_ms" => Value::from(a.duration_ms),
            "request" => self.request.get_or_init(|| to_value(&a.request)).clone(),
            "curl" => to_value(&a.curl),
            "response" => self.response.get_or_init(|| to_value(&a.response)).clone(),
            "transport_error" => to_value(&a.transport_error),
            "code" => Value::from(a.code.as_str()),
            "retry_after_ms" => to_value(a.retry_after_ms),
            "label" => to_value(&a.label),
            "server_error" => to_value(&a.server_error),
            "resent" => to_value(&a.resent),
            _ => return None,
        })
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Str(ATTEMPT_FIELDS)
    }
}

/// A sequence index from a template (negative counts from the end).
fn index(key: &Value, len: usize) -> Option<usize> {
    crate::template::seq_index(key.as_i64()?, len)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every field a template can read from the view is what the record's own
    /// serialization gives, so reports read the same either way.
    #[test]
    fn the_view_shows_what_the_serialized_record_shows() {
        let text = r#"{
          "record_version": 1, "qtscen_version": "0.1.0", "scenario": "s",
          "scenario_file": "s.yaml", "description": null, "title": "S",
          "started_at": "2025-11-05T13:46:54.000+00:00", "finished_at": "2025-11-05T13:46:55.000+00:00",
          "duration_ms": 1000, "outcome": "failed", "exit_code": 1, "tags": ["api"], "skip_tags": [],
          "vars": {"from": "x"}, "env": {"A": "b"},
          "steps": [{
            "id": "a", "title": "A", "description": "d", "kind": "http", "tags": ["api"],
            "selected": true, "outcome": "failed", "skip_reason": null,
            "failure": {"class": "server_error", "message": "503"},
            "started_at": "2025-11-05T13:46:54.000+00:00", "duration_ms": 7,
            "attempts": [{
              "attempt": 1, "of": 2, "page": 3, "fallback": false,
              "started_at": "2025-11-05T13:46:54.000+00:00", "duration_ms": 3,
              "request": {"method": "GET", "url": "http://h/x?a=1", "url_readable": "http://h/x?a=1",
                          "query": [["a", "1"]], "headers": {"Accept": "application/json"}, "body": null},
              "response": {"status": 503, "headers": {"retry-after": "1"}, "body": "down"},
              "transport_error": null, "code": "503", "retry_after_ms": 1000, "label": null,
              "server_error": "down"
            }, {
              "attempt": 2, "of": 2, "page": null, "fallback": true,
              "started_at": "2025-11-05T13:46:55.000+00:00", "duration_ms": 1,
              "request": {"method": "GET", "url": "http://h/y", "url_readable": "http://h/y",
                          "query": [], "headers": {}, "body": null},
              "response": null, "transport_error": {"kind": "timeout", "message": "slow"},
              "code": "000", "retry_after_ms": null, "label": "q", "server_error": null
            }],
            "assertions": [{"description": "status", "passed": false, "soft": false,
                            "expected": "2xx", "actual": "503", "message": null}],
            "captures": {"ids": [1, 2]}, "items_count": 2, "output": null, "notes": "n",
            "used_fallback": true, "artifacts": ["a.txt"]
          }],
          "summary": {"passed": 0, "failed": 1, "skipped": 0, "warnings": 0, "requests": 2},
          "artifacts": ["results.json"], "verdict": "v"
        }"#;
        let record: RunRecord = serde_json::from_str(text).unwrap();
        let plain = to_value(&record);
        let view = Value::from_object(RunView(Arc::new(record)));
        let json = |v: &Value| serde_json::to_value(v).unwrap();
        assert_eq!(json(&view), json(&plain));
        let env = minijinja::Environment::new();
        for expr in [
            "run.steps[0].attempts[-1].transport_error.kind",
            "run.steps | length",
            "run.steps[0].attempts | last",
            "run.steps | map(attribute='id') | list",
            "run.steps | rejectattr('selected') | list",
            "run.steps[0].attempts[0].response.body",
            "run.steps[0].captures.ids[1]",
            "run.steps[0].failure.class",
            "run.steps[5] is undefined",
            "run.summary.failed",
            "run.nothing is undefined",
        ] {
            let e = env.compile_expression(expr).unwrap();
            let a = e.eval(minijinja::context! { run => view.clone() }).unwrap();
            let b = e
                .eval(minijinja::context! { run => plain.clone() })
                .unwrap();
            assert_eq!(json(&a), json(&b), "{expr}");
        }
    }
}
