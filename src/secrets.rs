//! Record stage: the Redactor every outgoing byte passes through — console, logs,
//! artifacts, results.json and reports.
use base64::Engine;
use percent_encoding::{AsciiSet, CONTROLS, NON_ALPHANUMERIC, utf8_percent_encode};

/// What `application/x-www-form-urlencoded` (query strings) leaves as it is.
const FORM: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'*')
    .remove(b'-')
    .remove(b'.')
    .remove(b'_');
/// What URL paths leave as they are (the `url` crate's path set).
const PATH: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'<')
    .add(b'>')
    .add(b'`')
    .add(b'?')
    .add(b'{')
    .add(b'}');

/// The mask written in place of a secret.
pub const MASK: &str = "***";

/// Whether an env variable name marks a secret by itself.
pub fn is_secret_name(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    ["TOKEN", "PASSWORD", "SECRET", "KEY"]
        .iter()
        .any(|w| upper.contains(w))
}

/// Replaces secret values, and their URL-encoded and base64 forms, with `***`.
#[derive(Clone, Debug, Default)]
pub struct Redactor {
    // Longest first, so a secret containing another is masked whole.
    needles: Vec<String>,
}

impl Redactor {
    /// A redactor for these secret values (empty and very short values are ignored:
    /// masking every `1` would make the evidence unreadable, and such values are not
    /// secrets anyone can steal).
    pub fn new<I: IntoIterator<Item = String>>(secrets: I) -> Self {
        let mut needles = Vec::new();
        for secret in secrets {
            if secret.chars().count() < 4 {
                continue;
            }
            let url = utf8_percent_encode(&secret, NON_ALPHANUMERIC).to_string();
            let url_plus = url.replace("%20", "+");
            let form = utf8_percent_encode(&secret, FORM)
                .to_string()
                .replace("%20", "+");
            let path = utf8_percent_encode(&secret, PATH).to_string();
            let lower = url.chars().fold(String::new(), |mut acc, c| {
                acc.push(c.to_ascii_lowercase());
                acc
            });
            let b64 = base64::engine::general_purpose::STANDARD.encode(secret.as_bytes());
            let b64_url =
                base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(secret.as_bytes());
            let json = serde_json::to_string(&secret)
                .map(|s| s.trim_matches('"').to_string())
                .unwrap_or_default();
            for variant in [secret, url, url_plus, form, path, lower, b64, b64_url, json] {
                if variant.len() >= 4 && !needles.contains(&variant) {
                    needles.push(variant);
                }
            }
        }
        needles.sort_by_key(|n| std::cmp::Reverse(n.len()));
        Redactor { needles }
    }

    /// Whether there is anything to mask.
    pub fn is_empty(&self) -> bool {
        self.needles.is_empty()
    }

    /// The text with every secret form masked.
    pub fn redact(&self, text: &str) -> String {
        let mut out = text.to_string();
        for needle in &self.needles {
            if out.contains(needle.as_str()) {
                out = out.replace(needle.as_str(), MASK);
            }
        }
        out
    }

    /// Masks every string inside a JSON value.
    pub fn redact_json(&self, value: &mut serde_json::Value) {
        match value {
            serde_json::Value::String(s) if self.needles.iter().any(|n| s.contains(n.as_str())) => {
                *s = self.redact(s);
            }
            serde_json::Value::Array(items) => items.iter_mut().for_each(|v| self.redact_json(v)),
            serde_json::Value::Object(map) => map.values_mut().for_each(|v| self.redact_json(v)),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_plain_url_encoded_and_base64_forms() {
        let r = Redactor::new(["s3cr3t/t0ken+x".to_string()]);
        let b64 = base64::engine::general_purpose::STANDARD.encode("s3cr3t/t0ken+x");
        let text = format!("Bearer s3cr3t/t0ken+x ?t=s3cr3t%2Ft0ken%2Bx basic {b64}");
        let out = r.redact(&text);
        assert_eq!(out, "Bearer *** ?t=*** basic ***");
    }

    #[test]
    fn masks_the_query_string_and_path_encodings_of_the_url_crate() {
        let r = Redactor::new(["Pa55-word!/x y".to_string()]);
        let mut url = reqwest::Url::parse("http://h/p/").unwrap();
        url.query_pairs_mut()
            .append_pair("password", "Pa55-word!/x y");
        assert!(!r.redact(url.as_str()).contains("Pa55"), "{url}");
        let url = reqwest::Url::parse("http://h/")
            .unwrap()
            .join("Pa55-word!/x y")
            .unwrap();
        assert!(!r.redact(url.as_str()).contains("Pa55"), "{url}");
    }

    #[test]
    fn secret_names() {
        assert!(is_secret_name("QTICKETS_TOKEN"));
        assert!(is_secret_name("clickhouse_password"));
        assert!(is_secret_name("API_KEY"));
        assert!(!is_secret_name("ORG_NAME"));
    }

    #[test]
    fn short_values_are_not_masked() {
        let r = Redactor::new(["1".to_string(), String::new()]);
        assert!(r.is_empty());
        assert_eq!(r.redact("1 2 3"), "1 2 3");
    }
}
