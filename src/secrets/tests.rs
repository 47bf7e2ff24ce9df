//! Unit tests of `secrets`.
use super::encodings::{FORM, lower_hex_escapes};
use super::*;
use base64::Engine;
use percent_encoding::utf8_percent_encode;

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
