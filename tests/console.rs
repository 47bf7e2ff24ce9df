//! The console outside a terminal: lines are written in batches, yet a step that waits
//! for its answer is announced while it waits.
mod support;

use std::io::BufRead;
use std::time::{Duration, Instant};

use qtickets_sandbox::{FaultKind, FaultRule};
use support::*;

#[test]
fn a_waiting_step_is_on_the_console_before_its_answer() {
    let sb = sandbox();
    sb.add_fault(FaultRule::new(
        Some("GET"),
        "/events",
        FaultKind::Delay(Duration::from_secs(3)),
    ));
    let yaml = with_head("console/first_slow.yaml");
    let c = case(&sb, &yaml);
    let out_dir = c.dir.path().join("out");
    let mut child = run_command(&c, &out_dir)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let lines: Vec<(Instant, String)> = std::io::BufReader::new(stdout)
        .lines()
        .map(|l| (Instant::now(), l.unwrap()))
        .collect();
    assert_eq!(child.wait().unwrap().code(), Some(0));
    let at = |needle: &str| {
        lines
            .iter()
            .find(|(_, l)| l.contains(needle))
            .map(|(t, _)| *t)
            .unwrap_or_else(|| panic!("no line with {needle:?} in {lines:#?}"))
    };
    let announced = at("[2/2] slow");
    let answered = at("  slow passed");
    // The server held the answer 3 s: the announcement was written while it waited.
    assert!(
        answered.duration_since(announced) >= Duration::from_secs(2),
        "announced {announced:?}, answered {answered:?}"
    );
    // Every line is there once, in order.
    let order: Vec<&str> = [
        "[1/2] first",
        "  first passed",
        "[2/2] slow",
        "  slow passed",
        "PASSED:",
    ]
    .into_iter()
    .collect();
    let positions: Vec<usize> = order
        .iter()
        .map(|n| lines.iter().position(|(_, l)| l.contains(n)).unwrap())
        .collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "{lines:#?}");
}

/// `qtscen run` on the case inside a pseudo-terminal (util-linux `script`): what a person
/// watching sees, raw (carriage returns, escape codes).
fn run_on_a_terminal(c: &Case, extra: &[&str], env: &[(&str, &str)]) -> (i32, String) {
    let out_dir = c.dir.path().join("out");
    let mut words = vec![
        env!("CARGO_BIN_EXE_qtscen"),
        "run",
        c.scenario.to_str().unwrap(),
        "--env-file",
        c.env_file.to_str().unwrap(),
        "--out",
        out_dir.to_str().unwrap(),
    ];
    words.extend_from_slice(extra);
    let line = shlex::try_join(words).unwrap();
    let mut cmd = std::process::Command::new("script");
    cmd.args(["-q", "-e", "-c", &line, "/dev/null"])
        .stdin(std::process::Stdio::null())
        .env_remove("NO_COLOR")
        .env_remove("CLICOLOR_FORCE");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("script (util-linux) runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

fn retry_case(sb: &qtickets_sandbox::SandboxHandle) -> Case {
    sb.add_fault(FaultRule::new(Some("GET"), "/events", FaultKind::Status(503)).with_times(1));
    let yaml = with_head("console/slow_retry.yaml");
    case(sb, &yaml)
}

#[test]
fn a_retry_wait_counts_down_on_a_terminal_without_escape_codes_under_no_color() {
    let sb = sandbox();
    let c = retry_case(&sb);
    let (code, screen) = run_on_a_terminal(&c, &[], &[("NO_COLOR", "1")]);
    assert_eq!(code, 0, "{screen}");
    let left: std::collections::BTreeSet<&str> =
        regex::Regex::new(r"retrying \(attempt 2/2\) in (\d)\.\d s")
            .unwrap()
            .captures_iter(&screen)
            .map(|c| c.get(1).unwrap().as_str())
            .collect();
    assert!(
        ["2", "1", "0"].iter().all(|s| left.contains(s)),
        "the countdown went {left:?}: {screen:?}"
    );
    assert!(
        !screen.contains('\x1b'),
        "escape codes under NO_COLOR: {screen:?}"
    );
    assert!(screen.contains("  events passed (2 requests"), "{screen:?}");
    // Colour on a terminal otherwise.
    let sb = sandbox();
    let c = case(&sb, &with_head("console/one.yaml"));
    let (_, screen) = run_on_a_terminal(&c, &[], &[]);
    assert!(screen.contains("\x1b[32mpassed\x1b[0m"), "{screen:?}");
    let (_, screen) = run_on_a_terminal(&c, &["--color", "never"], &[]);
    assert!(!screen.contains("\x1b[32m"), "{screen:?}");
}

#[test]
fn quiet_prints_the_failures_and_the_summary_only() {
    let sb = sandbox();
    sb.add_fault(FaultRule::new(
        Some("GET"),
        "/orders",
        FaultKind::Status(503),
    ));
    let yaml = with_head("console/fine_broken.yaml");
    let c = case(&sb, &yaml);
    let out = run(&c, &["-q"]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(!out.stdout.contains("[1/2]"), "{}", out.stdout);
    assert!(!out.stdout.contains("fine"), "{}", out.stdout);
    assert!(!out.stdout.contains("wrote "), "{}", out.stdout);
    assert!(
        out.stdout
            .contains("  broken FAILED (server_error) (1 request"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("FAILED (server_error)"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("FAILED: 1 passed, 1 failed"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("report: "), "{}", out.stdout);
    // A passing quiet run says only how it ended and where the report is.
    let c = case(&sb, &with_head("console/fine.yaml"));
    let out = run(&c, &["--quiet"]);
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{}", out.stdout);
    assert!(lines[0].starts_with("PASSED: 1 passed"), "{}", out.stdout);
    assert!(lines[1].starts_with("report: "), "{}", out.stdout);
}

#[test]
fn verbose_shows_headers_masked_and_color_can_be_forced() {
    let sb = sandbox();
    let c = case(&sb, &with_head("console/fine.yaml"));
    let out = run(&c, &["-v"]);
    assert!(
        out.stdout.contains("        > Authorization: Bearer ***"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("        < content-type: "),
        "{}",
        out.stdout
    );
    assert!(!out.stdout.contains(TOKEN));
    assert!(!out.stdout.contains('\x1b'));
    let out = run(&c, &["--color", "always"]);
    assert!(out.stdout.contains("\x1b[32mpassed"), "{}", out.stdout);
}
