//! Run stage: one HTTP step's requests — rendering, retries, a walk over pages, and the
//! fallback — with every request recorded as an `Attempt`.
use std::collections::BTreeMap;
use std::sync::Arc;

use minijinja::Value;

use super::in_flight::InFlight;
use super::outcome::ActionOutcome;
use super::{Clock, Event, EventSink, RunContext, backoff_delay};
use crate::assert::Observation;
use crate::exec::{Body, BodyPolicy, HttpClient, ResolvedRequest, parse_retry_after};
use crate::plan::HttpPlan;
use crate::record::{Attempt, RequestRecord, ResponseRecord, TransportError, TransportKind};
use crate::scenario::RetryPolicy;
use crate::template::Templates;

/// A rendered request plus its JSON views.
pub(crate) struct Rendered {
    pub(crate) req: ResolvedRequest,
    query_json: serde_json::Map<String, serde_json::Value>,
    pub(crate) json: Option<serde_json::Value>,
    form: Option<serde_json::Map<String, serde_json::Value>>,
}

pub(crate) fn render(plan: &HttpPlan, t: &Templates, ctx: &Value) -> Result<Rendered, String> {
    let mut url = String::new();
    for (i, part) in plan.url.iter().enumerate() {
        let s = t.render_string(part, ctx).map_err(|e| e.message)?;
        if i > 0 && url.ends_with('/') && s.starts_with('/') {
            url.push_str(&s[1..]);
        } else if i > 0 && !url.ends_with('/') && !s.starts_with('/') && !s.is_empty() {
            url.push('/');
            url.push_str(&s);
        } else {
            url.push_str(&s);
        }
    }
    let mut query = Vec::new();
    let mut query_json = serde_json::Map::new();
    for (k, c) in &plan.query {
        let v = c
            .render(t, ctx)
            .map_err(|e| format!("query `{k}`: {}", e.message))?;
        if v.is_null() {
            continue;
        }
        query.push((k.clone(), query_text(&v)));
        query_json.insert(k.clone(), v);
    }
    let mut headers = Vec::new();
    for (k, c) in &plan.headers {
        headers.push((
            k.clone(),
            t.render_string(c, ctx)
                .map_err(|e| format!("header `{k}`: {}", e.message))?,
        ));
    }
    let mut form = None;
    let json = match &plan.json {
        Some(j) => Some(
            j.render(t, ctx)
                .map_err(|e| format!("json body: {}", e.message))?,
        ),
        None => None,
    };
    let body = match (&json, &plan.body) {
        (Some(j), _) => {
            if !headers
                .iter()
                .any(|(k, _)| k.eq_ignore_ascii_case("content-type"))
            {
                headers.push(("Content-Type".into(), "application/json".into()));
            }
            Some(j.to_string())
        }
        (None, Some(b)) => Some(
            t.render_string(b, ctx)
                .map_err(|e| format!("body: {}", e.message))?,
        ),
        (None, None) => match &plan.form {
            Some(pairs) => {
                let (text, map) = render_form(pairs, t, ctx)?;
                if !headers
                    .iter()
                    .any(|(k, _)| k.eq_ignore_ascii_case("content-type"))
                {
                    headers.push((
                        "Content-Type".into(),
                        "application/x-www-form-urlencoded".into(),
                    ));
                }
                form = Some(map);
                Some(text)
            }
            None => None,
        },
    };
    Ok(Rendered {
        req: ResolvedRequest {
            method: plan.method.clone(),
            url,
            query,
            headers,
            body,
            timeout: plan.timeout,
        },
        query_json,
        json,
        form,
    })
}

