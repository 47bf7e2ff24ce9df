//! Record stage: what happened — the single source of truth for every file a run writes.
use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

mod transport;
pub use transport::{TransportError, TransportKind};

/// The shape of `results.json` this build writes. It goes up by one with every change
/// that could break a reader (a field removed, renamed or retyped, a value's meaning
/// changed); new fields do not change it.
pub const RECORD_VERSION: u32 = 1;

/// `results.json`: the record of one `qtscen run`, the single source every other file of
/// the run (report, errors file, JUnit) is made from. Secrets are masked (`***`).
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
pub struct RunRecord {
    /// Version of this record's shape, `1`: it goes up by one with every change that
    /// could break a reader (a field removed, renamed or retyped, a value's meaning
    /// changed); new fields do not change it.
    pub record_version: u32,
    /// The qtscen version that wrote it (`0.1.0`).
    pub qtscen_version: String,
    /// The scenario's `name`.
    pub scenario: String,
    /// Scenario file as given on the command line.
    pub scenario_file: String,
    /// The scenario's `description` (Markdown), or null.
    pub description: Option<String>,
    /// The report's title (`report.title`, else the scenario's name).
    pub title: String,
    /// When the run started: RFC 3339 with milliseconds and the offset
    /// (`2025-11-05T13:46:54.000+00:00`); `--now` fixes it (and the zone to UTC).
    pub started_at: String,
    /// When it ended (the same form).
    pub finished_at: String,
    /// The run's wall time in milliseconds.
    pub duration_ms: u64,
    /// `passed`, `failed` or `interrupted`.
    pub outcome: RunOutcome,
    /// The process exit code this run ends with: 0 passed, 1 a step failed (or nothing
    /// ran), 130 interrupted.
    pub exit_code: i32,
    /// The tags `--tags` selected (empty: every tag).
    pub tags: Vec<String>,
    /// Tags skipped by `--skip-tags`.
    pub skip_tags: Vec<String>,
    /// The steps `--step` asked for (empty: every step the tags select).
    #[serde(default)]
    pub only_steps: Vec<String>,
    /// Steps that ran only because an asked step `needs` them.
    #[serde(default)]
    pub needed_steps: Vec<String>,
    /// The scenario's `vars` as rendered at the start (secrets masked).
    pub vars: BTreeMap<String, Value>,
    /// The env variables the scenario uses: name → value (secrets masked).
    pub env: BTreeMap<String, String>,
    /// Steps in scenario order (unselected ones are recorded as skipped).
    pub steps: Vec<StepRecord>,
    /// Counts of step outcomes and requests.
    pub summary: Summary,
    /// Files of the run folder, by name relative to it: step artifacts and logs,
    /// `results.json`, the errors file and the reports.
    pub artifacts: Vec<String>,
    /// The scenario's verdict (`report.summary`, Markdown) rendered after the last step,
    /// or null.
    pub verdict: Option<String>,
    /// Why no step ran, when none did: such a run fails (exit 1) unless `--allow-empty`
    /// or the scenario's `allow_empty: true` says an empty selection is fine.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nothing_ran: Option<String>,
}

/// How the run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
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
#[derive(Clone, Debug, Default, Serialize, Deserialize, JsonSchema)]
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
    /// Requests sent: every attempt of every step (pages, retries, fallbacks, queries,
    /// programs).
    pub requests: usize,
}

/// One step.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
pub struct StepRecord {
    /// The step's `id`.
    pub id: String,
    /// Its `title` (the id when it has none).
    pub title: String,
    /// Its `description` (Markdown), or null.
    pub description: Option<String>,
    /// What it does: `http`, `sql`, `exec`, `docker`, `reconcile`, or `check` (a step
    /// with only `assert:`/`capture:`).
    pub kind: String,
    /// Its `tags`.
    pub tags: Vec<String>,
    /// Whether `--tags`, `--skip-tags` and `--step` selected it (false: not run, and
    /// `skip_reason` says why).
    pub selected: bool,
    /// `passed`, `failed` or `skipped`.
    pub outcome: StepOutcome,
    /// Why it was skipped (`when`, `needs`, an earlier critical failure, not selected),
    /// or null.
    pub skip_reason: Option<String>,
    /// Why it failed, classified; null unless it failed.
    pub failure: Option<Failure>,
    /// When it started (RFC 3339, as `started_at` of the run); null when it did not run.
    pub started_at: Option<String>,
    /// Its wall time in milliseconds, retry waits included (0 when it did not run).
    pub duration_ms: u64,
    /// Every request it sent, in order: attempts, retries, pages, the fallback, SQL
    /// queries, the program it ran.
    pub attempts: Vec<Attempt>,
    /// Each check's outcome, in order (the implicit "status is 2xx" check included).
    pub assertions: Vec<AssertionRecord>,
    /// Captured values by name (secrets masked).
    pub captures: BTreeMap<String, Value>,
    /// How many items a paginated step collected over its pages, or null.
    pub items_count: Option<usize>,
    /// Text output: SQL results as aligned tables, a program's combined stdout and
    /// stderr; or null.
    pub output: Option<String>,
    /// Its `notes` as rendered (Markdown), or null.
    pub notes: Option<String>,
    /// Whether its `fallback` request was sent.
    pub used_fallback: bool,
    /// Files it wrote into the run folder (artifacts, a program's log).
    pub artifacts: Vec<String>,
    /// The item of a `for_each` step this record ran for (masked).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item: Option<Value>,
}

