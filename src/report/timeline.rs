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
struct Bar<'r> {
    name: Label<'r>,
    tag: Option<&'static str>,
    start: i64,
    end: i64,
}

/// A bar's name, made (and masked) only for the bars that are drawn: a long run has
/// thousands of attempts and draws a few dozen.
#[derive(Clone, Debug)]
enum Label<'r> {
    Attempt(&'r Attempt),
    Text(String),
}

impl Label<'_> {
    fn render(&self, redactor: &Redactor) -> String {
        match self {
            Label::Attempt(a) => name(&attempt_name(a), redactor),
            Label::Text(t) => t.clone(),
        }
    }
}

/// A step as drawn: every bar, or one bar for the whole step.
struct StepBars<'r> {
    section: String,
    failed: bool,
    detail: Vec<Bar<'r>>,
    folded: Bar<'r>,
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
                bar.name.render(redactor),
                bar.start,
                bar.end
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
fn step_bars<'r>(step: &'r StepRecord, redactor: &Redactor) -> Option<StepBars<'r>> {
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
            name: Label::Attempt(a),
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
                name: Label::Text(format!("wait {pause} ms before a retry")),
                tag: Some("done"),
                start: end,
                end: next,
            });
        }
    }
    if detail.is_empty() {
        detail.push(Bar {
            name: Label::Text(name(&format!("step {} {outcome}", step.kind), redactor)),
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
        name: Label::Text(name(
            &format!(
                "step {outcome} after {requests} {}, {waits} {}",
                plural(requests, "attempt", "attempts"),
                plural(waits, "wait", "waits")
            ),
            redactor,
        )),
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
mod tests;
