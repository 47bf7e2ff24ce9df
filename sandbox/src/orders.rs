//! Deterministic generation of the sandbox's orders, relative to the sandbox clock.

use serde_json::{Value, json};

use super::rng::SplitMix64;
use super::time::render_secs;

const MALE_NAMES: [(&str, &str); 8] = [
    ("Иван", "ivan"),
    ("Алексей", "aleksey"),
    ("Дмитрий", "dmitry"),
    ("Сергей", "sergey"),
    ("Андрей", "andrey"),
    ("Михаил", "mikhail"),
    ("Николай", "nikolay"),
    ("Павел", "pavel"),
];

const FEMALE_NAMES: [(&str, &str); 8] = [
    ("Мария", "maria"),
    ("Анна", "anna"),
    ("Елена", "elena"),
    ("Ольга", "olga"),
    ("Татьяна", "tatiana"),
    ("Наталья", "natalia"),
    ("Екатерина", "ekaterina"),
    ("Светлана", "svetlana"),
];

/// (masculine, feminine, latin)
const SURNAMES: [(&str, &str, &str); 8] = [
    ("Смирнов", "Смирнова", "smirnov"),
    ("Кузнецов", "Кузнецова", "kuznetsov"),
    ("Иванов", "Иванова", "ivanov"),
    ("Попов", "Попова", "popov"),
    ("Соколов", "Соколова", "sokolov"),
    ("Лебедев", "Лебедева", "lebedev"),
    ("Козлов", "Козлова", "kozlov"),
    ("Новиков", "Новикова", "novikov"),
];

const TICKET_PRICES: [i64; 6] = [1200, 1800, 2500, 3500, 5000, 7500];
const PAYMENT_TYPES: [i64; 3] = [1, 2, 3];

const MINUTE: i64 = 60;
const HOUR: i64 = 3_600;
const DAY: i64 = 86_400;

/// The first order id.
pub(crate) const FIRST_ORDER_ID: i64 = 1000;
/// The first client id.
const FIRST_CLIENT_ID: i64 = 5000;
/// The first basket (ticket) id.
const FIRST_BASKET_ID: i64 = 70_000;

/// The client with this id; the same id always yields the same person.
fn client(seed: u64, client_id: i64) -> Value {
    let mut rng = SplitMix64::new(seed ^ (client_id as u64).wrapping_mul(0x2545_F491_4F6C_DD1D));
    let female = rng.chance(0.5);
    let names: &[(&str, &str)] = if female { &FEMALE_NAMES } else { &MALE_NAMES };
    let (name, name_latin) = rng.pick(names).copied().unwrap_or(("Иван", "ivan"));
    let (male, fem, surname_latin) = rng.pick(&SURNAMES).copied().unwrap_or(SURNAMES[0]);
    let surname = if female { fem } else { male };
    let phone = format!("+79{:09}", rng.range(0, 1_000_000_000));
    json!({
        "id": client_id,
        "email": format!("{name_latin}.{surname_latin}{client_id}@example.ru"),
        "details": {"name": name, "surname": surname, "phone": phone},
    })
}

/// (event id, show ids) of each event, for wiring orders to events.
fn event_refs(events: &[Value]) -> Vec<(Value, Vec<Value>)> {
    events
        .iter()
        .map(|e| {
            let shows = e["shows"]
                .as_array()
                .map(|shows| shows.iter().map(|s| s["id"].clone()).collect())
                .unwrap_or_default();
            (e["id"].clone(), shows)
        })
        .collect()
}

