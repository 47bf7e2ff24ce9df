//! Run stage: a `for_each` step — its items read when the step is reached, the step run
//! once per item as `<id>[<index>]`, and the whole seen by later steps as `steps.<id>`.
use super::RunContext;
use super::interrupted::{Exec, Raw};
use super::step_record::skipped;
use crate::plan::{ForEach, StepPlan};
use crate::record::{Failure, FailureClass, StepOutcome, StepRecord};

/// Runs `step` once per item of `each`; true when the run was interrupted during it.
pub(super) async fn run(
    exec: &Exec<'_>,
    step: &StepPlan,
    each: &ForEach,
    rc: &mut RunContext,
) -> (Vec<(StepRecord, Raw)>, bool) {
    let t = &exec.plan.templates;
    let ctx = rc.value(&[]);
    let items = match each {
        ForEach::List(list) => list.render(t, &ctx),
        ForEach::Expr(c, _) => t.eval_json(c, &ctx),
    };
    let items = match items {
        Ok(serde_json::Value::Array(items)) => items,
        Ok(other) => {
            let what = match other {
                serde_json::Value::Null => "nothing (null)".to_string(),
                v => format!("`{}`", rc.redactor.redact(&v.to_string())),
            };
            let why = format!("`for_each` gave {what}, not a list of items");
            return (vec![(failed(step, why), Raw::new())], false);
        }
        Err(e) => {
            let why = format!("for_each: {}", rc.redactor.redact(&e.message));
            return (vec![(failed(step, why), Raw::new())], false);
        }
    };
    if items.is_empty() {
        let r = skipped(step, "`for_each` gave no items".into());
        return (vec![(r, Raw::new())], false);
    }
    let mut out = Vec::with_capacity(items.len());
    let mut stop: Option<String> = None;
    let mut was_interrupted = false;
    for (i, item) in items.into_iter().enumerate() {
        if stop.is_none() && *exec.interrupted.borrow() {
            // Ctrl-C between two items: the rest are not started.
            stop = Some("the run was interrupted".into());
            was_interrupted = true;
        }
        let id = format!("{}[{i}]", step.id);
        let mut shown = item.clone();
        rc.redactor.redact_json(&mut shown);
        let title = format!("{} [{}]", step.title, short(&shown));
        let (mut record, raw) = match &stop {
            Some(why) => (skipped(step, why.clone()), Raw::new()),
            None => {
                rc.each = Some((crate::template::to_value(&item), i));
                let (ran, interrupted) = exec.step(step, (&id, &title), rc).await;
                rc.each = None;
                if interrupted {
                    // The items after this one are recorded as not started.
                    stop = Some("the run was interrupted".into());
                    was_interrupted = true;
                }
                ran
            }
        };
        record.id = id;
        (record.title, record.item) = (title, Some(shown));
        if record.selected {
            exec.events.emit(super::Event::StepFinished(&record));
        }
        if step.critical && record.outcome == StepOutcome::Failed && stop.is_none() {
            // (An interrupted item has set `stop` already.)
            stop = Some(format!("critical step `{}` failed", record.id));
        }
        out.push((record, raw));
    }
    (out, was_interrupted)
}

/// `steps.<id>` of a `for_each` step: failed if an item failed, passed if one passed
/// (skipped otherwise); each capture the list of the items' values, in item order.
pub(super) fn whole(step: &StepPlan, ran: &[(StepRecord, Raw)]) -> (StepRecord, Raw) {
    let mut whole = skipped(step, String::new());
    let outcomes = || ran.iter().map(|(r, _)| r.outcome);
    whole.outcome = if outcomes().any(|o| o == StepOutcome::Failed) {
        StepOutcome::Failed
    } else if outcomes().any(|o| o == StepOutcome::Passed) {
        StepOutcome::Passed
    } else {
        StepOutcome::Skipped
    };
    whole.skip_reason =
        (whole.outcome == StepOutcome::Skipped).then(|| "every item was skipped".to_string());
    whole.failure = ran.iter().find_map(|(r, _)| r.failure.clone());
    let mut raw = Raw::new();
    for cap in &step.captures {
        let name = &cap.name;
        let shown = ran.iter().map(|(r, _)| r.captures.get(name));
        let values = ran.iter().map(|(_, w)| w.get(name));
        whole.captures.insert(name.clone(), list(shown));
        raw.insert(name.clone(), list(values));
    }
    (whole, raw)
}

/// The values of one capture over the items (null where an item has none).
fn list<'a>(values: impl Iterator<Item = Option<&'a serde_json::Value>>) -> serde_json::Value {
    serde_json::Value::Array(values.map(|v| v.cloned().unwrap_or_default()).collect())
}

fn failed(step: &StepPlan, message: String) -> StepRecord {
    let mut r = skipped(step, String::new());
    r.skip_reason = None;
    r.outcome = StepOutcome::Failed;
    r.failure = Some(Failure {
        class: FailureClass::Engine,
        message,
    });
    r
}

/// An item as the console and report title show it: its text, cut at 40 characters.
fn short(item: &serde_json::Value) -> String {
    let text = match item {
        serde_json::Value::String(s) => s.clone(),
        v => v.to_string(),
    };
    match text.char_indices().nth(40) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text,
    }
}
