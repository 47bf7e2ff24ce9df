//! Report stage: the console line of one finished attempt (status or failure, duration,
//! page, fallback, resend, the wait before the next).
use std::time::{Duration, Instant};

use super::Console;
use crate::record::Attempt;

impl Console {
    pub(super) fn attempt_finished(&self, attempt: &Attempt) {
        let page = attempt
            .page
            .map(|p| format!(" page {p}"))
            .unwrap_or_default();
        let fb = match (attempt.fallback, attempt.resent.is_some()) {
            (true, _) => " (fallback)",
            (false, true) => " (sent again: a kept-alive connection was closed)",
            (false, false) => "",
        };
        let code = match &attempt.transport_error {
            Some(t) => format!("000 {}", t.kind.as_str()),
            None => attempt.code.clone(),
        };
        let what = format!(
            "{}{page}{fb} attempt {}/{} · {code} · {} ms",
            attempt.request.method, attempt.attempt, attempt.of, attempt.duration_ms
        );
        if let Ok(mut state) = self.state.lock() {
            state.last.clone_from(&what);
            state.since = Instant::now();
            state.noticed = Instant::now();
            state.retry = attempt.retry_after_ms.map(|ms| {
                (
                    Instant::now() + Duration::from_millis(ms),
                    format!("retrying (attempt {}/{})", attempt.attempt + 1, attempt.of),
                )
            });
        }
        if self.opts.quiet {
            return;
        }
        let retry = attempt
            .retry_after_ms
            .map(|ms| format!(", retrying in {ms} ms"))
            .unwrap_or_default();
        if self.live && !self.opts.verbose {
            self.tick();
            return;
        }
        self.line(&format!(
            "      {} {}{page}{fb}  attempt {}/{}  {code}  {} ms{retry}",
            attempt.request.method,
            attempt.request.url_readable,
            attempt.attempt,
            attempt.of,
            attempt.duration_ms
        ));
        if self.opts.verbose {
            for (k, v) in &attempt.request.headers {
                self.line(&format!("        > {k}: {v}"));
            }
            if let Some(r) = &attempt.response {
                for (k, v) in &r.headers {
                    self.line(&format!("        < {k}: {v}"));
                }
            }
        }
    }
}
