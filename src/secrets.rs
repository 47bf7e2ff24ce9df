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
    needles: Vec<String>,
    // Every needle at once: one pass over a text whatever the number of secret forms.
    // Should it ever fail to build, the needles are searched one by one (never unmasked).
    matcher: Option<aho_corasick::AhoCorasick>,
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
            // Fingerprints that loaders log instead of the token (`token_fp: abcd***wxyz`):
            // its first and last characters around `***` identify it as well as the token.
            let fingerprints = fingerprints(&secret);
            for variant in [secret, url, url_plus, form, path, lower, b64, b64_url, json]
                .into_iter()
                .chain(fingerprints)
            {
                if variant.len() >= 4 && !needles.contains(&variant) {
                    needles.push(variant);
                }
            }
        }
        let matcher = (!needles.is_empty())
            .then(|| aho_corasick::AhoCorasick::new(&needles).ok())
            .flatten();
        Redactor { needles, matcher }
    }

    /// The byte ranges to mask: every occurrence of every needle, overlapping ones
    /// merged, so a secret that overlaps another is masked whole.
    fn spans(&self, text: &str) -> Vec<(usize, usize)> {
        let mut found: Vec<(usize, usize)> = match &self.matcher {
            Some(matcher) => matcher
                .find_overlapping_iter(text)
                .map(|m| (m.start(), m.end()))
                .collect(),
            None => self
                .needles
                .iter()
                .flat_map(|n| {
                    text.match_indices(n.as_str())
                        .map(|(i, m)| (i, i + m.len()))
                })
                .collect(),
        };
        found.sort_unstable();
        let mut spans: Vec<(usize, usize)> = Vec::with_capacity(found.len());
        for (start, end) in found {
            match spans.last_mut() {
                Some(last) if start <= last.1 => last.1 = last.1.max(end),
                _ => spans.push((start, end)),
            }
        }
        spans
    }

    fn mask(text: &str, spans: &[(usize, usize)]) -> String {
        let mut out = String::with_capacity(text.len());
        let mut at = 0;
        for &(start, end) in spans {
            out.push_str(&text[at..start]);
            out.push_str(MASK);
            at = end;
        }
        out.push_str(&text[at..]);
        out
    }

    /// Like [`Redactor::redact`], but keeps the text itself when nothing is secret (a
    /// 20 MB results.json is not copied).
    pub fn redact_owned(&self, text: String) -> String {
        let spans = self.spans(&text);
        if spans.is_empty() {
            text
        } else {
            Self::mask(&text, &spans)
        }
    }

    /// Whether there is anything to mask.
    pub fn is_empty(&self) -> bool {
        self.needles.is_empty()
    }

    /// The text with every secret form masked.
    pub fn redact(&self, text: &str) -> String {
        Self::mask(text, &self.spans(text))
    }

    /// Masks every string inside a JSON value.
    pub fn redact_json(&self, value: &mut serde_json::Value) {
        match value {
            serde_json::Value::String(s) => {
                let spans = self.spans(s);
                if !spans.is_empty() {
                    *s = Self::mask(s, &spans);
                }
            }
            serde_json::Value::Array(items) => items.iter_mut().for_each(|v| self.redact_json(v)),
            serde_json::Value::Object(map) => map.values_mut().for_each(|v| self.redact_json(v)),
            _ => {}
        }
    }
}

/// The fingerprint forms of a secret: its first and last `n` characters around `***`,
/// for `n` from 2 to 6, where the secret is longer than the two ends together.
fn fingerprints(secret: &str) -> Vec<String> {
    let chars: Vec<char> = secret.chars().collect();
    (2..=6)
        .filter(|n| chars.len() > 2 * n)
        .map(|n| {
            let head: String = chars[..n].iter().collect();
            let tail: String = chars[chars.len() - n..].iter().collect();
            format!("{head}{MASK}{tail}")
        })
        .collect()
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
    fn overlapping_secrets_are_masked_whole_and_clean_text_is_kept() {
        // `zzab` starts first, `abcd1234` reaches further: neither may leak a part.
        let r = Redactor::new(["abcd1234".to_string(), "zzab".to_string()]);
        assert_eq!(r.redact("x zzabcd1234 y abcd1234zzab"), "x *** y ***");
        let clean = "nothing secret here".to_string();
        let ptr = clean.as_ptr();
        let kept = r.redact_owned(clean);
        assert_eq!(kept.as_ptr(), ptr, "an unchanged text is not copied");
        assert_eq!(r.redact_owned("a abcd1234".into()), "a ***");
        assert!(Redactor::default().is_empty());
        let plain = Redactor {
            matcher: None,
            ..r.clone()
        };
        assert_eq!(plain.redact("x zzabcd1234 y abcd1234zzab"), "x *** y ***");
        assert_eq!(Redactor::default().redact("abcd1234"), "abcd1234");
    }

    #[test]
    fn fingerprints_of_a_secret_are_masked() {
        let r = Redactor::new(["abcdSECRETwxyz".to_string()]);
        let line = r#"request failed | metrics={"token_fp": "abcd***wxyz", "fp2": "ab***yz"}"#;
        let out = r.redact(line);
        assert!(!out.contains("abcd") && !out.contains("wxyz"), "{out}");
        assert!(!out.contains("ab***") && !out.contains("***yz"), "{out}");
        // Another token's fingerprint is left alone.
        assert_eq!(r.redact("qrst***wxyz"), "qrst***wxyz");
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
