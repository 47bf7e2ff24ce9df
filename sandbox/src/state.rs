//! The shared state of one running sandbox: generated data, faults and the request log.

use std::net::SocketAddr;
use std::sync::Mutex;

use jiff::Timestamp;
use serde_json::Value;

use super::ads::AdsState;
use super::config::{PaginationStyle, SandboxConfig, SandboxMode};
use super::events::generate_events;
use super::faults::FaultBook;
use super::orders::generate_orders;
use super::record::RecordedRequest;
use super::sync::lock;

/// Everything request handlers share.
#[derive(Debug)]
pub(crate) struct State {
    pub(crate) token: String,
    /// The sandbox clock (whole seconds).
    pub(crate) now: Timestamp,
    pub(crate) ignore_compact_offsets: bool,
    pub(crate) pagination_style: PaginationStyle,
    pub(crate) orders: Vec<Value>,
    pub(crate) events: Vec<Value>,
    pub(crate) faults: FaultBook,
    pub(crate) requests: Mutex<Vec<RecordedRequest>>,
    pub(crate) local_addr: SocketAddr,
    /// Which API is served.
    pub(crate) mode: SandboxMode,
    /// The ads API's tokens.
    pub(crate) ads: AdsState,
}

impl State {
    /// Generates the data for `config`; `local_addr` is where the server listens.
    pub(crate) fn new(config: SandboxConfig, local_addr: SocketAddr) -> State {
        let now_secs = config.now.unwrap_or_else(Timestamp::now).as_second();
        let now = Timestamp::from_second(now_secs).unwrap_or(Timestamp::UNIX_EPOCH);
        let events = generate_events(config.seed, now_secs, config.events);
        let orders = generate_orders(config.seed, now_secs, config.orders, &events);
        State {
            token: config.token,
            now,
            ignore_compact_offsets: config.ignore_compact_offsets,
            pagination_style: config.pagination_style,
            orders,
            events,
            faults: FaultBook::new(config.faults),
            requests: Mutex::new(Vec::new()),
            local_addr,
            mode: config.mode,
            ads: AdsState::default(),
        }
    }

    /// Appends a request to the log.
    pub(crate) fn record(&self, request: RecordedRequest) {
        lock(&self.requests).push(request);
    }

    /// A copy of the request log.
    pub(crate) fn recorded(&self) -> Vec<RecordedRequest> {
        lock(&self.requests).clone()
    }

    /// Empties the request log.
    pub(crate) fn clear_recorded(&self) {
        lock(&self.requests).clear();
    }
}
