//! The binary under faults: evidence kept on Ctrl-C, output folders that cannot collide
//! or be redirected, dropped connections retried, limits.
mod common;

use std::path::Path;
use std::time::Duration;

use common::*;
use qtscen::sandbox::{FaultKind, FaultRule};

fn read_json(path: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap()
}

/// Starts `qtscen run` on the case, waits (bounded) until `ready` holds, then sends
/// SIGINT; returns the exit code.
fn interrupt_when(c: &Case, out_dir: &Path, ready: impl Fn() -> bool) -> i32 {
    let mut child = run_command(c, out_dir)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    for _ in 0..200 {
        if ready() {
            break;
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    std::thread::sleep(Duration::from_millis(200));
    let killed = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    child.wait().unwrap().code().unwrap_or(-1)
}

#[test]
fn ctrl_c_during_a_backoff_keeps_the_429_in_results_and_the_errors_file() {
    let sb = sandbox();
    sb.add_fault(
        FaultRule::new(Some("GET"), "/events", FaultKind::Status(429)).with_retry_after(30),
    );
    let yaml = format!(
        "{HEAD}\nsteps:\n  - id: events\n    retry: {{ attempts: 3, backoff: {{ initial: 10ms, max: 60s }} }}\n    http: {{ path: /events }}\n  - id: after\n    http: {{ path: /orders/1440 }}\n"
    );
    let c = case(&sb, &yaml);
    let out_dir = c.dir.path().join("out");
    let code = interrupt_when(&c, &out_dir, || !sb.requests().is_empty());
    assert_eq!(code, 130);
    let r = read_json(&out_dir.join("results.json"));
    let step = &r["steps"][0];
    let attempts = step["attempts"].as_array().unwrap();
    assert_eq!(attempts.len(), 1, "{step:#}");
    assert_eq!(attempts[0]["code"], "429");
    assert_eq!(attempts[0]["retry_after_ms"], 30000);
    assert_eq!(attempts[0]["response"]["status"], 429);
    assert_eq!(step["outcome"], "failed");
    assert_eq!(step["failure"]["class"], "interrupted");
    assert!(
        step["failure"]["message"]
            .as_str()
            .unwrap()
            .contains("between attempts"),
        "{step:#}"
    );
    assert_eq!(r["summary"]["requests"], 1);
    let errors = read_json(&out_dir.join("errors.json"));
    assert_eq!(errors["count"], 1);
    assert_eq!(errors["errors"][0]["status"], 429);
    let report = std::fs::read_to_string(out_dir.join("report.md")).unwrap();
    assert!(report.contains("| 429 |"), "{report}");
}

#[test]
fn a_request_in_flight_at_ctrl_c_is_recorded_as_interrupted_with_what_was_sent() {
    let sb = sandbox();
    sb.add_fault(FaultRule::new(
        Some("GET"),
        "/events",
        FaultKind::Delay(Duration::from_secs(20)),
    ));
    let yaml = format!(
        "{HEAD}\nsteps:\n  - id: slow\n    http: {{ path: /events, query: {{ marker: m-42 }}, timeout: 60s }}\n"
    );
    let c = case(&sb, &yaml);
    let out_dir = c.dir.path().join("out");
    let code = interrupt_when(&c, &out_dir, || !sb.requests().is_empty());
    assert_eq!(code, 130);
    let r = read_json(&out_dir.join("results.json"));
    let a = &r["steps"][0]["attempts"][0];
    assert_eq!(a["code"], "000", "{a:#}");
    assert_eq!(a["transport_error"]["kind"], "interrupted");
    assert!(
        a["request"]["url"]
            .as_str()
            .unwrap()
            .contains("marker=m-42")
    );
    assert!(a["duration_ms"].as_u64().unwrap() >= 100, "{a:#}");
    // The token is masked in the record of the request in flight too.
    let text = std::fs::read_to_string(out_dir.join("results.json")).unwrap();
    assert!(!text.contains(TOKEN));
    assert_eq!(r["steps"][0]["failure"]["class"], "interrupted");
    let errors = read_json(&out_dir.join("errors.json"));
    assert_eq!(errors["count"], 1);
    assert_eq!(
        errors["errors"][0]["transport_error"]["kind"],
        "interrupted"
    );
}

#[test]
fn a_program_running_at_ctrl_c_is_recorded_with_its_command_and_log() {
    let yaml = "name: t\nsteps:\n  - id: prog\n    exec: { shell: \"echo started-42; sleep 30\", log: prog.log }\n";
    let c = case_with_env(yaml, "");
    let out_dir = c.dir.path().join("out");
    let log = out_dir.join("prog.log");
    let code = interrupt_when(&c, &out_dir, || {
        std::fs::read_to_string(&log).is_ok_and(|t| t.contains("started-42"))
    });
    assert_eq!(code, 130);
    let r = read_json(&out_dir.join("results.json"));
    let step = &r["steps"][0];
    assert_eq!(step["attempts"][0]["code"], "interrupted", "{step:#}");
    assert!(
        step["attempts"][0]["request"]["url"]
            .as_str()
            .unwrap()
            .contains("sleep 30")
    );
    assert_eq!(step["artifacts"][0], "prog.log");
    assert_eq!(step["failure"]["class"], "interrupted");
}

const PROGRAM: &str = "name: folders\nsteps:\n  - id: prog\n    exec: { program: \"true\" }\n";

#[test]
fn concurrent_runs_without_out_get_distinct_folders() {
    let c = case_with_env(PROGRAM, "");
    // The same fixed clock: every run wants the same `runs/folders/<stamp>/`.
    let children: Vec<_> = (0..4)
        .map(|_| {
            std::process::Command::new(env!("CARGO_BIN_EXE_qtscen"))
                .args(["run", "scenario.yaml", "--now", "2026-12-01T00:55:30Z"])
                .current_dir(c.dir.path())
                .env("NO_COLOR", "1")
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut reports = std::collections::BTreeSet::new();
    for child in children {
        let out = child.wait_with_output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        assert_eq!(out.status.code(), Some(0), "{stdout}");
        let report = stdout
            .lines()
            .find_map(|l| l.strip_prefix("report: "))
            .unwrap()
            .to_string();
        reports.insert(report);
    }
    assert_eq!(reports.len(), 4, "{reports:?}");
    let mut folders: Vec<String> = std::fs::read_dir(c.dir.path().join("runs/folders"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    folders.sort();
    assert_eq!(
        folders,
        [
            "20261201T005530Z",
            "20261201T005530Z-2",
            "20261201T005530Z-3",
            "20261201T005530Z-4"
        ]
    );
    for f in folders {
        let r = read_json(
            &c.dir
                .path()
                .join("runs/folders")
                .join(f)
                .join("results.json"),
        );
        assert_eq!(r["outcome"], "passed");
    }
}

#[test]
fn a_second_run_into_the_same_out_fails_at_once() {
    let yaml =
        "name: t\nsteps:\n  - id: prog\n    exec: { shell: \"echo up; sleep 5\", log: prog.log }\n";
    let c = case_with_env(yaml, "");
    let out_dir = c.dir.path().join("out");
    let mut first = run_command(&c, &out_dir)
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let log = out_dir.join("prog.log");
    for _ in 0..200 {
        if std::fs::read_to_string(&log).is_ok_and(|t| t.contains("up")) {
            break;
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    let second = run_command(&c, &out_dir).output().unwrap();
    let first_still_running = first.try_wait().unwrap().is_none();
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert_eq!(second.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("another qtscen run is writing into"),
        "{stderr}"
    );
    assert!(first_still_running, "the second run waited for the first");
    assert_eq!(first.wait().unwrap().code(), Some(0));
    // The first run's evidence is whole: one log, its own.
    let text = std::fs::read_to_string(&log).unwrap();
    assert_eq!(text.matches("stdout up").count(), 1, "{text}");
}

#[test]
fn a_symlinked_log_name_is_refused_and_its_target_untouched() {
    let yaml =
        "name: t\nsteps:\n  - id: prog\n    exec: { shell: \"echo overwritten\", log: prog.log }\n";
    let c = case_with_env(yaml, "");
    let out_dir = c.dir.path().join("out");
    std::fs::create_dir_all(&out_dir).unwrap();
    let victim = c.dir.path().join("victim.txt");
    std::fs::write(&victim, "precious\n").unwrap();
    std::os::unix::fs::symlink(&victim, out_dir.join("prog.log")).unwrap();
    let out = run_command(&c, &out_dir).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious\n");
    let r = read_json(&out_dir.join("results.json"));
    let failure = &r["steps"][0]["failure"];
    assert_eq!(failure["class"], "engine", "{failure:#}");
    assert!(
        failure["message"]
            .as_str()
            .unwrap()
            .contains("is a symlink"),
        "{failure:#}"
    );
    // An artifact or report name planted as a link is replaced, not written through.
    std::fs::remove_file(out_dir.join("prog.log")).unwrap();
    std::fs::remove_file(out_dir.join("report.md")).unwrap();
    std::os::unix::fs::symlink(&victim, out_dir.join("report.md")).unwrap();
    let out = run_command(&c, &out_dir).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious\n");
    assert!(!out_dir.join("report.md").is_symlink());
}

#[test]
fn two_outputs_with_one_name_or_an_engine_name_are_invalid() {
    let yaml = r#"name: t
report:
  errors_file: Report.md
steps:
  - id: a
    exec: { program: "true", log: same.log }
  - id: b
    exec: { program: "true", log: same.log }
    artifacts:
      results.json: "x"
"#;
    let c = case_with_env(yaml, "");
    let (code, _, stderr) = qtscen(&["validate", "scenario.yaml"], c.dir.path());
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("`same.log` is also written by `steps[0].exec.log`"),
        "{stderr}"
    );
    assert!(
        stderr.contains("`results.json` is the run record's file name"),
        "{stderr}"
    );
    assert!(
        stderr.contains("`report.md` is also written by `report.errors_file`"),
        "{stderr}"
    );
    assert!(stderr.contains("3 problem(s)"), "{stderr}");
}
