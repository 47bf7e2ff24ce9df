//! Run stage, dry: every selected step's request rendered and shown, nothing sent.
use std::fmt::Write;

use super::RunContext;
use super::http_render::render;
use super::run::RunOptions;
use crate::exec::fill_params;
use crate::plan::{Action, Plan, SqlPlan};

/// The `for_each` line of a step, and its first item when the items are known now.
fn describe_each(
    each: &crate::plan::ForEach,
    plan: &Plan,
    ctx: &minijinja::Value,
) -> (String, Option<serde_json::Value>) {
    let t = &plan.templates;
    let items = match each {
        crate::plan::ForEach::List(list) => list.render(t, ctx),
        crate::plan::ForEach::Expr(c, _) => t.eval_json(c, ctx),
    };
    match items {
        Ok(serde_json::Value::Array(items)) => match items.first() {
            Some(first) => (
                format!(
                    "for_each: {} item(s); shown for the first, each = {first}",
                    items.len()
                ),
                Some(first.clone()),
            ),
            None => ("for_each: no items (the step will be skipped)".into(), None),
        },
        Ok(other) => (format!("for_each: gives {other}, not a list"), None),
        Err(e) => (format!("for_each: known at run time ({})", e.message), None),
    }
}

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
        let step_ctx = match &step.for_each {
            None => ctx.clone(),
            Some(each) => {
                let (line, first) = describe_each(each, plan, &ctx);
                let _ = writeln!(out, "{line}");
                match first {
                    Some(item) => rc.value(&[
                        ("each", crate::template::to_value(&item)),
                        ("each_index", minijinja::Value::from(0)),
                    ]),
                    None => ctx.clone(),
                }
            }
        };
        let ctx = &step_ctx;
        let http = match &step.action {
            Action::Http(h) => h,
            Action::Sql(sql) => {
                describe_sql(&mut out, sql, plan, rc);
                continue;
            }
            Action::Check => {
                let _ = writeln!(
                    out,
                    "(a check of earlier results: {} assertions, {} computed values)",
                    step.checks.len(),
                    step.captures.len()
                );
                continue;
            }
            Action::Reconcile(r) => {
                let _ = writeln!(
                    out,
                    "(reconciles {} with {} by key, at run time)",
                    r.sides[0].name, r.sides[1].name
                );
                continue;
            }
            Action::Process(p) => {
                match super::process_step::describe(p, &plan.templates, rc, &step.id) {
                    Ok(line) => {
                        let _ = writeln!(out, "{line}");
                    }
                    Err(e) => {
                        let _ = writeln!(out, "(rendered at run time: {e})");
                    }
                }
                continue;
            }
        };
        match render(http, &plan.templates, ctx) {
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
                match rc.ca_file(http.ca_file.as_ref(), &plan.templates, ctx) {
                    Ok(Some(f)) => {
                        let _ = writeln!(out, "  tls.ca_file: {}", f.display());
                    }
                    Ok(None) => {}
                    Err(e) => {
                        let _ = writeln!(out, "  tls.ca_file: (rendered at run time: {e})");
                    }
                }
                if let Some(p) = &http.paginate {
                    use crate::plan::PageStyle;
                    let how = match &p.style {
                        PageStyle::Number {
                            param,
                            place,
                            start,
                        } => {
                            format!("`{param}` from {start} in the {place:?}")
                        }
                        PageStyle::Offset {
                            param,
                            limit,
                            start,
                            place,
                            ..
                        } => {
                            format!("`{param}` from {start} by {limit} in the {place:?}")
                        }
                        PageStyle::Cursor { param, place, .. } => {
                            format!("the next cursor as `{param}` in the {place:?}")
                        }
                        PageStyle::NextUrl { .. } => "the next URL, followed".to_string(),
                    };
                    let _ = writeln!(out, "  pages: {how}, at most {}", p.max_pages);
                }
            }
            Err(e) => {
                let _ = writeln!(out, "(rendered at run time: {e})");
            }
        }
    }
    out
}

fn describe_sql(out: &mut String, sql: &SqlPlan, plan: &Plan, rc: &RunContext) {
    let ctx = rc.value(&[]);
    match super::sql_step::resolve_conn(sql, &plan.templates, rc) {
        Ok(c) => {
            let _ = writeln!(out, "SQL {} database={} user={}", c.url, c.database, c.user);
            if let Some(f) = &c.ca_file {
                let _ = writeln!(out, "  tls.ca_file: {}", f.display());
            }
        }
        Err(e) => {
            let _ = writeln!(out, "SQL (connection: {e})");
        }
    }
    for q in &sql.queries {
        let text = plan
            .templates
            .render_string(&q.sql, &ctx)
            .map_err(|e| e.message)
            .and_then(|s| {
                let mut params = serde_json::Map::new();
                for (k, c) in &q.params {
                    params.insert(
                        k.clone(),
                        c.render(&plan.templates, &ctx).map_err(|e| e.message)?,
                    );
                }
                fill_params(&s, &params)
            });
        match text {
            Ok(t) => {
                let _ = writeln!(
                    out,
                    "  {}: {}",
                    q.name,
                    t.split_whitespace().collect::<Vec<_>>().join(" ")
                );
            }
            Err(e) => {
                let _ = writeln!(out, "  {}: (rendered at run time: {e})", q.name);
            }
        }
    }
}
