//! SQL steps against a real ClickHouse server (Debian's clickhouse-server, started on
//! 127.0.0.1 by the test setup in tests/support/clickhouse.rs).
mod support;

use support::clickhouse::{ClickHouse, PASSWORD, USER};
use support::*;

fn server() -> ClickHouse {
    ClickHouse::start().expect("ClickHouse could not be installed; see the message above")
}

/// A case whose env file points at `ch` as the password-protected user.
fn sql_case(ch: &ClickHouse, yaml: &str) -> Case {
    let env = format!(
        "CLICKHOUSE_HOST=127.0.0.1\nCLICKHOUSE_PORT={}\nCLICKHOUSE_DB=zakaz\nCLICKHOUSE_USER={USER}\nCLICKHOUSE_PASSWORD={PASSWORD}\n",
        ch.http_port
    );
    case_with_env(yaml, &env)
}

fn query<'a>(r: &'a serde_json::Value, step: usize, name: &str) -> &'a serde_json::Value {
    let attempts = r["steps"][step]["attempts"].as_array().unwrap();
    attempts.iter().rev().find(|a| a["label"] == name).unwrap()
}

#[test]
fn results_decode_generically_and_64_bit_integers_stay_exact() {
    let ch = server();
    let yaml = r#"
name: types
steps:
  - id: types
    sql:
      queries:
        all:
          query: >-
            SELECT 'Щелкунчик' AS s, CAST('Москва' AS LowCardinality(String)) AS lc,
                   toUInt32(4294967295) AS u32, toUInt64('18446744073709551615') AS u64,
                   toFloat64(1.5) AS f, toDate('2025-11-05') AS d,
                   toDateTime('2025-11-05 13:46:54') AS dt,
                   toUUID('123e4567-e89b-12d3-a456-426614174000') AS id,
                   CAST(NULL AS Nullable(String)) AS n, {x:String} AS quoted
          params: { x: "it's \\ fine" }
    assert:
      - { jsonpath: "$.all.rows[0].u64", equals: "18446744073709551615" }
      - { jsonpath: "$.all.rows[0].u64", gt: 18446744073709551614 }
      - { jsonpath: "$.all.rows[0].u32", equals: 4294967295 }
      - { jsonpath: "$.all.rows[0].lc", equals: "Москва" }
      - { jsonpath: "$.all.rows[0].n", equals: null }
      - { jsonpath: "$.all.rows[0].quoted", equals: "it's \\ fine" }
    artifacts:
      types.txt: "{{ step.text }}"
"#;
    let c = sql_case(&ch, yaml);
    let out = run(&c, &[]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    let r = out.results();
    let body: serde_json::Value =
        serde_json::from_str(query(&r, 0, "all")["response"]["body"].as_str().unwrap()).unwrap();
    let types: Vec<(&str, &str)> = body["meta"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["name"].as_str().unwrap(), m["type"].as_str().unwrap()))
        .collect();
    assert_eq!(
        types,
        [
            ("s", "String"),
            ("lc", "LowCardinality(String)"),
            ("u32", "UInt32"),
            ("u64", "UInt64"),
            ("f", "Float64"),
            ("d", "Date"),
            ("dt", "DateTime"),
            ("id", "UUID"),
            ("n", "Nullable(String)"),
            ("quoted", "String"),
        ]
    );
    let row = &body["data"][0];
    assert_eq!(row["u64"], "18446744073709551615");
    assert_eq!(row["f"], 1.5);
    assert_eq!(row["d"], "2025-11-05");
    assert_eq!(row["dt"], "2025-11-05 13:46:54");
    assert_eq!(row["id"], "123e4567-e89b-12d3-a456-426614174000");
    assert!(row["n"].is_null());
    let text = out.file("types.txt");
    assert!(
        text.contains("18446744073709551615")
            && text.contains("Щелкунчик")
            && text.contains("| NULL"),
        "{text}"
    );
}

