//! Load stage: retry policies, per step or as a default.
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::DurationSpec;

/// When and how often a step is tried again.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RetryPolicy {
    /// Total attempts, the first included (1 = no retry).
    #[serde(default = "three")]
    pub attempts: u32,
    /// The pause between attempts.
    #[serde(default)]
    pub backoff: BackoffSpec,
    /// HTTP statuses worth another attempt.
    #[serde(default = "default_statuses")]
    pub on_status: Vec<u16>,
    /// Retry when the server did not answer in time.
    #[serde(default = "yes")]
    pub on_timeout: bool,
    /// Retry when the connection was refused, reset or dropped.
    #[serde(default = "yes")]
    pub on_connect_error: bool,
    /// Wait as long as the server's `Retry-After` says (capped by `backoff.max`).
    #[serde(default = "yes")]
    pub respect_retry_after: bool,
    /// Give up retrying once this much time has passed since the first attempt (e.g.
    /// a health check that waits at most 60s).
    #[serde(default)]
    pub deadline: Option<DurationSpec>,
}

impl RetryPolicy {
    /// A policy that tries once.
    pub fn once() -> Self {
        RetryPolicy {
            attempts: 1,
            ..RetryPolicy::default()
        }
    }
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            attempts: three(),
            backoff: BackoffSpec::default(),
            on_status: default_statuses(),
            on_timeout: true,
            on_connect_error: true,
            respect_retry_after: true,
            deadline: None,
        }
    }
}

/// Fixed or exponential pauses, with optional jitter.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct BackoffSpec {
    /// `fixed` or `exponential`.
    #[serde(default)]
    pub kind: BackoffKind,
    /// The first pause.
    #[serde(default = "one_second")]
    pub initial: DurationSpec,
    /// The longest pause.
    #[serde(default = "thirty_seconds")]
    pub max: DurationSpec,
    /// Growth factor of exponential backoff.
    #[serde(default = "two")]
    pub factor: f64,
    /// Random spread as a fraction of the pause (0.1 = ±10%).
    #[serde(default)]
    pub jitter: f64,
}

impl Default for BackoffSpec {
    fn default() -> Self {
        BackoffSpec {
            kind: BackoffKind::default(),
            initial: one_second(),
            max: thirty_seconds(),
            factor: two(),
            jitter: 0.0,
        }
    }
}

/// How pauses grow.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum BackoffKind {
    /// The same pause every time.
    Fixed,
    /// initial, initial×factor, initial×factor², … up to max.
    #[default]
    Exponential,
}

fn three() -> u32 {
    3
}
fn yes() -> bool {
    true
}
fn two() -> f64 {
    2.0
}
fn one_second() -> DurationSpec {
    DurationSpec(std::time::Duration::from_secs(1))
}
fn thirty_seconds() -> DurationSpec {
    DurationSpec(std::time::Duration::from_secs(30))
}
fn default_statuses() -> Vec<u16> {
    vec![429, 500, 502, 503, 504]
}
