//! The unauthenticated control plane under `/__sandbox`: faults, the request log and info.

use hyper::{Method, StatusCode};
use serde_json::{Value, json};

use super::faults::FaultRule;
use super::response::{self, Resp};
use super::state::State;
use super::time::render;

/// Parses one rule or an array of rules.
fn parse_rules(body: &str) -> Result<Vec<FaultRule>, String> {
    let value: Value =
        serde_json::from_str(body).map_err(|e| format!("malformed JSON body: {e}"))?;
    let items = match value {
        Value::Array(items) => items,
        other => vec![other],
    };
    items
        .into_iter()
        .map(|item| {
            serde_json::from_value::<FaultRule>(item).map_err(|e| format!("bad fault rule: {e}"))
        })
        .collect()
}

/// Answers `/__sandbox{sub_path}`:
/// `POST /faults` (one rule or an array), `GET /faults`, `DELETE /faults`,
/// `GET /requests` (a JSON array), `DELETE /requests`, `GET /info`.
pub(crate) fn control(state: &State, method: &Method, sub_path: &str, body: &str) -> Resp {
    let ok = |extra: Value| response::json(StatusCode::OK, &extra);
    match (method, sub_path.trim_end_matches('/')) {
        (&Method::POST, "/faults") => match parse_rules(body) {
            Ok(rules) => {
                for rule in rules {
                    state.faults.add(rule);
                }
                ok(json!({"ok": true, "faults": state.faults.snapshot()}))
            }
            Err(message) => response::error(StatusCode::BAD_REQUEST, &message),
        },
        (&Method::GET, "/faults") => ok(json!({"faults": state.faults.snapshot()})),
        (&Method::DELETE, "/faults") => {
            state.faults.clear();
            ok(json!({"ok": true}))
        }
        (&Method::GET, "/requests") => ok(json!(state.recorded())),
        (&Method::DELETE, "/requests") => {
            state.clear_recorded();
            ok(json!({"ok": true}))
        }
        (&Method::GET, "/info") => ok(json!({
            "now": render(state.now),
            "orders": state.orders.len(),
            "events": state.events.len(),
            "pagination": state.pagination_style.as_str(),
            "ignore_compact_offsets": state.ignore_compact_offsets,
        })),
        _ => response::not_found_html(),
    }
}
