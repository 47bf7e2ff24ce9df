//! The `where` filter language: parsing, the compact-offset quirk, and evaluation.

use std::cmp::Ordering;

use serde_json::Value;

use super::time;

/// A comparison operator of a `where` filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Op {
    Eq,
    Ne,
    Lt,
    Gt,
    Le,
    Ge,
    In,
    NotIn,
    InArray,
    NotInArray,
    Null,
    NotNull,
}

impl Op {
    /// Parses an operator; spelling is case-insensitive and spaces are collapsed.
    pub(crate) fn parse(raw: &str) -> Option<Op> {
        let norm = raw
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .to_ascii_lowercase();
        Some(match norm.as_str() {
            "=" | "==" => Op::Eq,
            "!=" | "<>" => Op::Ne,
            "<" => Op::Lt,
            ">" => Op::Gt,
            "<=" => Op::Le,
            ">=" => Op::Ge,
            "in" => Op::In,
            "not in" => Op::NotIn,
            "in array" => Op::InArray,
            "not in array" => Op::NotInArray,
            "null" | "is null" => Op::Null,
            "not null" | "is not null" | "notnull" => Op::NotNull,
            _ => return None,
        })
    }
}

/// One parsed `{"column", "operator", "value"}` filter.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Filter {
    pub(crate) column: String,
    pub(crate) op: Op,
    pub(crate) value: Value,
}

/// Parses a `where` value: an array of filter objects (a single object is accepted too).
pub(crate) fn parse_where(raw: &Value) -> Result<Vec<Filter>, String> {
    match raw {
        Value::Null => Ok(Vec::new()),
        Value::Array(items) => items.iter().map(parse_filter).collect(),
        Value::Object(_) => parse_filter(raw).map(|f| vec![f]),
        _ => Err(
            "`where` must be an array of {\"column\",\"operator\",\"value\"} objects".to_owned(),
        ),
    }
}

fn parse_filter(raw: &Value) -> Result<Filter, String> {
    let Value::Object(obj) = raw else {
        return Err(format!("`where` item must be an object, got {raw}"));
    };
    let column = match obj.get("column") {
        Some(Value::String(c)) if !c.trim().is_empty() => c.trim().to_owned(),
        _ => return Err(format!("`where` item {raw} has no string `column`")),
    };
    let op = match obj.get("operator") {
        None | Some(Value::Null) => Op::Eq,
        Some(Value::String(s)) => {
            Op::parse(s).ok_or_else(|| format!("unknown operator {s:?} in `where`"))?
        }
        Some(other) => return Err(format!("`operator` must be a string, got {other}")),
    };
    let value = obj.get("value").cloned().unwrap_or(Value::Null);
    Ok(Filter { column, op, value })
}

/// Looks up a possibly dotted column (`client.email`); array segments may be indices.
pub(crate) fn lookup<'a>(item: &'a Value, column: &str) -> Option<&'a Value> {
    if let Some(direct) = item.get(column) {
        return Some(direct);
    }
    column.split('.').try_fold(item, |cur, seg| match cur {
        Value::Object(map) => map.get(seg),
        Value::Array(items) => seg.parse::<usize>().ok().and_then(|i| items.get(i)),
        _ => None,
    })
}

fn as_f64(v: &Value) -> Option<f64> {
    match v {
        Value::Bool(b) => Some(if *b { 1.0 } else { 0.0 }),
        Value::Number(n) => n.as_f64(),
        Value::String(s) => match s.trim() {
            "true" => Some(1.0),
            "false" => Some(0.0),
            t => t.parse::<f64>().ok().filter(|f| f.is_finite()),
        },
        _ => None,
    }
}

