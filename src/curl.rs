//! Record stage: the curl command line that sends a recorded HTTP request again, built
//! from the masked request (so `***` stands where a secret was).
use crate::record::RequestRecord;

/// `curl -X METHOD URL -H 'Name: value'… --data-raw BODY`, every word shell-quoted.
///
/// The method is always explicit, so a GET with a body is shown as curl sends it
/// (`-X GET --data-raw …`); HEAD is `--head` (curl waits for a body after `-X HEAD`). An
/// empty header value is written `Name;` (curl drops a header written `Name:`).
pub fn curl_line(req: &RequestRecord) -> String {
    let mut words: Vec<String> = vec!["curl".into()];
    if req.method.eq_ignore_ascii_case("HEAD") {
        words.push("--head".into());
    } else {
        words.push("-X".into());
        words.push(req.method.clone());
    }
    words.push(req.url.clone());
    for (name, value) in &req.headers {
        words.push("-H".into());
        words.push(if value.is_empty() {
            format!("{name};")
        } else {
            format!("{name}: {value}")
        });
    }
    if let Some(body) = &req.body {
        words.push("--data-raw".into());
        words.push(body.clone());
    }
    let quoted = shlex::try_join(words.iter().map(String::as_str));
    // Only a NUL byte cannot be quoted, and no program can receive one as an argument.
    quoted.unwrap_or_else(|_| {
        let clean: Vec<String> = words.iter().map(|w| w.replace('\0', "")).collect();
        shlex::try_join(clean.iter().map(String::as_str)).unwrap_or_default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(method: &str, headers: &[(&str, &str)], body: Option<&str>) -> RequestRecord {
        RequestRecord {
            method: method.into(),
            url: "http://127.0.0.1:8080/api/orders?a=1&b=x%20y".into(),
            url_readable: String::new(),
            query: Vec::new(),
            headers: headers
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            body: body.map(str::to_string),
        }
    }

    #[test]
    fn a_get_with_a_body_is_shown_as_curl_sends_it() {
        let line = curl_line(&req(
            "GET",
            &[
                ("Authorization", "Bearer ***"),
                ("Content-Type", "application/json"),
            ],
            Some(r#"{"where":[{"column":"payed","value":1}],"note":"it's"}"#),
        ));
        assert!(
            line.starts_with(
                "curl -X GET 'http://127.0.0.1:8080/api/orders?a=1&b=x%20y' -H 'Authorization: Bearer ***' -H 'Content-Type: application/json' --data-raw "
            ),
            "{line}"
        );
        // The shell gives curl back every word as it was.
        let words = shlex::split(&line).unwrap();
        assert_eq!(words[7], "Content-Type: application/json");
        assert_eq!(
            words[9],
            r#"{"where":[{"column":"payed","value":1}],"note":"it's"}"#
        );
    }

    #[test]
    fn head_and_empty_headers_are_written_the_way_curl_needs() {
        let line = curl_line(&req("HEAD", &[("X-Empty", "")], None));
        assert_eq!(
            line,
            "curl --head 'http://127.0.0.1:8080/api/orders?a=1&b=x%20y' -H 'X-Empty;'"
        );
    }
}
