//! The one-line fault syntax of `qtickets-sandbox --fault`: `[METHOD] PATH (STATUS|delay=MS|drop) [xN]`.

use std::str::FromStr;
use std::time::Duration;

use super::faults::{FaultKind, FaultRule};

/// Help text describing the syntax accepted by `FaultRule::from_str`.
pub const FAULT_SYNTAX: &str = "\
Fault syntax: [METHOD] PATH (STATUS|delay=MS|drop) [xN] [retry-after=S]
  METHOD       GET, POST, … or * (any; also the default when omitted)
  PATH         prefix after /api/rest/v1, e.g. /orders (also matches /orders/1001)
  STATUS       answer this status with a JSON error body (503 is QTickets' UNKNOWN_ERROR)
  delay=MS     wait MS milliseconds, then answer normally
  drop         close the connection without any response
  xN           fire only N times (default: every time)
  retry-after=S  add `Retry-After: S` to a status answer (e.g. with 429)
Examples: \"GET /orders 503 x2\", \"POST /orders drop x1\", \"/events delay=1500\", \"* / 429 retry-after=1\"";

fn number<T: FromStr>(what: &str, raw: &str) -> Result<T, String> {
    raw.parse::<T>()
        .map_err(|_| format!("{what} must be a non-negative integer, got {raw:?}"))
}

impl FromStr for FaultRule {
    type Err = String;

    /// Parses `[METHOD] PATH (STATUS|delay=MS|drop) [xN] [retry-after=S]`.
    fn from_str(spec: &str) -> Result<Self, Self::Err> {
        let mut tokens = spec.split_whitespace().peekable();
        let method = match tokens.peek() {
            Some(first) if !first.starts_with('/') => tokens.next(),
            _ => None,
        };
        let path = tokens
            .next()
            .filter(|p| p.starts_with('/'))
            .ok_or_else(|| {
                format!("fault {spec:?}: expected a PATH starting with '/'\n{FAULT_SYNTAX}")
            })?;
        let kind_token = tokens.next().ok_or_else(|| {
            format!("fault {spec:?}: expected STATUS, delay=MS or drop\n{FAULT_SYNTAX}")
        })?;
        let kind = if kind_token.eq_ignore_ascii_case("drop") {
            FaultKind::Drop
        } else if let Some(ms) = kind_token.strip_prefix("delay=") {
            FaultKind::Delay(Duration::from_millis(number(
                "delay",
                ms.trim_end_matches("ms"),
            )?))
        } else {
            match number::<u16>("STATUS", kind_token)? {
                code @ 100..=999 => FaultKind::Status(code),
                code => return Err(format!("fault {spec:?}: {code} is not an HTTP status")),
            }
        };
        let mut rule = FaultRule::new(method, path, kind);
        for token in tokens {
            if let Some(n) = token.strip_prefix(['x', 'X']) {
                rule.times = Some(number("xN", n)?);
            } else if let Some(s) = token.strip_prefix("retry-after=") {
                rule.retry_after = Some(number("retry-after", s)?);
            } else {
                return Err(format!(
                    "fault {spec:?}: unexpected {token:?}\n{FAULT_SYNTAX}"
                ));
            }
        }
        Ok(rule)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_documented_examples() {
        let rule: FaultRule = "GET /orders 503 x2".parse().expect("valid");
        assert_eq!(
            rule,
            FaultRule::new(Some("GET"), "/orders", FaultKind::Status(503)).with_times(2)
        );
        let rule: FaultRule = "/events delay=1500".parse().expect("valid");
        assert_eq!(rule.method, None);
        assert_eq!(rule.kind, FaultKind::Delay(Duration::from_millis(1500)));
        let rule: FaultRule = "post /orders drop x1".parse().expect("valid");
        assert_eq!(rule.method.as_deref(), Some("POST"));
        assert_eq!((rule.kind, rule.times), (FaultKind::Drop, Some(1)));
        let rule: FaultRule = "* / 429 retry-after=1".parse().expect("valid");
        assert_eq!((rule.method, rule.retry_after), (None, Some(1)));
    }

    #[test]
    fn rejects_nonsense() {
        for bad in [
            "",
            "GET",
            "GET orders 503",
            "GET /orders",
            "/orders 42",
            "/orders 503 twice",
            "/orders delay=soon",
        ] {
            assert!(
                bad.parse::<FaultRule>().is_err(),
                "{bad:?} should be rejected"
            );
        }
    }
}
