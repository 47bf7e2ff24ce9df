//! Run stage: the record of a step the run was interrupted in (Ctrl-C, SIGTERM, SIGHUP),
//! and the body files every step record lists as its artifacts.
use std::path::Path;
use std::time::Instant;

use super::RunContext;
use super::run::{per_item, skipped};
use crate::plan::StepPlan;
use crate::record::{Attempt, Failure, FailureClass, StepOutcome, StepRecord, TransportKind};

/// The record of a step the run was interrupted in: every attempt made so far (one in
/// flight shows as `interrupted`, with what was sent), and the log the program wrote.
pub(super) fn interrupted_record(
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

/// The files holding bodies too large to keep in memory are the step's artifacts.
pub(super) fn add_body_files(record: &mut StepRecord) {
    let files = record
        .attempts
        .iter()
        .filter(|a| !matches!(a.request.method.as_str(), "EXEC" | "DOCKER"))
        .filter_map(|a| a.response.as_ref()?.body_file.clone());
    for f in files.collect::<Vec<_>>() {
        if !record.artifacts.contains(&f) {
            record.artifacts.push(f);
        }
    }
}
