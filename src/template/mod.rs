//! Render stage: minijinja templates compiled once per run, with the helpers QA need.
mod engine;
mod error;
mod json;
mod json_view;
mod names;
mod paging;
mod redactor;
mod time;

pub use engine::{Compiled, Locator, Templates};
pub use error::TemplateError;
pub use json::CompiledJson;
pub use json_view::JsonView;
pub use names::{NameRef, step_refs_in};
pub use redactor::{REDACTOR_KEY, RedactorValue};
pub use time::{format_iso, parse_datetime, parse_instant};

/// The position `i` names in a sequence of `len` items (negative counts from the end, as
/// in templates and JSONPath), if there is one.
pub fn seq_index(i: i64, len: usize) -> Option<usize> {
    let at = if i < 0 {
        len.checked_sub(i.unsigned_abs() as usize)?
    } else {
        usize::try_from(i).ok()?
    };
    (at < len).then_some(at)
}

/// Any serialisable value as a template value.
pub fn to_value<T: serde::Serialize>(value: T) -> minijinja::Value {
    minijinja::Value::from(minijinja::value::Serde(value))
}
