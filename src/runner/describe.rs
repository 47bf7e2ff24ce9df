//! Run stage, dry: every selected step's request rendered and shown, nothing sent.
use std::fmt::Write;

use super::RunContext;
use super::http_step::render;
use super::run::RunOptions;
use crate::plan::Plan;

/// Text describing what `run` would send (the caller masks secrets).
pub fn describe_plan(plan: &Plan, rc: &RunContext, opts: &RunOptions) -> String {
    let mut out = String::new();
    let ctx = rc.value(&[]);
    for (name, v) in &rc.vars {
        let _ = writeln!(out, "var {name} = {v}");
    }
    for step in &plan.steps {
        let selected = (opts.tags.is_empty() || step.tags.iter().any(|t| opts.tags.contains(t)))
            && !step.tags.iter().any(|t| opts.skip_tags.contains(t));
        let mark = if selected { "" } else { " (not selected)" };
        let _ = writeln!(out, "\n## {} — {}{mark}", step.id, step.title);
        if let Some((_, src)) = &step.when {
            let _ = writeln!(out, "when: {src}");
        }
        match render(&step.http, &plan.templates, &ctx) {
            Ok(r) => {
                let url = r
                    .req
                    .full_url()
                    .map(|u| u.to_string())
                    .unwrap_or_else(|e| e);
                let _ = writeln!(out, "{} {}", r.req.method, url);
                for (k, v) in &r.req.query {
                    let _ = writeln!(out, "  ?{k}={v}");
                }
                for (k, v) in &r.req.headers {
                    let _ = writeln!(out, "  {k}: {v}");
                }
                if let Some(b) = &r.req.body {
                    let _ = writeln!(out, "  body: {b}");
                }
                let _ = writeln!(
                    out,
                    "  timeout: {} ms, attempts: {}",
                    r.req.timeout.as_millis(),
                    step.retry.attempts
                );
                if let Some(p) = &step.http.paginate {
                    let _ = writeln!(
                        out,
                        "  pages: `{}` from {} in the {:?}, at most {}",
                        p.param, p.start, p.place, p.max_pages
                    );
                }
            }
            Err(e) => {
                let _ = writeln!(out, "(rendered at run time: {e})");
            }
        }
    }
    out
}
