//! Unit tests of `timeline`.
use super::*;
use crate::record::{
    Failure, FailureClass, RequestRecord, ResponseRecord, RunOutcome, StepRecord, Summary,
};

fn attempt(n: u32, of: u32, at_ms: i64, took: u64, status: u16, wait: Option<u64>) -> Attempt {
    let started = jiff::Timestamp::from_millisecond(1_762_350_414_000 + at_ms).unwrap();
    Attempt {
        attempt: n,
        of,
        page: None,
        fallback: false,
        started_at: started.to_string(),
        duration_ms: took,
        request: RequestRecord {
            method: "GET".into(),
            url: "http://h/x".into(),
            url_readable: "http://h/x".into(),
            query: Vec::new(),
            headers: Default::default(),
            body: None,
        },
        curl: None,
        response: Some(ResponseRecord {
            status,
            headers: Default::default(),
            body: String::new(),
            body_file: None,
            body_bytes: None,
            body_excerpt: false,
        }),
        transport_error: None,
        code: status.to_string(),
        retry_after_ms: wait,
        label: None,
        server_error: None,
        resent: None,
    }
}

fn step(id: &str, at_ms: i64, attempts: Vec<Attempt>, failed: bool) -> StepRecord {
    let started = jiff::Timestamp::from_millisecond(1_762_350_414_000 + at_ms).unwrap();
    StepRecord {
        id: id.into(),
        title: id.into(),
        description: None,
        kind: "http".into(),
        tags: Vec::new(),
        selected: true,
        outcome: if failed {
            StepOutcome::Failed
        } else {
            StepOutcome::Passed
        },
        skip_reason: None,
        failure: failed.then(|| Failure {
            class: FailureClass::ServerError,
            message: "503".into(),
        }),
        started_at: Some(started.to_string()),
        duration_ms: 100,
        attempts,
        assertions: Vec::new(),
        captures: Default::default(),
        items_count: None,
        output: None,
        notes: None,
        used_fallback: false,
        artifacts: Vec::new(),
        item: None,
    }
}

fn record(steps: Vec<StepRecord>) -> RunRecord {
    RunRecord {
        record_version: 1,
        qtscen_version: "0".into(),
        scenario: "s".into(),
        scenario_file: "s.yaml".into(),
        description: None,
        title: "S".into(),
        started_at: "2025-11-05T13:46:54.000+00:00".into(),
        finished_at: "2025-11-05T13:46:55.000+00:00".into(),
        duration_ms: 1000,
        outcome: RunOutcome::Failed,
        exit_code: 1,
        tags: Vec::new(),
        skip_tags: Vec::new(),
        only_steps: Vec::new(),
        needed_steps: Vec::new(),
        vars: Default::default(),
        env: Default::default(),
        steps,
        summary: Summary::default(),
        artifacts: Vec::new(),
        verdict: None,
        nothing_ran: None,
    }
}

fn tasks(gantt: &str) -> Vec<&str> {
    gantt
        .lines()
        .map(str::trim)
        .filter(|l| {
            !l.starts_with("section ")
                && !["gantt", "dateFormat", "axisFormat", "todayMarker", "title"]
                    .iter()
                    .any(|k| l.starts_with(k))
        })
        .collect()
}

#[test]
fn attempts_and_waits_are_bars_in_the_step_section() {
    let r = record(vec![step(
        "orders",
        0,
        vec![
            attempt(1, 3, 0, 12, 503, Some(100)),
            attempt(2, 3, 115, 10, 503, Some(200)),
            attempt(3, 3, 330, 9, 200, None),
        ],
        false,
    )]);
    let g = gantt(&r, 60, &Redactor::default());
    let lines: Vec<&str> = g.lines().collect();
    assert_eq!(
        lines[..5],
        [
            "gantt",
            "    dateFormat x",
            "    axisFormat %M:%S.%L",
            "    todayMarker off",
            "    section orders passed"
        ],
        "{g}"
    );
    assert_eq!(
        tasks(&g),
        [
            "attempt 1/3 503 :crit, b1, 1762350414000, 1762350414012",
            "wait 100 ms before a retry :done, b2, 1762350414012, 1762350414115",
            "attempt 2/3 503 :crit, b3, 1762350414115, 1762350414125",
            "wait 200 ms before a retry :done, b4, 1762350414125, 1762350414330",
            "attempt 3/3 200 :b5, 1762350414330, 1762350414339",
        ],
        "{g}"
    );
}