/// A form body: its pairs rendered (null left out), URL-encoded as browsers do
/// (`application/x-www-form-urlencoded`, spaces as `+`), and its values for
/// `request.form`.
fn render_form(
    pairs: &[(String, crate::template::CompiledJson)],
    t: &Templates,
    ctx: &Value,
) -> Result<(String, serde_json::Map<String, serde_json::Value>), String> {
    let mut map = serde_json::Map::new();
    // The URL crate's query serializer is the form serializer.
    let mut url = reqwest::Url::parse("http://form.invalid/").map_err(|e| e.to_string())?;
    {
        let mut enc = url.query_pairs_mut();
        for (k, c) in pairs {
            let v = c
                .render(t, ctx)
                .map_err(|e| format!("form `{k}`: {}", e.message))?;
            if v.is_null() {
                continue;
            }
            enc.append_pair(k, &query_text(&v));
            map.insert(k.clone(), v);
        }
    }
    Ok((url.query().unwrap_or("").to_string(), map))
}

/// A query value as sent: strings as they are, everything else as JSON.
fn query_text(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Runs an HTTP step's requests.
pub struct HttpRun<'a> {
    /// The client.
    pub client: &'a HttpClient,
    /// Templates.
    pub templates: &'a Templates,
    /// The clock.
    pub clock: &'a Clock,
    /// Progress.
    pub events: &'a dyn EventSink,
    /// Step id for events.
    pub step_id: &'a str,
    /// The run folder: a body larger than `limits.body_in_memory` is written there.
    pub out_dir: &'a std::path::Path,
}

pub(super) type Answer = Result<(u16, BTreeMap<String, String>, Body), TransportError>;

/// How many pages of a walk keep their whole bodies in the record; later pages keep an
/// excerpt.
pub(crate) const PAGES_WITH_BODY: u64 = 3;

/// How many characters of a later page's body the record keeps.
pub(crate) const EXCERPT_CHARS: usize = 200;

