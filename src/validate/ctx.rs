//! Validate stage: what every part of validation shares — the `Problem` it reports and
//! the `Ctx` it compiles templates through (problems, env reads and notices gathered on
//! the way) — and two naming rules: of files written into the run folder, and of ids.
use crate::source::YamlPath;
use crate::template::{Compiled, CompiledJson, NameRef, TemplateError, Templates};

/// A problem found in a scenario, located by its YAML path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// Where: a YAML path such as `steps[2].http.method`.
    pub path: YamlPath,
    /// What is wrong.
    pub message: String,
    /// Point at the key instead of the value (unknown or conflicting fields).
    pub at_key: bool,
}

pub(crate) struct Ctx<'a> {
    pub(crate) t: &'a mut Templates,
    pub(crate) problems: Vec<Problem>,
    /// Every `env.X` read without a default, anywhere in the scenario.
    pub(crate) env_refs: Vec<NameRef>,
    /// Things worth knowing that do not stop the scenario (shown as warnings).
    pub(crate) notices: Vec<Problem>,
}

impl Ctx<'_> {
    pub(crate) fn problem(&mut self, path: impl Into<YamlPath>, message: impl Into<String>) {
        self.problems.push(Problem {
            path: path.into(),
            message: message.into(),
            at_key: false,
        });
    }

    pub(crate) fn key_problem(&mut self, path: impl Into<YamlPath>, message: impl Into<String>) {
        self.problems.push(Problem {
            path: path.into(),
            message: message.into(),
            at_key: true,
        });
    }

    /// A warning: the scenario is valid, but does something the author may not expect.
    pub(crate) fn notice(&mut self, path: impl Into<YamlPath>, message: impl Into<String>) {
        self.notices.push(Problem {
            path: path.into(),
            message: message.into(),
            at_key: false,
        });
    }

    pub(super) fn template_problem(&mut self, path: &YamlPath, e: TemplateError) {
        let at = e
            .line
            .filter(|l| *l > 1)
            .map(|l| format!(" (template line {l})"))
            .unwrap_or_default();
        self.problem(path, format!("template error: {}{at}", e.message));
    }

    /// Templates compiled from here on stand at `path`.
    pub(crate) fn set_origin(&mut self, path: &YamlPath) {
        self.t.set_origin(&path.origin());
    }

    pub(crate) fn text(&mut self, path: &YamlPath, src: &str) -> Option<Compiled> {
        self.set_origin(path);
        match self.t.compile_text(src) {
            Ok(c) => Some(c),
            Err(e) => {
                self.template_problem(path, e);
                None
            }
        }
    }

    pub(crate) fn expr(&mut self, path: &YamlPath, src: &str) -> Option<Compiled> {
        self.set_origin(path);
        match self.t.compile_expr(src) {
            Ok(c) => Some(c),
            Err(e) => {
                self.template_problem(path, e);
                None
            }
        }
    }

    pub(crate) fn json(&mut self, path: &YamlPath, v: &serde_json::Value) -> Option<CompiledJson> {
        self.set_origin(path);
        match CompiledJson::compile(self.t, v) {
            Ok(c) => Some(c),
            Err((sub, e)) => {
                self.template_problem(&path.join_relative(&sub), e);
                None
            }
        }
    }
}

/// A file name that stays inside the run folder.
pub fn safe_file_name(name: &str) -> bool {
    !name.is_empty()
        && !name.contains('/')
        && !name.contains('\\')
        && name != "."
        && name != ".."
        && !name.starts_with('.')
}

/// A name of a var, step or capture: letters, digits, `_`, not starting with a digit.
pub(super) fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}
