//! Suites that stop early, through the binary against the real sandbox: `--fail-fast`
//! and Ctrl-C.
mod support;

use std::time::Duration;

use qtickets_sandbox::{FaultKind, FaultRule};
use support::suite::*;
use support::*;

#[test]
fn fail_fast_starts_no_scenario_after_a_failure() {
    let sb = sandbox();
    let tmp = tempfile::tempdir().unwrap();
    let env = env_file(&sb, tmp.path());
    let out = tmp.path().join("suite");
    let (code, stdout, stderr) = qtscen(
        &[
            "run",
            "tests/fixtures/suite",
            "-j",
            "1",
            "--fail-fast",
            "--env-file",
            &env,
            "--out",
            out.to_str().unwrap(),
        ],
        &root(),
    );
    assert_eq!(code, 1, "{stdout}{stderr}");
    let suite = read_json(&out.join("suite.json"));
    let v: Vec<String> = verdicts(&suite).into_iter().map(|(_, v)| v).collect();
    assert_eq!(v, ["passed", "failed", "not_run", "not_run"]);
    assert_eq!(suite["fail_fast"], true);
    assert!(
        suite["scenarios"][2]["reason"]
            .as_str()
            .unwrap()
            .contains("--fail-fast")
    );
    assert!(!out.join("tests__fixtures__suite__events_ok").exists());
}

#[test]
fn ctrl_c_stops_every_running_scenario_and_writes_the_suite() {
    let sb = sandbox();
    sb.add_fault(FaultRule::new(
        Some("GET"),
        "/events",
        FaultKind::Delay(Duration::from_secs(20)),
    ));
    let tmp = tempfile::tempdir().unwrap();
    let env = env_file(&sb, tmp.path());
    let dir = tmp.path().join("s");
    std::fs::create_dir(&dir).unwrap();
    let yaml = std::fs::read_to_string(root().join("tests/fixtures/suite/events_ok.yaml")).unwrap();
    for n in 1..=3 {
        let own = yaml.replace("name: suite_events_ok", &format!("name: slow_{n}"));
        std::fs::write(dir.join(format!("slow_{n}.yaml")), own).unwrap();
    }
    let out = tmp.path().join("out");
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_qtscen"))
        .args(["run", "s", "-j", "2", "--env-file", &env, "--out"])
        .arg(&out)
        .current_dir(tmp.path())
        .env("NO_COLOR", "1")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    for _ in 0..400 {
        if sb.requests().len() >= 2 {
            break;
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    assert_eq!(
        sb.requests().len(),
        2,
        "two scenarios wait on the slow server"
    );
    std::thread::sleep(Duration::from_millis(200));
    let killed = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let started = std::time::Instant::now();
    let output = child.wait_with_output().unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "it waited for the server"
    );
    assert_eq!(output.status.code(), Some(130));
    let suite = read_json(&out.join("suite.json"));
    assert_eq!(suite["outcome"], "interrupted");
    assert_eq!(suite["exit_code"], 130);
    let v: Vec<String> = verdicts(&suite).into_iter().map(|(_, v)| v).collect();
    assert_eq!(v, ["interrupted", "interrupted", "not_run"]);
    for n in 1..=2 {
        let r = read_json(&out.join(format!("s__slow_{n}/results.json")));
        assert_eq!(r["outcome"], "interrupted");
        assert_eq!(
            r["steps"][0]["attempts"][0]["transport_error"]["kind"],
            "interrupted"
        );
        assert!(out.join(format!("s__slow_{n}/report.md")).is_file());
    }
    assert!(out.join("suite.md").is_file() && out.join("junit.xml").is_file());
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("SUITE INTERRUPTED"), "{stdout}");
}