fn scalar_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Compares two JSON values the way the sandbox's database would: RFC 3339 datetimes as
/// instants, numbers numerically, booleans as 1/0, everything else as text. `None` when
/// either side is null or the two cannot be ordered.
pub(crate) fn compare(a: &Value, b: &Value) -> Option<Ordering> {
    match (a, b) {
        (Value::Null, _) | (_, Value::Null) => None,
        (Value::Array(_) | Value::Object(_), _) | (_, Value::Array(_) | Value::Object(_)) => {
            (a == b).then_some(Ordering::Equal)
        }
        (Value::String(x), Value::String(y)) => {
            if let (Some(tx), Some(ty)) = (time::parse_instant(x), time::parse_instant(y)) {
                return Some(tx.cmp(&ty));
            }
            if let (Ok(nx), Ok(ny)) = (x.trim().parse::<f64>(), y.trim().parse::<f64>()) {
                return nx.partial_cmp(&ny);
            }
            Some(x.cmp(y))
        }
        _ => match (as_f64(a), as_f64(b)) {
            (Some(x), Some(y)) => x.partial_cmp(&y),
            _ => Some(scalar_text(a)?.cmp(&scalar_text(b)?)),
        },
    }
}

fn equal(a: &Value, b: &Value) -> bool {
    compare(a, b) == Some(Ordering::Equal)
}

fn as_list(v: &Value) -> Vec<&Value> {
    match v {
        Value::Array(items) => items.iter().collect(),
        Value::Null => Vec::new(),
        other => vec![other],
    }
}

fn in_array(field: &Value, value: &Value) -> bool {
    let wanted = as_list(value);
    match field {
        Value::Array(have) => have.iter().any(|h| wanted.iter().any(|w| equal(h, w))),
        other => wanted.iter().any(|w| equal(other, w)),
    }
}

impl Filter {
    /// Whether `item` passes this filter. A missing column counts as null and, as in
    /// SQL, a null field passes only the null tests (`null`, `not null`, `= null`, `!= null`).
    pub(crate) fn matches(&self, item: &Value) -> bool {
        let field = lookup(item, &self.column).unwrap_or(&Value::Null);
        let is_null = field.is_null();
        let value = &self.value;
        match self.op {
            Op::Null => is_null != matches!(value, Value::Bool(false)),
            Op::NotNull => !is_null != matches!(value, Value::Bool(false)),
            Op::Eq if value.is_null() => is_null,
            Op::Ne if value.is_null() => !is_null,
            _ if is_null => false,
            Op::Eq => equal(field, value),
            Op::Ne => !equal(field, value),
            Op::Lt => compare(field, value) == Some(Ordering::Less),
            Op::Gt => compare(field, value) == Some(Ordering::Greater),
            Op::Le => matches!(
                compare(field, value),
                Some(Ordering::Less | Ordering::Equal)
            ),
            Op::Ge => matches!(
                compare(field, value),
                Some(Ordering::Greater | Ordering::Equal)
            ),
            Op::In => as_list(value).iter().any(|w| equal(field, w)),
            Op::NotIn => !as_list(value).iter().any(|w| equal(field, w)),
            Op::InArray => in_array(field, value),
            Op::NotInArray => !in_array(field, value),
        }
    }
}

