//! One rule for showing an instant to people: the wall-clock time in the viewer's time zone with
//! the zone named, "Mon 7 Dec 2026, 15:21 CET"; and for the times a schedule is about (next
//! runs), the same instant on the campaign's wall clock too, when it reads differently:
//! "(09:00 in Asia/Kolkata)".
//!
//! The browser reads the wall clock and the zone's short name with `Intl.DateTimeFormat`, which
//! costs the download nothing (the app carries no time zone database); these functions only
//! word what it read, so the wording is tested here. The API keeps instants in RFC 3339, UTC.

/// An instant as a wall clock in one zone shows it: its date and time to the minute, and what
/// the zone is called there ("CET", "IST", or an offset such as "GMT+9" when the zone has no
/// common name). Plain numbers, not `jiff` types: the campaign list (the first download) shows
/// instants, and jiff's code would add to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WallClock {
    pub year: i16,
    /// 1–12.
    pub month: u8,
    /// 1–31.
    pub day: u8,
    /// 0–23.
    pub hour: u8,
    pub minute: u8,
    pub zone: String,
}

impl WallClock {
    fn same_day(&self, other: &Self) -> bool {
        (self.year, self.month, self.day) == (other.year, other.month, other.day)
    }

    /// "Mon 7 Dec 2026, 15:21".
    fn day_and_time(&self) -> String {
        const DAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
        const MONTHS: [&str; 12] = [
            "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
        ];
        let month = usize::from(self.month.clamp(1, 12)) - 1;
        format!(
            "{} {} {} {}, {}",
            DAYS[self.weekday()],
            self.day,
            MONTHS[month],
            self.year,
            self.time()
        )
    }

    /// "15:21".
    fn time(&self) -> String {
        format!("{:02}:{:02}", self.hour, self.minute)
    }

    /// 0 = Sunday (Sakamoto's method for the Gregorian calendar).
    fn weekday(&self) -> usize {
        const T: [i32; 12] = [0, 3, 2, 5, 0, 3, 5, 1, 4, 6, 2, 4];
        let m = usize::from(self.month.clamp(1, 12));
        let y = i32::from(self.year) - i32::from(m < 3);
        let w = y + y.div_euclid(4) - y.div_euclid(100)
            + y.div_euclid(400)
            + T[m - 1]
            + i32::from(self.day);
        w.rem_euclid(7) as usize
    }
}

/// "Mon 7 Dec 2026, 15:21 CET".
pub fn instant_text(clock: &WallClock) -> String {
    format!("{} {}", clock.day_and_time(), clock.zone)
}

/// The campaign's reading of an instant its schedule is about, beside the viewer's: "09:00 in
/// Asia/Kolkata", with the day when it is another day there ("Tue 8 Dec 2026, 09:00 in
/// Asia/Kolkata"). `None` when both clocks read the same (the same zone, or the same offset at
/// that instant): the viewer's text already says it.
pub fn campaign_clock_text(viewer: &WallClock, campaign: &WallClock, zone: &str) -> Option<String> {
    if !viewer.same_day(campaign) {
        Some(format!("{} in {zone}", campaign.day_and_time()))
    } else if (viewer.hour, viewer.minute) != (campaign.hour, campaign.minute) {
        Some(format!("{} in {zone}", campaign.time()))
    } else {
        None
    }
}

/// The wall clock of `at` in `tz`, named as the browser names zones: the database's
/// abbreviation ("CET", "IST"), or "GMT+4" / "GMT+5:30" where the database has only a number
/// ("+04"). For texts the server words in the viewer's zone (a person's explanation); the app
/// reads its clocks from `Intl` instead and never calls this, so jiff adds nothing to it.
pub fn wall_clock(at: jiff::Timestamp, tz: &jiff::tz::TimeZone) -> WallClock {
    let zoned = at.to_zoned(tz.clone());
    let info = tz.to_offset_info(at);
    let abbreviation = info.abbreviation();
    let zone = if abbreviation.starts_with(['+', '-']) {
        offset_name(info.offset().seconds())
    } else {
        abbreviation.to_owned()
    };
    WallClock {
        year: zoned.year(),
        month: zoned.month() as u8,
        day: zoned.day() as u8,
        hour: zoned.hour() as u8,
        minute: zoned.minute() as u8,
        zone,
    }
}

