//! `reconcile` steps (issue 14): two datasets compared by key, through the binary,
//! against the real sandbox on 127.0.0.1.
mod support;

use support::{HEAD, case, run, sandbox};

/// Every paid order of the window, walked over its pages (the sandbox has 242 of them).
const WALK: &str = r#"
  - id: orders
    http:
      method: GET
      path: /orders
      query: { organization: irs-prod, where: "{{ vars.where }}", per_page: 100 }
      paginate: { param: page, start: 1, until: "not (response.json | has_more)", max_pages: 10, collect: "$.data[*]" }
"#;

fn scenario(reconcile: &str) -> String {
    format!("{HEAD}\nsteps:{WALK}\n  - id: rec\n    reconcile:\n{reconcile}")
}

#[test]
fn equal_datasets_reconcile() {
    let sb = sandbox();
    let yaml = scenario(
        r#"      left: { name: API, rows: steps.orders.items, key: row.id, values: { revenue: row.price } }
      right: { name: ClickHouse, rows: steps.orders.items, key: row.id, values: { revenue: row.price } }
      compare: [count, revenue]
"#,
    );
    let c = case(&sb, &yaml);
    let out = run(&c, &[]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    let r = out.results();
    let step = &r["steps"][1];
    assert_eq!(step["outcome"], "passed");
    let text = step["output"].as_str().unwrap();
    assert!(
        text.contains("0 only in API · 0 only in ClickHouse · 0 different"),
        "{text}"
    );
    assert!(text.starts_with("API: 242 rows, 242 keys"), "{text}");
    assert!(text.contains("242 matched"), "{text}");
}

#[test]
fn dropped_orders_are_named_and_fail_the_step() {
    let sb = sandbox();
    // The right side is the walk without its first three orders (a loader that lost them).
    let yaml = scenario(
        r#"      left: { name: API, rows: steps.orders.items, key: row.id }
      right: { name: ClickHouse, rows: "steps.orders.items[3:]", key: row.id }
"#,
    );
    let c = case(&sb, &yaml);
    let out = run(&c, &[]);
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    let r = out.results();
    let step = &r["steps"][1];
    assert_eq!(step["outcome"], "failed");
    let report = out.file("report.md");
    assert!(report.contains("3 only in API"), "{report}");
    let jsonl = out.file("rec.reconcile.jsonl");
    let only_left: Vec<serde_json::Value> = jsonl
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .filter(|v: &serde_json::Value| v["kind"] == "only_left")
        .collect();
    assert_eq!(only_left.len(), 3, "{jsonl}");
    // Their ids are named in the report.
    for v in &only_left {
        let id = v["key"].as_str().unwrap();
        assert!(report.contains(id), "{id} not in the report");
    }
    assert!(
        step["artifacts"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a == "rec.reconcile.jsonl")
    );
}

#[test]
fn one_days_revenue_altered_is_one_difference_by_moscow_day() {
    let sb = sandbox();
    // Keys are Moscow days of payed_at (written with +03:00 on one side, as UTC instants
    // on the other); one day's revenue is doubled on the right.
    let yaml = scenario(
        r#"      left:
        name: API
        rows: steps.orders.items
        key: "datetime(row.payed_at) | tz('Europe/Moscow') | strftime('%Y-%m-%d')"
        values: { revenue: row.price }
      right:
        name: ClickHouse
        rows: steps.orders.items
        key: "datetime(row.payed_at) | tz('UTC') | tz('Europe/Moscow') | strftime('%Y-%m-%d')"
        values: { revenue: "row.price * (2 if (datetime(row.payed_at) | tz('Europe/Moscow') | strftime('%Y-%m-%d')) == '2025-11-04' else 1)" }
      compare: [count, revenue]
      tolerance: 0.01
    assert:
      - { jsonpath: $.different, equals: 1 }
      - { jsonpath: $.only_left, equals: 0 }
      - { jsonpath: "$.differences[0].key", equals: "2025-11-04" }
"#,
    );
    let c = case(&sb, &yaml);
    let out = run(&c, &[]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    let r = out.results();
    let text = r["steps"][1]["output"].as_str().unwrap();
    assert!(
        text.contains("different: 2025-11-04 revenue: API"),
        "{text}"
    );
}

#[test]
fn a_measure_one_side_lacks_fails_validate() {
    let sb = sandbox();
    let yaml = scenario(
        r#"      left: { rows: steps.orders.items, key: row.id, values: { revenue: row.price } }
      right: { rows: steps.orders.items, key: row.id }
      compare: [revenue]
"#,
    );
    let c = case(&sb, &yaml);
    let (code, _, stderr) = c.validate();
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("`revenue` is not a measure of both sides"),
        "{stderr}"
    );
}
