//! The compact-offset quirk: dropping (or, when strict, normalising) filters whose value is
//! a datetime with a compact offset (`+0300`) or none.

use serde_json::Value;

use super::filter::Filter;
use super::time::{self, DateTimeShape};

fn compact_or_naive(v: &Value) -> bool {
    match v {
        Value::String(s) => matches!(
            time::shape(s),
            Some(DateTimeShape::CompactOffset | DateTimeShape::NoOffset)
        ),
        Value::Array(items) => items.iter().any(compact_or_naive),
        _ => false,
    }
}

fn normalise_datetimes(v: Value) -> Value {
    match v {
        Value::String(s) => match time::shape(&s) {
            Some(DateTimeShape::CompactOffset | DateTimeShape::NoOffset) => time::parse_lenient(&s)
                .map(time::render)
                .map_or(Value::String(s), Value::String),
            _ => Value::String(s),
        },
        Value::Array(items) => Value::Array(items.into_iter().map(normalise_datetimes).collect()),
        other => other,
    }
}

/// Applies the offset policy. With `ignore_compact_offsets` a filter whose value is a
/// datetime with a compact offset or none is dropped (the production bug); otherwise
/// such values are normalised to RFC 3339 (no offset = Europe/Moscow) and honoured.
pub(crate) fn apply_offset_policy(
    filters: Vec<Filter>,
    ignore_compact_offsets: bool,
) -> Vec<Filter> {
    if ignore_compact_offsets {
        filters
            .into_iter()
            .filter(|f| !compact_or_naive(&f.value))
            .collect()
    } else {
        filters
            .into_iter()
            .map(|f| Filter {
                value: normalise_datetimes(f.value),
                ..f
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::filter::{matches_all, parse_where};

    fn order() -> Value {
        json!({"id": 1001, "payed": true, "payed_at": "2025-11-05T16:46:54+03:00"})
    }

    #[test]
    fn compact_offsets_are_dropped_or_honoured() {
        let raw = json!([
            {"column": "payed", "value": 1},
            {"column": "payed_at", "operator": ">=", "value": "2025-11-06T00:00:00+0300"},
            {"column": "payed_at", "operator": "<", "value": "2025-11-07T00:00:00"}
        ]);
        let parsed = parse_where(&raw).expect("valid");
        let lax = apply_offset_policy(parsed.clone(), true);
        assert_eq!(lax.len(), 1);
        assert!(matches_all(&order(), &lax));
        let strict = apply_offset_policy(parsed, false);
        assert_eq!(strict.len(), 3);
        assert_eq!(strict[1].value, json!("2025-11-06T00:00:00+03:00"));
        assert!(!matches_all(&order(), &strict));
        let colon = apply_offset_policy(
            parse_where(&json!([{"column": "payed_at", "operator": ">=", "value": "2025-11-06T00:00:00+03:00"}]))
                .expect("valid"),
            true,
        );
        assert_eq!(colon.len(), 1);
        assert!(!matches_all(&order(), &colon));
    }
}
