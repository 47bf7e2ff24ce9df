//! Unit tests of `stream`.
use super::*;
use crate::assert::eval_check;
use crate::scenario::AssertionSpec;
use serde_json::json;
use std::sync::Arc;

/// Every streamable check gives, page by page, the record it gives over the items
/// held whole — passing and failing, with its failing examples and shown value.
#[test]
fn judged_page_by_page_is_judged_as_in_memory() {
    let items: Vec<Value> = (0..23)
        .map(|i| json!({"id": 1000 + i, "price": i * 10, "tags": if i % 4 == 0 { json!(["a"]) } else { json!([]) }}))
        .collect();
    let specs = [
        "{items: '$[*].price', all: {gte: 0}}",
        "{items: '$[*].price', all: {lt: 100}}",
        "{items: '$[*].price', any: {equals: 70}}",
        "{items: '$[*].price', none: {gt: 150}}",
        "{items: '$[*].tags[*]', all: {equals: a}}",
        "{items: '$[*].missing', all: {equals: 1}}",
        "{items: '$[*].missing', all: {equals: 1}, allow_empty: true}",
        "{items: '$', length: {equals: 23}}",
        "{items: '$', length: {lt: 5}}",
        "{items: '$[*].id', length: {gte: 20}, type: array}",
        "{items: '$[*].tags[*]', length: {equals: 6}}",
        "{items: '$[*].missing', exists: false}",
        "{items: '$[*].missing', length: {equals: 0}}",
    ];
    let mut t = Templates::new("2025-11-05T13:46:54Z".parse().unwrap());
    let checks: Vec<Check> = specs
        .iter()
        .map(|s| {
            let spec: AssertionSpec = serde_yaml::from_str(s).unwrap();
            Check::compile(&spec, &mut t).unwrap()
        })
        .collect();
    let ctx = crate::template::to_value(json!({}));
    let held = Observation {
        items: Some(Arc::new(Value::Array(items.clone()))),
        ..Observation::default()
    };
    for (check, src) in checks.iter().zip(specs) {
        let whole = eval_check(check, &held, &t, &ctx);
        for per_page in [1, 5, 23] {
            let mut tally = ItemsTally::start(check, &t, &ctx).expect(src);
            for page in items.chunks(per_page) {
                tally.feed(check, &Value::Array(page.to_vec()));
            }
            let (passed, description, expected, actual, message) = tally.finish(check);
            assert_eq!(
                (passed, &description, &expected, &actual, &message),
                (
                    whole.passed,
                    &whole.description,
                    &whole.expected,
                    &whole.actual,
                    &whole.message
                ),
                "{src}, {per_page} a page"
            );
        }
    }
    // A check that needs the items whole is not judged item by item.
    let spec: AssertionSpec = serde_yaml::from_str("{items: '$[0].id', equals: 1000}").unwrap();
    let first = Check::compile(&spec, &mut t).unwrap();
    assert!(ItemsTally::start(&first, &t, &ctx).is_none());
}