/// "GMT+4", "GMT-3", "GMT+5:30", as `Intl.DateTimeFormat` writes a zone without a name.
fn offset_name(seconds: i32) -> String {
    let sign = if seconds < 0 { '-' } else { '+' };
    let minutes = seconds.unsigned_abs() / 60;
    match (minutes / 60, minutes % 60) {
        (0, 0) => "GMT".to_owned(),
        (h, 0) => format!("GMT{sign}{h}"),
        (h, m) => format!("GMT{sign}{h}:{m:02}"),
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

#[cfg(test)]
mod tests {
    use super::*;

    fn at(year: i16, month: u8, day: u8, hour: u8, minute: u8, zone: &str) -> WallClock {
        WallClock {
            year,
            month,
            day,
            hour,
            minute,
            zone: zone.into(),
        }
    }

    #[test]
    fn an_instant_reads_day_date_time_and_zone() {
        assert_eq!(
            instant_text(&at(2026, 12, 7, 15, 21, "CET")),
            "Mon 7 Dec 2026, 15:21 CET"
        );
        assert_eq!(
            instant_text(&at(2027, 9, 1, 0, 5, "GMT+9")),
            "Wed 1 Sep 2027, 00:05 GMT+9"
        );
    }

    #[test]
    fn weekdays_agree_with_the_calendar() {
        use jiff::civil::date;
        // Every day of four years, leap days and century rules included.
        let mut d = date(1999, 12, 25);
        while d < date(2004, 1, 10) {
            let clock = at(d.year(), d.month() as u8, d.day() as u8, 0, 0, "UTC");
            assert_eq!(
                clock.weekday(),
                usize::from(d.weekday().to_sunday_zero_offset() as u8),
                "{d}"
            );
            d = d.tomorrow().unwrap();
        }
        assert_eq!(
            at(2100, 3, 1, 0, 0, "UTC").weekday(),
            1,
            "2100 is no leap year"
        );
    }

    #[test]
    fn the_campaign_clock_is_added_only_when_it_reads_differently() {
        let viewer = at(2026, 12, 8, 4, 30, "CET");
        assert_eq!(
            campaign_clock_text(&viewer, &at(2026, 12, 8, 9, 0, "IST"), "Asia/Kolkata").as_deref(),
            Some("09:00 in Asia/Kolkata")
        );
        // Another day on the campaign's clock: the day is said too.
        assert_eq!(
            campaign_clock_text(
                &at(2026, 12, 7, 22, 30, "EST"),
                &at(2026, 12, 8, 9, 0, "IST"),
                "Asia/Kolkata"
            )
            .as_deref(),
            Some("Tue 8 Dec 2026, 09:00 in Asia/Kolkata")
        );
        // Same zone, or another zone at the same offset: nothing to add.
        let paris = at(2026, 12, 8, 4, 30, "CET");
        assert_eq!(campaign_clock_text(&viewer, &paris, "Europe/Paris"), None);
    }

    #[test]
    fn the_server_words_an_instant_as_the_browser_would() {
        let t: jiff::Timestamp = "2026-12-07T14:21:00Z".parse().unwrap();
        let zone = |name: &str| jiff::tz::TimeZone::get(name).unwrap();
        assert_eq!(
            instant_text(&wall_clock(t, &zone("Europe/Paris"))),
            "Mon 7 Dec 2026, 15:21 CET"
        );
        assert_eq!(
            instant_text(&wall_clock(t, &zone("Asia/Kolkata"))),
            "Mon 7 Dec 2026, 19:51 IST"
        );
        // The day changes with the zone; a zone the database names by number reads as an offset.
        assert_eq!(
            instant_text(&wall_clock(t, &zone("Asia/Tokyo"))),
            "Mon 7 Dec 2026, 23:21 JST"
        );
        assert_eq!(
            instant_text(&wall_clock(t, &zone("Asia/Dubai"))),
            "Mon 7 Dec 2026, 18:21 GMT+4"
        );
        assert_eq!(
            instant_text(&wall_clock(t, &zone("America/St_Johns"))),
            "Mon 7 Dec 2026, 10:51 NST"
        );
        assert_eq!(
            instant_text(&wall_clock(t, &zone("Pacific/Kiritimati"))),
            "Tue 8 Dec 2026, 04:21 GMT+14"
        );
        assert_eq!(
            instant_text(&wall_clock(t, &jiff::tz::TimeZone::UTC)),
            "Mon 7 Dec 2026, 14:21 UTC"
        );
        assert_eq!(offset_name(-3 * 3600), "GMT-3");
        assert_eq!(offset_name(5 * 3600 + 1800), "GMT+5:30");
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
