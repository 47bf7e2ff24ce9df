//! Execute stage: HTTP over one shared keep-alive client; every outcome is data —
//! a timeout or a refused connection is an `Exchange` too, not an engine error.
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::record::{TransportError, TransportKind};

/// Redirects followed at most.
const MAX_REDIRECTS: u32 = 5;

/// Headers that carry credentials whatever their value.
fn is_credential(name: &str) -> bool {
    ["authorization", "cookie", "proxy-authorization"]
        .iter()
        .any(|c| name.eq_ignore_ascii_case(c))
}

/// Bodies beyond this are cut (and say so): the evidence stays usable and memory bounded.
const MAX_BODY: usize = 64 << 20;

/// A request with every template rendered.
#[derive(Clone, Debug)]
pub struct ResolvedRequest {
    /// Upper-case method.
    pub method: String,
    /// URL without the query string.
    pub url: String,
    /// Query pairs in order (values already text; JSON encoded as JSON).
    pub query: Vec<(String, String)>,
    /// Headers in order.
    pub headers: Vec<(String, String)>,
    /// Body text.
    pub body: Option<String>,
    /// Whole-answer timeout.
    pub timeout: Duration,
}

impl ResolvedRequest {
    /// The URL as sent, query string encoded.
    pub fn full_url(&self) -> Result<reqwest::Url, String> {
        let mut url = reqwest::Url::parse(&self.url)
            .map_err(|e| format!("invalid URL `{}`: {e}", self.url))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(format!(
                "invalid URL `{}`: only http and https are supported",
                self.url
            ));
        }
        if !self.query.is_empty() {
            let mut pairs = url.query_pairs_mut();
            for (k, v) in &self.query {
                pairs.append_pair(k, v);
            }
        }
        Ok(url)
    }
}

/// What one send produced.
#[derive(Debug)]
pub struct Exchange {
    /// How long it took.
    pub duration: Duration,
    /// Status, headers and body, or why there were none.
    pub result: Result<(u16, BTreeMap<String, String>, String), TransportError>,
}

/// The run's HTTP client: one for the machine's roots, and one per `tls.ca_file`.
#[derive(Clone)]
pub struct HttpClient {
    client: reqwest::Client,
    /// Clients that also trust a CA file, by its path, made at its first use.
    with_ca: Arc<Mutex<HashMap<PathBuf, reqwest::Client>>>,
}

impl HttpClient {
    /// A keep-alive client; no proxy from the environment, no redirects followed silently.
    pub fn new() -> Result<Self, String> {
        Ok(HttpClient {
            client: build(Vec::new())?,
            with_ca: Arc::default(),
        })
    }

    /// The same client, trusting the CA certificates of `ca_file` too (read once a run).
    pub fn with_ca_file(&self, ca_file: &Path) -> Result<HttpClient, String> {
        let mut clients = self.with_ca.lock().unwrap_or_else(|e| e.into_inner());
        let client = match clients.get(ca_file) {
            Some(c) => c.clone(),
            None => {
                let c = build(super::tls::read_ca_file(ca_file)?)?;
                clients.insert(ca_file.to_path_buf(), c.clone());
                c
            }
        };
        Ok(HttpClient {
            client,
            with_ca: self.with_ca.clone(),
        })
    }

    /// Sends one request; never fails — failures are recorded in the exchange.
    /// `url` is `req.full_url()`, made once by the caller (it is also recorded).
    /// Redirects are followed (5 at most); on a redirect to another origin every
    /// credential header, and every header whose value `is_secret` says carries a
    /// secret, is left behind.
    pub async fn send(
        &self,
        req: &ResolvedRequest,
        url: &reqwest::Url,
        is_secret: &(dyn Fn(&str) -> bool + Sync),
    ) -> Exchange {
        let started = Instant::now();
        let result = self.try_send(req, url, is_secret).await;
        Exchange {
            duration: started.elapsed(),
            result,
        }
    }

