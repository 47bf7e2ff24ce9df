//! Snapshots of the Markdown report of prod_smoke.yaml under a fixed `--now`.
mod common;

use common::*;
use qtscen::sandbox::{FaultKind, FaultRule};

fn filtered(text: &str, port: u16, scenario: &str) -> String {
    let text = text
        .replace(scenario, "scenario.yaml")
        .replace(&port.to_string(), "PORT");
    let ms = regex::Regex::new(r"\b\d+ ms\b").unwrap();
    let stamp = regex::Regex::new(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)\.\d{3}").unwrap();
    let text = ms.replace_all(&text, "N ms");
    stamp.replace_all(&text, "$1.mmm").into_owned()
}

#[test]
fn prod_smoke_report_with_a_retry_and_a_failing_post() {
    let sb = sandbox();
    sb.add_fault(FaultRule::new(Some("GET"), "/orders", FaultKind::Status(503)).with_times(1));
    sb.add_fault(FaultRule::new(
        Some("POST"),
        "/orders",
        FaultKind::Status(503),
    ));
    let root = env!("CARGO_MANIFEST_DIR");
    let yaml = std::fs::read_to_string(format!("{root}/scenarios/prod_smoke.yaml")).unwrap();
    // Same scenario, with pauses short enough for a test.
    let yaml = yaml.replace("initial: 1s, max: 10s", "initial: 10ms, max: 20ms");
    let c = case(&sb, &yaml);
    let out = run(&c, &["--tags", "api"]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    let port = sb.addr().port();
    insta::assert_snapshot!(
        "prod_smoke_report",
        filtered(
            &out.file("qtickets_api_live.md"),
            port,
            c.scenario.to_str().unwrap()
        )
    );
    let errors: serde_json::Value =
        serde_json::from_str(&out.file("qtickets_api_errors.json")).unwrap();
    assert_eq!(errors["count"], 4, "one GET 503 and three POST 503s");
}

#[test]
fn render_rebuilds_the_same_report_from_results_json() {
    let sb = sandbox();
    let root = env!("CARGO_MANIFEST_DIR");
    let yaml = std::fs::read_to_string(format!("{root}/scenarios/prod_smoke.yaml")).unwrap();
    let c = case(&sb, &yaml);
    let out = run(&c, &["--tags", "api"]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    let first = out.file("qtickets_api_live.md");
    std::fs::remove_file(out.out_dir.join("qtickets_api_live.md")).unwrap();
    let (code, stdout, stderr) = qtscen(&["render", out.out_dir.to_str().unwrap()], c.dir.path());
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert_eq!(out.file("qtickets_api_live.md"), first);
}
