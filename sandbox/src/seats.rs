//! `GET /events/{id}/seats`: the seat list of an event's shows, sold seats derived from
//! the paid orders' baskets (what the loader's inventory is built from).

use serde_json::{Value, json};

/// Seats per show in the sandbox's small halls.
pub(crate) const SEATS_PER_SHOW: i64 = 40;

/// The event's seats (`{"data": [...]}`, one page), or `None` for an unknown event.
pub(crate) fn seats(events: &[Value], orders: &[Value], event_id: i64) -> Option<Value> {
    let event = events.iter().find(|e| e["id"].as_i64() == Some(event_id))?;
    let shows: Vec<i64> = event["shows"]
        .as_array()
        .map(|s| s.iter().filter_map(|s| s["id"].as_i64()).collect())
        .unwrap_or_default();
    let sold: std::collections::HashSet<(i64, i64)> = orders
        .iter()
        .filter(|o| o["payed"].as_bool() == Some(true))
        .flat_map(|o| o["baskets"].as_array().into_iter().flatten())
        .filter_map(|b| Some((b["show_id"].as_i64()?, b["seat_id"].as_i64()?)))
        .collect();
    let data: Vec<Value> = shows
        .iter()
        .flat_map(|&show| {
            let sold = &sold;
            (1..=SEATS_PER_SHOW).map(move |seat| {
                json!({
                    "id": show * 10_000 + seat,
                    "show_id": show,
                    "seat_id": seat,
                    "available": !sold.contains(&(show, seat)),
                })
            })
        })
        .collect();
    Some(json!({ "data": data }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sold_seats_are_not_available() {
        let events = vec![json!({"id": 101, "shows": [{"id": 10100}, {"id": 10101}]})];
        let orders = vec![
            json!({"payed": true, "baskets": [{"show_id": 10100, "seat_id": 3}]}),
            json!({"payed": false, "baskets": [{"show_id": 10100, "seat_id": 4}]}),
        ];
        let page = seats(&events, &orders, 101).expect("known event");
        let data = page["data"].as_array().expect("a list");
        assert_eq!(data.len(), 2 * SEATS_PER_SHOW as usize);
        let free = |seat: i64| {
            data.iter()
                .find(|s| s["show_id"] == 10100 && s["seat_id"] == seat)
                .map(|s| s["available"].clone())
        };
        assert_eq!(free(3), Some(json!(false)));
        assert_eq!(free(4), Some(json!(true)));
        assert!(seats(&events, &orders, 999).is_none());
    }
}
