//! Run stage: a walk over pages in one step — what changes between requests (a page
//! number, an offset, a cursor, a next URL), when the walk stops, and the loop guard.
use std::collections::HashMap;

use minijinja::Value;

use super::RunContext;
use super::http_render::Rendered;
use crate::assert::Observation;
use crate::plan::{NextFrom, PageStyle, PaginatePlan};
use crate::scenario::PageIn;
use crate::template::Templates;

/// What follows a page.
pub(crate) enum Next {
    /// The walk is over: no next value, or `until` held.
    Stop,
    /// Ask for the next page (the request was changed for it).
    More,
    /// More pages were announced, but `max_pages` is reached.
    Left,
    /// The next cursor or URL was already asked for: the walk would go round forever.
    Loop(String),
    /// `until` or `from` could not be evaluated.
    Error(String),
}

/// One walk's state.
pub(crate) struct Walk<'a> {
    plan: &'a PaginatePlan,
    /// Pages fetched so far.
    index: u64,
    /// The page number or offset sent with the current page.
    number: u64,
    /// Every cursor or URL asked for, with the page it fetched.
    seen: HashMap<String, u64>,
    /// Values of `collect` over every page: held, or written to a file.
    pub(crate) items: super::collect::Collector<'a>,
}

impl<'a> Walk<'a> {
    /// A walk that has fetched nothing yet; `r` is changed for its first page.
    pub(crate) fn start(
        plan: &'a PaginatePlan,
        r: &mut Rendered,
        items: super::collect::Collector<'a>,
    ) -> Walk<'a> {
        let number = match &plan.style {
            PageStyle::Number {
                param,
                place,
                start,
            } => {
                set_param(r, param, *place, serde_json::Value::from(*start));
                *start
            }
            PageStyle::Offset {
                param,
                limit,
                limit_param,
                start,
                place,
            } => {
                set_param(r, param, *place, serde_json::Value::from(*start));
                if let Some(lp) = limit_param {
                    set_param(r, lp, *place, serde_json::Value::from(*limit));
                }
                *start
            }
            PageStyle::Cursor { .. } | PageStyle::NextUrl { .. } => 0,
        };
        Walk {
            plan,
            index: 0,
            number,
            seen: HashMap::new(),
            items,
        }
    }

    /// What the record calls the page about to be fetched: its number for the
    /// page-number style, else its index from 1.
    pub(crate) fn page(&self) -> u64 {
        match self.plan.style {
            PageStyle::Number { .. } => self.number,
            _ => self.index + 1,
        }
    }

    /// After a 2xx answer to the page fetched from `url`: collect its items, then decide
    /// (and prepare `r` for) what comes next.
    pub(crate) fn after(
        &mut self,
        obs: &Observation,
        url: &reqwest::Url,
        r: &mut Rendered,
        t: &Templates,
        rc: &RunContext,
    ) -> Next {
        self.index += 1;
        let page = self.page_done();
        if self.index == 1 && matches!(self.plan.style, PageStyle::NextUrl { .. }) {
            self.seen.insert(url.to_string(), 1);
        }
        let before = self.items.count();
        if let (Some(q), Some(j)) = (&self.plan.collect, obs.json.doc()) {
            let page = crate::assert::select_all(q, j);
            if let Err(e) = self.items.push(&page) {
                return Next::Error(e);
            }
        }
        let on_page = self.items.count() - before;
        let response = super::view::response_value(obs, false);
        if let Some(until) = &self.plan.until {
            let ctx = rc.value(&[("response", response.clone()), ("page", Value::from(page))]);
            match t.eval_bool(until, &ctx) {
                Ok(true) => return Next::Stop,
                Ok(false) => {}
                Err(e) => return Next::Error(format!("paginate.until: {}", e.message)),
            }
        }
        match &self.plan.style {
            PageStyle::Number { param, place, .. } => {
                // `until` is still false: more pages were announced.
                let Some(next) = self.number.checked_add(1) else {
                    return Next::Left;
                };
                if self.index >= self.plan.max_pages {
                    return Next::Left;
                }
                self.number = next;
                set_param(r, param, *place, serde_json::Value::from(next));
                Next::More
            }
            PageStyle::Offset {
                param,
                limit,
                place,
                ..
            } => {
                // A short page is the last one (when items are collected to count).
                if self.plan.collect.is_some() && on_page < *limit {
                    return Next::Stop;
                }
                if self.index >= self.plan.max_pages {
                    return Next::Left;
                }
                self.number = self.number.saturating_add(*limit);
                set_param(r, param, *place, serde_json::Value::from(self.number));
                Next::More
            }
            PageStyle::Cursor { from, param, place } => {
                let cursor = match read_next(from, obs, response, t, rc) {
                    Ok(Some(c)) => c,
                    Ok(None) => return Next::Stop,
                    Err(e) => return Next::Error(format!("paginate.cursor.from: {e}")),
                };
                let key = text_of(&cursor);
                if let Some(at) = self.seen.get(&key) {
                    return Next::Loop(format!(
                        "the walk goes round in a loop: page {page} gave the next cursor `{key}`, which was already sent for page {at}"
                    ));
                }
                if self.index >= self.plan.max_pages {
                    return Next::Left;
                }
                self.seen.insert(key, self.index + 1);
                set_param(r, param, *place, cursor);
                Next::More
            }
            PageStyle::NextUrl { from } => {
                let next = match read_next(from, obs, response, t, rc) {
                    Ok(Some(u)) => text_of(&u),
                    Ok(None) => return Next::Stop,
                    Err(e) => return Next::Error(format!("paginate.next_url.from: {e}")),
                };
                let next = match url.join(next.trim()) {
                    Ok(u) => u,
                    Err(e) => {
                        return Next::Error(format!(
                            "paginate.next_url: page {page} gave `{next}`, not a URL: {e}"
                        ));
                    }
                };
                let key = next.to_string();
                if let Some(at) = self.seen.get(&key) {
                    return Next::Loop(format!(
                        "the walk goes round in a loop: page {page} gave the next URL {key}, which is page {at}'s"
                    ));
                }
                if self.index >= self.plan.max_pages {
                    return Next::Left;
                }
                self.seen.insert(key.clone(), self.index + 1);
                // Followed as given: the URL carries its own query.
                r.req.url = key;
                r.req.query.clear();
                Next::More
            }
        }
    }

    /// How many pages were fetched so far.
    pub(crate) fn fetched(&self) -> u64 {
        self.index
    }

    /// The page just fetched, as `page` in `until` sees it.
    fn page_done(&self) -> u64 {
        match self.plan.style {
            PageStyle::Number { .. } => self.number,
            _ => self.index,
        }
    }
}