/// A step's outcome.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
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
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
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
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
pub struct Failure {
    /// The failure class (`server_error`, …).
    pub class: FailureClass,
    /// What happened, in words.
    pub message: String,
}

/// One request on the wire.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
pub struct Attempt {
    /// 1-based attempt number of this request (a retry of the same page or query counts
    /// up).
    pub attempt: u32,
    /// Attempts the retry policy allows.
    pub of: u32,
    /// The page number on a paginated step, or null.
    pub page: Option<u64>,
    /// Whether it was sent as the step's `fallback`.
    pub fallback: bool,
    /// When it was sent (RFC 3339 with milliseconds and the offset).
    pub started_at: String,
    /// How long until the whole answer was read, in milliseconds.
    pub duration_ms: u64,
    /// What was sent (secrets masked). For SQL: method `SQL`, the server's URL and the
    /// query as `body`; for a program: method `EXEC` or `DOCKER` and the command line as
    /// `url`.
    pub request: RequestRecord,
    /// HTTP only: a shell-quoted curl command that sends the same request again (secrets
    /// masked as `***`: put them back to run it).
    #[serde(default)]
    pub curl: Option<String>,
    /// What came back, or null when nothing did. For a program: its exit code as
    /// `status` and its combined output as `body`.
    pub response: Option<ResponseRecord>,
    /// Why nothing came back, or null.
    pub transport_error: Option<TransportError>,
    /// The outcome as text: the HTTP status (`200`, `503`), `000` when there was no
    /// answer; for SQL `OK`, `Code: 60` (the server's error code) or `000`; for a program
    /// `exit 0`, `exit 1`, `timeout`, `killed` or `000` (it could not start).
    pub code: String,
    /// The pause before the next attempt in milliseconds (backoff or `Retry-After`), or
    /// null when none follows.
    pub retry_after_ms: Option<u64>,
    /// The SQL query's name, or null.
    pub label: Option<String>,
    /// The database's error message when it rejected the query (or why a program could
    /// not start), or null.
    pub server_error: Option<String>,
    /// Why the request was sent a second time on a new connection (a kept-alive
    /// connection closed by the server before any answer); null when it was not.
    #[serde(default)]
    pub resent: Option<String>,
}

impl Attempt {
    /// The one constructor of an attempt: `request` as it goes out at `started_at`,
    /// attempt 1 of 1, no answer yet (code `000`); the sender fills in the rest (its
    /// number, page, label, then the answer).
    pub fn pending(request: RequestRecord, started_at: String) -> Attempt {
        Attempt {
            attempt: 1,
            of: 1,
            page: None,
            fallback: false,
            started_at,
            duration_ms: 0,
            request,
            curl: None,
            response: None,
            transport_error: None,
            code: "000".to_string(),
            retry_after_ms: None,
            label: None,
            server_error: None,
            resent: None,
        }
    }
}

/// A request.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
pub struct RequestRecord {
    /// `GET`, `POST`, …; `SQL`, `EXEC` or `DOCKER`.
    pub method: String,
    /// The full URL with its query string as sent, percent-encoded (secrets masked).
    pub url: String,
    /// The same URL with the query string decoded, for people to read.
    pub url_readable: String,
    /// Query parameters as sent, in order, as `[name, value]` pairs (JSON values as
    /// their encoded text).
    pub query: Vec<(String, String)>,
    /// Request headers by name (secrets masked).
    pub headers: BTreeMap<String, String>,
    /// The body as sent, or null.
    pub body: Option<String>,
}

/// A response.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
pub struct ResponseRecord {
    /// The HTTP status code.
    pub status: u16,
    /// Response headers by lower-case name.
    pub headers: BTreeMap<String, String>,
    /// Body, whole (secrets masked); or its start when it is in `body_file`.
    pub body: String,
    /// The file of the run folder holding the whole body, when it was larger than
    /// `limits.body_in_memory` (secrets masked); for a program, its log when the output
    /// was longer than `limits.output_tail`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body_file: Option<String>,
    /// The body's whole size in bytes, when it is in `body_file` or `body` is an
    /// excerpt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body_bytes: Option<u64>,
    /// True when `body` is only an excerpt (its first 200 characters): a page walk keeps
    /// the whole bodies of its first three pages and an excerpt of each later page's
    /// (a non-2xx answer keeps its body whole).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub body_excerpt: bool,
}

/// One assertion's outcome.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
pub struct AssertionRecord {
    /// What was checked, in words (the assertion's `name`, or one made from it).
    pub description: String,
    /// Whether it held.
    pub passed: bool,
    /// Whether it was `soft` (a failure is a warning, the step still passes).
    pub soft: bool,
    /// What was expected, as text.
    pub expected: String,
    /// What was found, as text (cut when long).
    pub actual: String,
    /// Details when it failed (e.g. which element broke an `all`), or null.
    pub message: Option<String>,
}

#[cfg(test)]
mod tests;