/// Whether `item` passes every filter.
pub(crate) fn matches_all(item: &Value, filters: &[Filter]) -> bool {
    filters.iter().all(|f| f.matches(item))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn order() -> Value {
        json!({
            "id": 1001,
            "payed": true,
            "payed_at": "2025-11-05T16:46:54+03:00",
            "deleted_at": null,
            "price": 2500,
            "client": {"email": "ivan@example.ru", "details": {"name": "Иван"}},
            "tags": ["vip", "promo"]
        })
    }

    fn check(filter: Value) -> bool {
        let filters = parse_where(&json!([filter])).expect("valid filter");
        matches_all(&order(), &filters)
    }

    #[test]
    fn equality_and_default_operator() {
        assert!(check(json!({"column": "id", "value": 1001})));
        assert!(check(json!({"column": "id", "value": "1001"})));
        assert!(!check(
            json!({"column": "id", "operator": "=", "value": 1002})
        ));
        assert!(check(
            json!({"column": "id", "operator": "!=", "value": 1002})
        ));
        assert!(!check(
            json!({"column": "id", "operator": "<>", "value": 1001})
        ));
    }

    #[test]
    fn booleans_compare_with_one_and_zero() {
        assert!(check(json!({"column": "payed", "value": 1})));
        assert!(check(json!({"column": "payed", "value": "1"})));
        assert!(check(json!({"column": "payed", "value": true})));
        assert!(!check(json!({"column": "payed", "value": 0})));
    }

    #[test]
    fn ordering_operators_on_numbers() {
        assert!(check(
            json!({"column": "price", "operator": ">", "value": 2000})
        ));
        assert!(check(
            json!({"column": "price", "operator": ">=", "value": 2500})
        ));
        assert!(check(
            json!({"column": "price", "operator": "<=", "value": "2500"})
        ));
        assert!(!check(
            json!({"column": "price", "operator": "<", "value": 2500})
        ));
        // 900 < 2500 numerically though "900" > "2500" as text.
        assert!(check(
            json!({"column": "price", "operator": ">", "value": "900"})
        ));
    }

    #[test]
    fn datetimes_compare_as_instants_across_offsets() {
        assert!(check(
            json!({"column": "payed_at", "operator": ">=", "value": "2025-11-05T13:46:54Z"})
        ));
        assert!(check(
            json!({"column": "payed_at", "operator": "<", "value": "2025-11-05T14:00:00Z"})
        ));
        assert!(!check(
            json!({"column": "payed_at", "operator": ">", "value": "2025-11-05T10:00:00-05:00"})
        ));
        assert!(check(
            json!({"column": "payed_at", "value": "2025-11-05T13:46:54+00:00"})
        ));
    }

    #[test]
    fn membership_operators() {
        assert!(check(
            json!({"column": "id", "operator": "in", "value": [1, 1001]})
        ));
        assert!(!check(
            json!({"column": "id", "operator": "in", "value": [1, 2]})
        ));
        assert!(check(
            json!({"column": "id", "operator": "not in", "value": [1, 2]})
        ));
        assert!(!check(
            json!({"column": "id", "operator": "NOT  IN", "value": [1001]})
        ));
        assert!(check(
            json!({"column": "tags", "operator": "in array", "value": "vip"})
        ));
        assert!(check(
            json!({"column": "tags", "operator": "in array", "value": ["x", "promo"]})
        ));
        assert!(check(
            json!({"column": "tags", "operator": "not in array", "value": "gold"})
        ));
        assert!(check(
            json!({"column": "id", "operator": "in array", "value": [1001]})
        ));
    }

    #[test]
    fn null_operators_and_missing_columns() {
        assert!(check(json!({"column": "deleted_at", "operator": "null"})));
        assert!(check(json!({"column": "nope", "operator": "null"})));
        assert!(!check(json!({"column": "payed_at", "operator": "null"})));
        assert!(check(json!({"column": "payed_at", "operator": "not null"})));
        assert!(check(
            json!({"column": "payed_at", "operator": "null", "value": false})
        ));
        assert!(check(json!({"column": "deleted_at", "value": null})));
        assert!(!check(json!({"column": "nope", "value": 1})));
        assert!(!check(
            json!({"column": "nope", "operator": "!=", "value": 1})
        ));
    }

    #[test]
    fn dotted_columns() {
        assert!(check(
            json!({"column": "client.email", "value": "ivan@example.ru"})
        ));
        assert!(check(
            json!({"column": "client.details.name", "value": "Иван"})
        ));
        assert!(check(json!({"column": "tags.1", "value": "promo"})));
    }

    #[test]
    fn parse_errors() {
        assert!(parse_where(&json!([{"column": "id", "operator": "~", "value": 1}])).is_err());
        assert!(parse_where(&json!([{"operator": "=", "value": 1}])).is_err());
        assert!(parse_where(&json!("id=1")).is_err());
        assert_eq!(
            parse_where(&json!({"column": "id", "value": 1})).map(|f| f.len()),
            Ok(1)
        );
    }
}
