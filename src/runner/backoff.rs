//! Run stage: pauses between attempts.
use std::time::Duration;

use crate::scenario::{BackoffKind, BackoffSpec};

/// The pause after failed attempt `attempt` (1-based), jitter applied, capped by `max`.
pub fn backoff_delay(spec: &BackoffSpec, attempt: u32) -> Duration {
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
    Duration::try_from_secs_f64(secs).unwrap_or(spec.max.0)
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
        let d: Vec<u64> = (1..=5).map(|a| backoff_delay(&s, a).as_secs()).collect();
        assert_eq!(d, vec![1, 2, 4, 5, 5]);
    }

    #[test]
    fn fixed_stays_and_jitter_stays_in_bounds() {
        assert_eq!(
            backoff_delay(&spec(BackoffKind::Fixed, 0.0), 4),
            Duration::from_secs(1)
        );
        for _ in 0..100 {
            let d = backoff_delay(&spec(BackoffKind::Fixed, 0.5), 1).as_secs_f64();
            assert!((0.5..=1.5).contains(&d), "{d}");
        }
    }
}
