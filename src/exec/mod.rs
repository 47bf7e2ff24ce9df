//! Execute stage: one file per step kind; executors return data and never print.
mod http;

pub use http::{Exchange, HttpClient, ResolvedRequest, parse_retry_after};
