//! The `orderBy` parameter: parsing `{"field":"asc|desc", …}` and sorting rows by it.

use std::cmp::Ordering;

use serde_json::Value;

use super::filter::{compare, lookup};

/// One sort key; keys apply in the order they were given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SortKey {
    pub(crate) field: String,
    pub(crate) descending: bool,
}

fn direction(field: &str, raw: &Value) -> Result<bool, String> {
    match raw {
        Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
            "asc" | "" => Ok(false),
            "desc" => Ok(true),
            other => Err(format!(
                "`orderBy` direction for {field:?} must be asc or desc, got {other:?}"
            )),
        },
        Value::Null => Ok(false),
        other => Err(format!(
            "`orderBy` direction for {field:?} must be a string, got {other}"
        )),
    }
}

/// Parses `orderBy`: an object `{"payed_at":"desc","id":"asc"}`, a field name
/// (`"payed_at"`, `"-payed_at"` for descending), or an array of those.
pub(crate) fn parse_order_by(raw: &Value) -> Result<Vec<SortKey>, String> {
    match raw {
        Value::Null => Ok(Vec::new()),
        Value::Object(map) => map
            .iter()
            .map(|(field, dir)| {
                Ok(SortKey {
                    field: field.clone(),
                    descending: direction(field, dir)?,
                })
            })
            .collect(),
        Value::String(s) => {
            let s = s.trim();
            if s.is_empty() {
                return Ok(Vec::new());
            }
            let (field, descending) = match s.strip_prefix('-') {
                Some(rest) => (rest, true),
                None => (s, false),
            };
            Ok(vec![SortKey {
                field: field.to_owned(),
                descending,
            }])
        }
        Value::Array(items) => {
            let mut keys = Vec::new();
            for item in items {
                keys.extend(parse_order_by(item)?);
            }
            Ok(keys)
        }
        other => Err(format!(
            "`orderBy` must be an object like {{\"payed_at\":\"desc\"}}, got {other}"
        )),
    }
}

fn type_rank(v: &Value) -> u8 {
    match v {
        Value::Null => 0,
        Value::Bool(_) => 1,
        Value::Number(_) => 2,
        Value::String(_) => 3,
        Value::Array(_) => 4,
        Value::Object(_) => 5,
    }
}

/// Ascending order of two field values: nulls first, then [`compare`], falling back to
/// the type and the JSON text so the order is total.
fn ascending(a: &Value, b: &Value) -> Ordering {
    match (a.is_null(), b.is_null()) {
        (true, true) => return Ordering::Equal,
        (true, false) => return Ordering::Less,
        (false, true) => return Ordering::Greater,
        (false, false) => {}
    }
    compare(a, b).unwrap_or_else(|| {
        type_rank(a)
            .cmp(&type_rank(b))
            .then_with(|| a.to_string().cmp(&b.to_string()))
    })
}

/// Sorts rows by `keys`, then by `id` ascending (also the order when `keys` is empty).
pub(crate) fn sort_rows(rows: &mut [&Value], keys: &[SortKey]) {
    rows.sort_by(|a, b| {
        keys.iter()
            .map(|key| {
                let av = lookup(a, &key.field).unwrap_or(&Value::Null);
                let bv = lookup(b, &key.field).unwrap_or(&Value::Null);
                let ord = ascending(av, bv);
                if key.descending { ord.reverse() } else { ord }
            })
            .find(|ord| ord.is_ne())
            .unwrap_or_else(|| {
                ascending(
                    a.get("id").unwrap_or(&Value::Null),
                    b.get("id").unwrap_or(&Value::Null),
                )
            })
    });
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn parses_object_string_and_array_forms() {
        let keys = parse_order_by(&json!({"payed_at": "DESC", "id": "asc"})).expect("valid");
        assert_eq!(keys.len(), 2);
        assert!(keys[0].descending && keys[0].field == "payed_at");
        assert!(!keys[1].descending);
        let keys = parse_order_by(&json!(["-price", {"id": "desc"}])).expect("valid");
        assert_eq!(keys.len(), 2);
        assert!(keys[0].descending && keys[0].field == "price");
        assert!(parse_order_by(&json!({"id": "sideways"})).is_err());
        assert!(parse_order_by(&json!(5)).is_err());
    }

    #[test]
    fn sorts_datetimes_as_instants_with_id_tiebreak() {
        let rows = [
            json!({"id": 3, "t": "2025-11-05T16:00:00+03:00"}),
            json!({"id": 1, "t": "2025-11-05T14:00:00Z"}),
            json!({"id": 2, "t": null}),
            json!({"id": 4, "t": "2025-11-05T16:00:00+03:00"}),
        ];
        let mut refs: Vec<&Value> = rows.iter().collect();
        sort_rows(
            &mut refs,
            &parse_order_by(&json!({"t": "desc"})).expect("valid"),
        );
        let ids: Vec<_> = refs.iter().map(|r| r["id"].as_i64().unwrap_or(0)).collect();
        // 14:00Z is 17:00+03:00, so it is the latest.
        assert_eq!(ids, vec![1, 3, 4, 2]);
        sort_rows(&mut refs, &[]);
        let ids: Vec<_> = refs.iter().map(|r| r["id"].as_i64().unwrap_or(0)).collect();
        assert_eq!(ids, vec![1, 2, 3, 4]);
    }
}
