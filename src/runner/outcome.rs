//! Run stage: what a step's action produced — the one shape every action (HTTP, SQL,
//! program, reconcile, check) hands to the assertions, the captures and `steps.<id>`.
use crate::assert::Observation;
use crate::record::TransportError;

/// What a step's action produced (HTTP or SQL).
#[derive(Debug, Default)]
pub struct ActionOutcome {
    /// The final answer (last page, or the fallback's).
    pub observation: Observation,
    /// The rendered request (first page), for `steps.<id>.request`.
    pub request: serde_json::Value,
    /// The last transport failure when no answer came.
    pub transport: Option<TransportError>,
    /// A template or URL could not be rendered.
    pub engine_error: Option<String>,
    /// Pages fetched.
    pub pages: u64,
    /// A page walk stopped at `max_pages` although more pages were announced.
    pub pages_left: bool,
    /// A page walk was asked for a cursor or URL a second time (both pages named).
    pub page_loop: Option<String>,
    /// SQL queries that failed: (name, server message, optional).
    pub query_errors: Vec<(String, String, bool)>,
    /// SQL results rendered as aligned tables.
    pub text: Option<String>,
}
