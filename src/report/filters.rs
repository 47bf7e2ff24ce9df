//! Report stage: template filters for reports — Markdown cells, excerpts, codes.
use minijinja::{Environment, Value};

/// Registers `mdcell`, `excerpt`, `lastlines` and `code`.
pub fn register_filters(env: &mut Environment<'static>) {
    env.add_filter("mdcell", |v: Value| -> String {
        let s = if v.is_none() || v.is_undefined() {
            String::new()
        } else {
            v.to_string()
        };
        s.replace('|', "\\|")
            .replace("\r\n", " ")
            .replace('\n', " ")
    });
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
    fn excerpt_counts_characters_not_bytes() {
        assert_eq!(excerpt("Щелкунчик", 4), "Щелк… (5 more characters)");
        assert_eq!(excerpt("ok", 4), "ok");
    }
}
