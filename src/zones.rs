//! Time zones without a start-up scan: jiff's system database lists every file under
//! `/usr/share/zoneinfo` on first use (~600 `statx` calls, milliseconds on every run), so
//! names are looked up in the database compiled into the binary instead.
use std::sync::LazyLock;

use jiff::tz::{TimeZone, TimeZoneDatabase};

static DB: LazyLock<TimeZoneDatabase> = LazyLock::new(TimeZoneDatabase::bundled);

/// The zone with this IANA name (`Europe/Moscow`), or None when it is unknown.
pub fn get(name: &str) -> Option<TimeZone> {
    DB.get(name).ok()
}

/// The machine's zone: `$TZ` when set (through jiff), else the zone `/etc/localtime`
/// links to, else `/etc/localtime` read as an unnamed zone, else UTC.
pub fn system() -> TimeZone {
    if std::env::var_os("TZ").is_none() {
        if let Some(zone) = linked_zone("/etc/localtime") {
            return zone;
        }
    }
    TimeZone::try_system().unwrap_or(TimeZone::UTC)
}

fn linked_zone(path: &str) -> Option<TimeZone> {
    let target = std::fs::read_link(path).ok()?;
    let target = target.to_str()?;
    let (_, name) = target.split_once("zoneinfo/")?;
    get(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_resolve_from_the_bundled_database() {
        let moscow = get("Europe/Moscow").expect("Europe/Moscow");
        assert_eq!(moscow.iana_name(), Some("Europe/Moscow"));
        assert!(get("Mars/Olympus_Mons").is_none());
    }

    #[test]
    fn a_link_into_zoneinfo_names_its_zone() {
        let dir = tempfile::tempdir().unwrap();
        let link = dir.path().join("localtime");
        std::os::unix::fs::symlink("/usr/share/zoneinfo/Asia/Tokyo", &link).unwrap();
        let zone = linked_zone(link.to_str().unwrap()).expect("a zone");
        assert_eq!(zone.iana_name(), Some("Asia/Tokyo"));
        let plain = dir.path().join("plain");
        std::fs::write(&plain, b"not a link").unwrap();
        assert!(linked_zone(plain.to_str().unwrap()).is_none());
    }
}
