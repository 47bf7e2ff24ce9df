//! Run stage: for each selected step — when/needs → render → execute → assert → capture,
//! retried as its policy says, every attempt kept.
mod auth;
mod backoff;
mod body_file;
mod checks;
mod clock;
mod collect;
mod context;
mod describe;
mod events;
mod failure;
mod finish;
mod for_each;
mod http_step;
mod in_flight;
mod outcome;
mod paginate;
mod process_step;
mod reconcile;
mod reconcile_keys;
mod reconcile_read;
mod row_extract;
mod run;
mod select;
mod sql_step;
mod view;

pub use auth::TokenCache;
pub use backoff::backoff_delay;
pub use clock::Clock;
pub use context::RunContext;
pub use describe::describe_plan;
pub use events::{Event, EventSink};
pub use finish::finish_record;
pub use run::{RunOptions, run_plan, selection_reason};
pub use select::needed_steps;
