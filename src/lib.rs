//! qtscen: YAML scenario → load → validate → run → record → report.
//!
//! The command layer, top down: `commands` (one file per command; dispatches, and maps
//! an `Error` to the exit status) → `suite` → `pipeline` (compile, prepare, run one
//! scenario, finish) → the stages → `error` (the one error type; prints errors and
//! diagnostics).
pub mod assert;
pub mod cli;
pub mod commands;
mod compose;
pub mod curl;
pub mod error;
pub mod evidence;
pub mod exec;
pub mod load;
mod pipeline;
pub mod plan;
mod prescan;
pub mod record;
pub mod report;
pub mod runner;
pub mod scenario;
pub mod schema;
pub mod secrets;
pub mod source;
pub mod suite;
pub mod template;
pub mod validate;
pub mod zones;

pub use commands::run;
