//! Raw baseline for `bench/run.sh`: the same requests and checks as the benchmark
//! scenarios, done by hand with one keep-alive reqwest client — no scenario, no templates,
//! no recording, no report. Its wall time is the floor qtscen is compared against.
//!
//! ```text
//! bench_baseline --version
//! bench_baseline w1 URL [COUNT]                  # COUNT GETs, `$.data.status == "ok"` each
//! bench_baseline w2 URL FROM TO [MAX_PAGES]      # URL?page=1.. until !meta.has_next;
//!                                                # every $.data[*].payed_at in [FROM, TO),
//!                                                # every id collected
//! bench_baseline w6 URL FROM TO CH_URL TABLE [MAX_PAGES]
//!                                                # the same walk, every payed_at checked,
//!                                                # the ids kept; then `SELECT id FROM
//!                                                # TABLE` from ClickHouse (TSV) and the
//!                                                # set difference both ways
//! ```
//!
//! Exit code 0 when every check passed, 1 when one failed, 2 on bad arguments.
use std::process::ExitCode;

use jiff::Timestamp;
use jsonpath_rust::parser::model::JpQuery;
use jsonpath_rust::parser::parse_json_path;
use jsonpath_rust::query::js_path_process;
use serde_json::Value;

type Res<T> = Result<T, String>;

fn usage() -> ExitCode {
    eprintln!(
        "usage: bench_baseline --version | w1 URL [COUNT] | w2 URL FROM TO [MAX_PAGES] | w6 URL FROM TO CH_URL TABLE [MAX_PAGES]"
    );
    ExitCode::from(2)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(cmd) = args.first().map(String::as_str) else {
        return usage();
    };
    if cmd == "--version" {
        println!("bench_baseline {}", env!("CARGO_PKG_VERSION"));
        return ExitCode::SUCCESS;
    }
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("runtime: {e}");
            return ExitCode::from(1);
        }
    };
    let result = match (cmd, args.len()) {
        ("w1", 2 | 3) => {
            let count = match args.get(2).map(|s| s.parse::<usize>()) {
                None => 500,
                Some(Ok(n)) => n,
                Some(Err(_)) => return usage(),
            };
            rt.block_on(w1(&args[1], count))
        }
        ("w2", 4 | 5) => {
            let max_pages = match args.get(4).map(|s| s.parse::<u64>()) {
                None => 60,
                Some(Ok(n)) => n,
                Some(Err(_)) => return usage(),
            };
            rt.block_on(w2(&args[1], &args[2], &args[3], max_pages))
        }
        ("w6", 6 | 7) => {
            let max_pages = match args.get(6).map(|s| s.parse::<u64>()) {
                None => 6000,
                Some(Ok(n)) => n,
                Some(Err(_)) => return usage(),
            };
            let (url, from, to) = (&args[1], &args[2], &args[3]);
            rt.block_on(w6(url, (from, to), (&args[4], &args[5]), max_pages))
        }
        _ => return usage(),
    };
    match result {
        Ok(summary) => {
            println!("{summary}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("FAILED: {e}");
            ExitCode::from(1)
        }
    }
}

fn client() -> Res<reqwest::Client> {
    reqwest::Client::builder()
        .build()
        .map_err(|e| format!("client: {e}"))
}

fn path(p: &str) -> Res<JpQuery> {
    parse_json_path(p).map_err(|e| format!("jsonpath {p}: {e}"))
}

fn select<'a>(q: &JpQuery, v: &'a Value) -> Vec<&'a Value> {
    js_path_process(q, v)
        .map(|refs| refs.into_iter().map(|r| r.val()).collect())
        .unwrap_or_default()
}

async fn get_json(client: &reqwest::Client, url: &str) -> Res<Value> {
    let resp = client
        .get(url)
        .send()
        .await
        .map_err(|e| format!("GET {url}: {e}"))?;
    let status = resp.status();
    let body = resp
        .bytes()
        .await
        .map_err(|e| format!("GET {url}: body: {e}"))?;
    if !status.is_success() {
        return Err(format!("GET {url}: status {status}"));
    }
    serde_json::from_slice(&body).map_err(|e| format!("GET {url}: not JSON: {e}"))
}

