//! qtscen: YAML scenario → load → validate → run → record → report.
pub mod app;
pub mod assert;
pub mod cli;
mod compose;
pub mod curl;
mod demo;
pub mod exec;
pub mod load;
pub mod plan;
mod prepare;
mod prescan;
pub mod record;
mod render_command;
pub mod report;
mod run_folder;
pub mod runner;
pub mod scenario;
pub mod schema;
pub mod secrets;
pub mod source;
pub mod suite;
pub mod template;
pub mod validate;
pub mod zones;

pub use app::run;
