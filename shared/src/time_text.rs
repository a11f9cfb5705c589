//! One rule for showing an instant to people: the wall-clock time in the viewer's time zone with
//! the zone named, "Mon 7 Dec 2026, 15:21 CET"; and for the times a schedule is about (next
//! runs), the same instant on the campaign's wall clock too, when it reads differently:
//! "(09:00 in Asia/Kolkata)".
//!
//! The browser reads the wall clock and the zone's short name with `Intl.DateTimeFormat`, which
//! costs the download nothing (the app carries no time zone database); these functions only
//! word what it read, so the wording is tested here. The API keeps instants in RFC 3339, UTC.

use jiff::civil::DateTime;

use crate::schedule::{Weekday, hhmm, short_date};

/// An instant as a wall clock in one zone shows it: its date and time to the minute, and what
/// the zone is called there ("CET", "IST", or an offset such as "GMT+9" when the zone has no
/// common name).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WallClock {
    pub at: DateTime,
    pub zone: String,
}

/// "Mon 7 Dec 2026, 15:21 CET".
pub fn instant_text(clock: &WallClock) -> String {
    format!("{} {}", day_and_time(clock.at), clock.zone)
}

/// The campaign's reading of an instant its schedule is about, beside the viewer's: "09:00 in
/// Asia/Kolkata", with the day when it is another day there ("Tue 8 Dec 2026, 09:00 in
/// Asia/Kolkata"). `None` when both clocks read the same (the same zone, or the same offset at
/// that instant): the viewer's text already says it.
pub fn campaign_clock_text(viewer: DateTime, campaign: DateTime, zone: &str) -> Option<String> {
    if viewer == campaign {
        None
    } else if viewer.date() == campaign.date() {
        Some(format!("{} in {zone}", hhmm(campaign.time())))
    } else {
        Some(format!("{} in {zone}", day_and_time(campaign)))
    }
}

/// Whether a zone's short name is only its offset ("GMT+5:30", "UTC−3"): the language it was
/// asked in has no common name for the zone (another English variant may have one).
pub fn is_offset_name(name: &str) -> bool {
    ["GMT", "UTC"].iter().any(|prefix| {
        name.strip_prefix(prefix)
            .and_then(|rest| rest.chars().next())
            .is_some_and(|c| matches!(c, '+' | '-' | '\u{2212}'))
    })
}

/// "Mon 7 Dec 2026, 15:21".
fn day_and_time(at: DateTime) -> String {
    format!(
        "{} {}, {}",
        Weekday::from_jiff(at.date().weekday()).short_name(),
        short_date(at.date()),
        hhmm(at.time())
    )
}

#[cfg(test)]
mod tests {
    use jiff::civil::date;

    use super::*;

    fn at(y: i16, m: i8, d: i8, h: i8, min: i8) -> DateTime {
        date(y, m, d).at(h, min, 0, 0)
    }

    #[test]
    fn an_instant_reads_day_date_time_and_zone() {
        let clock = WallClock {
            at: at(2026, 12, 7, 15, 21),
            zone: "CET".into(),
        };
        assert_eq!(instant_text(&clock), "Mon 7 Dec 2026, 15:21 CET");
        let early = WallClock {
            at: at(2027, 9, 1, 0, 5),
            zone: "GMT+9".into(),
        };
        assert_eq!(instant_text(&early), "Wed 1 Sep 2027, 00:05 GMT+9");
    }

    #[test]
    fn the_campaign_clock_is_added_only_when_it_reads_differently() {
        let viewer = at(2026, 12, 8, 4, 30);
        assert_eq!(
            campaign_clock_text(viewer, at(2026, 12, 8, 9, 0), "Asia/Kolkata").as_deref(),
            Some("09:00 in Asia/Kolkata")
        );
        // Another day on the campaign's clock: the day is said too.
        assert_eq!(
            campaign_clock_text(
                at(2026, 12, 7, 22, 30),
                at(2026, 12, 8, 9, 0),
                "Asia/Kolkata"
            )
            .as_deref(),
            Some("Tue 8 Dec 2026, 09:00 in Asia/Kolkata")
        );
        // Same zone, or another zone at the same offset: nothing to add.
        assert_eq!(campaign_clock_text(viewer, viewer, "Europe/Berlin"), None);
    }

    #[test]
    fn offsets_are_not_names() {
        for offset in ["GMT+5:30", "GMT-3", "UTC+9", "GMT\u{2212}5"] {
            assert!(is_offset_name(offset), "{offset}");
        }
        for name in ["GMT", "UTC", "CET", "IST", "AEDT", "GMT Standard"] {
            assert!(!is_offset_name(name), "{name}");
        }
    }
}
