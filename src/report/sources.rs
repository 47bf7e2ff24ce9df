//! Report stage: the report templates a scenario names — the built-in ones and the
//! files next to the scenario — read by name before validation compiles them.
use std::collections::HashMap;

use super::{BUILTIN_JUNIT_NAME, BUILTIN_JUNIT_SOURCE, BUILTIN_MARKDOWN, BUILTIN_MARKDOWN_NAME};
use crate::load::Loaded;
use crate::source::Diagnostic;
use crate::yp;

/// The report templates a scenario names, by name, read from files relative to it.
pub fn template_sources(loaded: &Loaded) -> Result<HashMap<String, String>, Vec<Diagnostic>> {
    let mut out = HashMap::new();
    out.insert(
        BUILTIN_MARKDOWN_NAME.to_string(),
        BUILTIN_MARKDOWN.to_string(),
    );
    out.insert(
        BUILTIN_JUNIT_NAME.to_string(),
        BUILTIN_JUNIT_SOURCE.to_string(),
    );
    let mut errors = Vec::new();
    for (i, o) in loaded.scenario.report.outputs.iter().enumerate() {
        if out.contains_key(&o.template) {
            continue;
        }
        let path = loaded.dir.join(&o.template);
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                out.insert(o.template.clone(), text);
            }
            Err(e) => {
                let yp = yp!["report", "outputs", i, "template"];
                errors.push(
                    Diagnostic::error(format!(
                        "cannot read report template `{}`: {e}",
                        path.display()
                    ))
                    .with_file(loaded.file.name.clone())
                    .with_span(loaded.map().value(&yp)),
                );
            }
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}
