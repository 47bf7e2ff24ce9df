//! Report stage: a picture of the run — a mermaid `gantt` chart of the steps, their
//! attempts and the retry waits between them, drawn by GitHub and GitLab where a
//! Markdown report is shown.
//!
//! The chart is made for the reader, not for completeness: one section per step (its
//! id), one bar per attempt (red when it failed) and per retry wait (grey); a step
//! without requests (a check, a capture) is one bar. Past `max_bars` bars, steps are
//! folded into one bar each — failed steps keep their detail first — and the title says
//! how many bars were left out (`+N more`). Every name is masked, then cut down to what
//! gantt syntax takes as plain text (no `:`, `#`, `;`, `%`, …), and starts with a word of
//! qtscen's own, so no value can be read as a keyword.
use crate::record::{Attempt, RunRecord, StepOutcome, StepRecord};
use crate::secrets::Redactor;

/// How many bars the built-in report draws at most.
pub const DEFAULT_MAX_BARS: usize = 60;

/// Longest text of a bar or section, in characters.
const MAX_NAME: usize = 60;

/// One bar: its name, its mermaid tag, its start and end (Unix milliseconds).
#[derive(Clone, Debug)]
struct Bar {
    name: String,
    tag: Option<&'static str>,
    start: i64,
    end: i64,
}

/// A step as drawn: every bar, or one bar for the whole step.
struct StepBars {
    section: String,
    failed: bool,
    detail: Vec<Bar>,
    folded: Bar,
}

/// The mermaid source of the run's gantt chart (without the code fence), or an empty
/// string when no step ran. Names pass through `redactor` first.
pub fn gantt(record: &RunRecord, max_bars: usize, redactor: &Redactor) -> String {
    let max_bars = max_bars.max(1);
    let steps: Vec<StepBars> = record
        .steps
        .iter()
        .filter_map(|s| step_bars(s, redactor))
        .collect();
    if steps.is_empty() {
        return String::new();
    }
    let total: usize = steps.iter().map(|s| s.detail.len()).sum();
    // Which steps are drawn, and which of them in detail.
    let (drawn, detailed) = choose(&steps, total, max_bars);
    let shown: usize = steps
        .iter()
        .enumerate()
        .filter(|(i, _)| drawn[*i])
        .map(|(i, s)| if detailed[i] { s.detail.len() } else { 1 })
        .sum();
    let (first, last) = steps
        .iter()
        .flat_map(|s| s.detail.iter())
        .fold((i64::MAX, i64::MIN), |(a, b), bar| {
            (a.min(bar.start), b.max(bar.end))
        });
    let axis = if last - first < 10_000 {
        "%M:%S.%L"
    } else {
        "%H:%M:%S"
    };
    let mut out = String::from("gantt\n");
    if shown < total {
        let left_out = total - shown;
        out.push_str(&format!(
            "    title +{left_out} more bars not drawn: {shown} of {total} shown, every attempt is in the Requests table\n"
        ));
    }
    out.push_str("    dateFormat x\n");
    out.push_str(&format!("    axisFormat {axis}\n"));
    out.push_str("    todayMarker off\n");
    let mut id = 0usize;
    for (i, step) in steps.iter().enumerate() {
        if !drawn[i] {
            continue;
        }
        out.push_str(&format!("    section {}\n", step.section));
        let bars = if detailed[i] {
            &step.detail[..]
        } else {
            std::slice::from_ref(&step.folded)
        };
        for bar in bars {
            id += 1;
            let tag = bar.tag.map(|t| format!("{t}, ")).unwrap_or_default();
            out.push_str(&format!(
                "    {} :{tag}b{id}, {}, {}\n",
                bar.name, bar.start, bar.end
            ));
        }
    }
    out
}

/// Which steps are drawn and which of those in detail, for at most `max` bars: every
/// step in detail when that fits; else each step as one bar, failed steps first given
/// their detail, then the others in order while bars are left; and when even one bar a
/// step is too many, the failed steps and then the earliest ones, one bar each.
fn choose(steps: &[StepBars], total: usize, max: usize) -> (Vec<bool>, Vec<bool>) {
    let n = steps.len();
    if total <= max {
        return (vec![true; n], vec![true; n]);
    }
    let order: Vec<usize> = (0..n)
        .filter(|&i| steps[i].failed)
        .chain((0..n).filter(|&i| !steps[i].failed))
        .collect();
    if n > max {
        let mut drawn = vec![false; n];
        for &i in order.iter().take(max) {
            drawn[i] = true;
        }
        return (drawn, vec![false; n]);
    }
    let mut budget = max - n;
    let mut detailed = vec![false; n];
    for i in order {
        let extra = steps[i].detail.len().saturating_sub(1);
        if extra <= budget {
            detailed[i] = true;
            budget -= extra;
        }
    }
    (vec![true; n], detailed)
}

