//! The QTickets API routes: `/orders`, `/orders/{id}`, `/events`, `/events/{id}`,
//! `/events/{id}/seats`, with bearer auth. Any other path (the side lists `/clients`,
//! `/discounts`, `/promo-codes`, `/price-shades`, `/barcodes` among them) answers the
//! HTML 404, which the loader skips with a warning.

use hyper::{Method, StatusCode};
use serde_json::{Value, json};

use super::faults::API_PREFIX;
use super::filter::matches_all;
use super::order_by::sort_rows;
use super::pagination::page_response;
use super::params::parse_list_params;
use super::response::{self, Resp};
use super::state::State;

/// The parts of a request the API routes look at.
pub(crate) struct ApiRequest<'a> {
    pub(crate) method: &'a Method,
    /// The path after `/api/rest/v1` (`/orders/1001`).
    pub(crate) api_path: &'a str,
    pub(crate) query: &'a [(String, String)],
    pub(crate) authorization: Option<&'a str>,
    pub(crate) body: &'a str,
    /// `http://host:port` as the client addressed the server.
    pub(crate) origin: String,
}

#[derive(Clone, Copy)]
enum Collection {
    Orders,
    Events,
}

impl Collection {
    fn rows(self, state: &State) -> &[Value] {
        match self {
            Collection::Orders => &state.orders,
            Collection::Events => &state.events,
        }
    }

    fn not_found(self) -> &'static str {
        match self {
            Collection::Orders => "Order not found",
            Collection::Events => "Event not found",
        }
    }
}

fn authorized(state: &State, header: Option<&str>) -> bool {
    header
        .and_then(|value| value.trim().split_once(' '))
        .is_some_and(|(scheme, token)| {
            scheme.eq_ignore_ascii_case("bearer") && token.trim() == state.token
        })
}

/// Answers one API request (faults were already applied by the caller).
pub(crate) fn api(state: &State, req: &ApiRequest<'_>) -> Resp {
    let segments: Vec<&str> = req.api_path.split('/').filter(|s| !s.is_empty()).collect();
    let (collection, name, id) = match segments.as_slice() {
        ["orders"] => (Collection::Orders, "orders", None),
        ["orders", id] => (Collection::Orders, "orders", Some(*id)),
        ["events"] => (Collection::Events, "events", None),
        ["events", id] => (Collection::Events, "events", Some(*id)),
        ["events", id, "seats"] => return event_seats(state, req, id),
        _ => return response::not_found_html(),
    };
    if !authorized(state, req.authorization) {
        return response::error(StatusCode::UNAUTHORIZED, "Unauthorized");
    }
    match (req.method, id) {
        (&Method::GET | &Method::POST, None) => list(state, req, collection, name),
        (&Method::GET, Some(id)) => single(state, collection, id),
        _ => response::error(StatusCode::METHOD_NOT_ALLOWED, "Method Not Allowed"),
    }
}

fn list(state: &State, req: &ApiRequest<'_>, collection: Collection, name: &str) -> Resp {
    let params = match parse_list_params(req.query, req.body, state.ignore_compact_offsets) {
        Ok(params) => params,
        Err(message) => return response::error(StatusCode::BAD_REQUEST, &message),
    };
    let mut rows: Vec<&Value> = collection
        .rows(state)
        .iter()
        .filter(|row| matches_all(row, &params.filters))
        .collect();
    sort_rows(&mut rows, &params.order);
    let link_base = format!("{}{API_PREFIX}/{name}", req.origin);
    let body = page_response(&rows, &params, state.pagination_style, &link_base);
    response::json(StatusCode::OK, &body)
}

fn event_seats(state: &State, req: &ApiRequest<'_>, id: &str) -> Resp {
    if !authorized(state, req.authorization) {
        return response::error(StatusCode::UNAUTHORIZED, "Unauthorized");
    }
    if req.method != Method::GET {
        return response::error(StatusCode::METHOD_NOT_ALLOWED, "Method Not Allowed");
    }
    let page = id
        .parse::<i64>()
        .ok()
        .and_then(|id| super::seats::seats(&state.events, &state.orders, id));
    match page {
        Some(body) => response::json(StatusCode::OK, &body),
        None => response::error(StatusCode::NOT_FOUND, "Event not found"),
    }
}

fn single(state: &State, collection: Collection, id: &str) -> Resp {
    let found = id.parse::<i64>().ok().and_then(|id| {
        collection
            .rows(state)
            .iter()
            .find(|row| row["id"].as_i64() == Some(id))
    });
    match found {
        Some(row) => response::json(StatusCode::OK, &json!({"data": row})),
        None => response::error(StatusCode::NOT_FOUND, collection.not_found()),
    }
}
