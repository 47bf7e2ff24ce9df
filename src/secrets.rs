//! Record stage: the Redactor every outgoing byte passes through — console, logs,
//! artifacts, results.json and reports.
use std::sync::{Arc, RwLock};

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

/// What minijinja's `urlencode` filter escapes (it keeps `/`, `.`, `-`, `_`).
const URLENCODE_FILTER: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'/')
    .remove(b'.')
    .remove(b'-')
    .remove(b'_');
/// What the `url` crate escapes in a query string.
const QUERY: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'<')
    .add(b'>')
    .add(b'\'');

/// The mask written in place of a secret.
pub const MASK: &str = "***";

/// Whether an env variable name marks a secret by itself.
pub fn is_secret_name(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    ["TOKEN", "PASSWORD", "SECRET", "KEY"]
        .iter()
        .any(|w| upper.contains(w))
}

/// Replaces secret values, and every encoded form of them the engine can produce, with
/// `***`. Clones share one set of secrets: a secret added during the run (a captured
/// token) is masked from then on by every writer holding a clone — the console, the
/// program logs, the record files.
#[derive(Clone, Debug, Default)]
pub struct Redactor {
    shared: Arc<RwLock<Arc<Needles>>>,
}

/// The needles of a set of secrets, and one automaton over them all.
#[derive(Debug, Default)]
struct Needles {
    secrets: Vec<String>,
    needles: Vec<String>,
    // Every needle at once: one pass over a text whatever the number of secret forms.
    // Should it ever fail to build, the needles are searched one by one (never unmasked).
    matcher: Option<aho_corasick::AhoCorasick>,
}

impl Needles {
    fn build(secrets: Vec<String>) -> Needles {
        let mut needles: Vec<String> = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for secret in &secrets {
            for variant in encodings(secret) {
                if variant.len() >= 4 && seen.insert(variant.clone()) {
                    needles.push(variant);
                }
            }
        }
        let matcher = (!needles.is_empty())
            .then(|| aho_corasick::AhoCorasick::new(&needles).ok())
            .flatten();
        Needles {
            secrets,
            needles,
            matcher,
        }
    }
}

/// The shortest secret that is masked: masking every `1` would make the evidence
/// unreadable, and such values are not secrets anyone can steal.
const MIN_SECRET_CHARS: usize = 4;

impl Redactor {
    /// A redactor for these secret values (empty and very short values are ignored).
    pub fn new<I: IntoIterator<Item = String>>(secrets: I) -> Self {
        let redactor = Redactor::default();
        redactor.add(secrets);
        redactor
    }

    /// Adds secrets (a token captured during the run): every clone masks them from now on.
    pub fn add<I: IntoIterator<Item = String>>(&self, secrets: I) {
        let mut fresh: Vec<String> = secrets
            .into_iter()
            .filter(|s| s.chars().count() >= MIN_SECRET_CHARS)
            .collect();
        if fresh.is_empty() {
            return;
        }
        let Ok(mut guard) = self.shared.write() else {
            return;
        };
        let mut all = guard.secrets.clone();
        fresh.retain(|s| !all.contains(s));
        if fresh.is_empty() {
            return;
        }
        all.extend(fresh);
        *guard = Arc::new(Needles::build(all));
    }

    /// Adds every secret `other` masks now: a suite's redactor takes in each scenario's,
    /// so the suite's files mask the union while each scenario's files keep their own.
    pub fn absorb(&self, other: &Redactor) {
        let theirs = other.current().secrets.clone();
        self.add(theirs);
    }

