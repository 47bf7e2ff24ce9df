//! Assert stage: selecting values with a compiled JSONPath. Paths made only of names,
//! indexes and `[*]` (nearly all paths in scenarios) are walked directly; jsonpath-rust
//! evaluates the rest (filters, slices, `..`, unions). It builds a normalized path
//! string for every match, which is most of the work for `$[*].payed_at` over 10,000
//! items; the values are the same either way (a test below holds the two together).
use jsonpath_rust::parser::model::{JpQuery, Segment, Selector};
use jsonpath_rust::query::js_path_process;
use serde_json::Value;

/// Values a JSONPath selects, in document order.
pub fn select<'a>(query: &JpQuery, value: &'a Value) -> Vec<&'a Value> {
    if let Some(found) = select_simple(query, value) {
        return found;
    }
    js_path_process(query, value)
        .map(|refs| refs.into_iter().map(|r| r.val()).collect())
        .unwrap_or_default()
}

/// The first value a JSONPath selects.
pub fn select_first<'a>(query: &JpQuery, value: &'a Value) -> Option<&'a Value> {
    select(query, value).into_iter().next()
}

/// The walk for name, index and wildcard segments; None for any other segment.
fn select_simple<'a>(query: &JpQuery, value: &'a Value) -> Option<Vec<&'a Value>> {
    let mut nodes = vec![value];
    for segment in &query.segments {
        let Segment::Selector(selector) = segment else {
            return None;
        };
        let mut next = Vec::with_capacity(nodes.len());
        for node in nodes {
            match (selector, node) {
                (Selector::Name(name), Value::Object(map)) => next.extend(map.get(name)),
                (Selector::Index(i), Value::Array(items)) => {
                    next.extend(crate::template::seq_index(*i, items.len()).map(|k| &items[k]));
                }
                (Selector::Wildcard, Value::Array(items)) => next.extend(items),
                (Selector::Wildcard, Value::Object(map)) => next.extend(map.values()),
                (Selector::Name(_) | Selector::Index(_) | Selector::Wildcard, _) => {}
                _ => return None,
            }
        }
        nodes = next;
    }
    Some(nodes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonpath_rust::parser::parse_json_path;
    use serde_json::json;

    fn by_crate<'a>(q: &JpQuery, v: &'a Value) -> Vec<&'a Value> {
        js_path_process(q, v)
            .map(|refs| refs.into_iter().map(|r| r.val()).collect())
            .unwrap_or_default()
    }

    #[test]
    fn the_direct_walk_selects_what_jsonpath_rust_selects() {
        let doc = json!({
            "data": [
                {"id": 1, "payed_at": "2025-11-05T16:46:54+03:00", "tags": ["a", "b"]},
                {"id": 2, "payed_at": null, "tags": []},
                {"id": 3, "nested": {"x": {"y": 7}}, "tags": ["c"]}
            ],
            "meta": {"has_next": false, "page": 1, "weird key": "w", "0": "zero"},
            "status": "ok",
            "n": 5
        });
        let paths = [
            "$",
            "$.status",
            "$.missing",
            "$.data[*].id",
            "$.data[*].payed_at",
            "$.data[0]",
            "$.data[-1].id",
            "$.data[-3].id",
            "$.data[-4].id",
            "$.data[7]",
            "$.data[*].tags[*]",
            "$.data[*].tags[0]",
            "$.data[*].nested.x.y",
            "$.meta.*",
            "$.meta['weird key']",
            "$.meta['0']",
            "$.meta[0]",
            "$.status.length",
            "$.status[0]",
            "$.n[*]",
            "$[*]",
            "$.data.id",
        ];
        for p in paths {
            let q = parse_json_path(p).unwrap();
            let fast = select_simple(&q, &doc).unwrap_or_else(|| panic!("{p} is not simple"));
            assert_eq!(fast, by_crate(&q, &doc), "{p}");
        }
        let walked_by_the_crate = [
            "$..id",
            "$.data[?@.id > 1].id",
            "$.data[0:2].id",
            "$.data[0,2].id",
        ];
        for p in walked_by_the_crate {
            let q = parse_json_path(p).unwrap();
            assert!(select_simple(&q, &doc).is_none(), "{p}");
            assert_eq!(select(&q, &doc), by_crate(&q, &doc), "{p}");
            assert!(!select(&q, &doc).is_empty(), "{p}");
        }
    }
}
