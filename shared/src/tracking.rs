//! Segment's HTTP Tracking API (`/v1/identify`, `/v1/track`, … `/v1/batch`): the limits and the
//! time rule, without I/O, so whatever shows or sends such calls reads the same numbers.

use jiff::{SignedDuration, Timestamp};

/// Largest single call, and largest message inside a batch (Segment's 32 KB).
pub const MAX_CALL_BYTES: usize = 32 * 1024;
/// Largest `/v1/batch` request (Segment's 500 KB), measured after gzip is undone.
pub const MAX_BATCH_BYTES: usize = 500 * 1024;

/// Prefix of the identity of a profile known only by its `anonymousId` (before an `identify`
/// or `alias` links it to a `userId`).
pub const ANONYMOUS_PREFIX: &str = "anonymous:";

/// The call types and the path each is posted to (`/v1/<path>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallType {
    Identify,
    Track,
    Page,
    Screen,
    Group,
    Alias,
}

impl CallType {
    pub const ALL: [CallType; 6] = [
        CallType::Identify,
        CallType::Track,
        CallType::Page,
        CallType::Screen,
        CallType::Group,
        CallType::Alias,
    ];

    /// The `type` field and the path segment.
    pub fn as_str(self) -> &'static str {
        match self {
            CallType::Identify => "identify",
            CallType::Track => "track",
            CallType::Page => "page",
            CallType::Screen => "screen",
            CallType::Group => "group",
            CallType::Alias => "alias",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == s)
    }
}

/// When the message happened, corrected for the sending device's clock the way Segment does:
/// `timestamp + (receivedAt − sentAt)`. A device whose clock is an hour fast sends both
/// `timestamp` and `sentAt` an hour ahead; their difference (how long the message waited on the
/// device) is right, and is applied to the server's clock. Without `sentAt` the timestamp is
/// taken as sent; without `timestamp` the message happened when it was sent (`receivedAt`).
/// A result in the future (a `sentAt` earlier than `timestamp`) is capped at `receivedAt`.
pub fn corrected_timestamp(
    timestamp: Option<Timestamp>,
    sent_at: Option<Timestamp>,
    received_at: Timestamp,
) -> Timestamp {
    let Some(timestamp) = timestamp else {
        return received_at;
    };
    let Some(sent_at) = sent_at else {
        return timestamp;
    };
    let skew: SignedDuration = received_at.duration_since(sent_at);
    timestamp
        .checked_add(skew)
        .map_or(received_at, |t| t.min(received_at))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn a_fast_device_clock_is_corrected_by_the_delay_it_reports() {
        // The device is an hour fast; the event waited 10 s on the device before being sent.
        let got = corrected_timestamp(
            Some(t("2026-12-07T11:00:00Z")),
            Some(t("2026-12-07T11:00:10Z")),
            t("2026-12-07T10:00:11Z"),
        );
        assert_eq!(got, t("2026-12-07T10:00:01Z"));
    }

    #[test]
    fn missing_times_fall_back_as_segment_does() {
        let now = t("2026-12-07T10:00:00Z");
        assert_eq!(corrected_timestamp(None, None, now), now);
        let ts = t("2026-12-01T00:00:00Z");
        assert_eq!(corrected_timestamp(Some(ts), None, now), ts);
        // Never in the future.
        assert_eq!(
            corrected_timestamp(Some(t("2026-12-07T10:05:00Z")), Some(ts), now),
            now
        );
    }

    #[test]
    fn call_types_round_trip() {
        for c in CallType::ALL {
            assert_eq!(CallType::parse(c.as_str()), Some(c));
        }
        assert_eq!(CallType::parse("batch"), None);
    }
}
