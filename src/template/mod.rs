//! Render stage: minijinja templates compiled once per run, with the helpers QA need.
mod engine;
mod json;
mod json_view;
mod paging;
mod time;

pub use engine::{Compiled, TemplateError, Templates, step_refs_in};
pub use json::CompiledJson;
pub use json_view::JsonView;
pub use time::{format_iso, parse_datetime, parse_instant};

/// Any serialisable value as a template value.
pub fn to_value<T: serde::Serialize>(value: T) -> minijinja::Value {
    minijinja::Value::from(minijinja::value::Serde(value))
}
