//! Record stage: what happened — the single source of truth for every file a run writes.
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The whole run.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RunRecord {
    /// Version of this record's shape.
    pub record_version: u32,
    /// The qtscen version that wrote it.
    pub qtscen_version: String,
    /// Scenario name.
    pub scenario: String,
    /// Scenario file as given on the command line.
    pub scenario_file: String,
    /// Scenario description.
    pub description: Option<String>,
    /// Report title.
    pub title: String,
    /// When the run started (the clock, so `--now` fixes it).
    pub started_at: String,
    /// When it ended.
    pub finished_at: String,
    /// Wall time in milliseconds.
    pub duration_ms: u64,
    /// `passed`, `failed` or `interrupted`.
    pub outcome: RunOutcome,
    /// The process exit code this run ends with.
    pub exit_code: i32,
    /// Selected tags (`--tags`) and skipped tags.
    pub tags: Vec<String>,
    /// Tags skipped by `--skip-tags`.
    pub skip_tags: Vec<String>,
    /// The steps `--step` asked for (empty: every step the tags select).
    #[serde(default)]
    pub only_steps: Vec<String>,
    /// Steps that ran only because an asked step `needs` them.
    #[serde(default)]
    pub needed_steps: Vec<String>,
    /// The rendered vars (secrets masked).
    pub vars: BTreeMap<String, Value>,
    /// Env variables the scenario uses: name → value (secrets masked).
    pub env: BTreeMap<String, String>,
    /// Steps in scenario order (unselected ones are recorded as skipped).
    pub steps: Vec<StepRecord>,
    /// Counts.
    pub summary: Summary,
    /// Files written into the run folder.
    pub artifacts: Vec<String>,
    /// The scenario's verdict (`report.summary`), rendered after the last step.
    pub verdict: Option<String>,
    /// Why no step ran, when none did: such a run fails (exit 1) unless `--allow-empty`
    /// or the scenario's `allow_empty: true` says an empty selection is fine.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nothing_ran: Option<String>,
}

/// How the run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunOutcome {
    /// Every selected step passed (or was skipped by a condition).
    Passed,
    /// At least one step failed.
    Failed,
    /// Ctrl-C or SIGTERM; the record is partial.
    Interrupted,
}

/// Counts of step outcomes.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Summary {
    /// Steps that passed.
    pub passed: usize,
    /// Steps that failed.
    pub failed: usize,
    /// Selected steps skipped (`when`, `needs`, an earlier critical failure).
    pub skipped: usize,
    /// Steps left out by `--tags` / `--skip-tags`.
    #[serde(default)]
    pub not_selected: usize,
    /// Assertion failures marked `soft`.
    pub warnings: usize,
    /// Requests sent (every attempt and page).
    pub requests: usize,
}

/// One step.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct StepRecord {
    /// Step id.
    pub id: String,
    /// Title.
    pub title: String,
    /// Description.
    pub description: Option<String>,
    /// `http`, …
    pub kind: String,
    /// Tags.
    pub tags: Vec<String>,
    /// Whether `--tags`/`--skip-tags` selected the step.
    pub selected: bool,
    /// Outcome.
    pub outcome: StepOutcome,
    /// Why it was skipped.
    pub skip_reason: Option<String>,
    /// Why it failed, classified.
    pub failure: Option<Failure>,
    /// Start time.
    pub started_at: Option<String>,
    /// Wall time.
    pub duration_ms: u64,
    /// Every request sent, in order: attempts, pages, fallback.
    pub attempts: Vec<Attempt>,
    /// Assertion outcomes.
    pub assertions: Vec<AssertionRecord>,
    /// Captured values.
    pub captures: BTreeMap<String, Value>,
    /// Number of items collected over pages.
    pub items_count: Option<usize>,
    /// Text output (SQL results as aligned tables).
    pub output: Option<String>,
    /// The rendered notes.
    pub notes: Option<String>,
    /// Whether the fallback request was used.
    pub used_fallback: bool,
    /// Artifact files this step wrote.
    pub artifacts: Vec<String>,
}

/// A step's outcome.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepOutcome {
    /// All assertions held.
    Passed,
    /// A request or an assertion failed.
    Failed,
    /// Not run; see `skip_reason`.
    Skipped,
}

/// Whose problem a failure is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureClass {
    /// The server answered 5xx.
    ServerError,
    /// The server did not answer (timeout, refused, dropped).
    NoResponse,
    /// The server rejected the request (4xx).
    Rejected,
    /// The database rejected the query (e.g. `Code: 60`, a missing table).
    QueryError,
    /// A program (or container) exited with an error.
    ProgramFailed,
    /// The server answered, but an assertion failed.
    Assertion,
    /// The scenario could not be rendered or executed (template error, bad URL).
    Engine,
    /// The run was interrupted (Ctrl-C, SIGTERM, SIGHUP) while the step ran; its
    /// attempts so far are kept.
    Interrupted,
}

impl FailureClass {
    /// The class's word, as results.json, the report, the console and JUnit say it.
    pub fn word(self) -> &'static str {
        match self {
            FailureClass::ServerError => "server_error",
            FailureClass::NoResponse => "no_response",
            FailureClass::Rejected => "rejected",
            FailureClass::QueryError => "query_error",
            FailureClass::ProgramFailed => "program_failed",
            FailureClass::Assertion => "assertion",
            FailureClass::Engine => "engine",
            FailureClass::Interrupted => "interrupted",
        }
    }
}

