//! Evidence for CI: the JUnit XML of a run (`builtin:junit`, `--junit FILE`).
mod support;

use qtickets_sandbox::{FaultKind, FaultRule};
use support::*;

/// A run with a passing step, a server error, a failed check, a step skipped for its
/// `needs` and one left out by the tags.
fn failing_case(sb: &qtickets_sandbox::SandboxHandle) -> Case {
    sb.add_fault(FaultRule::new(
        Some("GET"),
        "/orders",
        FaultKind::Status(503),
    ));
    let yaml = with_head("ci/failing.yaml");
    case(sb, &yaml)
}

struct Case_ {
    name: String,
    classname: String,
    failure: Option<(String, String, String)>,
    skipped: Option<String>,
    system_out: String,
}

fn parse(xml: &str) -> (String, Vec<Case_>) {
    let doc = roxmltree::Document::parse(xml).expect("the JUnit file is XML");
    support::junit::conforms_to_junit_schema(&doc);
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "testsuites");
    let suites: Vec<_> = root
        .children()
        .filter(|n| n.has_tag_name("testsuite"))
        .collect();
    assert_eq!(suites.len(), 1, "one testsuite per scenario");
    let suite = suites[0];
    let cases = suite
        .children()
        .filter(|n| n.has_tag_name("testcase"))
        .map(|c| {
            let child = |name: &str| c.children().find(|n| n.has_tag_name(name));
            Case_ {
                name: c.attribute("name").unwrap_or_default().into(),
                classname: c.attribute("classname").unwrap_or_default().into(),
                failure: child("failure").or_else(|| child("error")).map(|f| {
                    (
                        f.attribute("type").unwrap_or_default().to_string(),
                        f.attribute("message").unwrap_or_default().to_string(),
                        f.text().unwrap_or_default().to_string(),
                    )
                }),
                skipped: child("skipped")
                    .map(|s| s.attribute("message").unwrap_or_default().to_string()),
                system_out: child("system-out")
                    .and_then(|s| s.text())
                    .unwrap_or_default()
                    .to_string(),
            }
        })
        .collect();
    for (attr, want) in [("tests", "5"), ("failures", "2"), ("skipped", "2")] {
        assert_eq!(suite.attribute(attr), Some(want), "testsuite {attr}");
    }
    (suite.attribute("name").unwrap_or_default().into(), cases)
}

#[test]
fn junit_names_each_step_its_failure_class_and_what_was_skipped() {
    let sb = sandbox();
    let c = failing_case(&sb);
    let junit = c.dir.path().join("ci/junit.xml");
    let out = run(&c, &["--tags", "api", "--junit", junit.to_str().unwrap()]);
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    let from_flag = std::fs::read_to_string(&junit).unwrap();
    let from_output = out.file("junit.xml");
    assert_eq!(
        from_flag, from_output,
        "the flag and the output write the same XML"
    );
    assert!(!from_flag.contains(TOKEN), "{from_flag}");
    let (suite, cases) = parse(&from_flag);
    assert_eq!(suite, "test");
    let names: Vec<&str> = cases.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["event", "orders", "wrong", "after_orders", "other"]);
    assert!(cases.iter().all(|c| c.classname == "test"));
    let by = |n: &str| cases.iter().find(|c| c.name == n).unwrap();
    assert!(by("event").failure.is_none() && by("event").skipped.is_none());
    let (class, message, text) = by("orders").failure.clone().unwrap();
    assert_eq!(class, "server_error");
    assert!(message.contains("503"), "{message}");
    assert!(text.contains("expected"), "{text}");
    let attempts = &by("orders").system_out;
    assert_eq!(attempts.matches("GET ").count(), 2, "{attempts}");
    assert!(attempts.contains("attempt 1/2") && attempts.contains("-> 503"));
    let (class, _, text) = by("wrong").failure.clone().unwrap();
    assert_eq!(class, "assertion");
    assert!(text.contains("expected == 201, actual 200"), "{text}");
    assert!(
        by("after_orders")
            .skipped
            .as_deref()
            .is_some_and(|m| m.contains("needs `orders`")),
        "{:?}",
        by("after_orders").skipped
    );
    assert!(by("other").skipped.as_deref().unwrap().contains("--tags"));
    // The Bearer token was sent on every attempt; the XML shows it nowhere.
    assert!(out.file("results.json").contains("Bearer ***"));
}

