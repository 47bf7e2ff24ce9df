//! Deterministic generation of the sandbox's events (Cyrillic names, places and shows).

use serde_json::{Value, json};

use super::rng::SplitMix64;
use super::time::render_secs;

const EVENT_NAMES: [&str; 10] = [
    "Щелкунчик",
    "Лебединое озеро",
    "Евгений Онегин",
    "Ревизор",
    "Мастер и Маргарита",
    "Вишнёвый сад",
    "Чайка",
    "Три сестры",
    "Горе от ума",
    "Борис Годунов",
];

/// (place name, address, city id)
const PLACES: [(&str, &str, i64); 5] = [
    ("Большой театр", "Театральная пл., 1, Москва", 1),
    ("МХТ имени А. П. Чехова", "Камергерский пер., 3, Москва", 1),
    ("Мариинский театр", "Театральная пл., 1, Санкт-Петербург", 2),
    (
        "Александринский театр",
        "пл. Островского, 6, Санкт-Петербург",
        2,
    ),
    ("Театр оперы и балета", "Красный просп., 36, Новосибирск", 3),
];

const DAY: i64 = 86_400;
const HOUR: i64 = 3_600;

/// The first event id.
pub(crate) const FIRST_EVENT_ID: i64 = 101;

/// Generates `count` events with 2–4 shows each, starting 20 days before `now` (Unix
/// seconds) to 90 days after it, at 19:00 Moscow time.
pub(crate) fn generate_events(seed: u64, now: i64, count: usize) -> Vec<Value> {
    let mut rng = SplitMix64::new(seed ^ 0xE7E7_5EED);
    let today_utc = now - now.rem_euclid(DAY);
    (0..count)
        .map(|i| {
            let id = FIRST_EVENT_ID + i as i64;
            let base = EVENT_NAMES[i % EVENT_NAMES.len()];
            let name = match i / EVENT_NAMES.len() {
                0 => base.to_owned(),
                round => format!("{base} ({})", round + 1),
            };
            let (place_name, place_address, city_id) =
                PLACES[rng.range(0, PLACES.len() as i64) as usize];
            let shows: Vec<Value> = (0..rng.range(2, 5))
                .map(|k| {
                    // 16:00 UTC is 19:00 in Moscow.
                    let start = today_utc + rng.range(-20, 91) * DAY + 16 * HOUR;
                    let finish = start + rng.range(2, 4) * HOUR;
                    json!({
                        "id": id * 100 + k,
                        "start_date": render_secs(start),
                        "finish_date": render_secs(finish),
                    })
                })
                .collect();
            json!({
                "id": id,
                "name": name,
                "is_active": i % 6 != 5,
                "currency_id": "RUB",
                "place_name": place_name,
                "place_address": place_address,
                "city_id": city_id,
                "deleted_at": null,
                "shows": shows,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_are_deterministic_and_cyrillic() {
        let a = generate_events(1, 1_762_350_414, 12);
        assert_eq!(a, generate_events(1, 1_762_350_414, 12));
        assert_eq!(a.len(), 12);
        assert_eq!(a[0]["name"], "Щелкунчик");
        assert_eq!(a[10]["name"], "Щелкунчик (2)");
        assert_eq!(a[5]["is_active"], false);
        for event in &a {
            let shows = event["shows"].as_array().map(Vec::len).unwrap_or(0);
            assert!((2..=4).contains(&shows));
            assert!(
                event["shows"][0]["start_date"]
                    .as_str()
                    .is_some_and(|s| s.ends_with("T19:00:00+03:00"))
            );
        }
    }
}