/// Generates `count` orders relative to `now` (Unix seconds): about 55 % paid in the
/// last 48 h, 25 % paid 3–400 days ago and 20 % unpaid (`payed: false`, `payed_at: null`).
pub(crate) fn generate_orders(seed: u64, now: i64, count: usize, events: &[Value]) -> Vec<Value> {
    let mut rng = SplitMix64::new(seed);
    let events = event_refs(events);
    let mut basket_id = FIRST_BASKET_ID;
    (0..count)
        .map(|i| {
            let id = FIRST_ORDER_ID + i as i64;
            let roll = rng.unit();
            let payed_at = if roll < 0.55 {
                Some(now - rng.range(MINUTE, 48 * HOUR - MINUTE))
            } else if roll < 0.80 {
                Some(now - rng.range(3 * DAY, 400 * DAY))
            } else {
                None
            };
            let created = match payed_at {
                Some(paid) => paid - rng.range(30, 30 * MINUTE),
                None => now - rng.range(10 * MINUTE, 30 * DAY),
            };
            let updated = payed_at.map_or(created, |paid| paid + rng.range(1, MINUTE));
            let client_id = FIRST_CLIENT_ID + rng.range(0, 400);
            let client = client(seed, client_id);
            let email = client["email"].clone();
            let (event_id, shows) = rng
                .pick(&events)
                .cloned()
                .unwrap_or((Value::Null, Vec::new()));
            let show_id = rng.pick(&shows).cloned().unwrap_or(Value::Null);
            let base_price = rng
                .pick(&TICKET_PRICES)
                .copied()
                .unwrap_or(TICKET_PRICES[0]);
            let discounted = rng.chance(0.2);
            let ticket_price = if discounted {
                base_price * 85 / 100
            } else {
                base_price
            };
            let tickets = rng.range(1, 5);
            let baskets: Vec<Value> = (0..tickets)
                .map(|_| {
                    basket_id += 1;
                    let seat = if rng.chance(0.8) {
                        json!(rng.range(1, 1500))
                    } else {
                        Value::Null
                    };
                    json!({
                        "id": basket_id,
                        "barcode": format!("{:012}", rng.next_u64() % 1_000_000_000_000),
                        "show_id": show_id,
                        "seat_id": seat,
                        "price": ticket_price,
                        "original_price": base_price,
                        "quantity": 1,
                        "client_email": email,
                        "created_at": render_secs(created),
                        "deleted_at": null,
                        "refunded_at": null,
                    })
                })
                .collect();
            let payment_type = rng.pick(&PAYMENT_TYPES).copied().unwrap_or(1);
            json!({
                "id": id,
                "uniqid": format!("{:013x}", rng.next_u64() >> 12),
                "payed": payed_at.is_some(),
                "payed_at": payed_at.map(render_secs),
                "created_at": render_secs(created),
                "updated_at": render_secs(updated),
                "deleted_at": null,
                "client_id": client_id,
                "client": client,
                "event_id": event_id,
                "price": ticket_price * tickets,
                "original_price": base_price * tickets,
                "currency_id": "RUB",
                "payment_type_id": payment_type,
                "utm": {},
                "custom": {},
                "fields": [],
                "baskets": baskets,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::generate_events;
    use crate::time::parse_instant;

    const NOW: i64 = 1_762_350_414;

    #[test]
    fn mix_of_fresh_old_and_unpaid() {
        let events = generate_events(7, NOW, 6);
        let orders = generate_orders(7, NOW, 450, &events);
        assert_eq!(orders, generate_orders(7, NOW, 450, &events));
        let mut fresh = 0;
        let mut old = 0;
        let mut unpaid = 0;
        for order in &orders {
            match order["payed_at"].as_str().and_then(parse_instant) {
                Some(ts) if ts.as_second() >= NOW - 48 * HOUR => {
                    assert!(ts.as_second() < NOW);
                    fresh += 1;
                }
                Some(_) => old += 1,
                None => {
                    assert_eq!(order["payed"], false);
                    unpaid += 1;
                }
            }
            assert!(
                order["payed_at"]
                    .as_str()
                    .is_none_or(|s| s.ends_with("+03:00"))
            );
            assert!(
                order["client"]["details"]["name"]
                    .as_str()
                    .is_some_and(|n| !n.is_ascii())
            );
            assert!(order["baskets"].as_array().is_some_and(|b| !b.is_empty()));
        }
        assert!(fresh > 200, "fresh = {fresh}");
        assert!(old > 60 && unpaid > 50, "old = {old}, unpaid = {unpaid}");
        assert_eq!(orders[0]["id"], FIRST_ORDER_ID);
    }

    #[test]
    fn same_client_id_same_person() {
        assert_eq!(client(1, 5001), client(1, 5001));
    }
}
