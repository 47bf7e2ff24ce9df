//! Run stage: the `Authorization` header of an HTTP request — a bearer token, Basic
//! credentials, or an OAuth2 client-credentials token fetched once per run, cached,
//! fetched again when it expires or on a 401, and masked from the moment it arrives.
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use base64::Engine;
use minijinja::Value;

use super::http_record::finished_attempt;
use super::http_render::Rendered;
use super::{Clock, Event, EventSink, RunContext};
use crate::exec::{HttpClient, ResolvedRequest};
use crate::plan::{AuthPlan, OAuth2Plan};
use crate::record::Attempt;
use crate::template::Templates;

/// OAuth2 tokens fetched during the run, by token URL, client id and scope.
#[derive(Debug, Default)]
pub struct TokenCache(Mutex<HashMap<String, (String, Option<Instant>)>>);

/// What fetching a token needs from the step that first uses it.
pub(super) struct AuthCx<'a> {
    pub(super) client: &'a HttpClient,
    pub(super) templates: &'a Templates,
    pub(super) clock: &'a Clock,
    pub(super) events: &'a dyn EventSink,
    pub(super) step_id: &'a str,
    pub(super) rc: &'a RunContext,
    pub(super) ctx: &'a Value,
    pub(super) fallback: bool,
}

/// Sets `r`'s `Authorization` header for `auth`. An OAuth2 token comes from the run's
/// cache unless it expired or `fresh` asks for a new one (after a 401); fetching it is
/// an attempt of this step.
pub(super) async fn authorize(
    auth: &AuthPlan,
    r: &mut Rendered,
    fresh: bool,
    cx: &AuthCx<'_>,
    attempts: &mut Vec<Attempt>,
) -> Result<(), String> {
    let t = cx.templates;
    let render = |c, what: &str| {
        t.render_string(c, cx.ctx)
            .map_err(|e| format!("auth.{what}: {}", e.message))
    };
    let value = match auth {
        AuthPlan::Bearer(token) => {
            let token = render(token, "bearer.token")?;
            cx.rc.redactor.add([token.clone()]);
            format!("Bearer {token}")
        }
        AuthPlan::Basic(user, password) => {
            let user = render(user, "basic.username")?;
            let password = render(password, "basic.password")?;
            cx.rc.redactor.add([password.clone()]);
            basic(&user, &password)
        }
        AuthPlan::OAuth2(o) => format!("Bearer {}", oauth2_token(o, fresh, cx, attempts).await?),
    };
    r.req
        .headers
        .retain(|(k, _)| !k.eq_ignore_ascii_case("authorization"));
    r.req.headers.push(("Authorization".into(), value));
    Ok(())
}

/// Whether a 401 should be answered by fetching a fresh token and trying once more.
pub(super) fn refreshable(auth: Option<&AuthPlan>) -> bool {
    matches!(auth, Some(AuthPlan::OAuth2(_)))
}

fn basic(user: &str, password: &str) -> String {
    let pair = format!("{user}:{password}");
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(pair)
    )
}

/// Form-encodes one value (RFC 6749 2.3.1 asks it of Basic client credentials too).
fn form_encode(pairs: &[(&str, &str)]) -> String {
    let mut url = match reqwest::Url::parse("http://form.invalid/") {
        Ok(u) => u,
        Err(_) => return String::new(),
    };
    url.query_pairs_mut().extend_pairs(pairs);
    url.query().unwrap_or("").to_string()
}

