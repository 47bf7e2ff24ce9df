//! A QTickets-compatible sandbox server: the test double and demo default for scenarios.
//!
//! It serves `/api/rest/v1/orders`, `/orders/{id}`, `/events` and `/events/{id}/seats`
//! with deterministic Cyrillic data relative to its clock (the loader's other side lists,
//! `/clients`, `/discounts`, `/promo-codes`, `/price-shades`, `/barcodes`, answer 404), imitates the compact-offset bug, offers several
//! pagination shapes, injects faults (statuses, delays, dropped connections) and records
//! every request. Control routes live under `/__sandbox` without auth.

mod ads;
mod config;
mod control;
mod events;
mod fault_spec;
mod faults;
mod filter;
mod handle;
mod offset_policy;
mod order_by;
mod orders;
mod pagination;
mod params;
mod query;
mod record;
mod response;
mod rng;
mod routes;
mod seats;
mod server;
mod state;
mod sync;
mod time;

pub use ads::{ADS_CLIENT_ID, ADS_PREFIX, ADS_TOKEN_USES};
pub use config::{DEFAULT_SEED, PaginationStyle, SandboxConfig, SandboxMode};
pub use fault_spec::FAULT_SYNTAX;
pub use faults::{API_PREFIX, FaultKind, FaultRule};
pub use handle::{SandboxHandle, spawn};
pub use record::RecordedRequest;
pub use server::serve;