    fn current(&self) -> Arc<Needles> {
        match self.shared.read() {
            Ok(g) => g.clone(),
            // A writer panicked mid-update: keep masking with what was there.
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// The byte ranges to mask: every occurrence of every needle, overlapping ones
    /// merged, so a secret that overlaps another is masked whole; and, before a cut
    /// mark (`…`), the start of a needle that the cut left behind.
    fn spans(n: &Needles, text: &str) -> Vec<(usize, usize)> {
        let mut found: Vec<(usize, usize)> = match &n.matcher {
            Some(matcher) => matcher
                .find_overlapping_iter(text)
                .map(|m| (m.start(), m.end()))
                .collect(),
            None => n
                .needles
                .iter()
                .flat_map(|needle| {
                    text.match_indices(needle.as_str())
                        .map(|(i, m)| (i, i + m.len()))
                })
                .collect(),
        };
        if text.contains(CUT_MARK) {
            found.extend(cut_prefixes(&n.needles, text));
        }
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
        let n = self.current();
        let spans = Self::spans(&n, &text);
        if spans.is_empty() {
            text
        } else {
            Self::mask(&text, &spans)
        }
    }

    /// Whether there is anything to mask.
    pub fn is_empty(&self) -> bool {
        self.current().needles.is_empty()
    }

    /// The text with every secret form masked.
    pub fn redact(&self, text: &str) -> String {
        Self::mask(text, &Self::spans(&self.current(), text))
    }

    /// Masks first, then cuts to `max_chars` characters followed by `…`: the cut never
    /// leaves the start of a secret at its edge.
    pub fn cut(&self, text: &str, max_chars: usize) -> String {
        let safe = self.redact(text);
        match safe.char_indices().nth(max_chars) {
            None => safe,
            Some((at, _)) => self.redact(&format!("{}{CUT_MARK}", &safe[..at])),
        }
    }

    /// Masks every string inside a JSON value.
    pub fn redact_json(&self, value: &mut serde_json::Value) {
        let n = self.current();
        redact_json_with(&n, value);
    }

    /// A masker for a text that comes in pieces (a body streamed to a file): a secret
    /// split between two pieces is masked too.
    pub fn stream(&self) -> MaskStream {
        let needles = self.current();
        let keep = needles.needles.iter().map(String::len).max().unwrap_or(1) - 1;
        MaskStream {
            needles,
            keep,
            carry: String::new(),
        }
    }
}

/// Masks a text piece by piece, holding back the end of each piece that could be the
/// start of a secret (see [`Redactor::stream`]).
pub struct MaskStream {
    needles: Arc<Needles>,
    /// Bytes held back: the longest secret form less one.
    keep: usize,
    carry: String,
}

impl MaskStream {
    /// The next piece; returns what can be written so far, masked.
    pub fn push(&mut self, piece: &str) -> String {
        self.carry.push_str(piece);
        if self.needles.needles.is_empty() {
            return std::mem::take(&mut self.carry);
        }
        let text = &self.carry;
        let spans = Redactor::spans(&self.needles, text);
        let mut safe = text.len().saturating_sub(self.keep);
        while !text.is_char_boundary(safe) {
            safe -= 1;
        }
        // A secret that runs over the edge is held back whole.
        if let Some(&(start, _)) = spans.iter().find(|(s, e)| *s < safe && *e > safe) {
            safe = start;
        }
        let done: Vec<(usize, usize)> = spans.into_iter().filter(|(_, e)| *e <= safe).collect();
        let out = Redactor::mask(&text[..safe], &done);
        self.carry.drain(..safe);
        out
    }

    /// The rest, masked.
    pub fn finish(&mut self) -> String {
        let text = std::mem::take(&mut self.carry);
        let spans = Redactor::spans(&self.needles, &text);
        Redactor::mask(&text, &spans)
    }
}

fn redact_json_with(n: &Needles, value: &mut serde_json::Value) {
    match value {
        serde_json::Value::String(s) => {
            let spans = Redactor::spans(n, s);
            if !spans.is_empty() {
                *s = Redactor::mask(s, &spans);
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(|v| redact_json_with(n, v)),
        serde_json::Value::Object(map) => map.values_mut().for_each(|v| redact_json_with(n, v)),
        _ => {}
    }
}

/// What every cut in the engine ends with (an excerpt, a long assertion value, a body
/// cut at its size limit): the redactor masks a secret's start left before it.
pub const CUT_MARK: char = '…';

/// Spans of needle starts (of 4 characters or more) that end right before a cut mark.
fn cut_prefixes(needles: &[String], text: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    for (at, _) in text.match_indices(CUT_MARK) {
        let before = &text[..at];
        for needle in needles {
            // The longest start of the needle that `before` ends with.
            let ends: Vec<usize> = needle.char_indices().map(|(i, _)| i).collect();
            let longest = ends
                .into_iter()
                .rev()
                .filter(|&len| len >= 4)
                .find(|&len| before.ends_with(&needle[..len]));
            if let Some(len) = longest {
                out.push((at - len, at));
            }
        }
    }
    out
}

/// Every form of `secret` the engine can write: the value itself, as JSON escapes it
/// (plain and HTML-safe, as `tojson` writes it), as a URL shows it decoded (`+` as a
/// space), in upper and lower case; each of those percent-encoded by every set the
/// engine uses (query, form, path, the `urlencode` filter; upper- and lower-case
/// escapes), and in base64 (standard and URL-safe) at every byte alignment, so a
/// secret inside a larger encoded value (`user:password` of a Basic credential) is
/// found too. Plus its fingerprint forms.
pub fn encodings(secret: &str) -> Vec<String> {
    let json = serde_json::to_string(secret)
        .map(|s| s[1..s.len() - 1].to_string())
        .unwrap_or_default();
    let json_html = json
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
        .replace('\'', "\\u0027");
    // The engine's own text filters, applied as the templates would apply them.
    let filtered = TEXT_FILTERS.iter().filter_map(|f| apply_filter(f, secret));
    let bases = [
        secret.to_string(),
        json,
        json_html,
        secret.replace('+', " "),
        secret.to_uppercase(),
        secret.to_lowercase(),
    ]
    .into_iter()
    .chain(filtered)
    .chain([html_escape(secret)]);
    let mut out = Vec::new();
    for base in bases {
        for set in [NON_ALPHANUMERIC, FORM, PATH, URLENCODE_FILTER, QUERY] {
            let upper = utf8_percent_encode(&base, set).to_string();
            out.push(upper.replace("%20", "+"));
            out.push(lower_hex_escapes(&upper));
            out.push(upper);
        }
        out.extend(base64_forms(base.as_bytes()));
        out.push(base);
    }
    out.extend(fingerprints(secret));
    out
}

/// Template filters that turn a text into another text that still shows it.
const TEXT_FILTERS: &[&str] = &["title", "capitalize", "reverse", "pprint", "trim", "string"];

/// `secret | filter`, with minijinja's own filter.
fn apply_filter(filter: &str, secret: &str) -> Option<String> {
    static ENV: std::sync::OnceLock<minijinja::Environment<'static>> = std::sync::OnceLock::new();
    let env = ENV.get_or_init(minijinja::Environment::new);
    let source = format!("s | {filter}");
    let expr = env.compile_expression(&source).ok()?;
    let value = expr.eval(minijinja::context! { s => secret }).ok()?;
    Some(value.to_string())
}

/// What the `escape` filter writes (HTML).
fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#x27;"),
            '/' => out.push_str("&#x2f;"),
            c => out.push(c),
        }
    }
    out
}

/// `%2F` → `%2f`: some clients write their escapes in lower case.
fn lower_hex_escapes(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = 0;
    for c in s.chars() {
        if rest > 0 {
            out.push(c.to_ascii_lowercase());
            rest -= 1;
        } else {
            out.push(c);
            if c == '%' {
                rest = 2;
            }
        }
    }
    out
}

/// The base64 of `bytes` standing alone, and the part of it that stays the same
/// wherever in a longer value the bytes start (one per byte alignment).
fn base64_forms(bytes: &[u8]) -> Vec<String> {
    use base64::engine::general_purpose::{STANDARD, URL_SAFE, URL_SAFE_NO_PAD};
    let mut out = vec![STANDARD.encode(bytes), URL_SAFE_NO_PAD.encode(bytes)];
    for shift in 0..3usize {
        let mut padded = vec![0u8; shift];
        padded.extend_from_slice(bytes);
        // Groups of three bytes that hold only bytes of the secret.
        let first = shift.div_ceil(3);
        let last = padded.len() / 3;
        if last <= first + 1 {
            continue;
        }
        for engine in [&STANDARD, &URL_SAFE] {
            let encoded = engine.encode(&padded[..last * 3]);
            out.push(encoded[first * 4..last * 4].to_string());
        }
    }
    out
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
    fn a_secret_split_between_pieces_is_masked() {
        let r = Redactor::new(["s3cr3t-value".to_string()]);
        let text = "a s3cr3t-value b s3cr3t-value, then more s3cr3t-value";
        for size in 1..text.len() {
            let mut m = r.stream();
            let mut out = String::new();
            for piece in text.as_bytes().chunks(size) {
                out.push_str(&m.push(std::str::from_utf8(piece).unwrap()));
            }
            out.push_str(&m.finish());
            assert_eq!(out, r.redact(text), "pieces of {size}");
        }
    }

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
        let plain = Needles {
            matcher: None,
            ..Needles::build(vec!["abcd1234".into(), "zzab".into()])
        };
        let text = "x zzabcd1234 y abcd1234zzab";
        assert_eq!(
            Redactor::mask(text, &Redactor::spans(&plain, text)),
            "x *** y ***"
        );
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
    fn every_encoding_the_engine_writes_is_masked() {
        use base64::engine::general_purpose::STANDARD;
        let secret = "s3cr3t/T0k+en==\"q";
        let r = Redactor::new([secret.to_string()]);
        let filter = minijinja::filters::urlencode(&minijinja::Value::from(secret)).unwrap();
        let basic = STANDARD.encode(format!("user:{secret}"));
        let list = utf8_percent_encode(&serde_json::json!([secret]).to_string(), FORM).to_string();
        let env = minijinja::Environment::new();
        let tojson = env
            .render_str(
                "{{ s | tojson }}",
                minijinja::context! { s => format!("<{secret}>") },
            )
            .unwrap();
        for text in [
            filter.clone(),
            lower_hex_escapes(&filter),
            format!("Authorization: Basic {basic}"),
            format!("?ids={list}"),
            tojson,
            secret.replace('+', " "),
            secret.to_uppercase(),
        ] {
            let out = r.redact(&text);
            assert!(
                !out.contains("s3cr3t") && !out.contains("S3CR3T"),
                "{text} -> {out}"
            );
            assert!(
                !out.contains("T0k") && !out.contains("czNjcjN0"),
                "{text} -> {out}"
            );
        }
    }

    #[test]
    fn a_cut_never_leaves_the_start_of_a_secret() {
        let r = Redactor::new(["s3cr3t/T0ken".to_string()]);
        // Cut first (a body at its size limit), masked later.
        assert_eq!(r.redact("token=s3cr3t/T…"), "token=***…");
        // The start of its base64 too.
        assert_eq!(r.redact("Basic czNjcjN0L1…"), "Basic ***…");
        // Masked first, then cut.
        let cut = r.cut("a s3cr3t/T0ken b s3cr3t/T0ken", 9);
        assert_eq!(cut, "a *** b *…");
        assert_eq!(r.cut("short", 9), "short");
    }

    #[test]
    fn a_secret_added_during_the_run_is_masked_by_every_clone() {
        let r = Redactor::new(["first-secret".to_string()]);
        let console = r.clone();
        assert_eq!(
            console.redact("tok born-later-token"),
            "tok born-later-token"
        );
        r.add(["born-later-token".to_string(), "ab".to_string()]);
        assert_eq!(console.redact("tok born-later-token"), "tok ***");
        assert_eq!(console.redact("first-secret"), "***");
    }

    #[test]
    fn a_union_masks_both_and_the_parts_stay_apart() {
        let a = Redactor::new(["alpha-secret".to_string()]);
        let b = Redactor::new(["bravo-secret".to_string()]);
        let union = Redactor::default();
        union.absorb(&a);
        union.absorb(&b);
        assert_eq!(union.redact("alpha-secret bravo-secret"), "*** ***");
        assert_eq!(a.redact("bravo-secret"), "bravo-secret");
        union.add(["charlie-secret".to_string()]);
        assert_eq!(a.redact("charlie-secret"), "charlie-secret");
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
