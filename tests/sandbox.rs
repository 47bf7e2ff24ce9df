//! Integration tests of the QTickets sandbox over real HTTP on 127.0.0.1.

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use jiff::Timestamp;
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use qtickets_sandbox::{
    FaultKind, FaultRule, PaginationStyle, SandboxConfig, SandboxHandle, spawn,
};
use serde_json::{Value, json};

const NOW: &str = "2025-11-05T16:46:54+03:00";
const FROM: &str = "2025-11-03T16:46:54+03:00";
const TOKEN: &str = "sandbox-token";

fn config() -> SandboxConfig {
    SandboxConfig {
        now: Some(NOW.parse().expect("valid timestamp")),
        ..SandboxConfig::default()
    }
}

fn start(config: SandboxConfig) -> SandboxHandle {
    spawn(config).expect("sandbox starts")
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("client builds")
}

fn window_filter(from: &str, to: &str) -> Value {
    json!([
        {"column": "payed", "value": 1},
        {"column": "payed_at", "operator": ">=", "value": from},
        {"column": "payed_at", "operator": "<", "value": to}
    ])
}

fn enc(s: &str) -> String {
    utf8_percent_encode(s, NON_ALPHANUMERIC).to_string()
}

/// `/orders?organization=…&where=…&orderBy=…&per_page=…&page=…`, JSON URL-encoded.
fn list_url(
    base: &str,
    endpoint: &str,
    filter: &Value,
    order: &Value,
    per_page: u32,
    page: u32,
) -> String {
    format!(
        "{base}{endpoint}?organization=irs-prod&where={}&orderBy={}&per_page={per_page}&page={page}",
        enc(&filter.to_string()),
        enc(&order.to_string())
    )
}

async fn get_json(req: reqwest::RequestBuilder) -> (u16, Value) {
    let resp = req.send().await.expect("request succeeds");
    let status = resp.status().as_u16();
    let body = resp.json::<Value>().await.expect("JSON body");
    (status, body)
}

fn ts(v: &Value) -> Timestamp {
    v.as_str()
        .and_then(|s| s.parse::<Timestamp>().ok())
        .unwrap_or_else(|| panic!("not a timestamp: {v}"))
}

fn rows(body: &Value) -> &Vec<Value> {
    body["data"].as_array().expect("data is an array")
}

fn ids(body: &Value) -> Vec<i64> {
    rows(body)
        .iter()
        .map(|r| r["id"].as_i64().expect("id"))
        .collect()
}

fn assert_in_window(body: &Value, from: &str, to: &str) {
    let (from, to) = (ts(&json!(from)), ts(&json!(to)));
    for row in rows(body) {
        assert_eq!(row["payed"], true);
        let paid = ts(&row["payed_at"]);
        assert!(from <= paid && paid < to, "{paid} outside [{from}, {to})");
        assert!(
            row["payed_at"]
                .as_str()
                .is_some_and(|s| s.ends_with("+03:00"))
        );
    }
}

#[tokio::test]
async fn auth_is_required() {
    let sb = start(config());
    let http = client();
    for req in [
        http.get(format!("{}/orders", sb.base_url())),
        http.get(format!("{}/orders", sb.base_url()))
            .bearer_auth("wrong"),
        http.get(format!("{}/events", sb.base_url()))
            .header("Authorization", TOKEN),
    ] {
        let (status, body) = get_json(req).await;
        assert_eq!(status, 401);
        assert_eq!(body, json!({"error": "Unauthorized", "status": 401}));
    }
}

