//! Validate stage: an HTTP action (a request, or a fallback) checked and compiled, with
//! its `auth` and `tls`.
use std::path::Path;
use std::time::Duration;

use super::ctx::{Ctx, Problem};
use super::paginate::compile_paginate;
use crate::exec::read_ca_file;
use crate::plan::{AuthPlan, CaFilePlan, HttpPlan, OAuth2Plan};
use crate::scenario::{HttpDefaults, HttpSpec, Scenario, TlsSpec};
use crate::source::YamlPath;
use crate::yp;

const METHODS: &[&str] = &["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];

/// Checks and compiles an HTTP request; problems go into `cx`.
pub(super) fn compile_http(
    cx: &mut Ctx,
    p: &YamlPath,
    h: &HttpSpec,
    d: &HttpDefaults,
) -> Option<HttpPlan> {
    // `use_defaults: false`: nothing from defaults.http (the API's token must not reach
    // another server).
    let none = HttpDefaults::default();
    let d = if h.use_defaults { d } else { &none };
    let method = h.method.to_ascii_uppercase();
    if !METHODS.contains(&method.as_str()) {
        cx.problem(
            p.at("method"),
            format!(
                "unknown method `{}`; expected one of {}",
                h.method,
                METHODS.join(", ")
            ),
        );
    }
    let mut url = Vec::new();
    match (&h.url, &h.path) {
        (Some(u), None) => url.extend(cx.text(&p.at("url"), u)),
        (None, Some(path)) => {
            let base = h.base_url.as_ref().or(d.base_url.as_ref());
            match base {
                Some(b) => {
                    let where_ = if h.base_url.is_some() { p.at("base_url") } else { yp!["defaults", "http", "base_url"] };
                    url.extend(cx.text(&where_, b));
                    url.extend(cx.text(&p.at("path"), path));
                }
                None => cx.problem(p.at("path"), "a `path` needs a base URL: set `defaults.http.base_url` or `base_url`, or use `url`"),
            }
        }
        (Some(_), Some(_)) => cx.key_problem(p.at("path"), "give either `url` or `path`, not both"),
        (None, None) => cx.problem(p, "an http step needs `url` or `path`"),
    }
    let mut query = Vec::new();
    for (k, v) in d.query.iter().filter(|(k, _)| !h.query.contains_key(*k)) {
        query.extend(
            cx.json(&yp!["defaults", "http", "query", k], v)
                .map(|c| (k.clone(), c)),
        );
    }
    for (k, v) in &h.query {
        query.extend(cx.json(&p.at("query").at(k), v).map(|c| (k.clone(), c)));
    }
    let mut headers = Vec::new();
    for (k, v) in d
        .headers
        .iter()
        .filter(|(k, _)| !h.headers.keys().any(|o| o.eq_ignore_ascii_case(k)))
    {
        headers.extend(
            cx.text(&yp!["defaults", "http", "headers", k], v)
                .map(|c| (k.clone(), c)),
        );
    }
    for (k, v) in &h.headers {
        headers.extend(cx.text(&p.at("headers").at(k), v).map(|c| (k.clone(), c)));
    }
    let bodies: Vec<&str> = [
        ("json", h.json.is_some()),
        ("body", h.body.is_some()),
        ("form", h.form.is_some()),
    ]
    .into_iter()
    .filter_map(|(k, set)| set.then_some(k))
    .collect();
    if bodies.len() > 1 {
        cx.key_problem(
            p.at(bodies[1]),
            format!(
                "give one body: `json`, `body` or `form`, not {}",
                bodies.join(" and ")
            ),
        );
    }
    let form = h.form.as_ref().map(|f| {
        let mut pairs = Vec::new();
        for (k, v) in f {
            pairs.extend(cx.json(&p.at("form").at(k), v).map(|c| (k.clone(), c)));
        }
        pairs
    });
    let json = h.json.as_ref().and_then(|j| cx.json(&p.at("json"), j));
    let body = h.body.as_ref().and_then(|b| cx.text(&p.at("body"), b));
    let timeout = h
        .timeout
        .or(d.timeout)
        .map(|t| t.0)
        .unwrap_or(Duration::from_secs(30));
    if timeout.is_zero() {
        cx.problem(
            p.at("timeout"),
            "a timeout of zero would fail every request",
        );
    }
    let paginate = h
        .paginate
        .as_ref()
        .and_then(|pg| compile_paginate(cx, p, h, pg))
        .map(Box::new);
    let ca_file = compile_ca_file(
        cx,
        (h.tls.as_ref(), &p.at("tls")),
        (d.tls.as_ref(), &yp!["defaults", "http", "tls"]),
    );
    let auth = match (&h.auth, &d.auth) {
        (Some(a), _) => compile_auth(cx, &p.at("auth"), a),
        (None, Some(a)) => compile_auth(cx, &yp!["defaults", "http", "auth"], a),
        (None, None) => None,
    };
    Some(HttpPlan {
        auth,
        method,
        url,
        query,
        headers,
        json,
        body,
        form,
        timeout,
        paginate,
        ca_file,
    })
}

/// The `tls.ca_file` in force: the step's own, else the defaults' — each given with the
/// YAML path of its `tls`.
pub(super) fn compile_ca_file(
    cx: &mut Ctx,
    own: (Option<&TlsSpec>, &YamlPath),
    defaults: (Option<&TlsSpec>, &YamlPath),
) -> Option<CaFilePlan> {
    let (src, tls_at) = [own, defaults]
        .into_iter()
        .find_map(|(tls, at)| Some((tls?.ca_file.as_ref()?, at)))?;
    let at = tls_at.at("ca_file");
    let shown = at.to_string();
    cx.text(&at, src).map(|path| CaFilePlan { path, at: shown })
}

/// Every `tls.ca_file` written without a template, read now (relative to `dir`, the
/// scenario's folder), so a missing or unusable file is reported with its line before
/// the run. Templated paths are read when their step runs.
pub(crate) fn ca_file_problems(scenario: &Scenario, dir: &Path) -> Vec<Problem> {
    let mut written: Vec<(YamlPath, &TlsSpec)> = Vec::new();
    let defaults = &scenario.defaults;
    written.extend(
        defaults
            .http
            .tls
            .as_ref()
            .map(|t| (yp!["defaults", "http", "tls"], t)),
    );
    written.extend(
        defaults
            .sql
            .tls
            .as_ref()
            .map(|t| (yp!["defaults", "sql", "tls"], t)),
    );
    for (i, step) in scenario.steps.iter().enumerate() {
        let http = step.http.as_ref().and_then(|h| h.tls.as_ref());
        written.extend(http.map(|t| (yp!["steps", i, "http", "tls"], t)));
        let sql = step.sql.as_ref().and_then(|q| q.tls.as_ref());
        written.extend(sql.map(|t| (yp!["steps", i, "sql", "tls"], t)));
        let fallback = step.fallback.as_ref().and_then(|f| f.http.as_ref());
        let fallback = fallback.and_then(|h| h.tls.as_ref());
        written.extend(fallback.map(|t| (yp!["steps", i, "fallback", "http", "tls"], t)));
    }
    let mut problems = Vec::new();
    for (at, tls) in written {
        let Some(path) = tls.ca_file.as_deref() else {
            continue;
        };
        let templated = ["{{", "{%", "{#"].iter().any(|m| path.contains(m));
        if templated || path.trim().is_empty() {
            continue;
        }
        if let Err(message) = read_ca_file(&dir.join(path.trim())) {
            problems.push(Problem {
                path: at.at("ca_file"),
                message,
                at_key: false,
            });
        }
    }
    problems
}

/// Checks and compiles an `auth` block (exactly one kind).
fn compile_auth(cx: &mut Ctx, p: &YamlPath, a: &crate::scenario::AuthSpec) -> Option<AuthPlan> {
    let kinds: Vec<&str> = [
        ("bearer", a.bearer.is_some()),
        ("basic", a.basic.is_some()),
        (
            "oauth2_client_credentials",
            a.oauth2_client_credentials.is_some(),
        ),
    ]
    .into_iter()
    .filter_map(|(k, set)| set.then_some(k))
    .collect();
    if kinds.len() != 1 {
        let msg = if kinds.is_empty() {
            "`auth` needs one of `bearer`, `basic` or `oauth2_client_credentials`".to_string()
        } else {
            format!("`auth` takes one kind, found {}", kinds.join(" and "))
        };
        match kinds.get(1) {
            Some(k) => cx.key_problem(p.at(k), msg),
            None => cx.problem(p, msg),
        }
        return None;
    }
    if let Some(b) = &a.bearer {
        return cx
            .text(&p.at("bearer").at("token"), &b.token)
            .map(AuthPlan::Bearer);
    }
    if let Some(b) = &a.basic {
        let user = cx.text(&p.at("basic").at("username"), &b.username);
        let password = cx.text(&p.at("basic").at("password"), &b.password);
        return Some(AuthPlan::Basic(user?, password?));
    }
    let o = a.oauth2_client_credentials.as_ref()?;
    let at = p.at("oauth2_client_credentials");
    let token_url = cx.text(&at.at("token_url"), &o.token_url);
    let client_id = cx.text(&at.at("client_id"), &o.client_id);
    let client_secret = cx.text(&at.at("client_secret"), &o.client_secret);
    let scope = match &o.scope {
        Some(s) => Some(cx.text(&at.at("scope"), s)?),
        None => None,
    };
    Some(AuthPlan::OAuth2(Box::new(OAuth2Plan {
        token_url: token_url?,
        client_id: client_id?,
        client_secret: client_secret?,
        scope,
        basic: o.client_auth == crate::scenario::ClientAuth::Basic,
    })))
}
