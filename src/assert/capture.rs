//! Assert stage: a capture compiled once — where its value comes from (a JSONPath, a
//! header, an expression, a regex group) and whether it is a secret from then on.
use jsonpath_rust::parser::model::JpQuery;
use regex::Regex;

use super::plan::{PlanError, compile_jsonpath, first_line};
use crate::scenario::CaptureSpec;
use crate::template::{Compiled, Templates};

/// Where a capture comes from.
#[derive(Clone, Debug)]
pub enum CaptureKind {
    /// JSONPath over the response.
    JsonPath(JpQuery),
    /// JSONPath over collected items.
    Items(JpQuery),
    /// A header.
    Header(String),
    /// A template expression.
    Expr(Compiled),
    /// A regex over the body/output, and the group to keep.
    Regex(Regex, Option<String>),
}

/// A compiled capture.
#[derive(Clone, Debug)]
pub struct CapturePlan {
    /// Name under `captures`.
    pub name: String,
    /// Source.
    pub kind: CaptureKind,
    /// Keep all values.
    pub all: bool,
    /// The captured value is a secret from now on.
    pub secret: bool,
}

impl CapturePlan {
    /// Compiles one capture.
    pub fn compile(name: &str, spec: &CaptureSpec, t: &mut Templates) -> Result<Self, PlanError> {
        let mut kinds = Vec::new();
        if let Some(p) = &spec.jsonpath {
            kinds.push((
                "jsonpath",
                CaptureKind::JsonPath(compile_jsonpath(p).map_err(|e| ("jsonpath".into(), e))?),
            ));
        }
        if let Some(p) = &spec.items {
            kinds.push((
                "items",
                CaptureKind::Items(compile_jsonpath(p).map_err(|e| ("items".into(), e))?),
            ));
        }
        if let Some(h) = &spec.header {
            kinds.push(("header", CaptureKind::Header(h.to_ascii_lowercase())));
        }
        if let Some(e) = &spec.expr {
            kinds.push((
                "expr",
                CaptureKind::Expr(
                    t.compile_expr(e)
                        .map_err(|err| ("expr".into(), err.message))?,
                ),
            ));
        }
        if let Some(r) = &spec.regex {
            let re = Regex::new(r).map_err(|e| {
                (
                    "regex".to_string(),
                    format!("invalid regex: {}", first_line(&e.to_string())),
                )
            })?;
            if let Some(g) = &spec.group {
                if !re.capture_names().flatten().any(|n| n == g) {
                    return Err((
                        "group".into(),
                        format!("the regex has no group named `{g}`"),
                    ));
                }
            }
            kinds.push(("regex", CaptureKind::Regex(re, spec.group.clone())));
        } else if spec.group.is_some() {
            return Err(("group".into(), "`group` goes with `regex`".into()));
        }
        if kinds.len() != 1 {
            let field = kinds.get(1).map(|k| k.0).unwrap_or("").to_string();
            return Err((
                field,
                "a capture takes exactly one of jsonpath, items, header, expr, regex".into(),
            ));
        }
        let (_, kind) = kinds.remove(0);
        Ok(CapturePlan {
            name: name.to_string(),
            kind,
            all: spec.all,
            secret: spec.secret,
        })
    }
}
