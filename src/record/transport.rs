//! Record stage: a failure below HTTP — no answer, a refused or reset connection, a
//! malformed response, an interrupted run — in the words the record and reports use.
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A failure below HTTP.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
pub struct TransportError {
    /// `timeout`, `refused`, `reset`, `malformed_response`, `interrupted`, `request` or
    /// `other`.
    pub kind: TransportKind,
    /// What the client said (secrets masked).
    pub message: String,
}

/// Kinds of transport failure.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
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
