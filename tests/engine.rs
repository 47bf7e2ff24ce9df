//! The binary against the real sandbox on 127.0.0.1.
mod support;

use std::time::Duration;

use qtickets_sandbox::{FaultKind, FaultRule};
use support::*;

fn attempts(v: &serde_json::Value, step: usize) -> Vec<serde_json::Value> {
    v["steps"][step]["attempts"].as_array().unwrap().clone()
}

#[test]
fn retries_through_503s_with_backoff_and_records_every_attempt() {
    let sb = sandbox();
    sb.add_fault(FaultRule::new(Some("GET"), "/events", FaultKind::Status(503)).with_times(2));
    let c = case(
        &sb,
        &format!("{HEAD}\nsteps:\n  - id: events\n    http: {{ path: /events }}\n"),
    );
    let out = run(&c, &[]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    let r = out.results();
    let a = attempts(&r, 0);
    let codes: Vec<&str> = a.iter().map(|x| x["code"].as_str().unwrap()).collect();
    assert_eq!(codes, ["503", "503", "200"]);
    assert_eq!(a[0]["retry_after_ms"], 100);
    assert_eq!(a[1]["retry_after_ms"], 200);
    // The recorded timestamps show the pauses.
    let t: Vec<jiff::Timestamp> = a
        .iter()
        .map(|x| x["started_at"].as_str().unwrap().parse().unwrap())
        .collect();
    assert!(t[1].duration_since(t[0]) >= jiff::SignedDuration::from_millis(100));
    assert!(t[2].duration_since(t[1]) >= jiff::SignedDuration::from_millis(200));
    assert!(
        a[0]["response"]["body"]
            .as_str()
            .unwrap()
            .contains("UNKNOWN_ERROR")
    );
    let errors: serde_json::Value = serde_json::from_str(&out.file("errors.json")).unwrap();
    assert_eq!(errors["count"], 2);
    assert_eq!(errors["errors"][0]["status"], 503);
}

#[test]
fn a_timeout_is_recorded_as_000_and_classified_no_response() {
    let sb = sandbox();
    sb.add_fault(FaultRule::new(
        Some("GET"),
        "/events",
        FaultKind::Delay(Duration::from_millis(1500)),
    ));
    let yaml = format!(
        "{HEAD}\nsteps:\n  - id: events\n    retry: {{ attempts: 2, backoff: {{ initial: 10ms }} }}\n    http: {{ path: /events, timeout: 300ms }}\n"
    );
    let c = case(&sb, &yaml);
    let out = run(&c, &[]);
    assert_eq!(out.code, 1);
    let r = out.results();
    let a = attempts(&r, 0);
    assert_eq!(a.len(), 2);
    assert!(
        a.iter()
            .all(|x| x["code"] == "000" && x["transport_error"]["kind"] == "timeout")
    );
    assert_eq!(r["steps"][0]["failure"]["class"], "no_response");
    let report = out.file("report.md");
    assert!(report.contains("| 000 |"), "{report}");
    assert!(report.contains("did not answer"), "{report}");
}

#[test]
fn a_dropped_connection_is_recorded_not_an_engine_error() {
    let sb = sandbox();
    sb.add_fault(FaultRule::new(Some("GET"), "/events", FaultKind::Drop));
    let yaml = format!(
        "{HEAD}\nsteps:\n  - id: events\n    retry: {{ attempts: 1 }}\n    http: {{ path: /events }}\n"
    );
    let c = case(&sb, &yaml);
    let out = run(&c, &[]);
    assert_eq!(out.code, 1);
    let r = out.results();
    assert_eq!(attempts(&r, 0)[0]["code"], "000");
    assert_eq!(r["steps"][0]["failure"]["class"], "no_response");
}

#[test]
fn pagination_keeps_every_parameter_and_changes_only_the_page() {
    let sb = sandbox();
    let yaml = format!(
        r#"{HEAD}
steps:
  - id: orders
    http:
      path: /orders
      query: {{ where: "{{{{ vars.where }}}}", per_page: 100, organization: irs-prod }}
      paginate: {{ until: "not (response.json | has_more)", collect: "$.data[*]" }}
    assert:
      - items: "$[*].payed_at"
        all: {{ gte: "{{{{ vars.window_from }}}}", lt: "{{{{ vars.window_to }}}}" }}
    capture:
      ids: {{ items: "$[*].id", all: true }}
"#
    );
    let c = case(&sb, &yaml);
    let out = run(&c, &[]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    let seen = sb.requests();
    assert!(
        seen.len() >= 3,
        "the 48 h window holds more than 200 orders: {}",
        seen.len()
    );
    for (i, req) in seen.iter().enumerate() {
        assert_eq!(req.query_param("page"), Some((i + 1).to_string().as_str()));
        assert_eq!(req.query_param("where"), seen[0].query_param("where"));
        assert_eq!(req.query_param("per_page"), Some("100"));
        assert_eq!(req.query_param("organization"), Some("irs-prod"));
        assert!(req.query_param("where").unwrap().contains("+03:00"));
    }
    let r = out.results();
    let ids = r["steps"][0]["captures"]["ids"].as_array().unwrap();
    assert_eq!(
        ids.len() as u64,
        r["steps"][0]["items_count"].as_u64().unwrap()
    );
    assert_eq!(attempts(&r, 0).len(), seen.len());
}

#[test]
fn get_with_a_json_body_reaches_the_server() {
    let sb = sandbox();
    let yaml = format!(
        r#"{HEAD}
steps:
  - id: orders
    http:
      method: GET
      path: /orders
      json: {{ where: "{{{{ vars.where }}}}", orderBy: {{ payed_at: desc }}, per_page: 5, page: 1 }}
    assert:
      - jsonpath: "$.data"
        length: 5
"#
    );
    let c = case(&sb, &yaml);
    let out = run(&c, &[]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    let req = &sb.requests()[0];
    assert_eq!(req.method, "GET");
    let body = req.body_json().expect("a JSON body on GET");
    assert_eq!(body["per_page"], 5);
    assert_eq!(body["where"][1]["value"], "2025-11-03T16:46:54+03:00");
    assert_eq!(req.header("content-type"), Some("application/json"));
}

#[test]
fn fallback_runs_when_the_request_fails_and_its_answer_is_judged() {
    let sb = sandbox();
    sb.add_fault(FaultRule::new(
        Some("GET"),
        "/orders",
        FaultKind::Status(503),
    ));
    let yaml = format!(
        r#"{HEAD}
steps:
  - id: orders
    retry: {{ attempts: 2, backoff: {{ initial: 10ms }} }}
    http: {{ method: GET, path: /orders, json: {{ per_page: 3 }} }}
    fallback:
      http: {{ method: POST, path: /orders, json: {{ per_page: 3 }} }}
    assert:
      - status: 200
"#
    );
    let c = case(&sb, &yaml);
    let out = run(&c, &[]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    let r = out.results();
    let a = attempts(&r, 0);
    let seen: Vec<(bool, &str, &str)> = a
        .iter()
        .map(|x| {
            (
                x["fallback"].as_bool().unwrap(),
                x["request"]["method"].as_str().unwrap(),
                x["code"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            (false, "GET", "503"),
            (false, "GET", "503"),
            (true, "POST", "200")
        ]
    );
    assert_eq!(r["steps"][0]["used_fallback"], true);
}

#[test]
fn secrets_are_absent_from_every_artifact_and_from_the_console() {
    let sb = sandbox();
    sb.add_fault(FaultRule::new(Some("GET"), "/events", FaultKind::Status(503)).with_times(1));
    let yaml = format!(
        r#"{HEAD}
steps:
  - id: events
    http:
      path: /events
      query: {{ token_echo: "{{{{ env.QTICKETS_TOKEN }}}}" }}
    assert:
      - header: content-type
        contains: "{{{{ env.QTICKETS_TOKEN }}}}"
    artifacts:
      echo.txt: "token={{{{ env.QTICKETS_TOKEN }}}}"
    notes: "sent {{{{ env.QTICKETS_TOKEN }}}}"
"#
    );
    let c = case(&sb, &yaml);
    let out = run(&c, &[]);
    assert_eq!(out.code, 1, "the header assertion fails: {}", out.stdout);
    // The token really was sent.
    assert!(
        sb.requests()[0]
            .header("authorization")
            .unwrap()
            .contains(TOKEN)
    );
    assert!(!out.stdout.contains(TOKEN) && !out.stderr.contains(TOKEN));
    let mut files = 0;
    for entry in std::fs::read_dir(&out.out_dir).unwrap() {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        assert!(!text.contains(TOKEN), "{text}");
        files += 1;
    }
    assert!(files >= 4);
    assert!(out.file("echo.txt").contains("token=***"));
    assert!(out.file("results.json").contains("Bearer ***"));
    // `plan` masks too.
    let (code, stdout, _) = qtscen(
        &[
            "plan",
            c.scenario.to_str().unwrap(),
            "--env-file",
            c.env_file.to_str().unwrap(),
        ],
        c.dir.path(),
    );
    assert_eq!(code, 0);
    assert!(
        stdout.contains("Authorization: Bearer ***") && !stdout.contains(TOKEN),
        "{stdout}"
    );
}

#[test]
fn needs_and_when_skip_with_the_reason() {
    let sb = sandbox();
    let yaml = format!(
        r#"{HEAD}
steps:
  - id: missing
    retry: {{ attempts: 1 }}
    http: {{ path: /orders/999999 }}
    capture: {{ id: {{ jsonpath: "$.data.id" }} }}
  - id: detail
    needs: [missing.id]
    http: {{ path: "/orders/{{{{ steps.missing.captures.id }}}}" }}
  - id: after
    needs: [missing]
    http: {{ path: /events }}
  - id: never
    when: "steps.missing.passed"
    http: {{ path: /events }}
  - id: always
    http: {{ path: /events }}
"#
    );
    let c = case(&sb, &yaml);
    let out = run(&c, &[]);
    assert_eq!(out.code, 1);
    let r = out.results();
    let outcome = |i: usize| r["steps"][i]["outcome"].as_str().unwrap().to_string();
    assert_eq!(r["steps"][0]["failure"]["class"], "rejected");
    assert_eq!(outcome(1), "skipped");
    assert_eq!(
        r["steps"][1]["skip_reason"],
        "needs `missing.id`, which is empty"
    );
    assert_eq!(
        r["steps"][2]["skip_reason"],
        "needs `missing`, which failed"
    );
    assert_eq!(outcome(3), "skipped");
    assert_eq!(outcome(4), "passed");
}

#[test]
fn tags_select_steps() {
    let sb = sandbox();
    let yaml = format!(
        "{HEAD}\nsteps:\n  - id: a\n    tags: [api]\n    http: {{ path: /events }}\n  - id: b\n    tags: [loader]\n    http: {{ path: /events }}\n"
    );
    let c = case(&sb, &yaml);
    let out = run(&c, &["--tags", "api"]);
    assert_eq!(out.code, 0);
    let r = out.results();
    assert_eq!(r["steps"][0]["outcome"], "passed");
    assert_eq!(r["steps"][1]["skip_reason"], "not selected by --tags api");
    assert_eq!(sb.requests().len(), 1);
}

#[test]
fn every_assertion_operator_fails_when_it_should_and_passes_when_it_should() {
    let sb = sandbox();
    let failing = r#"
      - { jsonpath: "$.meta.per_page", equals: 4 }
      - { jsonpath: "$.meta.per_page", not_equals: 3 }
      - { jsonpath: "$.meta.per_page", lt: 3 }
      - { jsonpath: "$.meta.per_page", lte: 2 }
      - { jsonpath: "$.meta.per_page", gt: 3 }
      - { jsonpath: "$.meta.per_page", gte: 4 }
      - { body: { contains: "no-such-text" } }
      - { body: { not_contains: "data" } }
      - { jsonpath: "$.data[0].currency_id", matches: "^USD$" }
      - { jsonpath: "$.nope", exists: true }
      - { jsonpath: "$.data", length: 4 }
      - { jsonpath: "$.data", type: object }
      - { status: { one_of: [201, 204] } }
      - { header: content-type, contains: xml }
      - { jsonpath: "$.data[*].currency_id", all: { equals: USD } }
      - { jsonpath: "$.data[*].currency_id", any: { equals: USD } }
      - { jsonpath: "$.data[*].currency_id", none: { equals: RUB } }
      - { jsonpath: "$.data[*].created_at", all: { lt: "2000-01-01T00:00:00+03:00" } }
      - { jsonpath: "$.data[*].created_at", all: { gt: "2000-01-01T00:00:00+03:00" }, allow_empty: false, name: control-pass }
      - { expr: "response.status == 500" }
      - all_of: [ { status: 200 }, { jsonpath: "$.meta.per_page", equals: 9 } ]
      - any_of: [ { status: 500 }, { jsonpath: "$.meta.per_page", equals: 9 } ]
"#;
    let passing = r#"
      - { jsonpath: "$.meta.per_page", equals: "3" }
      - { jsonpath: "$.meta.per_page", not_equals: 4 }
      - { jsonpath: "$.meta.per_page", lt: 4 }
      - { jsonpath: "$.meta.per_page", lte: 3 }
      - { jsonpath: "$.meta.per_page", gt: 2 }
      - { jsonpath: "$.meta.per_page", gte: 3 }
      - { body: { contains: "data" } }
      - { body: { not_contains: "no-such-text" } }
      - { jsonpath: "$.data[0].currency_id", matches: "^RUB$" }
      - { jsonpath: "$.nope", exists: false }
      - { jsonpath: "$.data", length: { gte: 3, lt: 4 } }
      - { jsonpath: "$.data", type: array }
      - { status: { one_of: [200, 204] } }
      - { header: content-type, contains: json }
      - { jsonpath: "$.data[*].currency_id", all: { equals: RUB } }
      - { jsonpath: "$.data[*].created_at", all: { type: datetime, lt: "2025-11-05T16:46:54+03:00" } }
      - { jsonpath: "$.data[0].created_at", equals: "{{ response.json.data[0].created_at | tz('UTC') }}" }
      - { expr: "response.status == 200" }
      - any_of: [ { status: 500 }, { jsonpath: "$.meta.per_page", equals: 3 } ]
"#;
    let yaml = format!(
        "{HEAD}\nsteps:\n  - id: bad\n    http: {{ path: /orders, json: {{ per_page: 3 }} }}\n    assert:{failing}  - id: good\n    http: {{ path: /orders, json: {{ per_page: 3 }} }}\n    assert:{passing}"
    );
    let c = case(&sb, &yaml);
    let out = run(&c, &[]);
    assert_eq!(out.code, 1);
    let r = out.results();
    let bad = r["steps"][0]["assertions"].as_array().unwrap();
    assert_eq!(bad.len(), 22, "{bad:#?}");
    for a in bad {
        let should_pass = a["description"] == "control-pass";
        assert_eq!(a["passed"].as_bool(), Some(should_pass), "{a:#}");
    }
    assert_eq!(r["steps"][0]["failure"]["class"], "assertion");
    let good = r["steps"][1]["assertions"].as_array().unwrap();
    for a in good {
        assert_eq!(a["passed"], true, "{a:#}");
    }
    assert_eq!(r["steps"][1]["outcome"], "passed");
}

#[test]
fn ctrl_c_exits_130_and_still_writes_the_partial_report() {
    let sb = sandbox();
    sb.add_fault(FaultRule::new(
        Some("GET"),
        "/events",
        FaultKind::Delay(Duration::from_secs(10)),
    ));
    let yaml = format!(
        "{HEAD}\nsteps:\n  - id: first\n    http: {{ path: /orders/1440 }}\n  - id: slow\n    http: {{ path: /events, timeout: 30s }}\n  - id: after\n    http: {{ path: /orders/1440 }}\n"
    );
    let c = case(&sb, &yaml);
    let out_dir = c.dir.path().join("out");
    let mut child = run_command(&c, &out_dir)
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Wait (bounded) until the slow request has reached the server.
    for _ in 0..100 {
        if sb.requests().iter().any(|r| r.path.ends_with("/events")) {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(100));
    let killed = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130));
    let r: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out_dir.join("results.json")).unwrap())
            .unwrap();
    assert_eq!(r["outcome"], "interrupted");
    assert_eq!(r["steps"][0]["outcome"], "passed");
    assert_eq!(r["steps"][2]["skip_reason"], "the run was interrupted");
    assert!(out_dir.join("report.md").exists());
}

#[test]
fn retry_after_from_the_server_sets_the_pause() {
    let sb = sandbox();
    sb.add_fault(
        FaultRule::new(Some("GET"), "/events", FaultKind::Status(429))
            .with_times(1)
            .with_retry_after(1),
    );
    let yaml = format!(
        "{HEAD}\nsteps:\n  - id: events\n    retry: {{ attempts: 2, backoff: {{ initial: 10ms, max: 5s }} }}\n    http: {{ path: /events }}\n"
    );
    let c = case(&sb, &yaml);
    let out = run(&c, &[]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    let r = out.results();
    let a = attempts(&r, 0);
    assert_eq!(a[0]["code"], "429");
    assert_eq!(a[0]["retry_after_ms"], 1000);
    let seen = sb.requests();
    assert!(seen[1].time.duration_since(seen[0].time) >= jiff::SignedDuration::from_millis(1000));
}

#[test]
fn a_health_check_retries_until_its_deadline() {
    // A port nobody listens on: every attempt is refused.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let dir = tempfile::tempdir().unwrap();
    let yaml = format!(
        "name: health\nsteps:\n  - id: ping\n    http: {{ url: \"http://127.0.0.1:{port}/ping\", use_defaults: false, timeout: 1s }}\n    retry: {{ attempts: 100, backoff: {{ kind: fixed, initial: 100ms }}, deadline: 700ms }}\n    assert:\n      - body: {{ contains: \"Ok.\" }}\n"
    );
    std::fs::write(dir.path().join("s.yaml"), yaml).unwrap();
    let (code, stdout, _) = qtscen(&["run", "s.yaml", "--out", "out"], dir.path());
    assert_eq!(code, 1, "{stdout}");
    let r: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("out/results.json")).unwrap(),
    )
    .unwrap();
    let n = r["steps"][0]["attempts"].as_array().unwrap().len();
    assert!(
        (2..=9).contains(&n),
        "the 700 ms deadline stops the retries long before 100 attempts, got {n}"
    );
    assert_eq!(r["steps"][0]["failure"]["class"], "no_response");
}

#[test]
fn use_defaults_false_sends_nothing_from_the_defaults() {
    let sb = sandbox();
    let yaml = format!(
        "{HEAD}\nsteps:\n  - id: other_server\n    http: {{ url: \"{}/events\", use_defaults: false }}\n    assert:\n      - status: 401\n",
        sb.base_url()
    );
    let c = case(&sb, &yaml);
    let out = run(&c, &[]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert_eq!(
        sb.requests()[0].header("authorization"),
        None,
        "the token stays home"
    );
}

#[test]
fn an_unknown_tag_is_an_error_not_an_empty_pass() {
    let sb = sandbox();
    let c = case(
        &sb,
        &format!("{HEAD}\nsteps:\n  - id: a\n    tags: [api]\n    http: {{ path: /events }}\n"),
    );
    let out = run(&c, &["--tags", "apii"]);
    assert_eq!(out.code, 2);
    assert!(
        out.stderr
            .contains("no step has the tag `apii`; the scenario's tags are: api"),
        "{}",
        out.stderr
    );
    assert!(sb.requests().is_empty());
}

#[test]
fn secret_looking_vars_and_process_env_are_masked() {
    let sb = sandbox();
    // `--var` sets a var the scenario declares.
    let head = HEAD.replacen("vars:\n", "vars:\n  API_KEY: \"\"\n", 1);
    let yaml = format!(
        "{head}\nsteps:\n  - id: echo\n    exec: {{ shell: \"echo key=$DEPLOY_TOKEN\", pass_env: false }}\n  - id: q\n    http: {{ path: /events, query: {{ k: \"{{{{ vars.API_KEY }}}}\" }} }}\n"
    );
    let c = case(&sb, &yaml);
    let out_dir = c.dir.path().join("out");
    let output = run_command(&c, &out_dir)
        .args(["--var", "API_KEY=k3y-VALUE-99"])
        .env("DEPLOY_TOKEN", "dep-TOKEN-1234")
        .output()
        .unwrap();
    let console = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(output.status.code(), Some(0), "{console}");
    assert!(
        sb.requests()[0].query_param("k") == Some("k3y-VALUE-99"),
        "the value was sent"
    );
    for secret in ["k3y-VALUE-99", "dep-TOKEN-1234"] {
        assert!(!console.contains(secret), "{console}");
        for entry in std::fs::read_dir(&out_dir).unwrap() {
            let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
            assert!(!text.contains(secret), "{secret} in {text}");
        }
    }
}
