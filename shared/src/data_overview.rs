//! What the Data page shows about the customer data: totals, Facebook match-key coverage, where
//! records arrive from, events by name with their last 30 days, profile properties, and the
//! records that were refused. Plain DTOs; the server computes them (`GET /api/data`).

use jiff::{Timestamp, civil::Date};
use serde::{Deserialize, Serialize};

use crate::audience_data::{PropertyType, ValueCount};

/// Days in an event's daily chart, ending today (UTC).
pub const DAILY_DAYS: usize = 30;
/// Refused records kept (the oldest are dropped past this), and how many the page lists.
pub const REJECTED_KEPT: usize = 1000;
pub const REJECTED_LISTED: usize = 100;

/// How records reach the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum IngestSource {
    /// `POST /api/v1/upload` with an API key.
    UploadApi,
    /// Data → Import in the browser.
    Import,
    /// Segment's HTTP Tracking API (`POST /v1/track`, `/v1/batch`, …) with a write key.
    SegmentApi,
}

impl IngestSource {
    pub const ALL: [IngestSource; 3] = [
        IngestSource::UploadApi,
        IngestSource::Import,
        IngestSource::SegmentApi,
    ];

    /// As stored and sent.
    pub fn as_str(self) -> &'static str {
        match self {
            IngestSource::UploadApi => "upload_api",
            IngestSource::Import => "import",
            IngestSource::SegmentApi => "segment_api",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// For people.
    pub fn label(self) -> &'static str {
        match self {
            IngestSource::UploadApi => "Upload API",
            IngestSource::Import => "Import",
            IngestSource::SegmentApi => "Segment API",
        }
    }
}

/// `GET /api/data`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DataOverview {
    pub profiles: u64,
    pub events: u64,
    /// Profiles with at least one Facebook match key (the sync can send only those).
    pub profiles_with_match_key: u64,
    /// Per match key (`email`, `phone`, `first_name`, …, `madid`), the profiles that have it.
    pub match_keys: Vec<KeyCoverage>,
    /// Each source records arrived through, latest first.
    pub sources: Vec<SourceActivity>,
    /// Most frequent first.
    pub events_by_name: Vec<EventActivity>,
    pub profile_properties: Vec<PropertyCoverage>,
    /// The latest refused records (at most [`REJECTED_LISTED`]), latest first.
    pub rejected: Vec<RejectedRecord>,
    /// Refused records kept (at most [`REJECTED_KEPT`]).
    pub rejected_kept: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct KeyCoverage {
    pub key: String,
    pub profiles: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SourceActivity {
    pub source: IngestSource,
    /// When a record last arrived this way (stored or refused).
    pub last_at: Timestamp,
    /// Records stored and refused through it since the server's database was created.
    pub stored: u64,
    pub refused: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EventActivity {
    pub name: String,
    pub count: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_seen: Option<Timestamp>,
    /// Events per UTC day, the last [`DAILY_DAYS`] days, oldest first, today last.
    pub daily: Vec<DayCount>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DayCount {
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Date))]
    pub day: Date,
    pub count: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PropertyCoverage {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: PropertyType,
    /// Profiles that have the property.
    pub profiles: u64,
    /// Most frequent values (text properties), most frequent first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub top_values: Vec<ValueCount>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RejectedRecord {
    pub at: Timestamp,
    pub source: IngestSource,
    /// The upload API's code (CleverTap's: 515 e-mail, 523 identity, …).
    pub code: u16,
    pub error: String,
    /// The record as sent (cut at 2,000 bytes).
    pub record: String,
}

/// The [`DAILY_DAYS`] days ending on `today`, oldest first, with the counts found in `counts`
/// (`(day, n)`, any order; days outside the range are ignored) and zero for the others.
pub fn daily_series(today: Date, counts: &[(Date, u64)]) -> Vec<DayCount> {
    let first = today
        .checked_sub(jiff::Span::new().days(DAILY_DAYS as i64 - 1))
        .unwrap_or(today);
    let mut days: Vec<DayCount> = (0..DAILY_DAYS as i64)
        .filter_map(|i| first.checked_add(jiff::Span::new().days(i)).ok())
        .map(|day| DayCount { day, count: 0 })
        .collect();
    for (day, n) in counts {
        if let Some(slot) = days.iter_mut().find(|d| d.day == *day) {
            slot.count += n;
        }
    }
    days
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    #[test]
    fn the_daily_series_covers_thirty_days_ending_today_with_zeros_between() {
        let today = date(2026, 12, 7);
        let days = daily_series(
            today,
            &[
                (date(2026, 12, 7), 3),
                (date(2026, 11, 8), 2),
                (date(2026, 11, 7), 9),
            ],
        );
        assert_eq!(days.len(), DAILY_DAYS);
        assert_eq!(
            days[0],
            DayCount {
                day: date(2026, 11, 8),
                count: 2
            }
        );
        assert_eq!(
            days[29],
            DayCount {
                day: today,
                count: 3
            }
        );
        // 2026-11-07 is 30 days before today: outside the chart.
        assert_eq!(days.iter().map(|d| d.count).sum::<u64>(), 5);
    }

    #[test]
    fn sources_round_trip_their_names() {
        for s in IngestSource::ALL {
            assert_eq!(IngestSource::parse(s.as_str()), Some(s));
            let json = serde_json::to_string(&s).unwrap();
            assert_eq!(json, format!("\"{}\"", s.as_str()));
        }
    }
}
