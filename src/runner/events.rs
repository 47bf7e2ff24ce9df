//! Run stage: what the runner tells reporters while it works.
use crate::record::{Attempt, StepRecord};

/// A progress event.
pub enum Event<'a> {
    /// A step begins (index, total).
    StepStarted {
        /// 0-based index among steps.
        index: usize,
        /// Number of steps.
        total: usize,
        /// Id.
        id: &'a str,
        /// Title.
        title: &'a str,
    },
    /// One request ended.
    AttemptFinished {
        /// Step id.
        id: &'a str,
        /// The attempt (masked).
        attempt: &'a Attempt,
    },
    /// A step ended (or was skipped).
    StepFinished(&'a StepRecord),
}

/// Something that consumes events (the console).
pub trait EventSink: Send + Sync {
    /// Handles one event.
    fn emit(&self, event: Event<'_>);
}
