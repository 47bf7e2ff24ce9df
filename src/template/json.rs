//! Render stage: JSON-shaped values (query, bodies, expected values) whose strings are
//! templates, compiled once and rendered to `serde_json::Value`.
use minijinja::Value;

use super::{Compiled, TemplateError, Templates};

/// A JSON tree with compiled templates at its string leaves.
#[derive(Clone, Debug)]
pub enum CompiledJson {
    /// A number, bool or null.
    Plain(serde_json::Value),
    /// A string (maybe a template).
    Str(Compiled),
    /// A list.
    Array(Vec<CompiledJson>),
    /// A mapping, in written order.
    Object(Vec<(String, CompiledJson)>),
}

impl CompiledJson {
    /// Compiles every string inside `value`; errors carry the JSON path below `value`.
    pub fn compile(
        t: &mut Templates,
        value: &serde_json::Value,
    ) -> Result<Self, (String, TemplateError)> {
        Ok(match value {
            serde_json::Value::String(s) => {
                CompiledJson::Str(t.compile_text(s).map_err(|e| (String::new(), e))?)
            }
            serde_json::Value::Array(items) => CompiledJson::Array(
                items
                    .iter()
                    .enumerate()
                    .map(|(i, v)| Self::compile(t, v).map_err(|(p, e)| (format!("[{i}]{p}"), e)))
                    .collect::<Result<_, _>>()?,
            ),
            serde_json::Value::Object(map) => CompiledJson::Object(
                map.iter()
                    .map(|(k, v)| {
                        Self::compile(t, v)
                            .map(|c| (k.clone(), c))
                            .map_err(|(p, e)| (format!(".{k}{p}"), e))
                    })
                    .collect::<Result<_, _>>()?,
            ),
            other => CompiledJson::Plain(other.clone()),
        })
    }

    /// Renders to JSON; a lone `{{ expr }}` keeps its native type.
    pub fn render(&self, t: &Templates, ctx: &Value) -> Result<serde_json::Value, TemplateError> {
        Ok(match self {
            CompiledJson::Plain(v) => v.clone(),
            CompiledJson::Str(c @ Compiled::Expr(_)) => t.eval_json(c, ctx)?,
            CompiledJson::Str(c) => serde_json::Value::String(t.render_string(c, ctx)?),
            CompiledJson::Array(items) => serde_json::Value::Array(
                items
                    .iter()
                    .map(|i| i.render(t, ctx))
                    .collect::<Result<_, _>>()?,
            ),
            CompiledJson::Object(entries) => serde_json::Value::Object(
                entries
                    .iter()
                    .map(|(k, v)| v.render(t, ctx).map(|r| (k.clone(), r)))
                    .collect::<Result<_, _>>()?,
            ),
        })
    }
}