/// W1: `count` sequential GETs, one JSONPath assertion each.
async fn w1(url: &str, count: usize) -> Res<String> {
    let client = client()?;
    let status = path("$.data.status")?;
    for i in 0..count {
        let doc = get_json(&client, url).await?;
        match select(&status, &doc).first() {
            Some(Value::String(s)) if s == "ok" => {}
            other => {
                return Err(format!(
                    "request {i}: $.data.status is {other:?}, not \"ok\""
                ));
            }
        }
    }
    Ok(format!("w1: {count} requests, all passed"))
}

/// W2: a paginated walk; every `payed_at` in `[from, to)`, every id collected.
async fn w2(url: &str, from: &str, to: &str, max_pages: u64) -> Res<String> {
    let from: Timestamp = from.parse().map_err(|e| format!("FROM {from}: {e}"))?;
    let to: Timestamp = to.parse().map_err(|e| format!("TO {to}: {e}"))?;
    let client = client()?;
    let collect = path("$.data[*]")?;
    let sep = if url.contains('?') { '&' } else { '?' };
    let mut items: Vec<Value> = Vec::new();
    let mut pages = 0;
    for page in 1..=max_pages {
        let doc = get_json(&client, &format!("{url}{sep}page={page}")).await?;
        pages += 1;
        let has_next = doc
            .pointer("/meta/has_next")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        items.extend(select(&collect, &doc).into_iter().cloned());
        if !has_next {
            break;
        }
    }
    let mut ids = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let Some(Value::String(s)) = item.get("payed_at") else {
            return Err(format!("item {i}: no payed_at"));
        };
        let t: Timestamp = s
            .parse()
            .map_err(|e| format!("item {i}: payed_at {s}: {e}"))?;
        if t < from || t >= to {
            return Err(format!("item {i}: payed_at {s} outside the window"));
        }
        match item.get("id") {
            Some(id) => ids.push(id.clone()),
            None => return Err(format!("item {i}: no id")),
        }
    }
    Ok(format!(
        "w2: {pages} pages, {} items, {} ids, all inside the window",
        items.len(),
        ids.len()
    ))
}

/// W6: the walk of W2 over every page, keeping only the ids; every `payed_at` in
/// `[from, to)`; then the ids ClickHouse holds, and the difference both ways.
async fn w6(
    url: &str,
    (from, to): (&str, &str),
    (ch_url, table): (&str, &str),
    max_pages: u64,
) -> Res<String> {
    let from: Timestamp = from.parse().map_err(|e| format!("FROM {from}: {e}"))?;
    let to: Timestamp = to.parse().map_err(|e| format!("TO {to}: {e}"))?;
    let client = client()?;
    let sep = if url.contains('?') { '&' } else { '?' };
    let mut ids: Vec<u64> = Vec::new();
    let mut pages = 0;
    for page in 1..=max_pages {
        let doc = get_json(&client, &format!("{url}{sep}page={page}")).await?;
        pages += 1;
        for item in doc["data"].as_array().into_iter().flatten() {
            let i = ids.len();
            let Some(Value::String(s)) = item.get("payed_at") else {
                return Err(format!("item {i}: no payed_at"));
            };
            let t: Timestamp = s
                .parse()
                .map_err(|e| format!("item {i}: payed_at {s}: {e}"))?;
            if t < from || t >= to {
                return Err(format!("item {i}: payed_at {s} outside the window"));
            }
            ids.push(item["id"].as_u64().ok_or(format!("item {i}: no id"))?);
        }
        if !doc["meta"]["has_next"].as_bool().unwrap_or(false) {
            break;
        }
    }
    let resp = client
        .post(ch_url)
        .body(format!("SELECT id FROM {table} FORMAT TSV"))
        .send()
        .await
        .map_err(|e| format!("ClickHouse: {e}"))?;
    if !resp.status().is_success() {
        return Err(format!("ClickHouse: status {}", resp.status()));
    }
    let body = resp.bytes().await.map_err(|e| format!("ClickHouse: {e}"))?;
    let held: std::collections::HashSet<u64> = std::str::from_utf8(&body)
        .map_err(|e| format!("ClickHouse: {e}"))?
        .lines()
        .map(|l| {
            l.parse::<u64>()
                .map_err(|e| format!("ClickHouse: {l}: {e}"))
        })
        .collect::<Res<_>>()?;
    let api: std::collections::HashSet<u64> = ids.iter().copied().collect();
    let only_api = ids.iter().filter(|i| !held.contains(i)).count();
    let only_ch = held.iter().filter(|i| !api.contains(i)).count();
    Ok(format!(
        "w6: {pages} pages, {} items inside the window; {only_api} only in the API, {only_ch} only in ClickHouse",
        ids.len()
    ))
}
