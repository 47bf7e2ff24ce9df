//! Configuration of the sandbox server: token, clock, data volume and response shape.

use std::fmt;
use std::str::FromStr;

use jiff::Timestamp;

use super::faults::FaultRule;

/// How list responses describe pagination, so a client's stop condition can be
/// tested against each shape seen in real QTickets environments.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PaginationStyle {
    /// `meta` with every field (`current_page`, `page`, `per_page`, `total`,
    /// `total_pages`, `last_page`, `has_next`, `next_page`) plus `links.next`/`links.prev`.
    #[default]
    Full,
    /// Only `meta.page` and `meta.has_next`.
    HasNext,
    /// Only `meta.next_page` (a number, or `null` on the last page).
    NextPage,
    /// Only `meta.page` and `meta.total_pages`.
    TotalPages,
    /// Only `links.next` (an absolute URL, or `null` on the last page).
    LinksOnly,
}

impl PaginationStyle {
    /// Every style, in declaration order.
    pub const ALL: [PaginationStyle; 5] = [
        PaginationStyle::Full,
        PaginationStyle::HasNext,
        PaginationStyle::NextPage,
        PaginationStyle::TotalPages,
        PaginationStyle::LinksOnly,
    ];

    /// The command-line spelling: `full`, `has-next`, `next-page`, `total-pages`, `links-only`.
    pub fn as_str(self) -> &'static str {
        match self {
            PaginationStyle::Full => "full",
            PaginationStyle::HasNext => "has-next",
            PaginationStyle::NextPage => "next-page",
            PaginationStyle::TotalPages => "total-pages",
            PaginationStyle::LinksOnly => "links-only",
        }
    }
}

impl fmt::Display for PaginationStyle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for PaginationStyle {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim().to_ascii_lowercase().replace('_', "-");
        PaginationStyle::ALL
            .into_iter()
            .find(|style| style.as_str() == wanted)
            .ok_or_else(|| {
                format!(
                    "unknown pagination style {s:?} (expected full, has-next, next-page, total-pages or links-only)"
                )
            })
    }
}

/// Which API the sandbox serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SandboxMode {
    /// The QTickets-compatible API under `/api/rest/v1`.
    #[default]
    Qtickets,
    /// The ads API (OAuth2 client credentials, cursor and Link-header pages) under
    /// `/ads/v2`, its token endpoint at `/oauth/token`.
    Ads,
}

impl FromStr for SandboxMode {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "qtickets" => Ok(SandboxMode::Qtickets),
            "ads" => Ok(SandboxMode::Ads),
            _ => Err(format!("unknown mode {s:?} (expected qtickets or ads)")),
        }
    }
}

/// Everything that shapes one sandbox instance. Build it with
/// `SandboxConfig { orders: 50, ..Default::default() }`.
#[derive(Debug, Clone, PartialEq)]
pub struct SandboxConfig {
    /// The bearer token every API request must carry (default `sandbox-token`).
    pub token: String,
    /// The sandbox clock; `None` means the real clock when the server starts.
    /// Generated data is relative to it (fresh orders are paid in the 48 h before it).
    pub now: Option<Timestamp>,
    /// How many orders to generate (default 450).
    pub orders: usize,
    /// How many events to generate (default 6).
    pub events: usize,
    /// Seed of the deterministic data generator.
    pub seed: u64,
    /// Imitate the production bug: a `where` filter whose value is a datetime with a
    /// compact offset (`+0300`) or no offset is silently dropped (default `true`).
    /// When `false`, such values are honoured (a missing offset means Europe/Moscow).
    pub ignore_compact_offsets: bool,
    /// Which pagination fields list responses carry (default [`PaginationStyle::Full`]).
    pub pagination_style: PaginationStyle,
    /// Fault rules installed when the server starts (default none).
    pub faults: Vec<FaultRule>,
    /// Which API is served (default QTickets).
    pub mode: SandboxMode,
}

/// The seed used by [`SandboxConfig::default`].
pub const DEFAULT_SEED: u64 = 20_251_105;

impl Default for SandboxConfig {
    fn default() -> Self {
        SandboxConfig {
            token: "sandbox-token".to_owned(),
            now: None,
            orders: 450,
            events: 6,
            seed: DEFAULT_SEED,
            ignore_compact_offsets: true,
            pagination_style: PaginationStyle::Full,
            faults: Vec::new(),
            mode: SandboxMode::Qtickets,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pagination_style_round_trips() {
        for style in PaginationStyle::ALL {
            assert_eq!(style.as_str().parse::<PaginationStyle>(), Ok(style));
        }
        assert_eq!("HAS_NEXT".parse(), Ok(PaginationStyle::HasNext));
        assert!("pages".parse::<PaginationStyle>().is_err());
    }
}
