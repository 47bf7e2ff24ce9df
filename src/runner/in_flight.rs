//! Run stage: an attempt is on record before its request leaves — as `interrupted`, with
//! what is being sent — and completed in place when its answer (or failure) is known, so
//! a run stopped mid-request (Ctrl-C drops the step's future) still shows the request.
use std::time::Instant;

use crate::record::{Attempt, TransportError, TransportKind};

/// The last attempt of a step's list while its request is in flight. Dropped before the
/// answer came (the run was interrupted), it keeps the time waited so far.
pub(super) struct InFlight<'a> {
    attempt: &'a mut Attempt,
    since: Instant,
}

impl<'a> InFlight<'a> {
    /// Records `attempt` (whose request is about to be sent) as interrupted while
    /// `waiting`, and holds it until the answer fills it in.
    pub(super) fn start(
        attempts: &'a mut Vec<Attempt>,
        mut attempt: Attempt,
        waiting: &str,
    ) -> Self {
        attempt.transport_error = Some(TransportError::interrupted(waiting));
        attempt.response = None;
        attempt.duration_ms = 0;
        attempts.push(attempt);
        let len = attempts.len();
        InFlight {
            attempt: &mut attempts[len - 1],
            since: Instant::now(),
        }
    }

    /// The attempt, to fill in with what happened.
    pub(super) fn attempt(&mut self) -> &mut Attempt {
        self.attempt
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        let still_waiting = self
            .attempt
            .transport_error
            .as_ref()
            .is_some_and(|t| t.kind == TransportKind::Interrupted);
        if still_waiting {
            self.attempt.duration_ms = self.since.elapsed().as_millis() as u64;
        }
    }
}
