//! List parameters: merging the query string with the JSON body and validating them.

use serde_json::{Map, Value};

use super::filter::{self, Filter};
use super::offset_policy;
use super::order_by::{self, SortKey};

/// `per_page` when none is given.
pub(crate) const DEFAULT_PER_PAGE: u64 = 20;
/// The largest `per_page` honoured; larger values are clamped.
pub(crate) const MAX_PER_PAGE: u64 = 1000;

/// The effective parameters of one list request.
#[derive(Debug, Clone)]
pub(crate) struct ListParams {
    /// Filters after the offset policy was applied.
    pub(crate) filters: Vec<Filter>,
    /// Sort keys (the id tiebreak is implicit).
    pub(crate) order: Vec<SortKey>,
    /// 1-based page number.
    pub(crate) page: u64,
    /// Rows per page, `1..=MAX_PER_PAGE`.
    pub(crate) per_page: u64,
    /// Every merged parameter except `page`, as query pairs, for pagination links.
    pub(crate) echo: Vec<(String, String)>,
}

/// Query-string parameters whose value is JSON text.
const JSON_KEYS: [&str; 3] = ["where", "orderBy", "order_by"];

fn positive(name: &str, raw: Option<&Value>, default: u64) -> Result<u64, String> {
    let parsed = match raw {
        None | Some(Value::Null) => return Ok(default),
        Some(Value::Number(n)) => n
            .as_u64()
            .or_else(|| n.as_f64().filter(|f| *f < 1.0).map(|_| 0)),
        Some(Value::String(s)) if s.trim().is_empty() => return Ok(default),
        Some(Value::String(s)) => s.trim().parse::<u64>().ok(),
        Some(_) => None,
    };
    parsed.ok_or_else(|| format!("`{name}` must be a positive integer"))
}

/// Merges query pairs and the body (body wins) and interprets the list parameters.
/// Errors describe a 400: malformed `where`/`orderBy` JSON, a non-object body, or a
/// bad `page`/`per_page`.
pub(crate) fn parse_list_params(
    query: &[(String, String)],
    body: &str,
    ignore_compact_offsets: bool,
) -> Result<ListParams, String> {
    let mut merged = Map::new();
    for (key, raw) in query {
        let value = if JSON_KEYS.contains(&key.as_str()) {
            serde_json::from_str(raw)
                .map_err(|e| format!("malformed `{key}` JSON in the query string: {e}"))?
        } else {
            Value::String(raw.clone())
        };
        merged.insert(key.clone(), value);
    }
    if !body.trim().is_empty() {
        match serde_json::from_str::<Value>(body) {
            Ok(Value::Object(map)) => merged.extend(map),
            Ok(_) => return Err("the JSON body must be an object".to_owned()),
            Err(e) => return Err(format!("malformed JSON body: {e}")),
        }
    }

    let mut where_raw = merged.get("where").cloned().unwrap_or(Value::Null);
    if let Value::String(text) = &where_raw {
        where_raw =
            serde_json::from_str(text).map_err(|e| format!("malformed `where` JSON: {e}"))?;
    }
    let filters = offset_policy::apply_offset_policy(
        filter::parse_where(&where_raw)?,
        ignore_compact_offsets,
    );

    let order_raw = merged
        .get("orderBy")
        .or_else(|| merged.get("order_by"))
        .cloned()
        .unwrap_or(Value::Null);
    let order_raw = match order_raw {
        Value::String(text) if text.trim_start().starts_with(['{', '[']) => {
            serde_json::from_str(&text).map_err(|e| format!("malformed `orderBy` JSON: {e}"))?
        }
        other => other,
    };
    let order = order_by::parse_order_by(&order_raw)?;

    let page = positive("page", merged.get("page"), 1)?.max(1);
    let per_page =
        positive("per_page", merged.get("per_page"), DEFAULT_PER_PAGE)?.clamp(1, MAX_PER_PAGE);

    let echo = merged
        .iter()
        .filter(|(key, _)| key.as_str() != "page")
        .map(|(key, value)| {
            let text = match value {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            (key.clone(), text)
        })
        .collect();

    Ok(ListParams {
        filters,
        order,
        page,
        per_page,
        echo,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn defaults_and_body_wins() {
        let p = parse_list_params(&[], "", true).expect("valid");
        assert_eq!((p.page, p.per_page), (1, DEFAULT_PER_PAGE));
        let p = parse_list_params(
            &q(&[("page", "3"), ("per_page", "5000")]),
            r#"{"page":2}"#,
            true,
        )
        .expect("valid");
        assert_eq!((p.page, p.per_page), (2, MAX_PER_PAGE));
        assert_eq!(p.echo, q(&[("per_page", "5000")]));
    }

    #[test]
    fn query_json_parameters() {
        let p = parse_list_params(
            &q(&[
                ("where", r#"[{"column":"payed","value":1}]"#),
                ("orderBy", r#"{"id":"desc"}"#),
            ]),
            "",
            true,
        )
        .expect("valid");
        assert_eq!(p.filters.len(), 1);
        assert!(p.order[0].descending);
        assert!(parse_list_params(&q(&[("where", "[{")]), "", true).is_err());
        assert!(parse_list_params(&q(&[("orderBy", "{nope")]), "", true).is_err());
        assert!(parse_list_params(&[], "[1]", true).is_err());
        assert!(parse_list_params(&[], "{", true).is_err());
        assert!(parse_list_params(&q(&[("page", "two")]), "", true).is_err());
    }
}