#[test]
fn names_are_masked_and_lose_what_gantt_would_read_as_syntax() {
    let redactor = Redactor::new(["s3cr3tvalue".to_string()]);
    let mut a = attempt(1, 1, 0, 5, 200, None);
    a.label = Some("totals: 50% #1; <b>s3cr3tvalue</b> `x`".into());
    let r = record(vec![step("s3cr3tvalue_step", 0, vec![a], false)]);
    let g = gantt(&r, 60, &redactor);
    assert!(!g.contains("s3cr3t"), "{g}");
    assert!(g.contains("    section ***_step passed\n"), "{g}");
    assert!(
        g.contains("    query totals 50 1 b *** /b x attempt 1/1 200 :b1, "),
        "{g}"
    );
    assert_eq!(name(":#;%", &Redactor::default()), "unnamed");
    let long = name(&"a".repeat(100), &Redactor::default());
    assert_eq!(long.chars().count(), 60);
    assert!(long.ends_with("..."));
}

#[test]
fn a_long_run_is_capped_and_says_how_many_bars_are_left_out() {
    // 30 steps of 3 attempts and 2 waits: 150 bars; the failed one keeps its detail.
    let steps: Vec<StepRecord> = (0..30)
        .map(|i| {
            let at = i * 1000;
            step(
                &format!("s{i}"),
                at,
                vec![
                    attempt(1, 3, at, 10, 503, Some(10)),
                    attempt(2, 3, at + 20, 10, 503, Some(10)),
                    attempt(3, 3, at + 40, 10, if i == 17 { 503 } else { 200 }, None),
                ],
                i == 17,
            )
        })
        .collect();
    let g = gantt(&record(steps.clone()), 40, &Redactor::default());
    let bars = tasks(&g);
    assert!(bars.len() <= 40, "{g}");
    let sections = g.lines().filter(|l| l.contains("section ")).count();
    assert_eq!(sections, 30, "{g}");
    assert!(
        g.contains(&format!(
            "title +{} more bars not drawn: {} of 150 shown",
            150 - bars.len(),
            bars.len()
        )),
        "{g}"
    );
    // The failed step is drawn whole, the folded ones as one bar each.
    let failed = g.split("section s17 failed\n").nth(1).unwrap();
    assert!(failed.starts_with("    attempt 1/3 503 :crit"), "{g}");
    assert!(
        g.contains("step passed after 3 attempts, 2 waits :b"),
        "{g}"
    );
    // More steps than bars: the failed one first, then the earliest.
    let g = gantt(&record(steps), 5, &Redactor::default());
    assert_eq!(tasks(&g).len(), 5, "{g}");
    assert!(g.contains("section s17 failed"), "{g}");
    assert!(g.contains("section s0 passed"), "{g}");
    assert!(!g.contains("section s5 "), "{g}");
    assert!(
        g.contains("title +145 more bars not drawn: 5 of 150 shown"),
        "{g}"
    );
}

#[test]
fn nothing_ran_draws_nothing() {
    let mut s = step("a", 0, Vec::new(), false);
    s.outcome = StepOutcome::Skipped;
    s.started_at = None;
    assert_eq!(gantt(&record(vec![s]), 60, &Redactor::default()), "");
    let mut check = step("b", 0, Vec::new(), false);
    check.kind = "check".into();
    let g = gantt(&record(vec![check]), 60, &Redactor::default());
    assert!(
        g.ends_with(
            "    section b passed\n    step check passed :b1, 1762350414000, 1762350414100\n"
        ),
        "{g}"
    );
}