impl HttpRun<'_> {
    /// Runs the request (walking pages if asked), retrying as `policy` says; `checks`
    /// are the step's assertions (a walk judges its `items:` checks as pages come).
    pub async fn run(
        &self,
        plan: &HttpPlan,
        policy: &RetryPolicy,
        rc: &RunContext,
        fallback: bool,
        checks: &[crate::assert::Check],
        attempts: &mut Vec<Attempt>,
    ) -> ActionOutcome {
        let ctx = rc.value(&[]);
        let mut out = ActionOutcome::default();
        let mut rendered = match render(plan, self.templates, &ctx) {
            Ok(r) => r,
            Err(e) => {
                out.engine_error = Some(e);
                return out;
            }
        };
        let mut url = match rendered.req.full_url() {
            Ok(u) => u,
            Err(e) => {
                out.engine_error = Some(e);
                return out;
            }
        };
        // A `tls.ca_file` that cannot be read fails here, before anything is sent.
        let client = match rc.ca_file(plan.ca_file.as_ref(), self.templates, &ctx) {
            Ok(None) => self.client.clone(),
            Ok(Some(path)) => match self.client.with_ca_file(&path) {
                Ok(c) => c,
                Err(e) => {
                    let at = plan.ca_file.as_ref().map_or("tls.ca_file", |c| &c.at);
                    out.engine_error = Some(format!("{at}: {e}"));
                    return out;
                }
            },
            Err(e) => {
                out.engine_error = Some(e);
                return out;
            }
        };
        out.request = serde_json::json!({
            "method": rendered.req.method,
            "url": rendered.req.url,
            "query": rendered.query_json,
            "json": rendered.json,
            "form": rendered.form,
            "body": rendered.req.body,
        });
        let mut walk = plan.paginate.as_ref().map(|pg| {
            let items = super::collect::Collector::new(
                rc.limits.items_in_memory,
                self.out_dir,
                self.step_id,
                &rc.redactor,
                checks,
                |c| crate::assert::ItemsTally::start(c, self.templates, &ctx),
            );
            super::paginate::Walk::start(pg, &mut rendered, items)
        });
        loop {
            if walk.is_some() {
                url = match rendered.req.full_url() {
                    Ok(u) => u,
                    Err(e) => {
                        out.engine_error = Some(e);
                        break;
                    }
                };
            }
            let page = walk.as_ref().map(|w| w.page());
            // A long walk keeps the whole bodies of its first pages, excerpts after.
            let whole_body = walk.as_ref().is_none_or(|w| w.fetched() < PAGES_WITH_BODY);
            let auth_cx = super::auth::AuthCx {
                client: &client,
                templates: self.templates,
                clock: self.clock,
                events: self.events,
                step_id: self.step_id,
                rc,
                ctx: &ctx,
                fallback,
            };
            // A 401 with an OAuth2 token: one more try with a fresh token.
            let mut fresh = false;
            let answer = loop {
                if let Some(auth) = &plan.auth {
                    let set =
                        super::auth::authorize(auth, &mut rendered, fresh, &auth_cx, attempts);
                    if let Err(e) = set.await {
                        break Err(e);
                    }
                }
                let answer = self
                    .send_with_retry(
                        &client,
                        &rendered.req,
                        &url,
                        policy,
                        (page, whole_body),
                        fallback,
                        rc,
                        attempts,
                    )
                    .await;
                let unauthorized = matches!(&answer, Ok((401, _, _)));
                if unauthorized && !fresh && super::auth::refreshable(plan.auth.as_ref()) {
                    fresh = true;
                    continue;
                }
                break Ok(answer);
            };
            let answer = match answer {
                Ok(a) => a,
                Err(e) => {
                    out.engine_error = Some(e);
                    break;
                }
            };
            out.pages += 1;
            match answer {
                Err(t) => {
                    out.transport = Some(t);
                    out.observation = Observation::default();
                    break;
                }
                Ok((status, headers, body)) => {
                    let success = (200..300).contains(&status);
                    out.observation = observe(status, headers, body);
                    let Some(w) = walk.as_mut() else {
                        break;
                    };
                    if !success {
                        break;
                    }
                    use super::paginate::Next;
                    match w.after(&out.observation, &url, &mut rendered, self.templates, rc) {
                        Next::More => {}
                        Next::Stop => break,
                        Next::Left => {
                            out.pages_left = true;
                            break;
                        }
                        Next::Loop(e) => {
                            out.page_loop = Some(e);
                            break;
                        }
                        Next::Error(e) => {
                            out.engine_error = Some(e);
                            break;
                        }
                    }
                }
            }
        }
        if let Some(w) = walk {
            match w.items.finish() {
                Ok((items, collected)) => {
                    out.observation.items = items;
                    out.observation.walk = Some(Arc::new(collected));
                }
                Err(e) => {
                    out.engine_error.get_or_insert(e);
                }
            }
        }
        out
    }

    #[allow(clippy::too_many_arguments)]
    async fn send_with_retry(
        &self,
        client: &HttpClient,
        req: &ResolvedRequest,
        url: &reqwest::Url,
        policy: &RetryPolicy,
        (page, whole_body): (Option<u64>, bool),
        fallback: bool,
        rc: &RunContext,
        attempts: &mut Vec<Attempt>,
    ) -> Answer {
        let of = policy.attempts.max(1);
        let first = std::time::Instant::now();
        let mut n = 1;
        loop {
            let started = self.clock.now();
            let redactor = &rc.redactor;
            let carries_secret = |v: &str| redactor.redact(v) != v;
            // A body too large to hold goes to a file named after the request.
            let file = super::body_file::body_file_name(self.step_id, attempts.len() + 1);
            let open = || super::body_file::open_body_file(self.out_dir, &file, redactor);
            let body = BodyPolicy {
                in_memory: rc.limits.body_in_memory.bytes(),
                max: rc.limits.max_body.0,
                spill: Some(&open),
            };
            // On record before it is sent: an interrupted run still shows this request.
            let mut pending =
                sent_attempt(req, url.as_str(), fallback, self.clock.format(started), rc);
            (pending.attempt, pending.of, pending.page) = (n, of, page);
            let mut slot = InFlight::start(attempts, pending, "waiting for the answer");
            let exchange = client.send(req, url, &carries_secret, body).await;
            let retryable = match &exchange.result {
                Err(t) if t.kind == TransportKind::Timeout => policy.on_timeout,
                Err(t) => t.kind.is_connection_failure() && policy.on_connect_error,
                Ok((status, _, _)) => policy.on_status.contains(status),
            };
            let delay = (retryable && n < of).then(|| {
                let server = match &exchange.result {
                    Ok((_, h, _)) if policy.respect_retry_after => h
                        .get("retry-after")
                        .and_then(|v| parse_retry_after(v, self.clock.now())),
                    _ => None,
                };
                server
                    .map(|d| d.min(policy.backoff.max.0))
                    .unwrap_or_else(|| backoff_delay(&policy.backoff, n))
            });
            let delay =
                delay.filter(|d| policy.deadline.is_none_or(|dl| first.elapsed() + *d < dl.0));
            fill_answer(
                slot.attempt(),
                &exchange.result,
                (exchange.duration, delay),
                !whole_body,
                rc,
            );
            slot.attempt().resent = exchange.resent.as_deref().map(|m| rc.redactor.redact(m));
            self.events.emit(Event::AttemptFinished {
                id: self.step_id,
                attempt: slot.attempt(),
            });
            drop(slot);
            match delay {
                Some(d) => {
                    tokio::time::sleep(d).await;
                    n += 1;
                }
                None => return exchange.result,
            }
        }
    }
}

