//! Run stage: one step raced against an interrupt (Ctrl-C, SIGTERM, SIGHUP) — what
//! running it needs — and the record of a step the run was interrupted in.
use std::path::Path;
use std::time::Instant;

use super::step_record::{add_body_files, per_item, skipped};
use super::{Event, EventSink, RunContext};
use crate::exec::HttpClient;
use crate::plan::{Plan, StepPlan};
use crate::record::{Attempt, Failure, FailureClass, StepOutcome, StepRecord, TransportKind};

/// A step's captures as later templates read them (unmasked).
pub(crate) type Raw = serde_json::Map<String, serde_json::Value>;

/// What running one step needs besides the step and the run's values.
pub(crate) struct Exec<'a> {
    pub(super) plan: &'a Plan,
    pub(super) client: &'a HttpClient,
    pub(super) events: &'a dyn EventSink,
    pub(super) out_dir: &'a Path,
    pub(super) interrupted: &'a tokio::sync::watch::Receiver<bool>,
    pub(super) index: usize,
    pub(super) total: usize,
}

impl Exec<'_> {
    /// Runs `step` recorded as `id` (`orders`, or `orders[2]` for a `for_each` item);
    /// true when the run was interrupted during it.
    pub(crate) async fn step(
        &self,
        step: &StepPlan,
        (id, title): (&str, &str),
        rc: &mut RunContext,
    ) -> ((StepRecord, Raw), bool) {
        self.events.emit(Event::StepStarted {
            index: self.index,
            total: self.total,
            id,
            title,
        });
        let mut interrupted = self.interrupted.clone();
        // Owned here, not by the step: a step dropped at Ctrl-C leaves its
        // attempts (the one in flight included) for the record.
        let mut attempts = Vec::new();
        let mut raw = Raw::new();
        let since = (rc.clock.now(), Instant::now());
        tokio::select! {
            r = self.run_step(step, id, rc, &mut attempts, &mut raw) => ((r, raw), false),
            _ = interrupted.wait_for(|v| *v) => {
                let mut r = interrupted_record(step, rc, attempts, since, self.out_dir);
                r.id = id.to_string();
                ((r, Raw::new()), true)
            }
        }
    }
}

/// The record of a step the run was interrupted in: every attempt made so far (one in
/// flight shows as `interrupted`, with what was sent), and the log the program wrote.
fn interrupted_record(
    step: &StepPlan,
    rc: &RunContext,
    attempts: Vec<Attempt>,
    since: (jiff::Timestamp, Instant),
    out_dir: &Path,
) -> StepRecord {
    let mut r = skipped(step, String::new());
    r.skip_reason = None;
    r.description = step.description.clone();
    r.outcome = StepOutcome::Failed;
    r.started_at = Some(rc.clock.format(since.0));
    r.duration_ms = since.1.elapsed().as_millis() as u64;
    let in_flight = attempts.last().filter(|a| {
        a.transport_error
            .as_ref()
            .is_some_and(|t| t.kind == TransportKind::Interrupted)
    });
    let during = match in_flight {
        Some(a) if matches!(a.request.method.as_str(), "EXEC" | "DOCKER") => {
            " while its program ran (its process group was killed)".to_string()
        }
        Some(a) => format!(
            " while {} {} waited for its answer",
            a.request.method, a.request.url_readable
        ),
        None if attempts.is_empty() => String::new(),
        None => " between attempts".to_string(),
    };
    r.failure = Some(Failure {
        class: FailureClass::Interrupted,
        message: format!(
            "the run was interrupted (Ctrl-C, SIGTERM or SIGHUP){during}; {} attempt(s) recorded",
            attempts.len()
        ),
    });
    r.attempts = attempts;
    add_body_files(&mut r);
    if let crate::plan::Action::Process(p) = &step.action {
        let index = rc.each.as_ref().map(|e| e.1);
        r.artifacts.extend(
            p.log
                .iter()
                .map(|l| per_item(l, index))
                .filter(|l| out_dir.join(l).exists()),
        );
    }
    r
}
