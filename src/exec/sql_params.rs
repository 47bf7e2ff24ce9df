//! Execute stage: `{name:Type}` placeholders filled by the engine with properly quoted
//! literals — the same syntax as ClickHouse query parameters, but it works on servers
//! that predate them (18.16), and the QA author never pastes strings into SQL.
use std::sync::OnceLock;

use regex::Regex;
use serde_json::Value;

fn pattern() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r"\{([A-Za-z_][A-Za-z0-9_]*):\s*([A-Za-z][A-Za-z0-9_(), ']*)\}")
            .expect("the placeholder pattern is a valid regex")
    })
}

/// The `(name, type)` of every placeholder in `sql`.
pub fn placeholders(sql: &str) -> Vec<(String, String)> {
    pattern()
        .captures_iter(sql)
        .map(|c| (c[1].to_string(), c[2].trim().to_string()))
        .collect()
}

fn quote_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('\'');
    for ch in s.chars() {
        match ch {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\0' => out.push_str("\\0"),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

fn inner<'a>(ty: &'a str, wrapper: &str) -> Option<&'a str> {
    ty.strip_prefix(wrapper)?
        .strip_prefix('(')?
        .strip_suffix(')')
        .map(str::trim)
}

/// A ClickHouse literal of type `ty` for `value`.
pub fn literal(value: &Value, ty: &str) -> Result<String, String> {
    let ty = ty.trim();
    if let Some(t) = inner(ty, "Nullable") {
        return if value.is_null() {
            Ok("NULL".into())
        } else {
            literal(value, t)
        };
    }
    if let Some(t) = inner(ty, "LowCardinality") {
        return literal(value, t);
    }
    if let Some(t) = inner(ty, "Array") {
        let items = value
            .as_array()
            .ok_or_else(|| format!("{value} is not a list for {ty}"))?;
        let parts = items
            .iter()
            .map(|v| literal(v, t))
            .collect::<Result<Vec<_>, _>>()?;
        return Ok(format!("[{}]", parts.join(", ")));
    }
    let text = match value {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => {
            if *b {
                "1".into()
            } else {
                "0".into()
            }
        }
        Value::Null => return Err(format!("null is not a {ty}; use Nullable({ty})")),
        other => return Err(format!("{other} is not a {ty}")),
    };
    let numeric = ["Int", "UInt", "Float", "Decimal"]
        .iter()
        .any(|p| ty.starts_with(p));
    if numeric {
        let ok = !text.is_empty()
            && text
                .chars()
                .all(|c| c.is_ascii_digit() || matches!(c, '-' | '+' | '.' | 'e' | 'E'))
            && text.parse::<f64>().is_ok();
        if !ok {
            return Err(format!("`{text}` is not a number for {ty}"));
        }
        if ty.starts_with("UInt") && text.starts_with('-') {
            return Err(format!("`{text}` is negative for {ty}"));
        }
        return Ok(text);
    }
    Ok(quote_str(&text))
}

/// Replaces every placeholder with the quoted value of its param.
pub fn fill_params(sql: &str, params: &serde_json::Map<String, Value>) -> Result<String, String> {
    let mut err = None;
    let out = pattern().replace_all(sql, |c: &regex::Captures| {
        let name = &c[1];
        match params.get(name) {
            Some(v) => literal(v, &c[2]).unwrap_or_else(|e| {
                err.get_or_insert(format!("param `{name}`: {e}"));
                String::new()
            }),
            None => {
                err.get_or_insert(format!(
                    "no value for `{{{name}:{}}}`: add it to `params`",
                    &c[2]
                ));
                String::new()
            }
        }
    });
    match err {
        Some(e) => Err(e),
        None => Ok(out.into_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn strings_are_quoted_and_escaped() {
        let p = json!({"job": "qtickets'); DROP TABLE x; --", "n": 3})
            .as_object()
            .unwrap()
            .clone();
        let sql = fill_params(
            "SELECT * FROM t WHERE job = {job:String} LIMIT {n:UInt32}",
            &p,
        )
        .unwrap();
        assert_eq!(
            sql,
            r"SELECT * FROM t WHERE job = 'qtickets\'); DROP TABLE x; --' LIMIT 3"
        );
    }

    #[test]
    fn numbers_are_checked_and_missing_params_named() {
        let p = json!({"n": "3; DROP"}).as_object().unwrap().clone();
        assert!(
            fill_params("LIMIT {n:UInt32}", &p)
                .unwrap_err()
                .contains("not a number")
        );
        assert!(
            fill_params("LIMIT {m:UInt32}", &p)
                .unwrap_err()
                .contains("no value for `{m:UInt32}`")
        );
        let arr = json!({"ids": ["a", "b"], "d": null})
            .as_object()
            .unwrap()
            .clone();
        assert_eq!(
            fill_params("IN {ids:Array(String)} AND {d:Nullable(Date)}", &arr).unwrap(),
            "IN ['a', 'b'] AND NULL"
        );
        assert_eq!(
            placeholders("{a:String} {b: UInt64}"),
            vec![("a".into(), "String".into()), ("b".into(), "UInt64".into())]
        );
    }
}
