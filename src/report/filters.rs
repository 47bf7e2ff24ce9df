//! Report stage: template filters for reports — Markdown escaping for each context
//! (`md`, `mdcell`, `mdcodespan`, `mdcode`, `markdown`), excerpts, codes.
use minijinja::{Environment, State, Value};

use super::{markdown, timeline};
use crate::secrets::Redactor;
use crate::template::{REDACTOR_KEY, RedactorValue};

/// A filter's input as text: none and undefined are empty.
fn text_of(v: &Value) -> String {
    if v.is_none() || v.is_undefined() {
        String::new()
    } else {
        v.to_string()
    }
}

/// The report's redactor, when the template is a report.
fn redactor_of(state: &State) -> Option<Redactor> {
    let r = state.lookup(REDACTOR_KEY)?;
    r.downcast_object_ref::<RedactorValue>()
        .map(|r| r.0.clone())
}

/// A value's text, masked first when the template is a report: escaping a secret for
/// Markdown (`a_b*c` → `a\_b\*c`) would hide it from the masking of the finished text.
fn masked(state: &State, text: String) -> String {
    match redactor_of(state) {
        Some(r) => r.redact_owned(text),
        None => text,
    }
}

/// Registers the Markdown filters, `timeline`, `excerpt`, `lastlines` and `code`.
///
/// Markdown filters return Markdown marked safe: `md` leaves such a value as it is and
/// `mdcell` only makes it fit a cell, so `x | mdcodespan | mdcell` is a code span in a
/// table cell, and `x | safe | mdcell` keeps the author's own markup.
pub fn register_filters(env: &mut Environment<'static>) {
    env.add_filter("md", |state: &State, v: Value| -> Value {
        if v.is_safe() {
            return v;
        }
        Value::from_safe_string(markdown::inline(&masked(state, text_of(&v))))
    });
    env.add_filter("mdcell", |state: &State, v: Value| -> Value {
        Value::from_safe_string(if v.is_safe() {
            markdown::cell_markdown(&text_of(&v))
        } else {
            markdown::cell(&masked(state, text_of(&v)))
        })
    });
    env.add_filter("mdcodespan", |state: &State, v: Value| -> Value {
        Value::from_safe_string(markdown::code_span(&masked(state, text_of(&v))))
    });
    env.add_filter(
        "mdcode",
        |state: &State, v: Value, info: Option<String>| -> Value {
            let text = masked(state, text_of(&v));
            Value::from_safe_string(markdown::code_block(&text, info.as_deref().unwrap_or("")))
        },
    );
    env.add_filter("markdown", |state: &State, v: Value| -> Value {
        Value::from_safe_string(markdown::authored(&masked(state, text_of(&v))))
    });
    env.add_filter(
        "timeline",
        |state: &State, v: Value, max_bars: Option<usize>| -> Result<Value, minijinja::Error> {
            let Some(run) = v.downcast_object_ref::<super::record_view::RunView>() else {
                return Err(minijinja::Error::new(
                    minijinja::ErrorKind::InvalidOperation,
                    "`timeline` draws the run: write `{{ run | timeline }}` in a report template",
                ));
            };
            let redactor = redactor_of(state).unwrap_or_default();
            let max = max_bars.unwrap_or(timeline::DEFAULT_MAX_BARS);
            let source = timeline::gantt(&run.0, max, &redactor);
            Ok(Value::from_safe_string(if source.is_empty() {
                source
            } else {
                markdown::code_block(&source, "mermaid")
            }))
        },
    );
    env.add_filter("excerpt", |v: Value, n: Option<usize>| -> String {
        let s = if v.is_none() || v.is_undefined() {
            String::new()
        } else {
            v.to_string()
        };
        excerpt(&s, n.unwrap_or(600))
    });
    env.add_filter("lastlines", |v: Value, n: Option<usize>| -> String {
        let s = if v.is_none() || v.is_undefined() {
            String::new()
        } else {
            v.to_string()
        };
        let lines: Vec<&str> = s.lines().collect();
        let keep = n.unwrap_or(40);
        let skipped = lines.len().saturating_sub(keep);
        let tail = lines[skipped..].join("\n");
        if skipped > 0 {
            format!("… ({skipped} earlier lines)\n{tail}")
        } else {
            tail
        }
    });
    env.add_filter("code", |v: Value| -> String {
        match v.as_i64() {
            Some(n) => format!("{n:03}"),
            None if v.is_none() || v.is_undefined() => "000".into(),
            None => v.to_string(),
        }
    });
}

/// The first `n` characters, with a note of how much was cut.
pub fn excerpt(s: &str, n: usize) -> String {
    let count = s.chars().count();
    if count <= n {
        return s.to_string();
    }
    let head: String = s.chars().take(n).collect();
    format!("{head}… ({} more characters)", count - n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lastlines_keeps_the_end_of_a_log() {
        let mut env = Environment::new();
        register_filters(&mut env);
        let out = env
            .render_str("{{ 'a\nb\nc\nTraceback' | lastlines(2) }}", ())
            .unwrap();
        assert_eq!(out, "… (2 earlier lines)\nc\nTraceback");
        assert_eq!(env.render_str("{{ 'x' | lastlines(5) }}", ()).unwrap(), "x");
    }

    #[test]
    fn markdown_filters_escape_for_their_context() {
        let mut env = Environment::new();
        register_filters(&mut env);
        let r = |t: &str, v: &str| env.render_str(t, minijinja::context! { v => v }).unwrap();
        assert_eq!(r("{{ v | md }}", "a *b* <i>\n# c"), "a \\*b\\* \\<i> \\# c");
        assert_eq!(r("{{ v | mdcell }}", "x | y\nz"), "x \\| y z");
        assert_eq!(r("{{ v | mdcodespan }}", "a`b"), "``a`b``");
        assert_eq!(r("{{ v | mdcodespan | mdcell }}", "p|q"), "`p\\|q`");
        assert_eq!(r("{{ v | md | mdcell }}", "p|q"), "p\\|q");
        assert_eq!(r("{{ v | md | md }}", "*"), "\\*");
        assert_eq!(r("{{ v | safe | mdcell }}", "**b**\nc"), "**b** c");
        assert_eq!(r("{{ v | mdcode }}", "```\nx"), "````\n```\nx\n````");
        assert_eq!(r("{{ v | mdcode('json') }}", "{}"), "```json\n{}\n```");
        assert_eq!(r("{{ v | markdown }}", "**b** <b>"), "**b** &lt;b>");
        assert_eq!(r("{{ none | md }}|{{ none | mdcell }}", ""), "|");
    }

    #[test]
    fn in_a_report_the_markdown_filters_mask_before_they_escape() {
        let mut env = Environment::new();
        register_filters(&mut env);
        let secret = "a_b*c<d>";
        let ctx = minijinja::context! {
            v => format!("token {secret}"),
            __qtscen_redactor => Value::from_object(RedactorValue(Redactor::new([secret.to_string()]))),
        };
        for filter in ["md", "mdcell", "mdcodespan", "mdcode", "markdown"] {
            let out = env
                .render_str(&format!("{{{{ v | {filter} }}}}"), ctx.clone())
                .unwrap();
            assert!(
                !out.contains("a\\_b") && !out.contains("b*c"),
                "{filter}: {out}"
            );
            assert!(out.contains("token"), "{filter}: {out}");
        }
    }

    #[test]
    fn excerpt_counts_characters_not_bytes() {
        assert_eq!(excerpt("Щелкунчик", 4), "Щелк… (5 more characters)");
        assert_eq!(excerpt("ok", 4), "ok");
    }
}