/// A classified failure.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Failure {
    /// Class.
    pub class: FailureClass,
    /// Human explanation.
    pub message: String,
}

/// One request on the wire.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Attempt {
    /// 1-based attempt number for this page/request.
    pub attempt: u32,
    /// Attempts allowed.
    pub of: u32,
    /// Page number on a paginated step.
    pub page: Option<u64>,
    /// Sent as the step's fallback.
    pub fallback: bool,
    /// Start time (RFC 3339 with offset).
    pub started_at: String,
    /// Wall time.
    pub duration_ms: u64,
    /// What was sent (secrets masked).
    pub request: RequestRecord,
    /// HTTP only: a shell-quoted curl command that sends the same request again (secrets
    /// masked as `***`: put them back to run it).
    #[serde(default)]
    pub curl: Option<String>,
    /// What came back, if anything.
    pub response: Option<ResponseRecord>,
    /// Why nothing came back.
    pub transport_error: Option<TransportError>,
    /// HTTP code as text; `000` when there was no answer.
    pub code: String,
    /// The pause before the next attempt, if one follows.
    pub retry_after_ms: Option<u64>,
    /// The SQL query's name.
    pub label: Option<String>,
    /// The database's error message, when it rejected the query.
    pub server_error: Option<String>,
    /// Why the request was sent a second time on a new connection (a kept-alive
    /// connection closed by the server before any answer); null when it was not.
    #[serde(default)]
    pub resent: Option<String>,
}

/// A request.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RequestRecord {
    /// Method.
    pub method: String,
    /// The full URL with its query string as sent, percent-encoded (secrets masked).
    pub url: String,
    /// The same URL with the query string decoded, for people to read.
    pub url_readable: String,
    /// Query parameters as sent (JSON values as their encoded text).
    pub query: Vec<(String, String)>,
    /// Headers (secrets masked).
    pub headers: BTreeMap<String, String>,
    /// Body text.
    pub body: Option<String>,
}

/// A response.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ResponseRecord {
    /// Status code.
    pub status: u16,
    /// Headers (lower-case names).
    pub headers: BTreeMap<String, String>,
    /// Body, whole; or its start when it is in `body_file`.
    pub body: String,
    /// The file of the run folder holding the whole body, when it was larger than
    /// `limits.body_in_memory` (secrets masked); for a program, its log when the output
    /// was longer than `limits.output_tail`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body_file: Option<String>,
    /// The body's whole size in bytes, when it is in `body_file`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body_bytes: Option<u64>,
}

/// A failure below HTTP.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TransportError {
    /// `timeout`, `refused`, `reset`, `malformed_response`, `interrupted`, `request` or
    /// `other`.
    pub kind: TransportKind,
    /// What the client said.
    pub message: String,
}

/// Kinds of transport failure.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TransportKind {
    /// No answer in time.
    Timeout,
    /// The connection could not be made: refused, unreachable, a name that does not
    /// resolve. (Records before qtscen 0.1.1 said `connect`.)
    #[serde(alias = "connect")]
    Refused,
    /// The connection was reset or closed before the answer was whole (mid-body too).
    Reset,
    /// What came back was not HTTP (a bad status line, a broken chunked body).
    MalformedResponse,
    /// Anything else (a certificate nothing vouches for).
    Other,
    /// The request could not be built (e.g. a header value with a newline): the
    /// scenario's fault, nothing was sent.
    Request,
    /// The run was interrupted (Ctrl-C, SIGTERM, SIGHUP) while this request waited for
    /// its answer.
    Interrupted,
}

impl TransportKind {
    /// The word the record, the console and the reports use.
    pub fn as_str(self) -> &'static str {
        match self {
            TransportKind::Timeout => "timeout",
            TransportKind::Refused => "refused",
            TransportKind::Reset => "reset",
            TransportKind::MalformedResponse => "malformed_response",
            TransportKind::Other => "other",
            TransportKind::Request => "request",
            TransportKind::Interrupted => "interrupted",
        }
    }

    /// A connection refused or dropped: what `retry.on_connect_error` retries.
    pub fn is_connection_failure(self) -> bool {
        matches!(self, TransportKind::Refused | TransportKind::Reset)
    }
}

impl TransportError {
    /// The failure recorded for a request whose answer never came because the run was
    /// interrupted; it stays only if the request does not finish.
    pub fn interrupted(what: &str) -> Self {
        TransportError {
            kind: TransportKind::Interrupted,
            message: format!("the run was interrupted while {what}"),
        }
    }
}

/// One assertion's outcome.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct AssertionRecord {
    /// What was checked, in words.
    pub description: String,
    /// Whether it held.
    pub passed: bool,
    /// Soft assertions only warn.
    pub soft: bool,
    /// What was expected.
    pub expected: String,
    /// What was found.
    pub actual: String,
    /// Details (e.g. which element broke an `all`).
    pub message: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn class_words_are_the_serialized_names() {
        for c in [
            FailureClass::ServerError,
            FailureClass::NoResponse,
            FailureClass::Rejected,
            FailureClass::QueryError,
            FailureClass::ProgramFailed,
            FailureClass::Assertion,
            FailureClass::Engine,
        ] {
            assert_eq!(
                serde_json::to_value(c).unwrap(),
                serde_json::Value::from(c.word())
            );
        }
    }
}
