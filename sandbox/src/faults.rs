//! Fault injection rules: what they match, how they (de)serialise and how they fire.

use std::sync::Mutex;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::sync::lock;

/// What a matching fault does to the request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "FaultKindWire", into = "FaultKindWire")]
pub enum FaultKind {
    /// Answer with this status and a JSON error body instead of the real answer.
    /// 503 answers exactly `{"error":"unknown error","status":503,"code":"UNKNOWN_ERROR"}`.
    Status(u16),
    /// Sleep this long, then answer normally.
    Delay(Duration),
    /// Close the TCP connection without sending any response.
    Drop,
}

/// One fault rule. Rules are checked in order; the first one that matches and still has
/// `times` left fires and uses up one of its `times`.
///
/// Over HTTP (`POST /__sandbox/faults`) a rule is the flat JSON object
/// `{"method":"GET","path":"/orders","kind":"status","status":503,"times":2}`, with
/// `"kind":"delay","delay_ms":1500` or `"kind":"drop"`, and optionally `"retry_after":1`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "FaultRuleWire", into = "FaultRuleWire")]
pub struct FaultRule {
    /// HTTP method to match (case-insensitive); `None` matches any method.
    pub method: Option<String>,
    /// Path prefix after `/api/rest/v1`, matched on segment boundaries:
    /// `/orders` matches `/orders` and `/orders/1001` but not `/orders2`; `/` matches all.
    pub path: String,
    /// What happens when the rule fires.
    pub kind: FaultKind,
    /// How many times the rule fires; `None` means every time.
    pub times: Option<u32>,
    /// For a status fault, the `Retry-After` header value in seconds (e.g. with 429).
    pub retry_after: Option<u32>,
}

/// The API prefix every sandbox route lives under.
pub const API_PREFIX: &str = "/api/rest/v1";

fn normalise_path(path: &str) -> String {
    let path = path.trim();
    let path = path.strip_prefix(API_PREFIX).unwrap_or(path);
    let path = path.trim_end_matches('/');
    if path.starts_with('/') {
        path.to_owned()
    } else {
        format!("/{path}")
    }
}

fn normalise_method(method: Option<&str>) -> Option<String> {
    let method = method?.trim();
    match method.to_ascii_uppercase().as_str() {
        "" | "*" | "ANY" => None,
        upper => Some(upper.to_owned()),
    }
}

impl FaultRule {
    /// A rule that fires every time; `method` `None` (or `"*"`) matches any method.
    pub fn new(method: Option<&str>, path: &str, kind: FaultKind) -> FaultRule {
        FaultRule {
            method: normalise_method(method),
            path: normalise_path(path),
            kind,
            times: None,
            retry_after: None,
        }
    }

    /// Limits the rule to `n` firings.
    pub fn with_times(mut self, n: u32) -> FaultRule {
        self.times = Some(n);
        self
    }

    /// Adds `Retry-After: secs` to a status fault's answer.
    pub fn with_retry_after(mut self, secs: u32) -> FaultRule {
        self.retry_after = Some(secs);
        self
    }

    /// Whether the rule applies to `method` and `api_path` (the path after `/api/rest/v1`).
    pub fn matches(&self, method: &str, api_path: &str) -> bool {
        if let Some(m) = &self.method
            && !m.eq_ignore_ascii_case(method)
        {
            return false;
        }
        let prefix = normalise_path(&self.path);
        if prefix == "/" {
            return true;
        }
        let path = api_path.trim_end_matches('/');
        path == prefix
            || path
                .strip_prefix(prefix.as_str())
                .is_some_and(|rest| rest.starts_with('/'))
    }
}

/// The live, ordered list of fault rules of one server.
#[derive(Debug, Default)]
pub(crate) struct FaultBook {
    rules: Mutex<Vec<FaultRule>>,
}

impl FaultBook {
    /// A book holding `rules`.
    pub(crate) fn new(rules: Vec<FaultRule>) -> FaultBook {
        FaultBook {
            rules: Mutex::new(rules),
        }
    }

    /// Appends a rule (checked after the existing ones).
    pub(crate) fn add(&self, rule: FaultRule) {
        lock(&self.rules).push(rule);
    }

    /// Removes every rule.
    pub(crate) fn clear(&self) {
        lock(&self.rules).clear();
    }

    /// The rules as they stand (with their remaining `times`).
    pub(crate) fn snapshot(&self) -> Vec<FaultRule> {
        lock(&self.rules).clone()
    }

