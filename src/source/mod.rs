//! Source files, spans, a YAML source map and the caret renderer for diagnostics.

pub mod diag;
pub mod file;
pub mod map;
mod map_build;
pub mod path;
pub mod serde_span;
pub mod span;
mod suggest;
mod token;
mod tree;

pub use diag::{Diagnostic, Severity, render};
pub use file::SourceFile;
pub use map::{SourceMap, SyntaxError};
pub use path::{PathSeg, YamlPath};
pub use serde_span::{span_of_serde_yaml_error, unknown_field};
pub use span::Span;
pub use suggest::did_you_mean;
