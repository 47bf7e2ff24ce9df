//! The pipeline the commands string the stages into, shared by them and by the suites:
//! a scenario compiled (load + validate, its warnings printed), prepared (env, secrets,
//! vars), its steps selected, its run folder opened, run, and finished (the record and
//! its files, the console's closing lines); the signals that interrupt a run. Every
//! function here returns `Result<_, Error>` and prints no error itself.
mod compile;
mod finish;
mod folder;
mod prepare;
mod select;
mod signals;
mod single;

pub(crate) use compile::{compile, compile_with};
pub(crate) use finish::{print_run_end, record_and_write};
pub(crate) use folder::open_run_folder;
pub(crate) use prepare::prepare;
pub(crate) use select::run_options;
pub(crate) use signals::watch_signals;
pub(crate) use single::run_single;
