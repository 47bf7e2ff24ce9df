//! Suites through the binary against the real sandbox: `run PATH...` over files, folders
//! and globs, the suite summary, the worst exit code, secrets kept apart, `-j 1`.
mod support;

use support::suite::*;
use support::*;

#[test]
fn a_mixed_suite_runs_with_the_worst_exit_code_and_a_summary() {
    let sb = sandbox();
    let tmp = tempfile::tempdir().unwrap();
    let env = env_file(&sb, tmp.path());
    let out = tmp.path().join("suite");
    let (code, stdout, stderr) = qtscen(
        &[
            "run",
            "scenarios/",
            "tests/fixtures/suite/",
            "-j",
            "4",
            "--tags",
            "api",
            "--env-file",
            &env,
            "--now",
            "2025-11-05T13:46:54Z",
            "--out",
            out.to_str().unwrap(),
        ],
        &root(),
    );
    assert_eq!(code, 1, "{stdout}{stderr}");
    let suite = read_json(&out.join("suite.json"));
    assert_eq!(
        verdicts(&suite),
        [
            ("scenarios/ads_smoke.yaml", "skipped"),
            ("scenarios/prod_smoke.yaml", "passed"),
            ("tests/fixtures/suite/event_detail_ok.yaml", "passed"),
            ("tests/fixtures/suite/events_fail.yaml", "failed"),
            ("tests/fixtures/suite/events_ok.yaml", "passed"),
            ("tests/fixtures/suite/slow_only.yaml", "skipped"),
        ]
        .map(|(f, v)| (f.to_string(), v.to_string()))
    );
    assert_eq!(suite["outcome"], "failed");
    assert_eq!(suite["exit_code"], 1);
    assert_eq!(suite["jobs"], 4);
    assert_eq!(suite["summary"]["passed"], 3);
    assert_eq!(suite["summary"]["skipped"], 2);
    let failing = &suite["scenarios"][3];
    assert_eq!(failing["folder"], "tests__fixtures__suite__events_fail");
    assert_eq!(failing["failed_steps"][0]["id"], "events_created");
    assert_eq!(failing["failed_steps"][0]["class"], "assertion");
    assert_eq!(
        failing["report"],
        "tests__fixtures__suite__events_fail/report.md"
    );
    assert_eq!(
        suite["scenarios"][0]["reason"],
        "--tags api selects no step"
    );
    // Each scenario that ran has its own evidence folder.
    for folder in [
        "scenarios__prod_smoke",
        "tests__fixtures__suite__event_detail_ok",
        "tests__fixtures__suite__events_fail",
        "tests__fixtures__suite__events_ok",
    ] {
        assert!(out.join(folder).join("results.json").is_file(), "{folder}");
    }
    for s in suite["scenarios"].as_array().unwrap() {
        if let Some(report) = s["report"].as_str() {
            assert!(out.join(report).is_file(), "{report}");
        }
    }
    assert_eq!(
        suite["scenarios"][1]["report"],
        "scenarios__prod_smoke/qtickets_api_live.md"
    );
    assert!(!out.join("scenarios__ads_smoke").exists());
    let md = std::fs::read_to_string(out.join("suite.md")).unwrap();
    assert!(md.starts_with("# Suite FAILED: 6 scenario(s)"), "{md}");
    assert!(
        md.contains("[report](<tests__fixtures__suite__events_fail/report.md>)"),
        "{md}"
    );
    assert!(md.contains("`events_created` (assertion)"), "{md}");
    assert!(
        md.contains("3 passed, 1 failed, 2 skipped, 0 interrupted, 0 not run"),
        "{md}"
    );
    // JUnit: a testsuite per scenario, skipped ones included.
    let xml = std::fs::read_to_string(out.join("junit.xml")).unwrap();
    let doc = roxmltree::Document::parse(&xml).unwrap();
    support::junit::conforms_to_junit_schema(&doc);
    let suites: Vec<&str> = doc
        .descendants()
        .filter(|n| n.has_tag_name("testsuite"))
        .map(|n| n.attribute("name").unwrap())
        .collect();
    assert_eq!(
        suites,
        [
            "ads_smoke",
            "qtickets_prod_smoke",
            "suite_event_detail_ok",
            "suite_events_fail",
            "suite_events_ok",
            "suite_slow_only"
        ]
    );
    // The console: a line per scenario, the table, the closing line.
    assert!(
        stdout.contains("FAILED      suite_events_fail (tests/fixtures/suite/events_fail.yaml)"),
        "{stdout}"
    );
    assert!(
        stdout.contains("SUITE FAILED: 6 scenario(s): 3 passed, 1 failed, 2 skipped"),
        "{stdout}"
    );
    assert!(!stdout.contains(TOKEN) && !stderr.contains(TOKEN));
    assert!(!all_text(&out).contains(TOKEN));
}

#[test]
fn with_j_1_each_scenario_prints_as_a_single_run_and_globs_pick_files() {
    let sb = sandbox();
    let tmp = tempfile::tempdir().unwrap();
    let env = env_file(&sb, tmp.path());
    let out = tmp.path().join("suite");
    let (code, stdout, stderr) = qtscen(
        &[
            "run",
            "tests/fixtures/suite/events_*.yaml",
            "-j",
            "1",
            "--env-file",
            &env,
            "--out",
            out.to_str().unwrap(),
            "--junit",
            tmp.path().join("ci/junit.xml").to_str().unwrap(),
        ],
        &root(),
    );
    assert_eq!(code, 1, "{stdout}{stderr}");
    // Today's single-run lines, one scenario after the other, in path order.
    let fail = stdout
        .find("— suite_events_fail (tests/fixtures/suite/events_fail.yaml)")
        .expect(&stdout);
    let ok = stdout
        .find("— suite_events_ok (tests/fixtures/suite/events_ok.yaml)")
        .expect(&stdout);
    assert!(fail < ok, "{stdout}");
    assert!(stdout.contains("FAILED: 0 passed, 1 failed"), "{stdout}");
    assert!(stdout.contains("PASSED: 1 passed, 0 failed"), "{stdout}");
    assert!(
        stdout.contains("SUITE FAILED: 2 scenario(s): 1 passed, 1 failed"),
        "{stdout}"
    );
    assert!(stdout.contains(&format!("summary: {}", out.join("suite.md").display())));
    let suite = read_json(&out.join("suite.json"));
    assert_eq!(suite["summary"]["scenarios"], 2);
    let copy = std::fs::read_to_string(tmp.path().join("ci/junit.xml")).unwrap();
    assert_eq!(
        copy,
        std::fs::read_to_string(out.join("junit.xml")).unwrap()
    );
}

