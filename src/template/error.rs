//! Render stage: a template that did not compile or render, and the hints its message
//! carries (the keys a map does have, the template's first line).
use minijinja::Value;

/// A template that did not compile or render.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct TemplateError {
    /// What went wrong, in minijinja's words.
    pub message: String,
    /// 1-based line inside the template text, when known.
    pub line: Option<usize>,
}

impl TemplateError {
    pub(crate) fn from_mj(err: &minijinja::Error) -> Self {
        let mut message = match err.detail() {
            Some(detail) => format!("{}: {detail}", err.kind()),
            None => err.kind().to_string(),
        };
        let mut source = std::error::Error::source(err);
        while let Some(inner) = source {
            message.push_str(&format!(": {inner}"));
            source = inner.source();
        }
        TemplateError {
            message,
            line: err.line(),
        }
    }

    pub(crate) fn new(message: String) -> Self {
        TemplateError {
            message,
            line: None,
        }
    }
}

/// The keys of a map value, for a hint (`has: a, b, c`); none for other values.
pub(super) fn known_keys(parent: &Value) -> Option<String> {
    if parent.kind() != minijinja::value::ValueKind::Map {
        return None;
    }
    let keys: Vec<String> = parent.try_iter().ok()?.map(|k| k.to_string()).collect();
    Some(if keys.is_empty() {
        "it has no names".to_string()
    } else if keys.len() > 12 {
        format!("it has {}, …", keys[..12].join(", "))
    } else {
        format!("it has {}", keys.join(", "))
    })
}

pub(super) fn first_line(source: &str) -> &str {
    source.lines().next().unwrap_or("").trim()
}