/// What templates and checks see of an answer: a body in a file is read from there when
/// something needs it.
fn observe(status: u16, headers: BTreeMap<String, String>, body: Body) -> Observation {
    let (text, file, json) = match body {
        Body::Text(t) => {
            let t: Arc<str> = Arc::from(t);
            (t.clone(), None, crate::assert::LazyJson::of_text(t))
        }
        Body::File(f) => {
            let path: Arc<std::path::Path> = Arc::from(f.path.as_path());
            (
                Arc::from(f.head),
                Some(path.clone()),
                crate::assert::LazyJson::of_file(path),
            )
        }
    };
    Observation {
        status: Some(status),
        headers,
        body: text,
        body_file: file,
        json,
        items: None,
        walk: None,
        files: Default::default(),
    }
}

/// What was sent, masked (and the Basic credential a URL's user info makes).
fn request_record(req: &ResolvedRequest, url: &str, rc: &RunContext) -> RequestRecord {
    let r = &rc.redactor;
    let mut headers: Vec<(String, String)> = req.headers.clone();
    if let Some(basic) = userinfo_basic(url) {
        // What the client sends for `https://user:password@host`: its password is a
        // secret, in the Basic credential too.
        if let Some(password) = basic.1 {
            r.add([password]);
        }
        if !headers
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case("authorization"))
        {
            headers.push(("Authorization".into(), basic.0));
        }
    }
    RequestRecord {
        method: req.method.clone(),
        url_readable: r.redact(&readable_url(url)),
        url: r.redact(url),
        query: req
            .query
            .iter()
            .map(|(k, v)| (k.clone(), r.redact(v)))
            .collect(),
        headers: headers
            .iter()
            .map(|(k, v)| (k.clone(), r.redact(v)))
            .collect(),
        body: req.body.as_deref().map(|b| r.redact(b)),
    }
}

/// The record of a request as it goes out (no answer yet: code `000`), attempt 1 of 1.
fn sent_attempt(
    req: &ResolvedRequest,
    url: &str,
    fallback: bool,
    started_at: String,
    rc: &RunContext,
) -> Attempt {
    let request = request_record(req, url, rc);
    Attempt {
        fallback,
        curl: Some(crate::curl::curl_line(&request)),
        ..Attempt::pending(request, started_at)
    }
}