#[test]
fn one_invalid_file_stops_the_suite_before_anything_runs() {
    let sb = sandbox();
    let tmp = tempfile::tempdir().unwrap();
    let env = env_file(&sb, tmp.path());
    let dir = tmp.path().join("s");
    std::fs::create_dir(&dir).unwrap();
    let good = std::fs::read_to_string(root().join("tests/fixtures/suite/events_ok.yaml")).unwrap();
    std::fs::write(dir.join("a_good.yaml"), &good).unwrap();
    std::fs::write(
        dir.join("b_broken.yaml"),
        "name: broken\nsteps:\n  - id: a\n    http: { path: /events, methd: GET }\n",
    )
    .unwrap();
    std::fs::write(dir.join("notes.txt"), "not a scenario").unwrap();
    let out = tmp.path().join("out");
    let (code, stdout, stderr) = qtscen(
        &[
            "run",
            "s",
            "--env-file",
            &env,
            "--out",
            out.to_str().unwrap(),
        ],
        tmp.path(),
    );
    assert_eq!(code, 2, "{stdout}{stderr}");
    assert!(stderr.contains("s/b_broken.yaml:4:"), "{stderr}");
    assert!(stderr.contains("unknown field `methd`"), "{stderr}");
    assert!(stderr.contains("nothing was run"), "{stderr}");
    assert!(sb.requests().is_empty(), "a request was sent");
    assert!(!out.exists());
    // An unknown tag, across the suite, is an error too.
    std::fs::remove_file(dir.join("b_broken.yaml")).unwrap();
    let (code, _, stderr) = qtscen(
        &["run", "s", "--env-file", &env, "--tags", "nope"],
        tmp.path(),
    );
    assert_eq!(code, 2);
    assert!(
        stderr.contains("no step of any scenario has the tag `nope`"),
        "{stderr}"
    );
    assert!(sb.requests().is_empty());
}

/// A scenario that sends its own secret and fails on an assertion quoting it.
/// (`tests/fixtures/suite_secrets/`, not `suite/`: a suite test runs every file in that one.)
fn secret_scenario(name: &str, var: &str) -> String {
    support::fixture("suite_secrets/own_secret.yaml")
        .replace("SCENARIO_NAME", name)
        .replace("OWN_SECRET", var)
}

#[test]
fn secrets_of_two_scenarios_never_cross() {
    let sb = sandbox();
    let tmp = tempfile::tempdir().unwrap();
    let env = env_file(&sb, tmp.path());
    let dir = tmp.path().join("s");
    std::fs::create_dir(&dir).unwrap();
    let (alpha, bravo) = ("alpha-Secret-7f3a91", "bravo-Secret-2c8e44");
    std::fs::write(
        dir.join("alpha.yaml"),
        secret_scenario("alpha", "ALPHA_TOKEN"),
    )
    .unwrap();
    std::fs::write(dir.join("alpha.env"), format!("ALPHA_TOKEN={alpha}\n")).unwrap();
    std::fs::write(
        dir.join("bravo.yaml"),
        secret_scenario("bravo", "BRAVO_TOKEN"),
    )
    .unwrap();
    std::fs::write(dir.join("bravo.env"), format!("BRAVO_TOKEN={bravo}\n")).unwrap();
    let out = tmp.path().join("out");
    let (code, stdout, stderr) = qtscen(
        &[
            "run",
            "s/",
            "-j",
            "2",
            "--env-file",
            &env,
            "--out",
            out.to_str().unwrap(),
        ],
        tmp.path(),
    );
    assert_eq!(code, 1, "{stdout}{stderr}");
    // Each secret really went out, so there was something to leak.
    let sent: Vec<String> = sb.requests().iter().map(|r| r.query.clone()).collect();
    assert!(sent.iter().any(|q| q.contains(alpha)), "{sent:?}");
    assert!(sent.iter().any(|q| q.contains(bravo)), "{sent:?}");
    let a = all_text(&out.join("s__alpha"));
    let b = all_text(&out.join("s__bravo"));
    assert!(a.contains("***") && b.contains("***"));
    for secret in [alpha, bravo, "Secret-7f3a", "Secret-2c8e"] {
        assert!(!a.contains(secret), "alpha's evidence holds {secret}");
        assert!(!b.contains(secret), "bravo's evidence holds {secret}");
        for f in ["suite.md", "suite.json", "junit.xml"] {
            let text = std::fs::read_to_string(out.join(f)).unwrap();
            assert!(!text.contains(secret), "{f} holds {secret}");
        }
        assert!(
            !stdout.contains(secret) && !stderr.contains(secret),
            "{stdout}"
        );
    }
    // The suite JUnit quotes the failed checks, masked.
    let xml = std::fs::read_to_string(out.join("junit.xml")).unwrap();
    assert!(xml.contains("expected == ***, got "), "{xml}");
}