#[test]
fn a_query_error_is_recorded_with_the_servers_message_and_the_run_goes_on() {
    let ch = server();
    let yaml = r#"
name: errors
steps:
  - id: missing
    retry: { attempts: 3, backoff: { initial: 10ms } }
    sql:
      queries:
        x: "SELECT count() FROM zakaz.no_such_table"
  - id: next
    sql:
      queries:
        one: "SELECT 1 AS one"
"#;
    let c = sql_case(&ch, yaml);
    let out = run(&c, &[]);
    assert_eq!(out.code, 1);
    let r = out.results();
    let step = &r["steps"][0];
    assert_eq!(step["failure"]["class"], "query_error");
    assert!(
        step["failure"]["message"]
            .as_str()
            .unwrap()
            .contains("Code: 60"),
        "{step:#}"
    );
    assert!(
        step["failure"]["message"]
            .as_str()
            .unwrap()
            .contains("no_such_table")
    );
    // Not retried: a missing table will not appear by waiting.
    assert_eq!(step["attempts"].as_array().unwrap().len(), 1);
    assert_eq!(step["attempts"][0]["code"], "Code: 60");
    assert_eq!(r["steps"][1]["outcome"], "passed");
    assert!(out.file("report.md").contains("doesn't exist"));
}

#[test]
fn server_down_retries_then_records_the_failure_and_a_complete_report() {
    let ch = server();
    let port = ch.http_port;
    drop(ch);
    let dir = tempfile::tempdir().unwrap();
    let yaml =
        fixture("sql/server_down.yaml").replace("127.0.0.1:PORT", &format!("127.0.0.1:{port}"));
    let scenario = dir.path().join("s.yaml");
    std::fs::write(&scenario, yaml).unwrap();
    let out_dir = dir.path().join("out");
    let (code, stdout, stderr) = qtscen(
        &[
            "run",
            scenario.to_str().unwrap(),
            "--out",
            out_dir.to_str().unwrap(),
        ],
        dir.path(),
    );
    assert_eq!(code, 1, "{stdout}{stderr}");
    let r: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out_dir.join("results.json")).unwrap())
            .unwrap();
    let attempts = r["steps"][0]["attempts"].as_array().unwrap();
    assert_eq!(
        attempts.len(),
        3,
        "query a tried three times; b not sent to a dead server"
    );
    assert!(attempts.iter().all(|a| a["code"] == "000"));
    assert_eq!(r["steps"][0]["failure"]["class"], "no_response");
    let report = std::fs::read_to_string(out_dir.join("report.md")).unwrap();
    assert!(report.contains("did not answer"), "{report}");
    assert!(
        report.contains("not run: the server could not be reached"),
        "{report}"
    );
}

