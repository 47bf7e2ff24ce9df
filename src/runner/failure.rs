//! Run stage: whose problem a finished step's failure is — the request could not be built,
//! no answer, the program failed, a query failed, the server erred or rejected the
//! request, or an expectation was not met — and the message that says so.
use super::outcome::ActionOutcome;
use super::process_step::ProcessFacts;
use crate::plan::Action;
use crate::record::{AssertionRecord, Failure, FailureClass, TransportKind};
use crate::secrets::Redactor;

/// The failure of a finished step (None when it passed); `requests` is how many attempts
/// were sent.
pub(super) fn classify(
    action: &Action,
    outcome: &ActionOutcome,
    facts: Option<&ProcessFacts>,
    assertions: &[AssertionRecord],
    requests: usize,
    redactor: &Redactor,
) -> Option<Failure> {
    let hard_failure = assertions.iter().any(|a| !a.passed && !a.soft);
    // The first failed check, in words, for the failure message.
    let first = assertions
        .iter()
        .find(|a| !a.passed && !a.soft)
        .map(|a| {
            format!(
                "{}: expected {}, got {}",
                a.description, a.expected, a.actual
            )
        })
        .unwrap_or_default();
    if let Some(tr) = outcome
        .transport
        .as_ref()
        .filter(|t| t.kind == TransportKind::Request)
    {
        Some(Failure {
            class: FailureClass::Engine,
            message: format!(
                "the request could not be built, nothing was sent: {}",
                redactor.redact(&tr.message)
            ),
        })
    } else if let Some(tr) = &outcome.transport {
        let what = match tr.kind {
            TransportKind::Timeout => "did not answer in time",
            TransportKind::Refused => "could not be reached",
            TransportKind::Reset => "dropped the connection before the answer was whole",
            TransportKind::MalformedResponse => "sent an answer that is not valid HTTP",
            TransportKind::Interrupted => "was still answering when the run was interrupted",
            TransportKind::Other | TransportKind::Request => "failed at the transport level",
        };
        Some(Failure {
            class: FailureClass::NoResponse,
            message: format!(
                "the server {what} ({} requests): {}",
                requests,
                redactor.redact(&tr.message)
            ),
        })
    } else if let Some(reason) = facts.and_then(|f| f.not_run.clone()) {
        Some(Failure {
            class: FailureClass::Engine,
            message: redactor.redact(&reason),
        })
    } else if facts.is_some_and(|f| f.timed_out) {
        let (secs, what) = match action {
            Action::Process(p) if p.container.is_some() => {
                (p.timeout.as_secs_f64(), "; its container was removed")
            }
            Action::Process(p) => (p.timeout.as_secs_f64(), "; its process group was killed"),
            _ => (0.0, ""),
        };
        Some(Failure {
            class: FailureClass::NoResponse,
            message: format!("the program did not finish within {secs}s{what}"),
        })
    } else if let (true, Some(f)) = (hard_failure, facts.filter(|f| f.exit_code != Some(0))) {
        Some(Failure {
            class: FailureClass::ProgramFailed,
            message: format!(
                "the program exited with {}; {first}",
                f.exit_code
                    .map(|c| c.to_string())
                    .unwrap_or_else(|| "a signal".into())
            ),
        })
    } else if let Some((name, message, _)) = outcome.query_errors.iter().find(|e| !e.2) {
        Some(Failure {
            class: FailureClass::QueryError,
            message: format!("query `{name}` failed: {message}"),
        })
    } else if hard_failure {
        let status = outcome.observation.status.unwrap_or(0);
        Some(match status {
            500..=599 => Failure {
                class: FailureClass::ServerError,
                message: format!("the server answered {status}; {first}"),
            },
            400..=499 => Failure {
                class: FailureClass::Rejected,
                message: format!("the server rejected the request with {status}; {first}"),
            },
            _ => Failure {
                class: FailureClass::Assertion,
                message: first,
            },
        })
    } else {
        None
    }
}
