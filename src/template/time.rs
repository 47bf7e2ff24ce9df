//! Render stage: datetimes in templates — `now()`, IANA zones, durations, ISO-8601 with a
//! colon offset (`+03:00`, never `+0300`, `Z` only when asked).
use std::sync::Arc;

use jiff::fmt::temporal::{Pieces, PiecesOffset};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp, ZonedDateTime};
use minijinja::value::{Enumerator, Object, ObjectRepr};
use minijinja::{Environment, Error, ErrorKind, State, Value};

/// A datetime inside templates; renders as ISO-8601 with a colon offset.
#[derive(Debug, Clone)]
pub struct DateTime(pub ZonedDateTime);

impl Object for DateTime {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Plain
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let z = &self.0;
        Some(match key.as_str()? {
            "year" => Value::from(z.year()),
            "month" => Value::from(z.month()),
            "day" => Value::from(z.day()),
            "hour" => Value::from(z.hour()),
            "minute" => Value::from(z.minute()),
            "second" => Value::from(z.second()),
            "offset" => Value::from(format_offset(z)),
            "tz" => Value::from(z.time_zone().iana_name().unwrap_or("")),
            "unix" => Value::from(z.timestamp().as_second()),
            _ => return None,
        })
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Str(&[
            "year", "month", "day", "hour", "minute", "second", "offset", "tz", "unix",
        ])
    }

    fn call_method(
        self: &Arc<Self>,
        _state: &mut State<'_, '_>,
        method: &str,
        args: &[Value],
    ) -> Result<Value, Error> {
        let arg = |i: usize| -> Result<String, Error> {
            args.get(i)
                .and_then(|v| v.as_str().map(str::to_string))
                .ok_or_else(|| invalid(format!("{method}() needs a string argument")))
        };
        let me = Value::from_object((**self).clone());
        match method {
            "plus" => plus(&me, &arg(0)?),
            "minus" => minus(&me, &arg(0)?),
            "tz" => to_tz(&me, &arg(0)?),
            "iso" => iso(&me, args.first().is_some_and(Value::is_true)),
            "strftime" => strftime(&me, &arg(0)?),
            _ => Err(Error::from(ErrorKind::UnknownMethod)),
        }
    }

    fn custom_cmp(
        self: &Arc<Self>,
        other: &minijinja::value::DynObject,
    ) -> Option<std::cmp::Ordering> {
        let other = other.downcast_ref::<DateTime>()?;
        Some(self.0.timestamp().cmp(&other.0.timestamp()))
    }

    fn render(self: &Arc<Self>, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&format_iso(&self.0, false))
    }
}

/// ISO-8601 with seconds and a colon offset; `zulu` writes UTC as `Z`.
pub fn format_iso(z: &ZonedDateTime, zulu: bool) -> String {
    let base = z.strftime("%Y-%m-%dT%H:%M:%S").to_string();
    if zulu && z.offset().seconds() == 0 {
        format!("{base}Z")
    } else {
        format!("{base}{}", format_offset(z))
    }
}

fn format_offset(z: &ZonedDateTime) -> String {
    z.strftime("%:z").to_string()
}

/// Parses RFC 3339 / ISO-8601 with an offset (`+03:00`, `+0300`, `Z`) or a `[Zone]`
/// annotation; keeps the written offset (or zone) for rendering.
pub fn parse_datetime(text: &str) -> Option<ZonedDateTime> {
    let text = text.trim();
    if text.contains('[') {
        return text.parse::<ZonedDateTime>().ok();
    }
    let ts: Timestamp = text.parse().ok()?;
    let tz = match Pieces::parse(text).ok()?.offset() {
        Some(PiecesOffset::Numeric(n)) => TimeZone::fixed(n.offset()),
        _ => TimeZone::UTC,
    };
    Some(ts.to_zoned_datetime(tz))
}

/// Parses a datetime string into an instant; strings without an offset are not instants.
pub fn parse_instant(text: &str) -> Option<Timestamp> {
    let bytes = text.as_bytes();
    // Cheap filter: instants start with a four-digit year and a dash.
    if bytes.len() < 20 || !bytes[..4].iter().all(u8::is_ascii_digit) || bytes[4] != b'-' {
        return None;
    }
    let text = text.trim();
    if text.contains('[') {
        return parse_datetime(text).map(|z| z.timestamp());
    }
    // Only the instant matters here: one parse, no zone bookkeeping (this runs for every
    // element an `all:` assertion checks).
    text.parse::<Timestamp>().ok()
}