/// A cursor or URL as text (a number cursor as its digits).
fn text_of(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The next cursor or URL an answer gives; `None` when it gives none (missing, null,
/// empty, false).
fn read_next(
    from: &NextFrom,
    obs: &Observation,
    response: Value,
    t: &Templates,
    rc: &RunContext,
) -> Result<Option<serde_json::Value>, String> {
    let v = match from {
        NextFrom::JsonPath(q) => obs
            .json
            .doc()
            .and_then(|j| crate::assert::select_first(q, j).cloned()),
        NextFrom::LinkHeader => obs
            .headers
            .get("link")
            .and_then(|h| link_next(h))
            .map(serde_json::Value::from),
        NextFrom::Expr(c) => {
            let ctx = rc.value(&[("response", response)]);
            Some(t.eval_json(c, &ctx).map_err(|e| e.message)?)
        }
    };
    Ok(v.filter(|v| match v {
        serde_json::Value::Null | serde_json::Value::Bool(false) => false,
        serde_json::Value::String(s) => !s.trim().is_empty(),
        _ => true,
    }))
}

/// The `rel="next"` target of a `Link` header value (RFC 8288): links are separated by
/// commas outside `<…>` and quotes; `rel` may be quoted and hold several types.
pub(crate) fn link_next(header: &str) -> Option<String> {
    let mut rest = header;
    while let Some(open) = rest.find('<') {
        let after = &rest[open + 1..];
        let close = after.find('>')?;
        let target = &after[..close];
        let mut params = &after[close + 1..];
        // The parameters run to the next comma outside quotes.
        let mut in_quotes = false;
        let mut end = params.len();
        for (i, ch) in params.char_indices() {
            match ch {
                '"' => in_quotes = !in_quotes,
                ',' if !in_quotes => {
                    end = i;
                    break;
                }
                _ => {}
            }
        }
        let next_link = &params[end..];
        params = &params[..end];
        for param in params.split(';') {
            let Some((k, v)) = param.split_once('=') else {
                continue;
            };
            if k.trim().eq_ignore_ascii_case("rel")
                && v.trim()
                    .trim_matches('"')
                    .split_ascii_whitespace()
                    .any(|r| r.eq_ignore_ascii_case("next"))
            {
                return Some(target.trim().to_string());
            }
        }
        rest = next_link;
    }
    None
}

/// Sets a page parameter in the query or the JSON body.
fn set_param(r: &mut Rendered, param: &str, place: PageIn, value: serde_json::Value) {
    match place {
        PageIn::Query => {
            let text = text_of(&value);
            match r.req.query.iter_mut().find(|(k, _)| k == param) {
                Some(pair) => pair.1 = text,
                None => r.req.query.push((param.to_string(), text)),
            }
        }
        PageIn::Body => {
            if let Some(serde_json::Value::Object(map)) = r.json.as_mut() {
                map.insert(param.to_string(), value);
                r.req.body = Some(serde_json::Value::Object(map.clone()).to_string());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::link_next;

    #[test]
    fn link_next_finds_rel_next_among_several_links() {
        assert_eq!(
            link_next(
                r#"</c?page=1>; rel="first", </c?page=3>; rel="next", </c?page=9>; rel=last"#
            ),
            Some("/c?page=3".into())
        );
        assert_eq!(
            link_next(r#"<https://x/a?b=1,2>; title="a, b"; rel="prev next""#),
            Some("https://x/a?b=1,2".into())
        );
        assert_eq!(
            link_next("<https://x/a>; rel=NEXT"),
            Some("https://x/a".into())
        );
        assert_eq!(link_next(r#"</c?page=1>; rel="prev""#), None);
        assert_eq!(link_next(""), None);
    }
}
