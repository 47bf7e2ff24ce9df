//! Record stage: every form of a secret the engine can write — JSON- and HTML-escaped,
//! percent-encoded by each set the engine uses, base64 at every alignment, through the
//! text filters, and its fingerprints — so the Redactor masks each of them.
use base64::Engine;
use percent_encoding::{AsciiSet, CONTROLS, NON_ALPHANUMERIC, utf8_percent_encode};

use super::MASK;

/// What `application/x-www-form-urlencoded` (query strings) leaves as it is.
pub(super) const FORM: &AsciiSet = &NON_ALPHANUMERIC
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
pub(super) fn lower_hex_escapes(s: &str) -> String {
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
