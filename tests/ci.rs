//! Evidence for CI: the JUnit XML of a run (`builtin:junit`, `--junit FILE`).
mod common;

use common::*;
use qtscen::sandbox::{FaultKind, FaultRule};

/// A run with a passing step, a server error, a failed check, a step skipped for its
/// `needs` and one left out by the tags.
fn failing_case(sb: &qtscen::sandbox::SandboxHandle) -> Case {
    sb.add_fault(FaultRule::new(
        Some("GET"),
        "/orders",
        FaultKind::Status(503),
    ));
    let yaml = format!(
        r#"{HEAD}
report:
  outputs:
    - {{ template: "builtin:markdown", path: report.md }}
    - {{ template: "builtin:junit", path: junit.xml }}
steps:
  - id: event
    tags: [api]
    http: {{ path: /events }}
  - id: orders
    tags: [api]
    http: {{ path: /orders }}
    retry: {{ attempts: 2, backoff: {{ kind: fixed, initial: 10ms }} }}
  - id: wrong
    tags: [api]
    http: {{ path: /events }}
    assert:
      - status: 201
  - id: after_orders
    tags: [api]
    needs: [orders]
    http: {{ path: /events }}
  - id: other
    tags: [db]
    http: {{ path: /events }}
"#
    );
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