async fn oauth2_token(
    o: &OAuth2Plan,
    fresh: bool,
    cx: &AuthCx<'_>,
    attempts: &mut Vec<Attempt>,
) -> Result<String, String> {
    let t = cx.templates;
    let render = |c, what: &str| {
        t.render_string(c, cx.ctx)
            .map_err(|e| format!("auth.oauth2_client_credentials.{what}: {}", e.message))
    };
    let token_url = render(&o.token_url, "token_url")?;
    let client_id = render(&o.client_id, "client_id")?;
    let secret = render(&o.client_secret, "client_secret")?;
    let scope = match &o.scope {
        Some(s) => Some(render(s, "scope")?).filter(|s| !s.trim().is_empty()),
        None => None,
    };
    cx.rc.redactor.add([secret.clone()]);
    let key = format!(
        "{token_url}\n{client_id}\n{}",
        scope.as_deref().unwrap_or("")
    );
    let cache = &cx.rc.tokens.0;
    if !fresh {
        let cached = cache.lock().ok().and_then(|c| c.get(&key).cloned());
        if let Some((token, expires)) = cached {
            if expires.is_none_or(|e| Instant::now() < e) {
                return Ok(token);
            }
        }
    }
    let mut form: Vec<(&str, &str)> = vec![("grant_type", "client_credentials")];
    if let Some(s) = &scope {
        form.push(("scope", s));
    }
    let mut headers = vec![
        (
            "Content-Type".to_string(),
            "application/x-www-form-urlencoded".to_string(),
        ),
        ("Accept".to_string(), "application/json".to_string()),
    ];
    if o.basic {
        let id = form_encode(&[("x", &client_id)]);
        let pw = form_encode(&[("x", &secret)]);
        headers.push((
            "Authorization".into(),
            basic(&id["x=".len()..], &pw["x=".len()..]),
        ));
    } else {
        form.push(("client_id", &client_id));
        form.push(("client_secret", &secret));
    }
    let req = ResolvedRequest {
        method: "POST".into(),
        url: token_url.clone(),
        query: Vec::new(),
        headers,
        body: Some(form_encode(&form)),
        timeout: Duration::from_secs(30),
    };
    let url = req
        .full_url()
        .map_err(|e| format!("auth.oauth2_client_credentials.token_url: {e}"))?;
    let started = cx.clock.now();
    let redactor = &cx.rc.redactor;
    let carries_secret = |v: &str| redactor.redact(v) != v;
    // A token answer is small: one larger than `limits.body_in_memory` is cut.
    let policy = crate::exec::BodyPolicy::in_memory(cx.rc.limits.body_in_memory.bytes());
    let exchange = cx.client.send(&req, &url, &carries_secret, policy).await;
    let mut outcome: Result<(String, Option<Instant>), String> = match &exchange.result {
        Ok((status, _, body)) if (200..300).contains(status) => {
            let json: Option<serde_json::Value> = serde_json::from_str(body.text()).ok();
            let token = json
                .as_ref()
                .and_then(|j| j.get("access_token"))
                .and_then(|v| v.as_str())
                .filter(|s| !s.is_empty())
                .map(str::to_string);
            let expires_in = json
                .as_ref()
                .and_then(|j| j.get("expires_in"))
                .and_then(|v| {
                    v.as_u64()
                        .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
                });
            match token {
                Some(token) => {
                    // A secret from the moment it arrives, before anything is recorded.
                    cx.rc.redactor.add([token.clone()]);
                    let expires = expires_in.map(|secs| {
                        let margin = (secs / 10).min(30);
                        Instant::now() + Duration::from_secs(secs - margin)
                    });
                    Ok((token, expires))
                }
                None => Err(format!(
                    "the token endpoint {token_url} answered {status} without an `access_token`"
                )),
            }
        }
        Ok((status, _, body)) => Err(format!(
            "the token endpoint {token_url} answered {status}: {}",
            body.text().chars().take(300).collect::<String>()
        )),
        Err(e) => Err(format!(
            "the token endpoint {token_url} did not answer: {}",
            e.message
        )),
    };
    let mut attempt = finished_attempt(
        &req,
        url.as_str(),
        &exchange.result,
        cx.fallback,
        cx.clock.format(started),
        exchange.duration,
        cx.rc,
    );
    attempt.label = Some("oauth2 token".into());
    cx.events.emit(Event::AttemptFinished {
        id: cx.step_id,
        attempt: &attempt,
    });
    attempts.push(attempt);
    if let Ok((token, expires)) = &outcome {
        if let Ok(mut c) = cache.lock() {
            c.insert(key, (token.clone(), *expires));
        }
    }
    outcome = outcome.map_err(|e| format!("auth: {}", redactor.redact(&e)));
    outcome.map(|(token, _)| token)
}
