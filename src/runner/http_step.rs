//! Run stage: one HTTP step's requests — a walk over pages, a fresh OAuth2 token after a
//! 401, and the fallback — each request sent through the retry loop and recorded as an
//! `Attempt`.
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use super::http_record::{fill_answer, sent_attempt};
use super::http_render::render;
use super::outcome::ActionOutcome;
use super::retry::{Retried, Retries};
use super::{Clock, EventSink, RunContext};
use crate::assert::Observation;
use crate::exec::{Body, BodyPolicy, Exchange, HttpClient, ResolvedRequest, parse_retry_after};
use crate::plan::HttpPlan;
use crate::record::{Attempt, TransportKind};
use crate::scenario::RetryPolicy;
use crate::template::Templates;

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

/// How many pages of a walk keep their whole bodies in the record; later pages keep an
/// excerpt.
pub(crate) const PAGES_WITH_BODY: u64 = 3;

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
                let request = OneRequest {
                    run: self,
                    client: &client,
                    req: &rendered.req,
                    url: &url,
                    page,
                    whole_body,
                    fallback,
                    rc,
                };
                let retries = Retries {
                    policy,
                    clock: self.clock,
                    events: self.events,
                    step_id: self.step_id,
                };
                let answer = retries.run(&request, attempts).await.result;
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

/// One request of a step (a page, the fallback's), as the retry loop sends it.
struct OneRequest<'a> {
    run: &'a HttpRun<'a>,
    client: &'a HttpClient,
    req: &'a ResolvedRequest,
    url: &'a reqwest::Url,
    /// The page of a walk it asks for.
    page: Option<u64>,
    /// Whether its record keeps the whole body (else an excerpt of a 2xx body).
    whole_body: bool,
    fallback: bool,
    rc: &'a RunContext,
}

impl Retried for OneRequest<'_> {
    type Answer = Exchange;

    const WAITING: &'static str = "waiting for the answer";

    fn record(&self, started_at: String, n: u32, of: u32) -> Attempt {
        let mut a = sent_attempt(
            self.req,
            self.url.as_str(),
            self.fallback,
            started_at,
            self.rc,
        );
        (a.attempt, a.of, a.page) = (n, of, self.page);
        a
    }

    async fn attempt(&self, index: usize) -> Exchange {
        let redactor = &self.rc.redactor;
        let carries_secret = |v: &str| redactor.redact(v) != v;
        // A body too large to hold goes to a file named after the request.
        let file = super::body_file::body_file_name(self.run.step_id, index);
        let open = || super::body_file::open_body_file(self.run.out_dir, &file, redactor);
        let body = BodyPolicy {
            in_memory: self.rc.limits.body_in_memory.bytes(),
            max: self.rc.limits.max_body.0,
            spill: Some(&open),
        };
        self.client
            .send(self.req, self.url, &carries_secret, body)
            .await
    }

    fn retryable(&self, exchange: &Exchange, policy: &RetryPolicy) -> bool {
        match &exchange.result {
            Err(t) if t.kind == TransportKind::Timeout => policy.on_timeout,
            Err(t) => t.kind.is_connection_failure() && policy.on_connect_error,
            Ok((status, _, _)) => policy.on_status.contains(status),
        }
    }

    fn asked_pause(&self, exchange: &Exchange, clock: &Clock) -> Option<Duration> {
        match &exchange.result {
            Ok((_, h, _)) => h
                .get("retry-after")
                .and_then(|v| parse_retry_after(v, clock.now())),
            Err(_) => None,
        }
    }

    fn fill(&self, a: &mut Attempt, exchange: &Exchange, pause: Option<Duration>) {
        let timing = (exchange.duration, pause);
        fill_answer(a, &exchange.result, timing, !self.whole_body, self.rc);
        a.resent = exchange
            .resent
            .as_deref()
            .map(|m| self.rc.redactor.redact(m));
    }
}
