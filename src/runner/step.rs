//! Run stage: one step's run — `when`, the action (HTTP with its fallback, SQL, program,
//! reconcile), the assertions and the verdict, the captures (a secret one masks what was
//! recorded before it was known), notes and artifacts — producing its StepRecord.
use std::sync::Arc;
use std::time::Instant;

use minijinja::Value;

use super::RunContext;
use super::checks::{
    capture, collect_files, implicit_exit, implicit_queries, implicit_status, walk_assertions,
};
use super::failure::classify;
use super::http_step::HttpRun;
use super::interrupted::{Exec, Raw};
use super::outcome::ActionOutcome;
use super::process_step::{ProcessFacts, run_program};
use super::sql_step::run_sql;
use super::step_record::{add_body_files, per_item, skipped};
use super::view::{response_value, step_view};
use crate::assert::{Subject, eval_check};
use crate::plan::{Action, StepPlan};
use crate::record::{AssertionRecord, Attempt, Failure, FailureClass, StepOutcome, StepRecord};

impl Exec<'_> {
    /// Runs one step (or one item of a `for_each` step) recorded as `id`; `raw_captures`
    /// receives its captures unmasked, for later templates.
    pub(super) async fn run_step(
        &self,
        step: &StepPlan,
        id: &str,
        rc: &mut RunContext,
        attempts: &mut Vec<Attempt>,
        raw_captures: &mut Raw,
    ) -> StepRecord {
        let started = Instant::now();
        let mut record = skipped(step, String::new());
        record.id = id.to_string();
        record.skip_reason = None;
        record.started_at = Some(rc.clock.now_text());
        record.description = step.description.clone();
        if !self.when_holds(step, rc, &mut record) {
            return record;
        }
        let (mut outcome, facts) = self.act(step, id, rc, attempts, &mut record).await;
        record.attempts = std::mem::take(attempts);
        add_body_files(&mut record);
        record.output = outcome.text.clone();
        let walk = outcome.observation.walk.as_ref();
        record.items_count = walk.map(|w| w.count as usize);
        if let Some((name, _)) = walk.and_then(|w| w.file.as_ref()) {
            record.artifacts.push(name.clone());
        }
        if let Some(e) = &outcome.engine_error {
            record.outcome = StepOutcome::Failed;
            record.failure = Some(Failure {
                class: FailureClass::Engine,
                message: rc.redactor.redact(e),
            });
            record.duration_ms = started.elapsed().as_millis() as u64;
            return record;
        }
        // A program's output is its body: captures and checks read `response.body`.
        let with_body = matches!(step.action, Action::Process(_));
        let response = response_value(&outcome.observation, with_body);
        let ctx = rc.value(&[
            ("response", response),
            ("request", crate::template::to_value(&outcome.request)),
        ]);
        for check in &step.checks {
            collect_files(check, self.out_dir, &mut outcome.observation.files);
        }
        let assertions = self.judge(step, &outcome, facts.as_ref(), &ctx, rc);
        verdict(step, &mut record, &outcome, facts.as_ref(), assertions, rc);
        self.capture_all(step, &outcome, &ctx, rc, &mut record, raw_captures);
        // Later templates see the outcome through `steps.<id>`, shared rather than copied.
        let outcome = Arc::new(outcome);
        self.notes_and_artifacts(step, &mut record, &outcome, rc, raw_captures);
        record.duration_ms = started.elapsed().as_millis() as u64;
        rc.set_step(id, step_view(&record, Some(outcome), Some(raw_captures)));
        record
    }

    /// Whether the step's `when:` holds; when not, `record` says why it did not run.
    fn when_holds(&self, step: &StepPlan, rc: &RunContext, record: &mut StepRecord) -> bool {
        let Some((when, src)) = &step.when else {
            return true;
        };
        match self.plan.templates.eval_bool(when, &rc.value(&[])) {
            Ok(true) => true,
            Ok(false) => {
                record.skip_reason = Some(format!("`when: {src}` is false"));
                false
            }
            Err(e) => {
                record.outcome = StepOutcome::Failed;
                record.failure = Some(Failure {
                    class: FailureClass::Engine,
                    message: format!("when: {}", e.message),
                });
                false
            }
        }
    }

    /// Runs the step's action; its attempts go to `attempts`, the files it wrote to the
    /// record's artifacts.
    async fn act(
        &self,
        step: &StepPlan,
        id: &str,
        rc: &mut RunContext,
        attempts: &mut Vec<Attempt>,
        record: &mut StepRecord,
    ) -> (ActionOutcome, Option<ProcessFacts>) {
        let (t, events, out_dir) = (&self.plan.templates, self.events, self.out_dir);
        match &step.action {
            Action::Http(_) => (self.http(step, id, rc, attempts, record).await, None),
            Action::Sql(sql) => {
                let o = run_sql(sql, &step.retry, t, rc, events, id, attempts).await;
                (o, None)
            }
            Action::Process(proc_plan) => {
                let (o, f) = run_program(proc_plan, t, rc, events, id, out_dir, attempts).await;
                if let (Some(log), None) = (&proc_plan.log, &o.engine_error) {
                    record
                        .artifacts
                        .push(per_item(log, rc.each.as_ref().map(|e| e.1)));
                }
                (o, f)
            }
            Action::Reconcile(r) => {
                let (o, file) =
                    super::reconcile::run_reconcile(r, t, rc, id, out_dir, events, attempts).await;
                record.artifacts.extend(file);
                (o, None)
            }
            Action::Check => (ActionOutcome::default(), None),
        }
    }

    /// An HTTP step's request, and its fallback's when the request got no 2xx answer.
    async fn http(
        &self,
        step: &StepPlan,
        id: &str,
        rc: &mut RunContext,
        attempts: &mut Vec<Attempt>,
        record: &mut StepRecord,
    ) -> ActionOutcome {
        let Action::Http(http) = &step.action else {
            return ActionOutcome::default();
        };
        let runner = HttpRun {
            client: self.client,
            templates: &self.plan.templates,
            clock: &rc.clock,
            events: self.events,
            step_id: id,
            out_dir: self.out_dir,
        };
        let checks = &step.checks;
        let mut outcome = runner
            .run(http, &step.retry, rc, false, checks, attempts)
            .await;
        let primary_failed = outcome.engine_error.is_none()
            && !outcome
                .observation
                .status
                .is_some_and(|s| (200..300).contains(&s));
        if let (true, Some(fb)) = (primary_failed, &step.fallback) {
            let mut fb_outcome = runner
                .run(fb, &step.retry, rc, true, checks, attempts)
                .await;
            record.used_fallback = true;
            // Later steps compare against the request the step was written for.
            fb_outcome.request = std::mem::take(&mut outcome.request);
            outcome = fb_outcome;
        }
        outcome
    }

    /// The step's assertions: its checks, the implicit one of its kind, the page walk's
    /// own; masked.
    fn judge(
        &self,
        step: &StepPlan,
        outcome: &ActionOutcome,
        facts: Option<&ProcessFacts>,
        ctx: &Value,
        rc: &RunContext,
    ) -> Vec<AssertionRecord> {
        let obs = &outcome.observation;
        let t = &self.plan.templates;
        let mut assertions: Vec<AssertionRecord> = step
            .checks
            .iter()
            .map(|c| eval_check(c, obs, t, ctx))
            .collect();
        let checks = |s: fn(&Subject) -> bool| step.checks.iter().any(|c| s(&c.subject));
        match &step.action {
            Action::Http(_) if !checks(|s| matches!(s, Subject::Status)) => {
                assertions.insert(0, implicit_status(obs));
            }
            Action::Sql(_) => assertions.insert(0, implicit_queries(outcome)),
            Action::Process(_) if !checks(|s| matches!(s, Subject::ExitCode)) => {
                assertions.insert(0, implicit_exit(facts));
            }
            Action::Reconcile(_) if step.checks.is_empty() => {
                assertions.insert(0, super::reconcile::implicit_reconciled(outcome));
            }
            Action::Http(_) | Action::Process(_) | Action::Reconcile(_) | Action::Check => {}
        }
        assertions.extend(walk_assertions(outcome));
        for a in &mut assertions {
            a.expected = rc.redactor.redact(&a.expected);
            a.actual = rc.redactor.redact(&a.actual);
            a.message = a.message.as_deref().map(|m| rc.redactor.redact(m));
        }
        assertions
    }

    /// The step's captures: kept masked in the record, as they are in `raw_captures`; a
    /// secret one becomes a secret of the run, and what was recorded before is masked.
    fn capture_all(
        &self,
        step: &StepPlan,
        outcome: &ActionOutcome,
        ctx: &Value,
        rc: &RunContext,
        record: &mut StepRecord,
        raw_captures: &mut Raw,
    ) {
        for cap in &step.captures {
            let value = capture(cap, &outcome.observation, &self.plan.templates, ctx);
            let mut value = match value {
                Ok(v) => v,
                Err(e) => {
                    record.assertions.push(AssertionRecord {
                        description: format!("capture {}", cap.name),
                        passed: false,
                        soft: true,
                        expected: "a value".into(),
                        actual: "error".into(),
                        message: Some(rc.redactor.redact(&e)),
                    });
                    serde_json::Value::Null
                }
            };
            if cap.secret {
                let mut found = Vec::new();
                secret_strings(&value, &mut found);
                rc.redactor.add(found);
            }
            // Later templates read the value as it is; the record keeps it masked.
            raw_captures.insert(cap.name.clone(), value.clone());
            rc.redactor.redact_json(&mut value);
            record.captures.insert(cap.name.clone(), value);
        }
        if step.captures.iter().any(|c| c.secret) {
            self.mask_again(record, rc);
        }
    }

    /// Masks the run's secrets in what the step recorded and wrote before a secret it
    /// captured was known.
    fn mask_again(&self, record: &mut StepRecord, rc: &RunContext) {
        // The answer that carried the secret was recorded before it was known.
        for a in &mut record.attempts {
            if let Some(r) = a.response.as_mut() {
                r.body = rc.redactor.redact(&r.body);
                for v in r.headers.values_mut() {
                    *v = rc.redactor.redact(v);
                }
            }
        }
        for a in &mut record.assertions {
            a.actual = rc.redactor.redact(&a.actual);
            a.expected = rc.redactor.redact(&a.expected);
        }
        record.output = record.output.as_deref().map(|o| rc.redactor.redact(o));
        // A program's log, a body in a file, were written before the secret was known.
        for name in &record.artifacts {
            let _ = crate::evidence::mask_file_in_place(&self.out_dir.join(name), &rc.redactor);
        }
    }

    /// The step's `notes:` and `artifacts:`, rendered with `step` (its record so far) and
    /// written masked.
    fn notes_and_artifacts(
        &self,
        step: &StepPlan,
        record: &mut StepRecord,
        outcome: &Arc<ActionOutcome>,
        rc: &RunContext,
        raw_captures: &Raw,
    ) {
        if step.notes.is_none() && step.artifacts.is_empty() {
            return;
        }
        let t = &self.plan.templates;
        let view = step_view(record, Some(outcome.clone()), Some(raw_captures));
        let sctx = rc.value(&[
            ("step", view),
            ("response", response_value(&outcome.observation, false)),
        ]);
        if let Some(n) = &step.notes {
            record.notes = Some(match t.render_string(n, &sctx) {
                Ok(s) => rc.redactor.redact(&s),
                Err(e) => format!("(notes could not be rendered: {})", e.message),
            });
        }
        for (name, content) in &step.artifacts {
            let name = &per_item(name, rc.each.as_ref().map(|e| e.1));
            let text = match t.render_string(content, &sctx) {
                Ok(s) => s,
                Err(e) => format!("artifact could not be rendered: {}\n", e.message),
            };
            let written =
                crate::evidence::write_masked(&self.out_dir.join(name), text, &rc.redactor);
            if written.is_ok() {
                record.artifacts.push(name.clone());
            }
        }
    }
}

