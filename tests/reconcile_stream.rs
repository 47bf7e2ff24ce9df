//! Reconcile sides that stream (issue 14): a walk's items read back from its
//! `.items.jsonl` against a ClickHouse query read as JSONEachRow — through the binary,
//! against the real sandbox and a real ClickHouse on 127.0.0.1.
mod support;

use support::clickhouse::{ClickHouse, PASSWORD, USER};
use support::{TOKEN, case_with_env, run, sandbox, with_head};

/// The walk of every paid order (spilled past 100 items) reconciled against `right`, a
/// reconcile side as YAML.
fn scenario(right: &str) -> String {
    with_head("reconcile_stream/walk_and_reconcile.yaml").replace("RIGHT", right)
}

#[test]
fn spilled_items_reconcile_against_a_streamed_query() {
    let sb = sandbox();
    let ch = ClickHouse::start().expect("ClickHouse could not be installed; see the message above");
    let env = format!(
        "QTICKETS_BASE_URL={}\nQTICKETS_TOKEN={TOKEN}\nCLICKHOUSE_HOST=127.0.0.1\nCLICKHOUSE_PORT={}\nCLICKHOUSE_USER={USER}\nCLICKHOUSE_PASSWORD={PASSWORD}\n",
        sb.base_url(),
        ch.http_port
    );
    // The walk alone first, for the orders ClickHouse is to hold.
    let probe = scenario("{ items: orders, key: row.id }");
    let c = case_with_env(&probe, &env);
    let out = run(&c, &[]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    let orders: Vec<serde_json::Value> = out
        .file("orders.items.jsonl")
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(orders.len(), 242);
    ch.query("CREATE TABLE default.api_orders (order_id UInt64, revenue Float64) ENGINE = MergeTree ORDER BY order_id")
        .unwrap();
    // Every order but three (a loader that lost them).
    let lost: Vec<String> = [17, 100, 200]
        .iter()
        .map(|i| orders[*i]["id"].to_string())
        .collect();
    let rows: String = orders
        .iter()
        .filter(|o| !lost.contains(&o["id"].to_string()))
        .map(|o| format!("{}\t{}\n", o["id"], o["price"]))
        .collect();
    ch.query(&format!(
        "INSERT INTO default.api_orders FORMAT TSV\n{rows}"
    ))
    .unwrap();

    let right = r#"{ name: ClickHouse, sql: "SELECT order_id, revenue FROM default.api_orders", key: row.order_id, values: { revenue: row.revenue } }
      compare: [count, revenue]
    assert:
      - { jsonpath: $.only_left, equals: 3 }
      - { jsonpath: $.only_right, equals: 0 }
      - { jsonpath: $.different, equals: 0 }"#;
    let c = case_with_env(&scenario(right), &env);
    let out = run(&c, &[]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    let r = out.results();
    let rec = &r["steps"][1];
    let text = rec["output"].as_str().unwrap();
    assert!(
        text.starts_with("API: 242 rows, 242 keys · ClickHouse: 239 rows, 239 keys"),
        "{text}"
    );
    assert!(text.contains("239 matched · 3 only in API"), "{text}");
    // The lost orders, named in the report and the file, in the API's order.
    let report = out.file("report.md");
    assert!(
        text.contains(&format!("only in API: {}", lost.join(", "))),
        "{text}"
    );
    for id in &lost {
        assert!(report.contains(id.as_str()), "{id} not in the report");
    }
    let jsonl = out.file("rec.reconcile.jsonl");
    assert_eq!(jsonl.lines().count(), 3, "{jsonl}");
    // The query is an attempt of the step, its rows counted, not kept.
    let attempt = &rec["attempts"][0];
    assert_eq!(attempt["request"]["method"], "SQL");
    assert_eq!(attempt["label"], "ClickHouse");
    assert_eq!(attempt["code"], "OK");
    assert_eq!(
        attempt["response"]["body"],
        "239 rows, read as they streamed (JSONEachRow)"
    );
    assert!(!out.everything().contains(PASSWORD));
    assert!(!out.everything().contains(TOKEN));

    // Equal datasets pass without assertions; a server error fails the step, named.
    let missing: Vec<String> = lost.iter().map(|id| format!("{id}\t0\n")).collect();
    ch.query(&format!(
        "INSERT INTO default.api_orders FORMAT TSV\n{}",
        missing.concat()
    ))
    .unwrap();
    let right = r#"{ name: ClickHouse, sql: { query: "SELECT order_id FROM default.api_orders WHERE order_id > {min:UInt64}", params: { min: 0 } }, key: row.order_id }"#;
    let c = case_with_env(&scenario(right), &env);
    let out = run(&c, &[]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    let right = r#"{ name: ClickHouse, sql: "SELECT order_id FROM default.no_such_table", key: row.order_id }"#;
    let c = case_with_env(&scenario(right), &env);
    let out = run(&c, &[]);
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    let rec = &out.results()["steps"][1];
    assert_eq!(rec["failure"]["class"], "engine");
    let message = rec["failure"]["message"].as_str().unwrap();
    assert!(
        message.starts_with("ClickHouse.sql: ") && message.contains("Code: 60"),
        "{message}"
    );
    assert_eq!(rec["attempts"][0]["code"], "Code: 60");
}
