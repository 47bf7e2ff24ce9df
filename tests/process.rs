//! `exec` steps: real processes — output captured per stream and with timestamps, exit
//! codes, timeouts that kill the process group, text assertions and regex captures.
mod support;

use support::{Case, fixture};

/// Runs `yaml` on the real clock: (exit code, console, results.json, run folder, the case
/// that holds the folder).
fn run_yaml(yaml: &str) -> (i32, String, serde_json::Value, std::path::PathBuf, Case) {
    let case = Case::new(yaml).live();
    let out = case.run(&[]);
    (
        out.code,
        out.console(),
        out.results_if_any(),
        out.out_dir.clone(),
        case,
    )
}

#[test]
fn output_is_captured_per_stream_and_logged_with_timestamps_as_it_comes() {
    let (code, console, r, out, _dir) = run_yaml(
        r#"
name: exec
env:
  defaults: { GREETING: привет }
steps:
  - id: loader
    exec:
      shell: "echo 'Fetching orders via GET…'; sleep 0.4; echo 'Inserted 42 rows into zakaz.fact_qtickets_sales_daily'; echo oops >&2"
      env: { EXTRA: "{{ env.GREETING }}" }
      log: loader.log
    assert:
      - body: { contains: "Fetching orders via GET" }
      - body: { not_contains: "Traceback" }
      - body: { lines: 3 }
      - jsonpath: $.stderr
        equals: "oops\n"
      - file: loader.log
        matches: "stderr oops"
      - any_of:
          - body: { contains: "switched to the POST fallback" }
          - body: { matches: "Inserted \\d+ rows" }
    capture:
      rows: { regex: "Inserted (?P<rows>\\d+) rows into zakaz.fact_qtickets_sales_daily", group: rows }
  - id: env_seen
    needs: [loader.rows]
    exec: { program: sh, args: ["-c", "echo \"$EXTRA rows={{ steps.loader.captures.rows }}\""], env: { EXTRA: "{{ env.GREETING }}" } }
    assert:
      - body: { equals: "привет rows=42\n" }
"#,
    );
    assert_eq!(code, 0, "{console}");
    assert_eq!(r["steps"][0]["captures"]["rows"], "42");
    let log = std::fs::read_to_string(out.join("loader.log")).unwrap();
    let lines: Vec<&str> = log.lines().collect();
    assert_eq!(lines.len(), 3, "{log}");
    assert!(lines[0].ends_with("stdout Fetching orders via GET…"));
    assert!(lines[2].ends_with("stderr oops"));
    // Timestamps show the output arrived over time, not at the end.
    let t = |l: &str| -> jiff::Timestamp { l.split(' ').next().unwrap().parse().unwrap() };
    assert!(
        t(lines[1]).duration_since(t(lines[0])) >= jiff::SignedDuration::from_millis(350),
        "{log}"
    );
    assert!(
        r["artifacts"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a == "loader.log")
    );
}

#[test]
fn non_zero_exit_timeout_and_missing_program_are_recorded() {
    // A sleep of an unusual length marks the processes this test starts.
    let secs = 3000 + std::process::id() % 1000;
    let marker = format!("sleep {secs}");
    let (code, console, r, _out, _dir) =
        run_yaml(&fixture("process/failures.yaml").replace("MARKER", &marker));
    assert_eq!(code, 1, "{console}");
    let s = |i: usize| &r["steps"][i];
    assert_eq!(s(0)["failure"]["class"], "program_failed");
    assert_eq!(s(0)["attempts"][0]["code"], "exit 3");
    assert_eq!(s(1)["failure"]["class"], "no_response");
    assert_eq!(s(1)["attempts"][0]["code"], "timeout");
    assert_eq!(s(2)["failure"]["class"], "engine");
    assert!(
        s(2)["failure"]["message"]
            .as_str()
            .unwrap()
            .contains("cannot start `/no/such/program`")
    );
    assert_eq!(s(3)["outcome"], "passed");
    // The whole process group is gone, background children included.
    let ps = std::process::Command::new("ps")
        .args(["-eo", "args"])
        .output()
        .unwrap();
    assert!(!String::from_utf8_lossy(&ps.stdout).contains(&marker));
}

#[test]
fn nothing_a_step_started_outlives_it() {
    let marker = format!("sleep {}", 4000 + std::process::id() % 1000);
    let (code, console, _r, _out, _dir) =
        run_yaml(&fixture("process/background.yaml").replace("MARKER", &marker));
    assert_eq!(code, 0, "{console}");
    let ps = std::process::Command::new("ps")
        .args(["-eo", "args"])
        .output()
        .unwrap();
    assert!(!String::from_utf8_lossy(&ps.stdout).contains(&marker));
}

#[test]
fn sigterm_stops_the_step_and_writes_the_partial_report() {
    let marker = format!("sleep {}", 5000 + std::process::id() % 1000);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("s.yaml"),
        fixture("process/sigterm.yaml").replace("MARKER", &marker),
    )
    .unwrap();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_qtscen"))
        .args(["run", "s.yaml", "--out", "out"])
        .current_dir(dir.path())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let log = dir.path().join("out/long.log");
    for _ in 0..200 {
        if std::fs::read_to_string(&log).is_ok_and(|t| t.contains("begun")) {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(25));
    }
    assert!(
        std::process::Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .unwrap()
            .success()
    );
    assert_eq!(child.wait().unwrap().code(), Some(130));
    let r: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("out/results.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(r["outcome"], "interrupted");
    let ps = std::process::Command::new("ps")
        .args(["-eo", "args"])
        .output()
        .unwrap();
    assert!(!String::from_utf8_lossy(&ps.stdout).contains(&marker));
}
