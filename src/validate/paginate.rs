//! Validate stage: a `paginate` block — one style (page number, offset, cursor or next
//! URL), its stop condition and what it collects — checked and compiled.
use super::ctx::Ctx;
use crate::assert::compile_jsonpath;
use crate::plan::{NextFrom, PageStyle, PaginatePlan};
use crate::scenario::{HttpSpec, PageIn, PaginateSpec};
use crate::source::YamlPath;

/// Checks and compiles `h.paginate` (at YAML path `p`, the step's `http`).
pub(super) fn compile_paginate(
    cx: &mut Ctx,
    p: &YamlPath,
    h: &HttpSpec,
    pg: &PaginateSpec,
) -> Option<PaginatePlan> {
    let at = p.at("paginate");
    let styles: Vec<&str> = [
        ("offset", pg.offset.is_some()),
        ("cursor", pg.cursor.is_some()),
        ("next_url", pg.next_url.is_some()),
    ]
    .into_iter()
    .filter_map(|(k, set)| set.then_some(k))
    .collect();
    if styles.len() > 1 {
        cx.key_problem(
            at.at(styles[1]),
            format!(
                "a walk has one style: found {} (leave out both for page numbers)",
                styles.join(" and ")
            ),
        );
        return None;
    }
    if let Some(style) = styles.first() {
        for (key, set) in [
            ("param", pg.param.is_some()),
            ("start", pg.start.is_some()),
            ("in", pg.r#in.is_some()),
        ] {
            if set {
                cx.key_problem(
                    at.at(key),
                    format!(
                        "`{key}` belongs to page-number pagination; with `{style}`, set it inside `{style}` (if it has one)"
                    ),
                );
            }
        }
    }
    let until = match &pg.until {
        Some(u) => Some(cx.expr(&at.at("until"), u)?),
        None if styles.is_empty() => {
            cx.problem(
                &at,
                "page numbers need `until` (e.g. `not (response.json | has_more)`); a walk by `cursor` or `next_url` stops by itself when there is no next value",
            );
            return None;
        }
        None => None,
    };
    let collect = match &pg.collect {
        Some(c) => match compile_jsonpath(c) {
            Ok(q) => Some(q),
            Err(e) => {
                cx.problem(at.at("collect"), e);
                None
            }
        },
        None => None,
    };
    if pg.max_pages == 0 {
        cx.problem(at.at("max_pages"), "max_pages must be at least 1");
    }
    let place = |cx: &mut Ctx, written: Option<PageIn>, param: &str, at: YamlPath| {
        let in_body = h.json.as_ref().and_then(|j| j.get(param)).is_some();
        let place = written.unwrap_or(if in_body { PageIn::Body } else { PageIn::Query });
        if place == PageIn::Body && !h.json.as_ref().is_some_and(|j| j.is_object()) {
            cx.problem(
                at,
                "the parameter goes in the body, but the request has no JSON object body",
            );
        }
        place
    };
    let style = if let Some(o) = &pg.offset {
        if o.limit == 0 {
            cx.problem(at.at("offset").at("limit"), "limit must be at least 1");
        }
        PageStyle::Offset {
            place: place(cx, o.r#in, &o.param, at.at("offset").at("in")),
            param: o.param.clone(),
            limit: o.limit,
            limit_param: o.limit_param.clone(),
            start: o.start,
        }
    } else if let Some(c) = &pg.cursor {
        if c.param.trim().is_empty() {
            cx.problem(
                at.at("cursor").at("param"),
                "name the parameter the cursor is sent as",
            );
        }
        PageStyle::Cursor {
            from: next_from(cx, &at.at("cursor").at("from"), &c.from, false)?,
            place: place(cx, c.r#in, &c.param, at.at("cursor").at("in")),
            param: c.param.clone(),
        }
    } else if let Some(n) = &pg.next_url {
        PageStyle::NextUrl {
            from: next_from(cx, &at.at("next_url").at("from"), &n.from, true)?,
        }
    } else {
        let param = pg.param.clone().unwrap_or_else(|| "page".into());
        PageStyle::Number {
            place: place(cx, pg.r#in, &param, at.at("in")),
            param,
            start: pg.start.unwrap_or(1),
        }
    };
    Some(PaginatePlan {
        style,
        until,
        max_pages: pg.max_pages,
        collect,
    })
}

/// `from:` — a JSONPath (`$…`), `link_header` (next URLs only) or an expression.
fn next_from(cx: &mut Ctx, at: &YamlPath, from: &str, url: bool) -> Option<NextFrom> {
    let from = from.trim();
    if from == "link_header" {
        if url {
            return Some(NextFrom::LinkHeader);
        }
        cx.problem(
            at,
            "`link_header` gives a next URL: use `next_url: {from: link_header}`",
        );
        return None;
    }
    if from.starts_with('$') {
        return match compile_jsonpath(from) {
            Ok(q) => Some(NextFrom::JsonPath(q)),
            Err(e) => {
                cx.problem(at, e);
                None
            }
        };
    }
    if from.contains("{{") {
        cx.problem(
            at,
            "`from` is a JSONPath (`$.meta.next`) or an expression without `{{ }}` (`response.json.next`)",
        );
        return None;
    }
    cx.expr(at, from).map(NextFrom::Expr)
}