    async fn try_send(
        &self,
        req: &ResolvedRequest,
        url: &reqwest::Url,
        is_secret: &(dyn Fn(&str) -> bool + Sync),
    ) -> Result<(u16, BTreeMap<String, String>, String), TransportError> {
        let other = |message: String| TransportError {
            kind: TransportKind::Other,
            message,
        };
        let mut method = reqwest::Method::from_bytes(req.method.as_bytes())
            .map_err(|_| other(format!("invalid method `{}`", req.method)))?;
        let mut url = url.clone();
        let mut headers = req.headers.clone();
        let mut body = req.body.clone();
        let mut hops = 0;
        let response = loop {
            let mut builder = self
                .client
                .request(method.clone(), url.clone())
                .timeout(req.timeout);
            for (k, v) in &headers {
                builder = builder.header(k.as_str(), v.as_str());
            }
            if let Some(body) = &body {
                builder = builder.body(body.clone());
            }
            let response = builder.send().await.map_err(classify)?;
            let next = response
                .status()
                .is_redirection()
                .then(|| response.headers().get(reqwest::header::LOCATION))
                .flatten()
                .and_then(|l| l.to_str().ok())
                .and_then(|l| url.join(l).ok());
            let Some(next) = next.filter(|_| hops < MAX_REDIRECTS) else {
                break response;
            };
            hops += 1;
            if next.origin() != url.origin() {
                headers.retain(|(k, v)| !is_credential(k) && !is_secret(v));
            }
            // 301/302/303 turn a request with a body into a GET, as browsers and curl do.
            let code = response.status().as_u16();
            let to_get = code == 303 || matches!(code, 301 | 302);
            if to_get && method != reqwest::Method::GET && method != reqwest::Method::HEAD {
                method = reqwest::Method::GET;
                body = None;
                headers.retain(|(k, _)| !k.eq_ignore_ascii_case("content-type"));
            }
            url = next;
        };
        let status = response.status().as_u16();
        let mut headers = BTreeMap::new();
        for (name, value) in response.headers() {
            let v = String::from_utf8_lossy(value.as_bytes()).into_owned();
            headers
                .entry(name.as_str().to_string())
                .and_modify(|e: &mut String| {
                    e.push_str(", ");
                    e.push_str(&v);
                })
                .or_insert(v);
        }
        let mut response = response;
        let mut bytes = Vec::new();
        let mut truncated = false;
        while let Some(chunk) = response.chunk().await.map_err(classify)? {
            if bytes.len() + chunk.len() > MAX_BODY {
                bytes.extend_from_slice(&chunk[..MAX_BODY - bytes.len()]);
                truncated = true;
                break;
            }
            bytes.extend_from_slice(&chunk);
        }
        let mut body = String::from_utf8_lossy(&bytes).into_owned();
        if truncated {
            // The cut mark first: the redactor masks a secret's start left at the edge.
            body.push_str(&format!(
                "{}\n[qtscen: the body was cut at {} MiB]",
                crate::secrets::CUT_MARK,
                MAX_BODY >> 20
            ));
        }
        Ok((status, headers, body))
    }
}

fn build(
    extra_roots: Vec<rustls::pki_types::CertificateDer<'static>>,
) -> Result<reqwest::Client, String> {
    let mut tls = super::tls::client_config(extra_roots)?;
    tls.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    reqwest::Client::builder()
        .no_proxy()
        .user_agent(concat!("qtscen/", env!("CARGO_PKG_VERSION")))
        .pool_idle_timeout(Duration::from_secs(60))
        .tcp_nodelay(true)
        // Redirects are followed by `send`, which decides what crosses origins.
        .redirect(reqwest::redirect::Policy::none())
        .tls_backend_preconfigured(tls)
        .build()
        .map_err(|e| format!("cannot build the HTTP client: {e}"))
}

fn classify(err: reqwest::Error) -> TransportError {
    let mut message = err.to_string();
    let mut source = std::error::Error::source(&err);
    while let Some(inner) = source {
        message.push_str(": ");
        message.push_str(&inner.to_string());
        source = inner.source();
    }
    let kind = if err.is_builder() {
        TransportKind::Request
    } else if err.is_timeout() {
        TransportKind::Timeout
    } else if err.is_connect() || err.is_request() || err.is_body() {
        TransportKind::Connect
    } else {
        TransportKind::Other
    };
    TransportError { kind, message }
}

/// `Retry-After` as seconds or an HTTP date, relative to `now`.
pub fn parse_retry_after(value: &str, now: jiff::Timestamp) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when = jiff::fmt::rfc2822::parse(value).ok()?.timestamp();
    let secs = when.as_second() - now.as_second();
    Some(Duration::from_secs(secs.max(0) as u64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_seconds_and_date() {
        let now: jiff::Timestamp = "2025-11-05T13:00:00Z".parse().unwrap();
        assert_eq!(parse_retry_after("2", now), Some(Duration::from_secs(2)));
        assert_eq!(
            parse_retry_after("Wed, 05 Nov 2025 13:00:05 GMT", now),
            Some(Duration::from_secs(5))
        );
        assert_eq!(parse_retry_after("soon", now), None);
    }

    #[test]
    fn query_json_is_url_encoded() {
        let req = ResolvedRequest {
            method: "GET".into(),
            url: "http://127.0.0.1:1/api/orders".into(),
            query: vec![(
                "where".into(),
                r#"[{"value":"2025-11-05T16:46:54+03:00"}]"#.into(),
            )],
            headers: vec![],
            body: None,
            timeout: Duration::from_secs(1),
        };
        let url = req.full_url().unwrap().to_string();
        assert!(url.contains("%2B03%3A00"), "{url}");
    }
}
