//! Walks larger than `limits.items_in_memory` (issue 14): through the binary, against the
//! real sandbox on 127.0.0.1 — every item goes to `<step>.items.jsonl`, `items:` checks
//! judge them as they stream with the records they give in memory, `steps.<id>.items`
//! is refused with a message naming the file, and later pages keep body excerpts.
mod support;

use support::{TOKEN, case, fixture, run, sandbox, with_head};

/// Every paid order of the window (242 in the sandbox), 25 a page: 10 pages.
/// `assert` (the walk's checks) and `more` (steps after it) are YAML put after the walk.
fn scenario(limit: u64, assert: &str, more: &str) -> String {
    let walk = with_head("walk_spill/orders_walk.yaml").replace("LIMIT", &limit.to_string());
    [walk.as_str(), "    assert:\n", assert, "\n", more].concat()
}

const CHECKS: &str = r#"      - items: "$[*].payed_at"
        all: { gte: "{{ vars.window_from }}", lt: "{{ vars.window_to }}" }
      - items: "$[*].payed_at"
        all: { lt: "2025-11-05T00:00:00+03:00" }
        soft: true
      - { items: "$[*].id", none: { equals: 1 } }
      - { items: "$[*].id", any: { gt: 1400 } }
      - { items: "$", length: { equals: 242 } }
      - { items: "$[*].id", length: { gte: 200 }, type: array }
      - { items: "$[*].id", all: { not_equals: "{{ request.method }}" } }
"#;

#[test]
fn a_walk_beyond_the_limit_writes_every_item_to_a_file() {
    let sb = sandbox();
    let c = case(&sb, &scenario(100, CHECKS, ""));
    let out = run(&c, &[]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    let r = out.results();
    let step = &r["steps"][0];
    assert_eq!(step["items_count"], 242);
    assert!(
        step["artifacts"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a == "orders.items.jsonl"),
        "{step}"
    );
    let lines = out.file("orders.items.jsonl");
    let ids: Vec<u64> = lines
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["id"]
                .as_u64()
                .unwrap()
        })
        .collect();
    assert_eq!(ids.len(), 242);
    let mut unique = ids.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(unique.len(), 242, "every order once");
    // The first three pages keep their bodies; later pages an excerpt, and say so.
    let attempts = step["attempts"].as_array().unwrap();
    assert_eq!(attempts.len(), 10);
    for (i, a) in attempts.iter().enumerate() {
        let resp = &a["response"];
        if i < 3 {
            assert!(resp.get("body_excerpt").is_none(), "page {}", i + 1);
            assert!(
                serde_json::from_str::<serde_json::Value>(resp["body"].as_str().unwrap()).is_ok()
            );
        } else {
            assert_eq!(resp["body_excerpt"], true, "page {}", i + 1);
            assert!(resp["body"].as_str().unwrap().chars().count() <= 201);
            assert!(resp["body_bytes"].as_u64().unwrap() > 1000);
        }
    }
    assert!(!out.everything().contains(TOKEN));
    // Held in memory under a higher limit: no file.
    let c = case(&sb, &scenario(100_000, CHECKS, ""));
    let out = run(&c, &[]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert_eq!(out.results()["steps"][0]["items_count"], 242);
    assert!(!out.out_dir.join("orders.items.jsonl").exists());
}

#[test]
fn items_checks_give_the_same_records_held_or_streamed_from_the_file() {
    let sb = sandbox();
    let failing = r#"      - items: "$[*].payed_at"
        all: { lt: "2025-11-05T00:00:00+03:00" }
"#;
    let checks = format!("{CHECKS}{failing}");
    let mut records = Vec::new();
    for limit in [100, 100_000] {
        let c = case(&sb, &scenario(limit, &checks, ""));
        let out = run(&c, &[]);
        assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
        let r = out.results();
        assert_eq!(r["steps"][0]["failure"]["class"], "assertion");
        records.push(r["steps"][0]["assertions"].clone());
    }
    // In memory, and read back from the file (a check reading `request` is judged
    // after the walk, not page by page), alike.
    assert_eq!(records[0], records[1]);
    let checks = records[0].as_array().unwrap();
    let passed: Vec<bool> = checks
        .iter()
        .map(|a| a["passed"].as_bool().unwrap())
        .collect();
    assert_eq!(
        passed,
        [true, true, false, true, true, true, true, true, false]
    );
    // A failing check names the items that broke it: their place and value.
    let last = &checks[8];
    assert_eq!(last["actual"], "156 of 242 values match");
    let message = last["message"].as_str().unwrap();
    assert!(
        message.starts_with(
            "not matching: [5] 2025-11-05T08:17:45+03:00 (lt 2025-11-05T00:00:00+03:00 failed)"
        ),
        "{message}"
    );
    assert_eq!(
        message.matches(" failed)").count(),
        5,
        "the first five: {message}"
    );
}

#[test]
fn reading_the_items_whole_above_the_limit_is_refused_naming_the_file() {
    let sb = sandbox();
    let later = r#"  - id: count
    assert:
      - expr: "steps.orders.items | length == 242"
"#;
    let ok = r#"      - { items: "$", length: { equals: 242 } }
"#;
    let c = case(&sb, &scenario(100, ok, later));
    let out = run(&c, &[]);
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    let r = out.results();
    assert_eq!(r["steps"][0]["outcome"], "passed");
    let check = &r["steps"][1]["assertions"][0];
    assert_eq!(check["passed"], false);
    let message = check["message"].as_str().unwrap();
    for part in [
        "`steps.orders.items` cannot be read whole",
        "242 items",
        "limits.items_in_memory (100)",
        "`orders.items.jsonl`",
        "items_in_memory: 242",
    ] {
        assert!(message.contains(part), "{part} not in {message}");
    }
    // A check that needs the items whole fails the same way on the walk itself.
    let whole = r#"      - { items: "$[0].id", exists: true }
"#;
    let c = case(&sb, &scenario(100, whole, ""));
    let out = run(&c, &[]);
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    let check = &out.results()["steps"][0]["assertions"][1];
    let message = check["message"].as_str().unwrap();
    assert!(
        message.starts_with("this check needs the items whole"),
        "{message}"
    );
    // Under the limit both read the items in memory.
    let c = case(&sb, &scenario(1000, whole, later));
    let out = run(&c, &[]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
}

#[test]
fn a_reconcile_side_takes_exactly_one_of_rows_items_and_sql() {
    let sb = sandbox();
    for (side, expected) in [
        (
            "{ rows: steps.orders.items, items: orders, key: row.id }",
            "a side takes exactly one of `rows`, `items` and `sql`, found rows and items",
        ),
        ("{ key: row.id }", "a side needs its rows: one of `rows`"),
        ("{ items: count, key: row.id }", "`count` collects no items"),
        ("{ items: later, key: row.id }", "`later` runs later"),
        (
            "{ sql: \"SELECT id FROM t FORMAT TSV\", key: row.id }",
            "leave out the FORMAT clause: the rows are read as JSONEachRow",
        ),
    ] {
        let more = fixture("walk_spill/reconcile_side.yaml").replace("SIDE", side);
        let ok = "      - { items: \"$\", length: { gt: 0 } }\n";
        let c = case(&sb, &scenario(100, ok, &more));
        let (code, _, stderr) =
            support::qtscen(&["validate", c.scenario.to_str().unwrap()], c.dir.path());
        assert_eq!(code, 2, "{side}: {stderr}");
        assert!(stderr.contains(expected), "{side}: {stderr}");
        assert!(stderr.contains("scenario.yaml:"), "{stderr}");
    }
}
