//! Assert stage: one engine for every step kind — a subject selects values from an
//! `Observation`, a predicate judges them.
mod compare;
mod eval;
mod plan;

pub use compare::{compare, loose_equals};
pub use eval::{Observation, eval_check, select as select_all, select_first};
pub use plan::{CaptureKind, CapturePlan, Check, PredicatePlan, Subject, compile_jsonpath};