fn invalid(msg: impl Into<String>) -> Error {
    Error::new(ErrorKind::InvalidOperation, msg.into())
}

fn to_datetime(value: &Value) -> Result<ZonedDateTime, Error> {
    if let Some(dt) = value.downcast_object_ref::<DateTime>() {
        return Ok(dt.0.clone());
    }
    if let Some(s) = value.as_str() {
        return parse_datetime(s)
            .ok_or_else(|| invalid(format!("`{s}` is not a datetime with an offset")));
    }
    if let Some(secs) = value.as_i64() {
        return Timestamp::from_second(secs)
            .map(|t| t.to_zoned_datetime(TimeZone::UTC))
            .map_err(|e| invalid(e.to_string()));
    }
    Err(invalid(format!("{value} is not a datetime")))
}

fn wrap(z: ZonedDateTime) -> Value {
    Value::from_object(DateTime(z))
}

fn parse_duration(text: &str) -> Result<SignedDuration, Error> {
    text.trim()
        .parse::<SignedDuration>()
        .map_err(|_| {
            invalid(format!(
                "`{text}` is not a duration (write `48h`, `30m`, `1d 2h`)"
            ))
        })
        .or_else(|e| {
            // Friendly format lacks days in SignedDuration; accept `Nd` ourselves.
            let t = text.trim();
            t.strip_suffix('d')
                .and_then(|n| n.trim().parse::<i64>().ok())
                .map(|d| SignedDuration::from_hours(d * 24))
                .ok_or(e)
        })
}

fn shift(value: &Value, by: SignedDuration) -> Result<Value, Error> {
    let z = to_datetime(value)?;
    // Adding an exact duration to a zoned datetime keeps its IANA zone, so the offset is
    // recomputed on the other side of a DST switch.
    z.checked_add(by)
        .map(wrap)
        .map_err(|e| invalid(e.to_string()))
}

fn plus(value: &Value, duration: &str) -> Result<Value, Error> {
    shift(value, parse_duration(duration)?)
}

fn minus(value: &Value, duration: &str) -> Result<Value, Error> {
    shift(value, -parse_duration(duration)?)
}

fn zone(name: &str) -> Result<TimeZone, Error> {
    match name {
        "UTC" | "utc" | "Z" => Ok(TimeZone::UTC),
        _ => crate::zones::get(name).ok_or_else(|| invalid(format!("unknown time zone `{name}`"))),
    }
}

fn to_tz(value: &Value, name: &str) -> Result<Value, Error> {
    let z = to_datetime(value)?;
    Ok(wrap(z.with_time_zone(zone(name)?)))
}

fn iso(value: &Value, zulu: bool) -> Result<Value, Error> {
    Ok(Value::from(format_iso(&to_datetime(value)?, zulu)))
}

fn strftime(value: &Value, format: &str) -> Result<Value, Error> {
    let z = to_datetime(value)?;
    jiff::fmt::strtime::format(format, &z)
        .map(Value::from)
        .map_err(|e| invalid(e.to_string()))
}

/// Registers `now`, `datetime`, `duration` and the datetime filters.
pub fn register(env: &mut Environment<'static>, now: Timestamp) {
    env.add_function("now", move |tz: Option<String>| -> Result<Value, Error> {
        let z = now.to_zoned_datetime(TimeZone::UTC);
        match tz {
            Some(name) => Ok(wrap(z.with_time_zone(zone(&name)?))),
            None => Ok(wrap(z)),
        }
    });
    env.add_function(
        "datetime",
        |v: Value, tz: Option<String>| -> Result<Value, Error> {
            let z = to_datetime(&v)?;
            match tz {
                Some(name) => Ok(wrap(z.with_time_zone(zone(&name)?))),
                None => Ok(wrap(z)),
            }
        },
    );
    env.add_function("duration", |text: String| -> Result<Value, Error> {
        Ok(Value::from(parse_duration(&text)?.as_secs_f64()))
    });
    env.add_filter("plus", |v: Value, d: String| plus(&v, &d));
    env.add_filter("minus", |v: Value, d: String| minus(&v, &d));
    env.add_filter("tz", |v: Value, name: String| to_tz(&v, &name));
    env.add_filter("iso", |v: Value, zulu: Option<bool>| {
        iso(&v, zulu.unwrap_or(false))
    });
    env.add_filter("strftime", |v: Value, f: String| strftime(&v, &f));
    env.add_filter("datetime", |v: Value| to_datetime(&v).map(wrap));
    env.add_filter("unix", |v: Value| -> Result<Value, Error> {
        Ok(Value::from(to_datetime(&v)?.timestamp().as_second()))
    });
}

