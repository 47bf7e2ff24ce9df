//! Run stage: the run's clock — starts at `--now` (or the real time) and advances with
//! the monotonic clock, so attempt timestamps show real pauses even when fixed.
use std::time::Instant;

use jiff::Timestamp;
use jiff::tz::TimeZone;

/// The run's clock.
#[derive(Clone, Debug)]
pub struct Clock {
    start: Timestamp,
    started: Instant,
    zone: TimeZone,
}

impl Clock {
    /// A clock starting at `start` (`--now`) or at the real time.
    pub fn new(start: Option<Timestamp>) -> Self {
        let zone = crate::zones::system();
        Clock {
            start: start.unwrap_or_else(Timestamp::now),
            started: Instant::now(),
            zone,
        }
    }

    /// Shows timestamps in this zone (UTC when `--now` is used, for stable output).
    pub fn with_zone(mut self, zone: TimeZone) -> Self {
        self.zone = zone;
        self
    }

    /// The instant the run started.
    pub fn start(&self) -> Timestamp {
        self.start
    }

    /// The current instant.
    pub fn now(&self) -> Timestamp {
        let elapsed = jiff::SignedDuration::try_from(self.started.elapsed()).unwrap_or_default();
        self.start.checked_add(elapsed).unwrap_or(self.start)
    }

    /// An instant as RFC 3339 with a colon offset, milliseconds included.
    pub fn format(&self, t: Timestamp) -> String {
        let z = t.to_zoned_datetime(self.zone.clone());
        z.strftime("%Y-%m-%dT%H:%M:%S%.3f%:z").to_string()
    }

    /// Now, formatted.
    pub fn now_text(&self) -> String {
        self.format(self.now())
    }
}