#[test]
fn before_and_after_snapshots_see_rows_inserted_in_between() {
    let ch = server();
    let yaml = r#"
name: delta
steps:
  - id: before
    sql:
      queries:
        stg: "SELECT count() AS rows FROM zakaz.stg_qtickets_api_orders_raw"
  - id: load
    sql:
      queries:
        insert:
          query: >-
            INSERT INTO zakaz.stg_qtickets_api_orders_raw
            (order_id, event_id, city, sale_ts, tickets_sold, revenue, currency, _ver, _dedup_key)
            VALUES ({a:String}, '101', 'Москва', now(), 2, 5000, 'RUB', 1, 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'),
                   ({b:String}, '101', 'Казань', now(), 1, 2500, 'RUB', 1, 'bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb')
          params: { a: "1001", b: "1002" }
  - id: after
    needs: [before]
    sql:
      queries:
        stg: "SELECT count() AS rows FROM zakaz.stg_qtickets_api_orders_raw"
    assert:
      - name: two more rows
        expr: "(response.json.stg.rows[0].rows | int) == (steps.before.queries.stg.rows[0].rows | int) + 2"
      - name: the first query's rows are also steps.<id>.rows
        expr: "steps.before.rows[0].rows == steps.before.queries.stg.rows[0].rows"
    capture:
      delta: { expr: "(response.json.stg.rows[0].rows | int) - (steps.before.queries.stg.rows[0].rows | int)" }
"#;
    let c = sql_case(&ch, yaml);
    let out = run(&c, &[]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    let r = out.results();
    assert_eq!(r["steps"][2]["captures"]["delta"], 2);
    // The numbers match the server's.
    let rows = ch
        .rows("SELECT count() AS c FROM zakaz.stg_qtickets_api_orders_raw")
        .unwrap();
    assert_eq!(rows[0]["c"], "2");
}

#[test]
fn the_password_never_appears_in_any_artifact_or_on_the_console() {
    let ch = server();
    let yaml = r#"
name: secret
steps:
  - id: q
    sql:
      queries:
        echo:
          query: "SELECT {p:String} AS leaked"
          params: { p: "{{ env.CLICKHOUSE_PASSWORD }}" }
    artifacts:
      dump.txt: "{{ step.text }}"
"#;
    let c = sql_case(&ch, yaml);
    let out = run(&c, &[]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert!(!out.stdout.contains(PASSWORD) && !out.stderr.contains(PASSWORD));
    let mut n = 0;
    for entry in std::fs::read_dir(&out.out_dir).unwrap() {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        assert!(!text.contains(PASSWORD), "{text}");
        n += 1;
    }
    assert_eq!(n, 4);
    assert!(out.file("dump.txt").contains("***"));
}

#[test]
fn a_missing_loaded_at_column_is_recorded_and_the_snapshot_still_runs() {
    for with_column in [false, true] {
        let ch = ClickHouse::start_with_loaded_at(with_column).expect("ClickHouse");
        let yaml = r#"
name: loaded_at
steps:
  - id: after
    sql:
      queries:
        loaded_at:
          query: "SELECT max(_loaded_at) AS m FROM zakaz.stg_qtickets_api_orders_raw"
          optional: true
        fact: "SELECT count() AS rows FROM zakaz.fact_qtickets_sales_daily"
"#;
        let c = sql_case(&ch, yaml);
        let out = run(&c, &[]);
        assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
        let r = out.results();
        let error = &query(&r, 0, "loaded_at")["server_error"];
        assert_eq!(error.is_string(), !with_column, "{error}");
        assert_eq!(query(&r, 0, "fact")["code"], "OK");
    }
}

#[test]
fn prod_smoke_snapshots_clickhouse_and_reports_the_deltas() {
    let ch = server();
    ch.query(
        "INSERT INTO zakaz.fact_qtickets_sales_daily (sales_date, event_id, city, tickets_sold, revenue, _ver) \
         VALUES ('2025-11-04', '101', 'Москва', 3, 7500, 1), ('2025-11-05', '102', 'Казань', 1, 2500, 1), ('2025-11-05', '103', 'Казань', 2, 100, 1)",
    )
    .unwrap();
    let sb = sandbox();
    let root = env!("CARGO_MANIFEST_DIR");
    let yaml = std::fs::read_to_string(format!("{root}/scenarios/prod_smoke.yaml")).unwrap();
    let c = case(&sb, &yaml);
    let mut env = std::fs::read_to_string(&c.env_file).unwrap();
    env.push_str(&format!(
        "CLICKHOUSE_HOST=127.0.0.1\nCLICKHOUSE_PORT={}\nCLICKHOUSE_DB=zakaz\nCLICKHOUSE_USER={USER}\nCLICKHOUSE_PASSWORD={PASSWORD}\n",
        ch.http_port
    ));
    std::fs::write(&c.env_file, env).unwrap();
    let out = run(&c, &["--tags", "api,snapshot"]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    let report = out.file("qtickets_api_live.md");
    assert!(
        report.contains("| `zakaz.fact_qtickets_sales_daily` | 3 | 3 | +0 |"),
        "{report}"
    );
    assert!(
        report.contains("| `zakaz.stg_qtickets_api_orders_raw` | 0 | 0 | +0 |"),
        "{report}"
    );
    assert!(
        report.contains("**Fresh sales (DoD 4):** **yes**"),
        "{report}"
    );
    for name in [
        "qtickets_ch_state_before.txt",
        "qtickets_prod_run_before.txt",
        "qtickets_ch_state_after.txt",
    ] {
        let text = out.file(name);
        assert!(
            text.contains("-- fact") && !text.contains(PASSWORD) && !text.contains(TOKEN),
            "{name}: {text}"
        );
    }
    assert!(
        out.file("qtickets_ch_state_after.txt")
            .contains("| 3    | 2025-11-04 | 2025-11-05 | 10100   |"),
        "{}",
        out.file("qtickets_ch_state_after.txt")
    );
}