#[tokio::test]
async fn get_with_json_body_filters_the_48h_window() {
    let sb = start(config());
    let body = json!({"where": window_filter(FROM, NOW), "orderBy": {"payed_at": "desc"}, "page": 1, "per_page": 200});
    let (status, page1) = get_json(
        client()
            .get(format!("{}/orders", sb.base_url()))
            .bearer_auth(TOKEN)
            .json(&body),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(rows(&page1).len(), 200);
    assert_in_window(&page1, FROM, NOW);
    assert_eq!(page1["meta"]["has_next"], true);
    let paid: Vec<Timestamp> = rows(&page1).iter().map(|r| ts(&r["payed_at"])).collect();
    assert!(
        paid.windows(2).all(|w| w[0] >= w[1]),
        "sorted by payed_at desc"
    );
}

#[tokio::test]
async fn query_string_form_matches_the_body_form() {
    let sb = start(config());
    let http = client();
    let order = json!({"payed_at": "desc"});
    let url = list_url(
        &sb.base_url(),
        "/orders",
        &window_filter(FROM, NOW),
        &order,
        200,
        1,
    );
    assert!(url.contains("%2B03%3A00"));
    let (status, by_query) = get_json(http.get(&url).bearer_auth(TOKEN)).await;
    assert_eq!(status, 200);
    assert_in_window(&by_query, FROM, NOW);
    let body = json!({"where": window_filter(FROM, NOW), "orderBy": order, "per_page": 200});
    let (_, by_body) = get_json(
        http.post(format!("{}/orders", sb.base_url()))
            .bearer_auth(TOKEN)
            .json(&body),
    )
    .await;
    assert_eq!(ids(&by_query), ids(&by_body));
    assert_eq!(by_query["meta"]["total"], by_body["meta"]["total"]);
}

#[tokio::test]
async fn compact_offset_filters_are_silently_ignored() {
    let lax = start(config());
    let strict = start(SandboxConfig {
        ignore_compact_offsets: false,
        ..config()
    });
    let http = client();
    let colon_url = list_url(
        &lax.base_url(),
        "/orders",
        &window_filter(FROM, NOW),
        &json!({}),
        1000,
        1,
    );
    let (_, colon) = get_json(http.get(&colon_url).bearer_auth(TOKEN)).await;
    let compact = window_filter("2025-11-03T16:46:54+0300", "2025-11-05T16:46:54");
    let compact_url = list_url(&lax.base_url(), "/orders", &compact, &json!({}), 1000, 1);
    let (status, ignored) = get_json(http.get(&compact_url).bearer_auth(TOKEN)).await;
    assert_eq!(status, 200);
    let in_window = colon["meta"]["total"].as_u64().expect("total");
    let returned = ignored["meta"]["total"].as_u64().expect("total");
    assert!(
        returned > in_window,
        "{returned} rows should exceed the window's {in_window}"
    );
    let from = ts(&json!(FROM));
    assert!(
        rows(&ignored).iter().any(|r| ts(&r["payed_at"]) < from),
        "old orders come back"
    );

    let strict_url = list_url(&strict.base_url(), "/orders", &compact, &json!({}), 1000, 1);
    let (_, honoured) = get_json(http.get(&strict_url).bearer_auth(TOKEN)).await;
    assert_eq!(ids(&honoured), ids(&colon));
}

#[tokio::test]
async fn pagination_meta_and_second_page() {
    let sb = start(config());
    let http = client();
    let order = json!({"payed_at": "desc"});
    let url1 = list_url(
        &sb.base_url(),
        "/orders",
        &window_filter(FROM, NOW),
        &order,
        200,
        1,
    );
    let (_, page1) = get_json(http.get(&url1).bearer_auth(TOKEN)).await;
    let meta = &page1["meta"];
    let total = meta["total"].as_u64().expect("total");
    assert!(total > 200 && total <= 400, "total {total}");
    assert_eq!(meta["current_page"], 1);
    assert_eq!(meta["page"], 1);
    assert_eq!(meta["per_page"], 200);
    assert_eq!(meta["total_pages"], 2);
    assert_eq!(meta["last_page"], 2);
    assert_eq!(meta["next_page"], 2);
    assert_eq!(page1["links"]["prev"], Value::Null);

    let url2 = list_url(
        &sb.base_url(),
        "/orders",
        &window_filter(FROM, NOW),
        &order,
        200,
        2,
    );
    let (_, page2) = get_json(http.get(&url2).bearer_auth(TOKEN)).await;
    assert_eq!(page2["meta"]["has_next"], false);
    assert_eq!(page2["meta"]["next_page"], Value::Null);
    assert_eq!(page2["links"]["next"], Value::Null);
    assert_in_window(&page2, FROM, NOW);
    let (first, second) = (ids(&page1), ids(&page2));
    assert_eq!((first.len() + second.len()) as u64, total);
    assert!(
        first.iter().all(|id| !second.contains(id)),
        "pages are disjoint"
    );

    // Following links.next keeps the filter and gives the same second page.
    let next = page1["links"]["next"]
        .as_str()
        .expect("links.next")
        .to_owned();
    assert!(next.starts_with(&sb.base_url()) && next.contains("page=2"));
    let (_, followed) = get_json(http.get(&next).bearer_auth(TOKEN)).await;
    assert_eq!(ids(&followed), second);
}

#[tokio::test]
async fn each_pagination_style_carries_its_signal() {
    let http = client();
    let expectations: [(PaginationStyle, &[&str], &[&str]); 5] = [
        (PaginationStyle::Full, &["meta", "links"], &[]),
        (PaginationStyle::HasNext, &["meta"], &["links"]),
        (PaginationStyle::NextPage, &["meta"], &["links"]),
        (PaginationStyle::TotalPages, &["meta"], &["links"]),
        (PaginationStyle::LinksOnly, &["links"], &["meta"]),
    ];
    for (style, present, absent) in expectations {
        let sb = start(SandboxConfig {
            pagination_style: style,
            ..config()
        });
        let url = format!("{}/orders?per_page=100&page=2", sb.base_url());
        let (status, body) = get_json(http.get(&url).bearer_auth(TOKEN)).await;
        assert_eq!(status, 200, "{style}");
        for key in present {
            assert!(body.get(*key).is_some(), "{style}: {key} expected");
        }
        for key in absent {
            assert!(body.get(*key).is_none(), "{style}: {key} unexpected");
        }
        match style {
            PaginationStyle::Full => assert_eq!(body["meta"]["has_next"], true),
            PaginationStyle::HasNext => {
                assert_eq!(body["meta"], json!({"page": 2, "has_next": true}))
            }
            PaginationStyle::NextPage => assert_eq!(body["meta"], json!({"next_page": 3})),
            PaginationStyle::TotalPages => {
                assert_eq!(body["meta"], json!({"page": 2, "total_pages": 5}))
            }
            PaginationStyle::LinksOnly => {
                assert!(
                    body["links"]["next"]
                        .as_str()
                        .is_some_and(|u| u.ends_with("page=3"))
                );
            }
        }
    }
}

#[tokio::test]
async fn order_by_desc_and_default_order() {
    let sb = start(config());
    let http = client();
    let body = json!({"orderBy": {"id": "desc"}, "per_page": 50});
    let (_, desc) = get_json(
        http.get(format!("{}/orders", sb.base_url()))
            .bearer_auth(TOKEN)
            .json(&body),
    )
    .await;
    let desc_ids = ids(&desc);
    assert_eq!(desc_ids.first(), Some(&1449));
    assert!(desc_ids.windows(2).all(|w| w[0] > w[1]));
    let (_, default) = get_json(
        http.get(format!("{}/orders", sb.base_url()))
            .bearer_auth(TOKEN),
    )
    .await;
    assert_eq!(ids(&default), (1000..1020).collect::<Vec<_>>());
    assert_eq!(default["meta"]["per_page"], 20);
}

#[tokio::test]
async fn single_order_by_id() {
    let sb = start(config());
    let http = client();
    let body =
        json!({"where": window_filter(FROM, NOW), "orderBy": {"payed_at": "desc"}, "per_page": 1});
    let (_, list) = get_json(
        http.get(format!("{}/orders", sb.base_url()))
            .bearer_auth(TOKEN)
            .json(&body),
    )
    .await;
    let fresh = &rows(&list)[0];
    let id = fresh["id"].as_i64().expect("id");
    let (status, one) = get_json(
        http.get(format!("{}/orders/{id}", sb.base_url()))
            .bearer_auth(TOKEN),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(one["data"]["id"], id);
    assert_eq!(one["data"]["payed_at"], fresh["payed_at"]);
    assert!(
        one["data"]["client"]["details"]["name"]
            .as_str()
            .is_some_and(|n| !n.is_ascii())
    );
    for missing in ["999999", "abc"] {
        let (status, err) = get_json(
            http.get(format!("{}/orders/{missing}", sb.base_url()))
                .bearer_auth(TOKEN),
        )
        .await;
        assert_eq!(status, 404);
        assert_eq!(err["status"], 404);
    }
}

#[tokio::test]
async fn events_list() {
    let sb = start(config());
    let http = client();
    let (status, events) = get_json(
        http.get(format!("{}/events", sb.base_url()))
            .bearer_auth(TOKEN),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(rows(&events).len(), 6);
    assert_eq!(rows(&events)[0]["name"], "Щелкунчик");
    for event in rows(&events) {
        assert_eq!(event["currency_id"], "RUB");
        assert!(event["shows"].as_array().is_some_and(|s| !s.is_empty()));
        assert!(event["place_name"].as_str().is_some_and(|p| !p.is_ascii()));
    }
    let filter = json!({"where": [{"column": "is_active", "value": 1}]});
    let (status, active) = get_json(
        http.post(format!("{}/events", sb.base_url()))
            .bearer_auth(TOKEN)
            .json(&filter),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(rows(&active).len(), 5);
}

#[tokio::test]
async fn malformed_where_is_a_400() {
    let sb = start(config());
    let url = format!("{}/orders?where={}", sb.base_url(), enc("[{\"column\":"));
    let (status, body) = get_json(client().get(&url).bearer_auth(TOKEN)).await;
    assert_eq!(status, 400);
    assert_eq!(body["status"], 400);
    assert!(body["error"].as_str().is_some_and(|e| e.contains("where")));
}

#[tokio::test]
async fn fault_503_twice_then_200() {
    let sb = start(config());
    let http = client();
    sb.add_fault(FaultRule::new(Some("GET"), "/orders", FaultKind::Status(503)).with_times(2));
    let url = format!("{}/orders", sb.base_url());
    for _ in 0..2 {
        let resp = http
            .get(&url)
            .bearer_auth(TOKEN)
            .send()
            .await
            .expect("answered");
        assert_eq!(resp.status().as_u16(), 503);
        let text = resp.text().await.expect("body");
        assert_eq!(
            text,
            r#"{"error":"unknown error","status":503,"code":"UNKNOWN_ERROR"}"#
        );
    }
    let (status, _) = get_json(http.get(&url).bearer_auth(TOKEN)).await;
    assert_eq!(status, 200);
    assert!(sb.faults().is_empty(), "the exhausted rule is gone");

    // The same over the control API, with a 429 and Retry-After.
    let rule = json!({"method": "POST", "path": "/orders", "kind": "status", "status": 429, "times": 1, "retry_after": 1});
    let resp = http
        .post(format!("{}/__sandbox/faults", sb.origin()))
        .json(&rule)
        .send()
        .await
        .expect("ok");
    assert_eq!(resp.status().as_u16(), 200);
    let resp = http
        .post(&url)
        .bearer_auth(TOKEN)
        .json(&json!({}))
        .send()
        .await
        .expect("answered");
    assert_eq!(resp.status().as_u16(), 429);
    assert_eq!(
        resp.headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok()),
        Some("1")
    );
    let (status, _) = get_json(http.post(&url).bearer_auth(TOKEN).json(&json!({}))).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn delay_fault_slows_the_answer() {
    let sb = start(config());
    sb.add_fault(
        FaultRule::new(
            None,
            "/events",
            FaultKind::Delay(Duration::from_millis(400)),
        )
        .with_times(1),
    );
    let http = client();
    let started = Instant::now();
    let (status, _) = get_json(
        http.get(format!("{}/events", sb.base_url()))
            .bearer_auth(TOKEN),
    )
    .await;
    assert_eq!(status, 200);
    assert!(started.elapsed() >= Duration::from_millis(400));
    let started = Instant::now();
    let (status, _) = get_json(
        http.get(format!("{}/events", sb.base_url()))
            .bearer_auth(TOKEN),
    )
    .await;
    assert_eq!(status, 200);
    assert!(started.elapsed() < Duration::from_millis(400));
}

#[tokio::test]
async fn drop_fault_is_a_connection_error_not_a_status() {
    let sb = start(config());
    let http = client();
    let rule = json!({"method": "GET", "path": "/orders", "kind": "drop", "times": 1});
    http.post(format!("{}/__sandbox/faults", sb.origin()))
        .json(&rule)
        .send()
        .await
        .expect("ok");
    let err = http
        .get(format!("{}/orders", sb.base_url()))
        .bearer_auth(TOKEN)
        .send()
        .await
        .expect_err("the connection is dropped");
    assert!(err.status().is_none());
    assert!(!err.is_timeout());
    let (status, _) = get_json(
        http.get(format!("{}/orders", sb.base_url()))
            .bearer_auth(TOKEN),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        sb.requests().len(),
        2,
        "the dropped request was still recorded"
    );
}

#[tokio::test]
async fn unknown_paths_answer_html_404() {
    let sb = start(config());
    let http = client();
    for url in [
        format!("{}/nope", sb.base_url()),
        format!("{}/favicon.ico", sb.origin()),
    ] {
        let resp = http
            .get(&url)
            .bearer_auth(TOKEN)
            .send()
            .await
            .expect("answered");
        assert_eq!(resp.status().as_u16(), 404);
        let ctype = resp
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        assert!(ctype.starts_with("text/html"), "{ctype}");
        let text = resp.text().await.expect("body");
        assert!(text.starts_with("<!DOCTYPE html>"));
        assert!(serde_json::from_str::<Value>(&text).is_err());
    }
}

#[tokio::test]
async fn the_loaders_side_lists_answer_404_and_seats_are_served() {
    let sb = start(config());
    let http = client();
    // The side lists the loader asks for and skips on 404 (as production answers it).
    for list in [
        "clients",
        "discounts",
        "promo-codes",
        "price-shades",
        "barcodes",
    ] {
        let resp = http
            .get(format!("{}/{list}", sb.base_url()))
            .bearer_auth(TOKEN)
            .json(&json!({"organization": "irs-prod", "page": 1, "per_page": 200}))
            .send()
            .await
            .expect("answered");
        assert_eq!(resp.status().as_u16(), 404, "{list}");
    }
    // Seats: every show's seats, those in paid orders' baskets not available.
    let (status, body) = get_json(
        http.get(format!("{}/events/101/seats", sb.base_url()))
            .bearer_auth(TOKEN),
    )
    .await;
    assert_eq!(status, 200);
    let seats = body["data"].as_array().expect("a list");
    let (_, events) = get_json(
        http.get(format!("{}/events", sb.base_url()))
            .bearer_auth(TOKEN),
    )
    .await;
    let shows = events["data"][0]["shows"].as_array().expect("shows").len();
    assert_eq!(seats.len(), shows * 40);
    let (_, orders) = get_json(
        http.get(format!("{}/orders", sb.base_url()))
            .bearer_auth(TOKEN)
            .json(&json!({"per_page": 1000})),
    )
    .await;
    let sold: Vec<(i64, i64)> = orders["data"]
        .as_array()
        .expect("orders")
        .iter()
        .filter(|o| o["payed"] == true)
        .flat_map(|o| o["baskets"].as_array().expect("baskets").clone())
        .filter_map(|b| Some((b["show_id"].as_i64()?, b["seat_id"].as_i64()?)))
        .collect();
    for seat in seats {
        let key = (
            seat["show_id"].as_i64().unwrap(),
            seat["seat_id"].as_i64().unwrap(),
        );
        assert_eq!(seat["available"], json!(!sold.contains(&key)), "{seat}");
    }
    let (status, _) = get_json(
        http.get(format!("{}/events/999/seats", sb.base_url()))
            .bearer_auth(TOKEN),
    )
    .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn requests_are_recorded_with_body_and_query() {
    let sb = start(config());
    let http = client();
    let body = json!({"where": window_filter(FROM, NOW), "per_page": 200});
    let url = format!("{}/orders?organization=irs-prod&page=1", sb.base_url());
    let (status, _) = get_json(http.get(&url).bearer_auth(TOKEN).json(&body)).await;
    assert_eq!(status, 200);
    let log = sb.requests();
    assert_eq!(log.len(), 1);
    let req = &log[0];
    assert_eq!(req.method, "GET");
    assert_eq!(req.path, "/api/rest/v1/orders");
    assert_eq!(req.query, "organization=irs-prod&page=1");
    assert_eq!(req.query_param("organization"), Some("irs-prod"));
    assert_eq!(req.body_json(), Some(body));
    assert!(req.body.contains("+03:00"));
    assert_eq!(req.header("authorization"), Some("Bearer sandbox-token"));
    assert!(
        req.headers
            .iter()
            .all(|(k, _)| *k == k.to_ascii_lowercase())
    );

    let (status, remote) = get_json(http.get(format!("{}/__sandbox/requests", sb.origin()))).await;
    assert_eq!(status, 200);
    assert_eq!(remote.as_array().map(Vec::len), Some(1));
    assert_eq!(remote[0]["query"], "organization=irs-prod&page=1");
    http.delete(format!("{}/__sandbox/requests", sb.origin()))
        .send()
        .await
        .expect("ok");
    assert!(sb.requests().is_empty());
}

/// The sandbox works from a plain (non-async) test too; here with a raw HTTP/1.1 request.
#[test]
fn works_from_a_plain_test() {
    let sb = start(SandboxConfig {
        token: "t0k".to_owned(),
        orders: 5,
        ..config()
    });
    let mut stream = std::net::TcpStream::connect(sb.addr()).expect("connects");
    let request = "GET /api/rest/v1/orders/1003 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer t0k\r\nConnection: close\r\n\r\n";
    stream.write_all(request.as_bytes()).expect("sends");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).expect("reads");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.contains("\"id\":1003"));
    drop(sb);
}
