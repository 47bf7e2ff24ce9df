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
    let c = case(&sb, &with_head("engine/events.yaml"));
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
    let yaml = with_head("engine/timeout.yaml");
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
    let yaml = with_head("engine/one_attempt.yaml");
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
    let yaml = with_head("engine/paginate.yaml");
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
    let yaml = with_head("engine/get_with_json.yaml");
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
    let yaml = with_head("engine/fallback.yaml");
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
    let yaml = with_head("engine/secrets.yaml");
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
    let yaml = with_head("engine/needs_and_when.yaml");
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
    let yaml = with_head("engine/tags.yaml");
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
    // 22 assertions on `bad` (one of them, `control-pass`, passes), every one on `good` passes.
    let yaml = with_head("engine/assertion_operators.yaml");
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
    let yaml = with_head("engine/slow_between.yaml");
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
    let yaml = with_head("engine/retry_after.yaml");
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
    let yaml =
        fixture("engine/health_check.yaml").replace("127.0.0.1:PORT", &format!("127.0.0.1:{port}"));
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
    // The sandbox's URL, from the env file rather than from `defaults.http.base_url`.
    let yaml = with_head("engine/use_defaults_false.yaml");
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
    let c = case(&sb, &with_head("engine/api_tag.yaml"));
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
    let yaml = [head, fixture("engine/masked_vars.yaml")].concat();
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
