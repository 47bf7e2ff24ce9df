//! Report stage: everything a run writes, rendered from the finished RunRecord only.
mod console;
mod files;
mod filters;
mod junit;
pub mod markdown;
mod record_view;
mod sources;
mod timeline;

pub use console::{ColorMode, Console, ConsoleOptions, FLUSH_EVERY, paint, use_color};
pub use files::{errors_json, render_reports, write_junit, write_run_files};
pub use filters::register_filters;
pub use junit::{BUILTIN_JUNIT_NAME, SuitePart, junit_suite_xml, junit_xml};
pub use sources::template_sources;

/// The filters the report adds to the templates (see [`register_filters`]).
pub const FILTERS: &[&str] = &[
    "md",
    "mdcell",
    "mdcodespan",
    "mdcode",
    "markdown",
    "excerpt",
    "lastlines",
    "timeline",
    "code",
];

/// The run's template environment with the report's filters in it: scenario templates
/// and report templates may use every filter.
pub fn templates(now: jiff::Timestamp) -> crate::template::Templates {
    let mut t = crate::template::Templates::new(now);
    t.add_filters(FILTERS, register_filters);
    t
}

/// The built-in Markdown report template.
pub const BUILTIN_MARKDOWN: &str = include_str!("../../templates/report.md.j2");
/// The name scenarios use for it.
pub const BUILTIN_MARKDOWN_NAME: &str = "builtin:markdown";
/// What `load` registers under [`BUILTIN_JUNIT_NAME`]: the JUnit output is written by
/// [`junit_xml`], not by a template, so its template source is only this comment.
pub const BUILTIN_JUNIT_SOURCE: &str = "{# JUnit XML, written by qtscen from the run record #}";