    /// Finds the first live rule for this request, uses up one of its `times`
    /// (dropping it when exhausted) and returns what it was before firing.
    pub(crate) fn fire(&self, method: &str, api_path: &str) -> Option<FaultRule> {
        let mut rules = lock(&self.rules);
        let index = rules
            .iter()
            .position(|r| r.times != Some(0) && r.matches(method, api_path))?;
        let fired = rules.get(index)?.clone();
        if let Some(rule) = rules.get_mut(index)
            && let Some(left) = rule.times.as_mut()
        {
            *left = left.saturating_sub(1);
            if *left == 0 {
                rules.remove(index);
            }
        }
        Some(fired)
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct FaultKindWire {
    #[serde(default)]
    kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    status: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    delay_ms: Option<u64>,
}

impl TryFrom<FaultKindWire> for FaultKind {
    type Error = String;

    fn try_from(w: FaultKindWire) -> Result<Self, Self::Error> {
        let kind = match (&w.kind, w.status, w.delay_ms) {
            (Some(k), _, _) => k.trim().to_ascii_lowercase(),
            (None, Some(_), _) => "status".to_owned(),
            (None, None, Some(_)) => "delay".to_owned(),
            (None, None, None) => {
                return Err("a fault needs `kind` (status, delay or drop)".to_owned());
            }
        };
        match kind.as_str() {
            "status" => match w.status {
                Some(code @ 100..=999) => Ok(FaultKind::Status(code)),
                Some(code) => Err(format!("`status` {code} is not an HTTP status")),
                None => Err("a status fault needs `status`".to_owned()),
            },
            "delay" => w
                .delay_ms
                .map(|ms| FaultKind::Delay(Duration::from_millis(ms)))
                .ok_or_else(|| "a delay fault needs `delay_ms`".to_owned()),
            "drop" => Ok(FaultKind::Drop),
            other => Err(format!(
                "unknown fault kind {other:?} (expected status, delay or drop)"
            )),
        }
    }
}

impl From<FaultKind> for FaultKindWire {
    fn from(kind: FaultKind) -> Self {
        let (name, status, delay_ms) = match kind {
            FaultKind::Status(code) => ("status", Some(code), None),
            FaultKind::Delay(d) => (
                "delay",
                None,
                Some(u64::try_from(d.as_millis()).unwrap_or(u64::MAX)),
            ),
            FaultKind::Drop => ("drop", None, None),
        };
        FaultKindWire {
            kind: Some(name.to_owned()),
            status,
            delay_ms,
        }
    }
}

fn default_path() -> String {
    "/".to_owned()
}

#[derive(Debug, Serialize, Deserialize)]
struct FaultRuleWire {
    #[serde(default)]
    method: Option<String>,
    #[serde(default = "default_path")]
    path: String,
    #[serde(flatten)]
    kind: FaultKindWire,
    #[serde(default)]
    times: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    retry_after: Option<u32>,
}

impl TryFrom<FaultRuleWire> for FaultRule {
    type Error = String;

    fn try_from(w: FaultRuleWire) -> Result<Self, Self::Error> {
        let mut rule = FaultRule::new(w.method.as_deref(), &w.path, FaultKind::try_from(w.kind)?);
        rule.times = w.times;
        rule.retry_after = w.retry_after;
        Ok(rule)
    }
}

impl From<FaultRule> for FaultRuleWire {
    fn from(rule: FaultRule) -> Self {
        FaultRuleWire {
            method: rule.method,
            path: rule.path,
            kind: rule.kind.into(),
            times: rule.times,
            retry_after: rule.retry_after,
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn json_round_trip() {
        let rule: FaultRule = serde_json::from_value(
            json!({"method":"get","path":"/orders","kind":"status","status":503,"times":2}),
        )
        .expect("valid");
        assert_eq!(
            rule,
            FaultRule::new(Some("GET"), "/orders", FaultKind::Status(503)).with_times(2)
        );
        let back = serde_json::to_value(&rule).expect("serialises");
        assert_eq!(back["kind"], json!("status"));
        assert_eq!(back["status"], json!(503));
        let delay: FaultRule =
            serde_json::from_value(json!({"path":"/events","kind":"delay","delay_ms":250}))
                .expect("valid");
        assert_eq!(delay.kind, FaultKind::Delay(Duration::from_millis(250)));
        assert_eq!(delay.method, None);
        let drop: FaultRule = serde_json::from_value(json!({"kind":"drop"})).expect("valid");
        assert_eq!(drop.path, "/");
        assert!(serde_json::from_value::<FaultRule>(json!({"kind":"status"})).is_err());
        assert!(serde_json::from_value::<FaultRule>(json!({"kind":"explode"})).is_err());
    }

    #[test]
    fn matching_is_segment_aware() {
        let rule = FaultRule::new(Some("POST"), "/api/rest/v1/orders/", FaultKind::Drop);
        assert!(rule.matches("post", "/orders"));
        assert!(rule.matches("POST", "/orders/1001"));
        assert!(!rule.matches("POST", "/orders2"));
        assert!(!rule.matches("GET", "/orders"));
        assert!(FaultRule::new(None, "/", FaultKind::Drop).matches("GET", "/events"));
    }

    #[test]
    fn times_are_used_up_in_order() {
        let book = FaultBook::new(vec![
            FaultRule::new(None, "/orders", FaultKind::Status(503)).with_times(2),
            FaultRule::new(None, "/orders", FaultKind::Status(429)).with_times(1),
        ]);
        let fired: Vec<_> = (0..4)
            .map(|_| book.fire("GET", "/orders").map(|r| r.kind))
            .collect();
        assert_eq!(
            fired,
            vec![
                Some(FaultKind::Status(503)),
                Some(FaultKind::Status(503)),
                Some(FaultKind::Status(429)),
                None
            ]
        );
        assert!(book.snapshot().is_empty());
    }
}