/// The bars of a step that ran; none for a skipped or unselected one.
fn step_bars(step: &StepRecord, redactor: &Redactor) -> Option<StepBars> {
    if !step.selected || step.outcome == StepOutcome::Skipped {
        return None;
    }
    let step_start = millis(step.started_at.as_deref()?)?;
    let step_end = step_start + to_i64(step.duration_ms);
    let failed = step.outcome == StepOutcome::Failed;
    let outcome = if failed { "failed" } else { "passed" };
    let section = name(&format!("{} {}", step.id, outcome), redactor);
    let mut detail = Vec::new();
    let mut waits = 0usize;
    for (i, a) in step.attempts.iter().enumerate() {
        let Some(start) = millis(&a.started_at) else {
            continue;
        };
        let end = start + to_i64(a.duration_ms);
        let last = i + 1 == step.attempts.len();
        let bad = attempt_failed(a) || (last && failed);
        detail.push(Bar {
            name: name(&attempt_name(a), redactor),
            tag: bad.then_some("crit"),
            start,
            end,
        });
        if let Some(pause) = a.retry_after_ms {
            // The wait runs until the next request went out (or, when none did, for the
            // pause that was planned).
            let next = step
                .attempts
                .get(i + 1)
                .and_then(|n| millis(&n.started_at))
                .filter(|n| *n >= end)
                .unwrap_or(end + to_i64(pause));
            waits += 1;
            detail.push(Bar {
                name: format!("wait {pause} ms before a retry"),
                tag: Some("done"),
                start: end,
                end: next,
            });
        }
    }
    if detail.is_empty() {
        detail.push(Bar {
            name: name(&format!("step {} {outcome}", step.kind), redactor),
            tag: failed.then_some("crit"),
            start: step_start,
            end: step_end,
        });
    }
    let requests = detail.len() - waits;
    let (first, last) = detail.iter().fold((step_start, step_end), |(a, b), bar| {
        (a.min(bar.start), b.max(bar.end))
    });
    let folded = Bar {
        name: name(
            &format!(
                "step {outcome} after {requests} {}, {waits} {}",
                plural(requests, "attempt", "attempts"),
                plural(waits, "wait", "waits")
            ),
            redactor,
        ),
        tag: failed.then_some("crit"),
        start: first,
        end: last,
    };
    Some(StepBars {
        section,
        failed,
        detail,
        folded,
    })
}

fn plural<'a>(n: usize, one: &'a str, many: &'a str) -> &'a str {
    if n == 1 { one } else { many }
}

/// Whether an attempt got no answer, a non-2xx one, or its program exited non-zero.
fn attempt_failed(a: &Attempt) -> bool {
    let program = matches!(a.request.method.as_str(), "EXEC" | "DOCKER");
    match &a.response {
        // A program's "status" is its exit code.
        Some(r) if program => r.status != 0,
        Some(r) => !(200..300).contains(&r.status),
        None => true,
    }
}

/// `attempt 2/3 503`, `page 4 attempt 1/3 200`, `fallback attempt 1/1 200`,
/// `query totals attempt 1/1 200`, `attempt 1/3 000 timeout`.
fn attempt_name(a: &Attempt) -> String {
    let mut s = String::new();
    if let Some(label) = &a.label {
        s.push_str(&format!("query {label} "));
    }
    if let Some(page) = a.page {
        s.push_str(&format!("page {page} "));
    }
    if a.fallback {
        s.push_str("fallback ");
    }
    s.push_str(&format!("attempt {}/{} {}", a.attempt, a.of, a.code));
    if let Some(t) = &a.transport_error {
        s.push(' ');
        s.push_str(t.kind.as_str());
    }
    s
}

fn to_i64(ms: u64) -> i64 {
    i64::try_from(ms).unwrap_or(i64::MAX / 4)
}

/// An RFC 3339 timestamp as Unix milliseconds.
fn millis(text: &str) -> Option<i64> {
    text.parse::<jiff::Timestamp>()
        .ok()
        .map(|t| t.as_millisecond())
}

/// Text made safe for a gantt bar or section: masked, then every character that is not
/// a letter, a digit, a blank or one of `_ - . , / ( ) + = * ' ? ! @ [ ]` becomes a
/// space (gantt syntax reads `:` as the start of the bar's data, `#` and `%%` as a
/// comment, `;` as a line break; `<`, `&`, `"` and backticks are markup to some
/// renderers); blanks are collapsed and the text is cut at 60 characters.
pub fn name(text: &str, redactor: &Redactor) -> String {
    let masked = redactor.redact(text);
    let mut out = String::with_capacity(masked.len());
    for c in masked.chars() {
        let keep = c.is_alphanumeric()
            || matches!(
                c,
                '_' | '-'
                    | '.'
                    | ','
                    | '/'
                    | '('
                    | ')'
                    | '+'
                    | '='
                    | '*'
                    | '\''
                    | '?'
                    | '!'
                    | '@'
                    | '['
                    | ']'
            );
        if keep {
            out.push(c);
        } else if !out.ends_with(' ') {
            out.push(' ');
        }
    }
    let trimmed = out.trim();
    if trimmed.chars().count() > MAX_NAME {
        let cut: String = trimmed.chars().take(MAX_NAME - 3).collect();
        format!("{}...", cut.trim_end())
    } else if trimmed.is_empty() {
        "unnamed".into()
    } else {
        trimmed.to_string()
    }
}

#[cfg(test)]
mod tests {
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
}
