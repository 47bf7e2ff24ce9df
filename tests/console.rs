//! The console outside a terminal: lines are written in batches, yet a step that waits
//! for its answer is announced while it waits.
mod common;

use std::io::BufRead;
use std::time::{Duration, Instant};

use common::*;
use qtscen::sandbox::{FaultKind, FaultRule};

#[test]
fn a_waiting_step_is_on_the_console_before_its_answer() {
    let sb = sandbox();
    sb.add_fault(FaultRule::new(
        Some("GET"),
        "/events",
        FaultKind::Delay(Duration::from_secs(3)),
    ));
    let yaml = format!(
        "{HEAD}\nsteps:\n  - id: first\n    http: {{ path: /orders/1440 }}\n  - id: slow\n    http: {{ path: /events, timeout: 30s }}\n"
    );
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
