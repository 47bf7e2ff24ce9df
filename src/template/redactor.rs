//! Template stage: the run's redactor as a hidden template value, so the escaping filters
//! (`md`, `mdcell`, …) mask a secret before they escape it (an escaped secret would no
//! longer match its mask).
use minijinja::value::Object;

use crate::secrets::Redactor;

/// The context key under which a render passes its redactor to the Markdown filters (not
/// a name templates can use: validation rejects it).
pub const REDACTOR_KEY: &str = "__qtscen_redactor";

/// The run's redactor, as a template value (see [`REDACTOR_KEY`]).
#[derive(Debug)]
pub struct RedactorValue(pub Redactor);

impl Object for RedactorValue {}