/// The step's failure (if any) and outcome from its assertions; `record` keeps them.
fn verdict(
    step: &StepPlan,
    record: &mut StepRecord,
    outcome: &ActionOutcome,
    facts: Option<&ProcessFacts>,
    assertions: Vec<AssertionRecord>,
    rc: &RunContext,
) {
    record.failure = classify(
        &step.action,
        outcome,
        facts,
        &assertions,
        record.attempts.len(),
        &rc.redactor,
    );
    if record.used_fallback {
        if let (Some(f), Some(first)) = (
            record.failure.as_mut(),
            record.attempts.iter().rfind(|a| !a.fallback),
        ) {
            f.message = format!(
                "{} {} answered {}, then the fallback: {}",
                first.request.method, first.request.url, first.code, f.message
            );
        }
    }
    record.outcome = if record.failure.is_some() {
        StepOutcome::Failed
    } else {
        StepOutcome::Passed
    };
    record.assertions = assertions;
}

/// The strings inside a captured value (a token, or the fields of a captured object).
fn secret_strings(v: &serde_json::Value, out: &mut Vec<String>) {
    match v {
        serde_json::Value::String(s) => out.push(s.clone()),
        serde_json::Value::Number(n) => out.push(n.to_string()),
        serde_json::Value::Array(a) => a.iter().for_each(|x| secret_strings(x, out)),
        serde_json::Value::Object(o) => o.values().for_each(|x| secret_strings(x, out)),
        _ => {}
    }
}
