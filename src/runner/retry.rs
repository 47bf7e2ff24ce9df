//! Run stage: retries — the pauses between attempts (a backoff iterator) and the one loop
//! every retried action (an HTTP request, a SQL query) runs its attempts through: each
//! attempt on record before it goes out, completed with its answer, announced, and
//! retried as the step's `retry:` says.
use std::future::Future;
use std::time::{Duration, Instant};

use super::in_flight::InFlight;
use super::{Clock, Event, EventSink};
use crate::record::Attempt;
use crate::scenario::{BackoffKind, BackoffSpec, RetryPolicy};

/// The pauses of a backoff: the first after attempt 1, then after attempt 2, … — jitter
/// applied, each capped by `max`. Endless; the retry loop takes as many as it retries.
pub struct Backoff<'a> {
    spec: &'a BackoffSpec,
    /// The attempt the next pause follows (1-based).
    after: u32,
}

impl<'a> Backoff<'a> {
    /// The pauses `spec` asks for.
    pub fn new(spec: &'a BackoffSpec) -> Self {
        Backoff { spec, after: 1 }
    }
}

impl Iterator for Backoff<'_> {
    type Item = Duration;

    fn next(&mut self) -> Option<Duration> {
        let spec = self.spec;
        let attempt = self.after;
        self.after = self.after.saturating_add(1);
        let initial = spec.initial.0.as_secs_f64();
        let base = match spec.kind {
            BackoffKind::Fixed => initial,
            BackoffKind::Exponential => {
                initial * spec.factor.max(1.0).powi(attempt.saturating_sub(1) as i32)
            }
        };
        let jitter = spec.jitter.clamp(0.0, 1.0);
        let spread = if jitter > 0.0 {
            base * jitter * (fastrand::f64() * 2.0 - 1.0)
        } else {
            0.0
        };
        let secs = (base + spread).clamp(0.0, spec.max.0.as_secs_f64());
        Some(Duration::try_from_secs_f64(secs).unwrap_or(spec.max.0))
    }
}

/// One retried action, as the retry loop sees it.
pub(super) trait Retried {
    /// What one attempt gives (an answer or a failure, with how long it took).
    type Answer;

    /// What the attempt waits for, shown when the run is interrupted during it.
    const WAITING: &'static str;

    /// The record of attempt `n` of `of` as it goes out at `started_at` (no answer yet).
    fn record(&self, started_at: String, n: u32, of: u32) -> Attempt;

    /// Makes the attempt; `index` is its place among the step's attempts (1-based).
    fn attempt(&self, index: usize) -> impl Future<Output = Self::Answer>;

    /// Whether `policy` retries after this answer.
    fn retryable(&self, answer: &Self::Answer, policy: &RetryPolicy) -> bool;

    /// The pause the server asked for (`Retry-After`), if any.
    fn asked_pause(&self, _answer: &Self::Answer, _clock: &Clock) -> Option<Duration> {
        None
    }

    /// Completes the attempt's record with the answer and the pause before the next.
    fn fill(&self, attempt: &mut Attempt, answer: &Self::Answer, pause: Option<Duration>);
}

/// Where the attempts of a step are announced and timed.
pub(super) struct Retries<'a> {
    pub(super) policy: &'a RetryPolicy,
    pub(super) clock: &'a Clock,
    pub(super) events: &'a dyn EventSink,
    pub(super) step_id: &'a str,
}

impl Retries<'_> {
    /// Runs `action` until an answer is not retryable, the attempts are used up, or the
    /// next pause would pass `retry.deadline`; every attempt is pushed to `attempts`
    /// before it goes out (a run interrupted during it still shows it). The last answer.
    pub(super) async fn run<A: Retried>(
        &self,
        action: &A,
        attempts: &mut Vec<Attempt>,
    ) -> A::Answer {
        let policy = self.policy;
        let of = policy.attempts.max(1);
        let first = Instant::now();
        let mut pauses = Backoff::new(&policy.backoff);
        let mut n = 1;
        loop {
            let started = self.clock.format(self.clock.now());
            let index = attempts.len() + 1;
            let pending = action.record(started, n, of);
            let mut slot = InFlight::start(attempts, pending, A::WAITING);
            let answer = action.attempt(index).await;
            let pause = (n < of && action.retryable(&answer, policy)).then(|| {
                let backoff = pauses.next().unwrap_or(policy.backoff.max.0);
                let asked = if policy.respect_retry_after {
                    action.asked_pause(&answer, self.clock)
                } else {
                    None
                };
                asked.map_or(backoff, |d| d.min(policy.backoff.max.0))
            });
            let pause =
                pause.filter(|d| policy.deadline.is_none_or(|dl| first.elapsed() + *d < dl.0));
            action.fill(slot.attempt(), &answer, pause);
            self.events.emit(Event::AttemptFinished {
                id: self.step_id,
                attempt: slot.attempt(),
            });
            drop(slot);
            match pause {
                Some(d) => {
                    tokio::time::sleep(d).await;
                    n += 1;
                }
                None => return answer,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::DurationSpec;

    fn spec(kind: BackoffKind, jitter: f64) -> BackoffSpec {
        BackoffSpec {
            kind,
            initial: DurationSpec(Duration::from_secs(1)),
            max: DurationSpec(Duration::from_secs(5)),
            factor: 2.0,
            jitter,
        }
    }

    #[test]
    fn exponential_doubles_up_to_max() {
        let s = spec(BackoffKind::Exponential, 0.0);
        let d: Vec<u64> = Backoff::new(&s).take(5).map(|d| d.as_secs()).collect();
        assert_eq!(d, vec![1, 2, 4, 5, 5]);
    }

    #[test]
    fn fixed_stays_and_jitter_stays_in_bounds() {
        let fixed = spec(BackoffKind::Fixed, 0.0);
        assert_eq!(Backoff::new(&fixed).nth(3), Some(Duration::from_secs(1)));
        let jittered = spec(BackoffKind::Fixed, 0.5);
        for d in Backoff::new(&jittered).take(100) {
            let d = d.as_secs_f64();
            assert!((0.5..=1.5).contains(&d), "{d}");
        }
    }
}