/// Names this module registers, for validation.
pub const FUNCTIONS: &[&str] = &["now", "datetime", "duration"];
/// Filter names this module registers, for validation.
pub const FILTERS: &[&str] = &["plus", "minus", "tz", "iso", "strftime", "datetime", "unix"];

#[cfg(test)]
mod tests {
    use super::*;

    fn render(src: &str, now: &str) -> String {
        let mut env = Environment::new();
        register(&mut env, now.parse().unwrap());
        env.render_str(src, ()).unwrap()
    }

    #[test]
    fn moscow_renders_with_colon_offset() {
        let out = render("{{ now('Europe/Moscow') }}", "2025-11-05T13:46:54Z");
        assert_eq!(out, "2025-11-05T16:46:54+03:00");
    }

    #[test]
    fn window_of_48_hours_before_now_in_moscow() {
        let out = render(
            "{{ now() | minus('48h') | tz('Europe/Moscow') }}/{{ now() | tz('Europe/Moscow') | iso }}",
            "2025-11-05T13:46:54Z",
        );
        assert_eq!(out, "2025-11-03T16:46:54+03:00/2025-11-05T16:46:54+03:00");
    }

    #[test]
    fn utc_is_plus_zero_unless_zulu_is_asked() {
        assert_eq!(
            render("{{ now() }}", "2025-01-01T00:00:00Z"),
            "2025-01-01T00:00:00+00:00"
        );
        assert_eq!(
            render("{{ now() | iso(true) }}", "2025-01-01T00:00:00Z"),
            "2025-01-01T00:00:00Z"
        );
    }

    #[test]
    fn offset_follows_dst_on_both_sides_of_a_switch() {
        // Europe/Berlin springs forward at 01:00 UTC on 2025-03-30.
        let before = render("{{ now('Europe/Berlin') }}", "2025-03-30T00:30:00Z");
        let after = render("{{ now('Europe/Berlin') }}", "2025-03-30T01:30:00Z");
        assert_eq!(before, "2025-03-30T01:30:00+01:00");
        assert_eq!(after, "2025-03-30T03:30:00+02:00");
        // Arithmetic across the switch recomputes the offset.
        let shifted = render(
            "{{ now('Europe/Berlin') | plus('1h') }}",
            "2025-03-30T00:30:00Z",
        );
        assert_eq!(shifted, "2025-03-30T03:30:00+02:00");
        // And back in autumn (2025-10-26 01:00 UTC).
        let autumn = render(
            "{{ now('Europe/Berlin') | minus('2h') }}",
            "2025-10-26T02:00:00Z",
        );
        assert_eq!(autumn, "2025-10-26T02:00:00+02:00");
    }

    #[test]
    fn compact_offsets_are_parsed_and_rendered_with_a_colon() {
        assert_eq!(
            render(
                "{{ '2025-11-05T16:46:54+0300' | datetime }}",
                "2025-01-01T00:00:00Z"
            ),
            "2025-11-05T16:46:54+03:00"
        );
    }

    #[test]
    fn datetimes_compare_as_instants() {
        let out = render(
            "{{ 'earlier' if (datetime('2025-11-05T16:00:00+03:00') | unix) < (datetime('2025-11-05T14:00:00Z') | unix) else 'later' }}",
            "2025-01-01T00:00:00Z",
        );
        assert_eq!(out, "earlier");
    }

    #[test]
    fn days_and_unknown_zone() {
        assert_eq!(
            render("{{ now() | minus('2d') }}", "2025-01-03T00:00:00Z"),
            "2025-01-01T00:00:00+00:00"
        );
        let mut env = Environment::new();
        register(&mut env, "2025-01-01T00:00:00Z".parse().unwrap());
        let err = env.render_str("{{ now('Mars/Base') }}", ()).unwrap_err();
        assert!(
            err.to_string().contains("unknown time zone `Mars/Base`"),
            "{err}"
        );
    }

    #[test]
    fn instants_need_an_offset() {
        assert!(parse_instant("2025-11-05T16:46:54+03:00").is_some());
        assert!(parse_instant("2025-11-05T16:46:54").is_none());
        assert!(parse_instant("hello").is_none());
    }
}