#[test]
fn the_curl_line_of_a_failing_attempt_reproduces_the_503_with_the_secret_put_back() {
    let sb = sandbox();
    sb.add_fault(FaultRule::new(
        Some("GET"),
        "/orders",
        FaultKind::Status(503),
    ));
    let yaml = with_head("ci/curl_line.yaml");
    let c = case(&sb, &yaml);
    let out = run(&c, &[]);
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    let results = out.results();
    let attempts = results["steps"][0]["attempts"].as_array().unwrap();
    assert_eq!(attempts.len(), 2);
    let line = attempts[0]["curl"].as_str().unwrap();
    assert!(line.starts_with("curl -X GET "), "{line}");
    assert!(line.contains("'Authorization: Bearer ***'"), "{line}");
    assert!(line.contains(" --data-raw "), "{line}");
    assert!(!line.contains(TOKEN));
    // The report shows the failing attempts' requests: headers, body, the curl line.
    let report = out.file("report.md");
    assert_eq!(report.matches("**Failing request**").count(), 2, "{report}");
    assert!(report.contains("`Authorization: Bearer ***`"), "{report}");
    assert!(report.contains("Request body:"), "{report}");
    assert!(report.contains(&format!("```sh\n{line}\n```")), "{report}");
    assert!(!report.contains(TOKEN));
    // Pasted into a shell with the secret filled in, it gets the same answer.
    let filled = line.replace("***", TOKEN);
    let curl = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("{filled} -sS -o /dev/null -w '%{{http_code}}'"))
        .output()
        .expect("sh and curl run");
    assert_eq!(
        String::from_utf8_lossy(&curl.stdout),
        "503",
        "{}",
        String::from_utf8_lossy(&curl.stderr)
    );
    // Without the fault the same line is accepted: the token, query and body are right.
    sb.clear_faults();
    let curl = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("{filled} -sS -o /dev/null -w '%{{http_code}}'"))
        .output()
        .expect("sh and curl run");
    assert_eq!(String::from_utf8_lossy(&curl.stdout), "200");
}

#[test]
fn step_runs_the_asked_steps_and_what_they_need() {
    let sb = sandbox();
    let yaml = with_head("ci/step_needs.yaml");
    let c = case(&sb, &yaml);
    let out = run(&c, &["--step", "d"]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    let results = out.results();
    assert_eq!(results["only_steps"], serde_json::json!(["d"]));
    assert_eq!(results["needed_steps"], serde_json::json!(["a", "b"]));
    let outcome = |i: usize| {
        (
            results["steps"][i]["selected"].as_bool().unwrap(),
            results["steps"][i]["outcome"].as_str().unwrap().to_string(),
        )
    };
    assert_eq!(outcome(0), (true, "passed".into()));
    assert_eq!(outcome(1), (true, "passed".into()));
    assert_eq!(outcome(2), (false, "skipped".into()));
    assert_eq!(outcome(3), (true, "passed".into()));
    assert_eq!(
        results["steps"][2]["skip_reason"],
        "not selected by --step d"
    );
    let report = out.file("report.md");
    assert!(
        report.contains("| Steps | only d (`--step`), with a, b that they need |"),
        "{report}"
    );
    let (code, _, stderr) = qtscen(
        &[
            "run",
            c.scenario.to_str().unwrap(),
            "--env-file",
            c.env_file.to_str().unwrap(),
            "--step",
            "dd",
        ],
        c.dir.path(),
    );
    assert_eq!(code, 2);
    assert!(
        stderr.contains("--step dd: no step has this id (did you mean `d`?)"),
        "{stderr}"
    );
}