/// An attempt recorded in one go, after its answer (a token request of `auth:`).
pub(super) fn finished_attempt(
    req: &ResolvedRequest,
    url: &str,
    result: &Answer,
    fallback: bool,
    started_at: String,
    duration: std::time::Duration,
    rc: &RunContext,
) -> Attempt {
    let mut a = sent_attempt(req, url, fallback, started_at, rc);
    fill_answer(&mut a, result, (duration, None), false, rc);
    a
}

/// Completes an attempt with its answer or transport failure (masked); with `excerpt`,
/// a 2xx body is kept as its first [`EXCERPT_CHARS`] characters.
fn fill_answer(
    a: &mut Attempt,
    result: &Answer,
    (duration, delay): (std::time::Duration, Option<std::time::Duration>),
    excerpt: bool,
    rc: &RunContext,
) {
    let r = &rc.redactor;
    match result {
        Ok((status, headers, body)) => {
            let excerpt = excerpt && (200..300).contains(status);
            let (text, file, bytes, cut) = match body {
                // A short body is whole, excerpt or not.
                Body::Text(t) if excerpt && t.chars().nth(EXCERPT_CHARS).is_some() => {
                    // Masked as far as any secret starting in the excerpt can reach, not
                    // all of a large body.
                    let mut end = t.len().min(EXCERPT_CHARS * 4 + 8192);
                    while !t.is_char_boundary(end) {
                        end -= 1;
                    }
                    (
                        r.cut(&t[..end], EXCERPT_CHARS),
                        None,
                        Some(t.len() as u64),
                        true,
                    )
                }
                Body::Text(t) => (r.redact(t), None, None, false),
                // Its start, cut where the redactor sees the cut.
                Body::File(f) if excerpt => (
                    r.cut(
                        &format!("{}{}", f.head, crate::secrets::CUT_MARK),
                        EXCERPT_CHARS,
                    ),
                    Some(f.name.clone()),
                    Some(f.bytes),
                    true,
                ),
                Body::File(f) => (
                    r.redact(&format!("{}{}", f.head, crate::secrets::CUT_MARK)),
                    Some(f.name.clone()),
                    Some(f.bytes),
                    false,
                ),
            };
            a.response = Some(ResponseRecord {
                status: *status,
                headers: headers
                    .iter()
                    .map(|(k, v)| (k.clone(), r.redact(v)))
                    .collect(),
                body: text,
                body_file: file,
                body_bytes: bytes,
                body_excerpt: cut,
            });
            a.transport_error = None;
            a.code = format!("{status:03}");
        }
        Err(t) => {
            a.response = None;
            a.transport_error = Some(TransportError {
                kind: t.kind,
                message: r.redact(&t.message),
            });
            a.code = "000".to_string();
        }
    }
    a.duration_ms = duration.as_millis() as u64;
    a.retry_after_ms = delay.map(|d| d.as_millis() as u64);
}

/// The `Authorization: Basic …` value a client derives from a URL's user info, and the
/// decoded password.
fn userinfo_basic(url: &str) -> Option<(String, Option<String>)> {
    use base64::Engine;
    let parsed = reqwest::Url::parse(url).ok()?;
    if parsed.username().is_empty() && parsed.password().is_none() {
        return None;
    }
    let decode = |s: &str| {
        percent_encoding::percent_decode_str(s)
            .decode_utf8_lossy()
            .into_owned()
    };
    let user = decode(parsed.username());
    let password = parsed.password().map(decode);
    let pair = format!("{user}:{}", password.as_deref().unwrap_or(""));
    let value = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(pair)
    );
    Some((value, password))
}

/// The URL with its query string percent-decoded (`+` as a space), for people to read.
pub fn readable_url(url: &str) -> String {
    match url.split_once('?') {
        Some((base, query)) => {
            let decoded = percent_encoding::percent_decode_str(&query.replace('+', " "))
                .decode_utf8_lossy()
                .into_owned();
            format!("{base}?{decoded}")
        }
        None => url.to_string(),
    }
}
