//! Assert stage: one engine for every step kind — a subject selects values from an
//! `Observation`, a predicate judges them.
mod capture;
mod compare;
mod eval;
mod jsonpath;
mod observation;
mod plan;
mod predicate;
mod stream;

pub use capture::{CaptureKind, CapturePlan};
pub use compare::{compare, loose_equals};
pub use eval::{Observation, eval_check};
pub use jsonpath::{select as select_all, select_first};
pub use observation::{LazyJson, WalkItems};
pub use plan::{Check, PredicatePlan, Subject, compile_jsonpath};
pub use stream::{ItemsTally, items_checks, key_of, read_lines};
