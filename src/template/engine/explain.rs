//! Render stage: a template error explained — the name that was undefined (and the
//! keys its parent does have), the fuel that ran out, and where the template stands.
use minijinja::Value;

use super::Templates;
use crate::template::error::{TemplateError, first_line, known_keys};

impl Templates {
    /// The error of template `name`, with the name that was undefined and where the
    /// template stands in the scenario.
    pub(super) fn explain(&self, name: &str, err: &minijinja::Error, ctx: &Value) -> TemplateError {
        if err.kind() == minijinja::ErrorKind::UndefinedError {
            if let Some(e) = self.undefined_name(name, ctx) {
                return e;
            }
        }
        if err.kind() == minijinja::ErrorKind::OutOfFuel {
            return TemplateError {
                message: format!(
                    "template ran out of fuel (limits.template_fuel: {}): it did more work than one evaluation may (a loop over a huge range?){}; raise `limits: {{ template_fuel: … }}` if it is meant to",
                    self.fuel.unwrap_or_default(),
                    self.location(name)
                ),
                line: err.line(),
            };
        }
        let mut e = TemplateError::from_mj(err);
        e.message.push_str(&self.location(name));
        e
    }

    /// The first name the template reads that is not there (each prefix of each
    /// chain is tried, so `vars.a.b` names `vars.a` when `a` is missing).
    pub(super) fn undefined_name(&self, name: &str, ctx: &Value) -> Option<TemplateError> {
        let info = self.infos.get(name)?;
        for r in info.refs.iter().filter(|r| !r.guarded) {
            let mut chain = r.root.clone();
            let mut parent = ctx.get_attr(&r.root).ok()?;
            if parent.is_undefined() {
                return Some(self.undefined_error(name, &chain, None));
            }
            for part in &r.path {
                let value = parent.get_attr(part).unwrap_or(Value::UNDEFINED);
                if value.is_undefined() {
                    let known = known_keys(&parent);
                    chain = format!("{chain}.{part}");
                    return Some(self.undefined_error(name, &chain, known));
                }
                chain = format!("{chain}.{part}");
                parent = value;
            }
        }
        None
    }

    fn undefined_error(&self, name: &str, chain: &str, known: Option<String>) -> TemplateError {
        let known = known.map(|k| format!(" ({k})")).unwrap_or_default();
        TemplateError::new(format!(
            "`{chain}` is undefined{known}; write `{chain} | default(…)` where it may be absent{}",
            self.location(name)
        ))
    }

    /// ` at file:line:col: `the line``, when the template's place is known.
    fn location(&self, name: &str) -> String {
        let Some(info) = self.infos.get(name) else {
            return String::new();
        };
        if info.origin.is_empty() {
            return String::new();
        }
        match self.locator.as_ref().and_then(|l| l(&info.origin)) {
            Some((at, line)) => format!(", at {at}: `{}`", line.trim()),
            None => format!(", in `{}` (`{}`)", info.origin, first_line(&info.source)),
        }
    }
}
