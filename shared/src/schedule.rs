//! The "When" step: when a campaign runs.
//!
//! A [`Schedule`] is a time zone plus one of four kinds ([`ScheduleKind`]): run now, once, at
//! several fixed times, or on a recurring pattern. Every time in a schedule is a wall-clock time in
//! the schedule's IANA time zone. The rules of each zone come from a [`TimeZones`] provider that
//! the caller passes in: the server compiles jiff's bundled time zone database in
//! ([`BundledTimeZones`], feature `bundled-tz`), and the browser loads just the zones it needs from
//! the server as TZif files built from that same database, so both compute the same instants.
//!
//! The rules (see also `docs/domain.md`):
//!
//! * **First run.** A run is a *slot* of the pattern. The first run is the first slot that is on or
//!   after the start date *and* on or after the moment of publishing. The creation date never
//!   counts by itself: created 10 March, monthly on the 7th → first run 7 April; start 3 March,
//!   monthly on the 7th, published 1 March → first run 7 March.
//! * **Numbering.** Runs are numbered 1, 2, 3… from the first run; the number is stable, so the
//!   scheduler can record each slot exactly once. "After K runs" means runs 1..=K.
//! * **Every N weeks** counts weeks from the ISO week (Monday first) that contains the start date;
//!   **every N months** counts months from the start date's month; **every N days** counts days
//!   from the start date.
//! * **Short months.** A chosen day of month that a month lacks (29–31) runs on that month's last
//!   day; if that collapses two chosen days onto one date (30 and 31 in February), it runs once.
//! * **Clock changes.** Only UTC offsets count (a change of DST flag alone is no clock change). A
//!   wall-clock time that does not exist (spring-forward gap) moves forward by the gap's length
//!   (02:30 → 03:30, or 23:30 → 00:30 the next day); a time that occurs twice (fall-back overlap)
//!   runs once, at its first occurrence. This is RFC 5545 behaviour, jiff's
//!   `Disambiguation::Compatible`.
//! * **Distinct instants.** A slot on a date the zone skipped entirely (Pacific/Apia,
//!   2011-12-30) is no slot, and a slot whose instant is not after an earlier slot's is no run;
//!   neither takes a number.
//! * **End.** No slot after the end date (inclusive; the slot's date, even when a gap moves its
//!   run past midnight) and no run beyond K runs.
//! * **Fixed times.** Once/multiple times are slots too: a time before the moment of publishing is
//!   skipped (and is a validation error while it is before "now"). Two fixed times that map to the
//!   same instant (a gap time and the time it moves to) run once.
//! * **Now** is a single run at the moment of publishing.
//!
//! All computations are bounded: every valid pattern period holds at least one slot, dates are
//! limited to the years [`MIN_YEAR`]..=[`MAX_YEAR`], and preview counts are capped at
//! [`MAX_PREVIEW_RUNS`].

use jiff::civil::{Date, DateTime, Time};
use jiff::tz::{Offset, TimeZone};
use jiff::{Span, Timestamp};
use serde::{Deserialize, Serialize};

use crate::error::FieldError;

/// The earliest year any schedule date may use.
pub const MIN_YEAR: i16 = 2000;
/// The latest year any schedule date may use.
pub const MAX_YEAR: i16 = 2199;
/// Fewest and most times in a [`ScheduleKind::Multiple`] schedule.
pub const MULTIPLE_TIMES: std::ops::RangeInclusive<usize> = 2..=50;
/// Bounds of "every N days".
pub const EVERY_DAYS: std::ops::RangeInclusive<u32> = 1..=365;
/// Bounds of "every N weeks".
pub const EVERY_WEEKS: std::ops::RangeInclusive<u32> = 1..=52;
/// Bounds of "every N months".
pub const EVERY_MONTHS: std::ops::RangeInclusive<u32> = 1..=12;
/// Bounds of "end after K runs".
pub const END_AFTER_RUNS: std::ops::RangeInclusive<u32> = 1..=1000;
/// The most runs [`preview`] returns.
pub const MAX_PREVIEW_RUNS: usize = 100;
/// How many runs [`preview`] returns when the request does not say.
pub const DEFAULT_PREVIEW_RUNS: usize = 5;

/// When a campaign runs: a time zone and a kind.
///
/// ```json
/// {"time_zone":"Asia/Kolkata","kind":"recurring","repeat":{"every":"months","interval":1,"days":[7]},
///  "time":"09:00:00","start_date":"2027-03-03","end":{"kind":"after_runs","runs":10}}
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Schedule {
    /// An IANA time zone name such as `Europe/Berlin`; every time in the schedule is a wall-clock
    /// time in this zone.
    pub time_zone: String,
    #[serde(flatten)]
    pub kind: ScheduleKind,
}

/// The four kinds of schedule, tagged by `kind`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ScheduleKind {
    /// Runs once, as soon as the campaign is published.
    Now,
    /// Runs once at a local date and time.
    Once {
        /// In the years [`MIN_YEAR`] to [`MAX_YEAR`].
        #[cfg_attr(feature = "openapi", schema(value_type = String, pattern = "^2[01][0-9]{2}-", example = "2027-03-07T09:30:00"))]
        at: DateTime,
    },
    /// Runs at each of 2–50 distinct local date-times (any order; they run in time order).
    Multiple {
        #[cfg_attr(feature = "openapi", schema(value_type = std::collections::BTreeSet<String>, min_items = 2, max_items = 50, example = json!(["2027-03-07T09:30:00", "2027-03-14T09:30:00"])))]
        times: Vec<DateTime>,
    },
    /// Runs on a repeating pattern at a time of day, from a start date until an end.
    Recurring {
        repeat: Repeat,
        /// Local time of day, `"09:30"` or `"09:30:00"`.
        #[cfg_attr(feature = "openapi", schema(value_type = String, example = "09:30:00"))]
        time: Time,
        /// The first day a run may happen on (local calendar date), in the years [`MIN_YEAR`] to
        /// [`MAX_YEAR`].
        #[cfg_attr(feature = "openapi", schema(value_type = String, format = Date, pattern = "^2[01][0-9]{2}-"))]
        start_date: Date,
        #[serde(default)]
        end: End,
    },
}

/// The repeating pattern of a recurring schedule, tagged by `every`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "every", rename_all = "snake_case")]
pub enum Repeat {
    /// Every `interval` days, counted from the start date.
    Days {
        /// [`EVERY_DAYS`].
        #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 365))]
        interval: u32,
    },
    /// Every `interval` weeks on the chosen weekdays; weeks are ISO weeks (Monday first) counted
    /// from the week that contains the start date.
    Weeks {
        /// [`EVERY_WEEKS`].
        #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 52))]
        interval: u32,
        /// Each day at most once.
        #[cfg_attr(feature = "openapi", schema(value_type = std::collections::BTreeSet<Weekday>, min_items = 1))]
        weekdays: Vec<Weekday>,
    },
    /// Every `interval` months on the chosen days of the month (1–31), counted from the start
    /// date's month. A day the month lacks runs on the month's last day.
    Months {
        /// [`EVERY_MONTHS`].
        #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 12))]
        interval: u32,
        /// Days of the month, 1–31, each at most once.
        #[cfg_attr(feature = "openapi", schema(value_type = std::collections::BTreeSet<u8>, min_items = 1))]
        days: Vec<u8>,
    },
}

/// A day of the week.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Weekday {
    Monday,
    Tuesday,
    Wednesday,
    Thursday,
    Friday,
    Saturday,
    Sunday,
}

impl Weekday {
    pub const ALL: [Weekday; 7] = [
        Weekday::Monday,
        Weekday::Tuesday,
        Weekday::Wednesday,
        Weekday::Thursday,
        Weekday::Friday,
        Weekday::Saturday,
        Weekday::Sunday,
    ];

    /// 0 for Monday … 6 for Sunday.
    pub fn monday_zero_offset(self) -> i8 {
        self as i8
    }

    pub fn from_jiff(w: jiff::civil::Weekday) -> Self {
        Self::ALL[w.to_monday_zero_offset() as usize]
    }

    /// "Mon", "Tue", …
    pub fn short_name(self) -> &'static str {
        ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"][self as usize]
    }

    /// "Monday", …
    pub fn name(self) -> &'static str {
        [
            "Monday",
            "Tuesday",
            "Wednesday",
            "Thursday",
            "Friday",
            "Saturday",
            "Sunday",
        ][self as usize]
    }
}

/// When a recurring schedule stops, tagged by `kind`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum End {
    /// Runs until the campaign is stopped.
    #[default]
    Never,
    /// No run after this local calendar date (the date itself may have a run).
    OnDate {
        /// In the years [`MIN_YEAR`] to [`MAX_YEAR`].
        #[cfg_attr(feature = "openapi", schema(value_type = String, format = Date, pattern = "^2[01][0-9]{2}-"))]
        date: Date,
    },
    /// At most `runs` runs, counted from the first run.
    AfterRuns {
        /// [`END_AFTER_RUNS`].
        #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 1000))]
        runs: u32,
    },
}

/// One run of a schedule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Run {
    /// 1 for the first run, 2 for the second…: stable for a given schedule and publish instant,
    /// so the scheduler can record each slot exactly once.
    pub number: u32,
    /// The instant of the run.
    pub utc: Timestamp,
    /// The wall-clock time of the run in the schedule's time zone (after any clock-change shift).
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "2027-03-07T09:30:00"))]
    pub local: DateTime,
}

/// The upcoming runs of a schedule and why the first one is when it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Preview {
    pub runs: Vec<Run>,
    /// One plain-English sentence, e.g. "Runs monthly on the 7th at 09:00 Asia/Kolkata; the first
    /// run is 7 April 2027 because 7 March 2027 is before the moment you publish."
    pub explanation: String,
}

/// Body of `POST /api/schedules/preview`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PreviewRequest {
    pub schedule: Schedule,
    /// How many runs to list: 1 to [`MAX_PREVIEW_RUNS`]; defaults to [`DEFAULT_PREVIEW_RUNS`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 100))]
    pub count: Option<usize>,
    /// The instant to preview from; defaults to the server's clock. The campaign is assumed to be
    /// published at this instant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub now: Option<Timestamp>,
}

/// Response of `POST /api/schedules/preview`.
pub type PreviewResponse = Preview;

// ---------------------------------------------------------------------------------------------
// Validation
// ---------------------------------------------------------------------------------------------

/// Every problem with `schedule`, with paths relative to the campaign (`schedule.times[2]`).
///
/// Checks the structure and bounds, and that once/multiple times are not before `now` and that a
/// recurring schedule with an end date has at least one run if published at `now`.
#[cfg(feature = "bundled-tz")]
pub fn validate_schedule(schedule: &Schedule, now: Timestamp) -> Vec<FieldError> {
    validate_schedule_in(schedule, now, &BundledTimeZones)
}

/// [`validate_schedule`] with the time zones of `zones`.
pub fn validate_schedule_in(
    schedule: &Schedule,
    now: Timestamp,
    zones: &dyn TimeZones,
) -> Vec<FieldError> {
    validate_with(schedule, Some(now), zones)
}

/// The checks of [`validate_schedule`] that do not depend on the current instant (for drafts).
#[cfg(feature = "bundled-tz")]
pub fn validate_schedule_structure(schedule: &Schedule) -> Vec<FieldError> {
    validate_schedule_structure_in(schedule, &BundledTimeZones)
}

/// [`validate_schedule_structure`] with the time zones of `zones`.
pub fn validate_schedule_structure_in(
    schedule: &Schedule,
    zones: &dyn TimeZones,
) -> Vec<FieldError> {
    validate_with(schedule, None, zones)
}

fn check_date(errors: &mut Vec<FieldError>, path: &str, date: Date) {
    if !(MIN_YEAR..=MAX_YEAR).contains(&date.year()) {
        errors.push(FieldError::new(
            path,
            format!("Pick a date between the years {MIN_YEAR} and {MAX_YEAR}."),
        ));
    }
}

fn validate_with(
    schedule: &Schedule,
    now: Option<Timestamp>,
    zones: &dyn TimeZones,
) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let tz = match time_zone_in(&schedule.time_zone, zones) {
        Ok(tz) => Some(tz),
        Err(e) => {
            errors.push(e);
            None
        }
    };
    let past_message = "This date and time has already passed. Pick a time in the future.";
    match &schedule.kind {
        ScheduleKind::Now => {}
        ScheduleKind::Once { at } => {
            check_date(&mut errors, "schedule.at", at.date());
            if let (Some(tz), Some(now), true) = (&tz, now, errors.is_empty())
                && to_instant(tz, *at).is_some_and(|t| t < now)
            {
                errors.push(FieldError::new("schedule.at", past_message));
            }
        }
        ScheduleKind::Multiple { times } => {
            if times.len() < *MULTIPLE_TIMES.start() {
                errors.push(FieldError::new(
                    "schedule.times",
                    "Add at least two dates and times, or choose \u{201c}Once\u{201d} instead.",
                ));
            } else if times.len() > *MULTIPLE_TIMES.end() {
                errors.push(FieldError::new(
                    "schedule.times",
                    format!(
                        "A campaign can run at most {} times on fixed dates; use a recurring schedule instead.",
                        MULTIPLE_TIMES.end()
                    ),
                ));
            }
            for (i, at) in times.iter().enumerate().take(*MULTIPLE_TIMES.end() * 2) {
                let path = format!("schedule.times[{i}]");
                let before = errors.len();
                check_date(&mut errors, &path, at.date());
                if times[..i].contains(at) {
                    errors.push(FieldError::new(
                        &path,
                        "This date and time is already in the list.",
                    ));
                } else if let (Some(tz), Some(now), true) = (&tz, now, errors.len() == before)
                    && to_instant(tz, *at).is_some_and(|t| t < now)
                {
                    errors.push(FieldError::new(&path, past_message));
                }
            }
        }
        ScheduleKind::Recurring {
            repeat,
            time: _,
            start_date,
            end,
        } => {
            check_date(&mut errors, "schedule.start_date", *start_date);
            let interval_error = |unit: &str, range: &std::ops::RangeInclusive<u32>| {
                FieldError::new(
                    "schedule.repeat.interval",
                    format!("Repeat every {} to {} {unit}.", range.start(), range.end()),
                )
            };
            match repeat {
                Repeat::Days { interval } => {
                    if !EVERY_DAYS.contains(interval) {
                        errors.push(interval_error("days", &EVERY_DAYS));
                    }
                }
                Repeat::Weeks { interval, weekdays } => {
                    if !EVERY_WEEKS.contains(interval) {
                        errors.push(interval_error("weeks", &EVERY_WEEKS));
                    }
                    if weekdays.is_empty() {
                        errors.push(FieldError::new(
                            "schedule.repeat.weekdays",
                            "Choose at least one day of the week.",
                        ));
                    }
                    for (i, w) in weekdays.iter().enumerate().take(14) {
                        if weekdays[..i].contains(w) {
                            errors.push(FieldError::new(
                                format!("schedule.repeat.weekdays[{i}]"),
                                format!("{} is already chosen.", w.name()),
                            ));
                        }
                    }
                    if weekdays.len() > 14 {
                        errors.push(FieldError::new(
                            "schedule.repeat.weekdays",
                            "Choose each day of the week at most once.",
                        ));
                    }
                }
                Repeat::Months { interval, days } => {
                    if !EVERY_MONTHS.contains(interval) {
                        errors.push(interval_error("months", &EVERY_MONTHS));
                    }
                    if days.is_empty() {
                        errors.push(FieldError::new(
                            "schedule.repeat.days",
                            "Choose at least one day of the month.",
                        ));
                    }
                    for (i, d) in days.iter().enumerate().take(62) {
                        let path = format!("schedule.repeat.days[{i}]");
                        if !(1..=31).contains(d) {
                            errors.push(FieldError::new(
                                path,
                                "Choose a day of the month from 1 to 31.",
                            ));
                        } else if days[..i].contains(d) {
                            errors.push(FieldError::new(
                                path,
                                format!("The {} is already chosen.", ordinal(u32::from(*d))),
                            ));
                        }
                    }
                    if days.len() > 62 {
                        errors.push(FieldError::new(
                            "schedule.repeat.days",
                            "Choose each day of the month at most once.",
                        ));
                    }
                }
            }
            match end {
                End::Never => {}
                End::OnDate { date } => {
                    check_date(&mut errors, "schedule.end.date", *date);
                    if date < start_date {
                        errors.push(FieldError::new(
                            "schedule.end.date",
                            "The end date must be on or after the start date.",
                        ));
                    }
                }
                End::AfterRuns { runs } => {
                    if !END_AFTER_RUNS.contains(runs) {
                        errors.push(FieldError::new(
                            "schedule.end.runs",
                            format!(
                                "End after {} to {} runs.",
                                END_AFTER_RUNS.start(),
                                END_AFTER_RUNS.end()
                            ),
                        ));
                    }
                }
            }
            if let (End::OnDate { .. }, true, Some(now), Some(tz)) =
                (end, errors.is_empty(), now, &tz)
                && runs_in_zone(schedule, tz, now, None, 1).is_empty()
            {
                errors.push(FieldError::new(
                    "schedule.end.date",
                    "This schedule would never run: no matching day falls between now and the end date.",
                ));
            }
        }
    }
    errors
}

/// Where schedule math finds the rules of a time zone by its IANA name.
///
/// A schedule only names its zone; the caller decides where the rules come from. The server uses
/// jiff's bundled database ([`BundledTimeZones`]); the browser passes the zones it has loaded
/// from the server (a map from name to zone), so its download does not carry ~600 zones.
pub trait TimeZones {
    /// The zone called exactly `name`, or `None` when it is unknown (or not loaded).
    fn find(&self, name: &str) -> Option<TimeZone>;
}

/// jiff's bundled time zone database (feature `bundled-tz`).
#[cfg(feature = "bundled-tz")]
#[derive(Debug, Clone, Copy, Default)]
pub struct BundledTimeZones;

#[cfg(feature = "bundled-tz")]
impl TimeZones for BundledTimeZones {
    fn find(&self, name: &str) -> Option<TimeZone> {
        // jiff's lookup ignores case; [`time_zone_in`] (validation) insists on the exact name,
        // while the scheduler still finds the zone of a schedule saved before that rule.
        TimeZone::get(name).ok()
    }
}

/// Zones loaded by name, e.g. from TZif files with [`TimeZone::tzif`].
impl TimeZones for std::collections::BTreeMap<String, TimeZone> {
    fn find(&self, name: &str) -> Option<TimeZone> {
        self.get(name).cloned()
    }
}

/// Looks up an IANA time zone in the bundled database.
#[cfg(feature = "bundled-tz")]
pub fn time_zone(name: &str) -> Result<TimeZone, FieldError> {
    time_zone_in(name, &BundledTimeZones)
}

/// Looks up an IANA time zone in `zones`, with the message the time zone field shows.
pub fn time_zone_in(name: &str, zones: &dyn TimeZones) -> Result<TimeZone, FieldError> {
    let path = "schedule.time_zone";
    if name.trim().is_empty() {
        return Err(FieldError::new(path, "Choose a time zone."));
    }
    if name.len() > 64 {
        return Err(FieldError::new(path, "Choose a time zone from the list."));
    }
    let unknown = || {
        FieldError::new(
            path,
            format!(
                "\u{201c}{name}\u{201d} is not a time zone we know. Choose one from the list, such as Europe/Berlin."
            ),
        )
    };
    let tz = zones.find(name).ok_or_else(unknown)?;
    // Names are exact (`docs/domain.md`): jiff's bundled lookup ignores case, but the browser
    // loads a zone by the name as spelled, and the server serves exact names only.
    // `Etc/Unknown` (no IANA name) is jiff's placeholder, not a zone.
    match tz.iana_name() {
        Some(exact) if exact == name => Ok(tz),
        Some(exact) if exact.eq_ignore_ascii_case(name) => Err(FieldError::new(
            path,
            format!(
                "Time zone names are case-sensitive: write \u{201c}{exact}\u{201d}, not \u{201c}{name}\u{201d}."
            ),
        )),
        _ => Err(unknown()),
    }
}

// ---------------------------------------------------------------------------------------------
// Runs
// ---------------------------------------------------------------------------------------------

/// Wall-clock time to instant (`docs/domain.md`, "Wall clock to instant"): a time that occurs
/// once is that instant, an overlap time takes its first occurrence, and a gap time moves forward
/// by the gap (RFC 5545; jiff's `Compatible`).
///
/// jiff answers from the zone's civil-time table, but that answer is only trusted when every
/// offset it names really is the zone's offset at the instant it gives: for civil times just
/// after a zone's last explicit transition jiff 0.2 consults the TZif footer's POSIX rule, which
/// can invent a gap or overlap for a part of the year the footer does not govern
/// (`America/Nuuk`, 2023-10-28 23:30: a phantom overlap whose "first occurrence" is 22:30). Such
/// answers are recomputed from instant lookups alone, which have no such blind spot.
fn to_instant(tz: &TimeZone, local: DateTime) -> Option<Timestamp> {
    use jiff::tz::AmbiguousOffset;
    let at = |o: Offset| o.to_timestamp(local).ok();
    let occurs = |o: Offset| at(o).is_some_and(|t| tz.to_offset(t) == o);
    match tz.to_ambiguous_timestamp(local).offset() {
        AmbiguousOffset::Unambiguous { offset } if occurs(offset) => at(offset),
        AmbiguousOffset::Fold { before, after } if occurs(before) && occurs(after) => at(before),
        // A real gap: the instant read with the earlier offset is already past the transition,
        // the one read with the later offset is not yet there.
        AmbiguousOffset::Gap { before, after }
            if at(before).is_some_and(|t| tz.to_offset(t) == after)
                && at(after).is_some_and(|t| tz.to_offset(t) == before) =>
        {
            at(before)
        }
        _ => to_instant_from_transitions(tz, local),
    }
}

/// [`to_instant`] from instant lookups only: every occurrence of `local` is within 26 hours of
/// `local` read as UTC (offsets are under 26 hours), so the offsets in effect in that window are
/// the only candidates.
fn to_instant_from_transitions(tz: &TimeZone, local: DateTime) -> Option<Timestamp> {
    let window = jiff::SignedDuration::from_hours(26);
    let as_utc = Offset::UTC.to_timestamp(local).ok()?;
    let from = as_utc.checked_sub(window).ok()?;
    let to = as_utc.checked_add(window).ok()?;
    // (transition instant, offset before, offset after), oldest first.
    let mut transitions = Vec::new();
    let mut offset = tz.to_offset(from);
    let mut candidates = vec![offset];
    let mut previous = from;
    for t in tz.following(from) {
        // The guard against a repeat: jiff 0.2 yields a footer-less TZif's last transition
        // forever.
        if t.timestamp() > to || t.timestamp() <= previous {
            break;
        }
        previous = t.timestamp();
        transitions.push((t.timestamp(), offset, t.offset()));
        offset = t.offset();
        candidates.push(offset);
    }
    let first_occurrence = candidates
        .iter()
        .filter_map(|o| {
            o.to_timestamp(local)
                .ok()
                .filter(|t| tz.to_offset(*t) == *o)
        })
        .min();
    if first_occurrence.is_some() {
        return first_occurrence;
    }
    // Never occurs: the gap that swallows it, read with the offset before the gap.
    transitions
        .iter()
        .find(|(t, before, after)| {
            after.to_timestamp(local).is_ok_and(|x| x < *t)
                && before.to_timestamp(local).is_ok_and(|x| x >= *t)
        })
        .and_then(|(_, before, _)| before.to_timestamp(local).ok())
}

fn make_run(tz: &TimeZone, number: u32, local: DateTime) -> Option<Run> {
    let utc = to_instant(tz, local)?;
    Some(Run {
        number,
        utc,
        local: tz.to_datetime(utc),
    })
}

/// What a recurring slot's date becomes.
enum Slot {
    /// A run (numbered by the caller).
    Run(Run),
    /// The zone skipped that whole date (Pacific/Apia, 2011-12-30), so it holds no slot.
    NoSuchDate,
    /// Out of the range jiff can represent: stop searching.
    OutOfRange,
}

fn slot_run(tz: &TimeZone, date: Date, time: Time) -> Slot {
    let Some(run) = make_run(tz, 0, date.to_datetime(time)) else {
        return Slot::OutOfRange;
    };
    // A run moved past midnight by a gap is still its date's slot (Nuuk: 23:30 on a Saturday
    // runs at 00:30 on Sunday); the date is missing only when its first moment is gone too.
    if run.local.date() != date
        && to_instant(tz, date.to_datetime(Time::midnight()))
            .is_some_and(|t| tz.to_datetime(t).date() != date)
    {
        return Slot::NoSuchDate;
    }
    Slot::Run(run)
}

/// Whether the zone's UTC offset stays within a range of less than a day over `from..=to`. Then
/// no date is skipped and no two slots (a day or more apart on the wall clock) share an instant.
fn offsets_vary_less_than_a_day(tz: &TimeZone, from: Timestamp, to: Timestamp) -> bool {
    let first = tz.to_offset(from).seconds();
    let (mut low, mut high) = (first, first);
    let mut previous = from;
    for t in tz.following(from) {
        // See `to_instant_from_transitions` for the repeat guard.
        if t.timestamp() > to || t.timestamp() <= previous {
            break;
        }
        previous = t.timestamp();
        let o = t.offset().seconds();
        low = low.min(o);
        high = high.max(o);
    }
    high - low < 24 * 3600
}

/// The upcoming runs of a structurally valid schedule.
///
/// * `published_at`: the moment the campaign is (or would be) published; slots before it never
///   run.
/// * `after`: only runs strictly after this instant; `None` lists from the first run.
/// * at most `count` runs, in time order.
///
/// Returns an empty list for an invalid time zone or when no run remains. Bounded work.
#[cfg(feature = "bundled-tz")]
pub fn upcoming_runs(
    schedule: &Schedule,
    published_at: Timestamp,
    after: Option<Timestamp>,
    count: usize,
) -> Vec<Run> {
    upcoming_runs_in(schedule, published_at, after, count, &BundledTimeZones)
}

/// [`upcoming_runs`] with the time zones of `zones`.
pub fn upcoming_runs_in(
    schedule: &Schedule,
    published_at: Timestamp,
    after: Option<Timestamp>,
    count: usize,
    zones: &dyn TimeZones,
) -> Vec<Run> {
    match zones.find(&schedule.time_zone) {
        Some(tz) => runs_in_zone(schedule, &tz, published_at, after, count),
        None => Vec::new(),
    }
}

/// The runs of `schedule` with its zone already resolved to `tz`.
fn runs_in_zone(
    schedule: &Schedule,
    tz: &TimeZone,
    published_at: Timestamp,
    after: Option<Timestamp>,
    count: usize,
) -> Vec<Run> {
    let keep = |run: &Run| after.is_none_or(|a| run.utc > a);
    match &schedule.kind {
        ScheduleKind::Now => {
            let run = Run {
                number: 1,
                utc: published_at,
                local: tz.to_datetime(published_at),
            };
            if keep(&run) && count > 0 {
                vec![run]
            } else {
                Vec::new()
            }
        }
        ScheduleKind::Once { at } => make_run(tz, 1, *at)
            .filter(|r| r.utc >= published_at && keep(r) && count > 0)
            .into_iter()
            .collect(),
        ScheduleKind::Multiple { times } => {
            let mut instants: Vec<Timestamp> = times
                .iter()
                .take(*MULTIPLE_TIMES.end())
                .filter_map(|t| to_instant(tz, *t))
                .filter(|t| *t >= published_at)
                .collect();
            instants.sort();
            instants.dedup();
            instants
                .into_iter()
                .zip(1..)
                .map(|(utc, number)| Run {
                    number,
                    utc,
                    local: tz.to_datetime(utc),
                })
                .filter(keep)
                .take(count)
                .collect()
        }
        ScheduleKind::Recurring {
            repeat,
            time,
            start_date,
            end,
        } => match Pattern::new(repeat, *start_date) {
            Some(pattern) => {
                recurring_runs(&pattern, tz, *time, end, published_at, after, count).runs
            }
            None => Vec::new(),
        },
    }
}

/// The first run strictly after `after` (or the first run at all when `after` is `None`), for the
/// scheduler. `published_at` is the moment the campaign was published. `None` when the schedule
/// has no further run (or is invalid).
#[cfg(feature = "bundled-tz")]
pub fn next_run_after(
    schedule: &Schedule,
    published_at: Timestamp,
    after: Option<Timestamp>,
) -> Option<Run> {
    next_run_after_in(schedule, published_at, after, &BundledTimeZones)
}

/// [`next_run_after`] with the time zones of `zones`.
pub fn next_run_after_in(
    schedule: &Schedule,
    published_at: Timestamp,
    after: Option<Timestamp>,
    zones: &dyn TimeZones,
) -> Option<Run> {
    upcoming_runs_in(schedule, published_at, after, 1, zones).pop()
}

/// The next `count` (capped at [`MAX_PREVIEW_RUNS`]) runs and an explanation of the first.
///
/// * Not yet published (`published_at` is `None`): the campaign is assumed to be published at
///   `now`; lists from the first run. The schedule is fully validated against `now`, so past
///   once/multiple times are errors.
/// * Published: lists the runs strictly after `now`, numbered from the first run; only the
///   structure is validated.
#[cfg(feature = "bundled-tz")]
pub fn preview(
    schedule: &Schedule,
    now: Timestamp,
    published_at: Option<Timestamp>,
    count: usize,
) -> Result<Preview, Vec<FieldError>> {
    preview_in(schedule, now, published_at, count, &BundledTimeZones)
}

/// Every problem with a preview request that is not about its schedule ([`preview`] checks
/// that): path `count`.
pub fn validate_preview_request(req: &PreviewRequest) -> Vec<FieldError> {
    match req.count {
        Some(n) if !(1..=MAX_PREVIEW_RUNS).contains(&n) => vec![FieldError::new(
            "count",
            format!("List 1 to {MAX_PREVIEW_RUNS} runs."),
        )],
        _ => Vec::new(),
    }
}

/// [`preview`] with the time zones of `zones`.
pub fn preview_in(
    schedule: &Schedule,
    now: Timestamp,
    published_at: Option<Timestamp>,
    count: usize,
    zones: &dyn TimeZones,
) -> Result<Preview, Vec<FieldError>> {
    let errors = validate_with(schedule, published_at.is_none().then_some(now), zones);
    if !errors.is_empty() {
        return Err(errors);
    }
    let tz = time_zone_in(&schedule.time_zone, zones).map_err(|e| vec![e])?;
    let count = count.min(MAX_PREVIEW_RUNS);
    let publish = published_at.unwrap_or(now);
    let after = published_at.map(|_| now);
    let tz_name = &schedule.time_zone;
    let (runs, explanation) = match &schedule.kind {
        ScheduleKind::Recurring {
            repeat,
            time,
            start_date,
            end,
        } => {
            let pattern = Pattern::new(repeat, *start_date).ok_or_else(|| {
                vec![FieldError::new(
                    "schedule.repeat",
                    "This repeat pattern is not valid.",
                )]
            })?;
            let found = recurring_runs(&pattern, &tz, *time, end, publish, after, count);
            let explanation = explain_recurring(
                schedule,
                repeat,
                *time,
                *start_date,
                end,
                &found,
                published_at.is_none(),
            );
            (found.runs, explanation)
        }
        ScheduleKind::Now => {
            let runs = runs_in_zone(schedule, &tz, publish, after, count);
            let explanation = if published_at.is_none() {
                "Runs once, as soon as you publish the campaign.".to_string()
            } else {
                "Ran once, when the campaign was published; there are no more runs.".to_string()
            };
            (runs, explanation)
        }
        ScheduleKind::Once { at } => {
            let runs = runs_in_zone(schedule, &tz, publish, after, count);
            let when = runs.first().map(|r| r.local).unwrap_or(*at);
            let mut explanation = format!(
                "Runs once on {} at {} {tz_name}",
                long_date(when.date()),
                hhmm(when.time())
            );
            push_shift_note(&mut explanation, *at, runs.first());
            if runs.is_empty() {
                explanation = format!(
                    "Has no more runs: the only run was on {} at {} {tz_name}.",
                    long_date(at.date()),
                    hhmm(at.time())
                );
            } else {
                explanation.push('.');
            }
            (runs, explanation)
        }
        ScheduleKind::Multiple { times } => {
            let runs = runs_in_zone(schedule, &tz, publish, after, count);
            let explanation = match runs.first() {
                Some(first) => {
                    let requested = times
                        .iter()
                        .copied()
                        .find(|t| to_instant(&tz, *t) == Some(first.utc))
                        .unwrap_or(first.local);
                    let mut s = format!(
                        "Runs at {} fixed dates and times in {tz_name}; the {} is {} at {}",
                        times.len(),
                        if first.number == 1 {
                            "first run"
                        } else {
                            "next run"
                        },
                        long_date(first.local.date()),
                        hhmm(first.local.time())
                    );
                    if first.number == 1 {
                        s.push_str(", the earliest of them");
                    }
                    push_shift_note(&mut s, requested, Some(first));
                    s.push('.');
                    s
                }
                None => "Has no more runs: every listed date and time has passed.".to_string(),
            };
            (runs, explanation)
        }
    };
    Ok(Preview { runs, explanation })
}

/// Appends " (02:30 does not exist that day because the clocks go forward, so it runs at 03:30)"
/// when a gap moved the run, naming the day when the move crosses midnight.
fn push_shift_note(s: &mut String, requested: DateTime, run: Option<&Run>) {
    if let Some(run) = run
        && run.local != requested
    {
        let day = if run.local.date() == requested.date() {
            String::new()
        } else {
            format!(" on {}", long_date(run.local.date()))
        };
        s.push_str(&format!(
            " ({} does not exist that day because the clocks go forward, so it runs at {}{day})",
            hhmm(requested.time()),
            hhmm(run.local.time())
        ));
    }
}

/// A recurring pattern anchored at the start date, split into numbered periods (a day, a week or a
/// month, every `interval`), each holding at least one slot date.
#[derive(Debug, Clone)]
struct Pattern {
    kind: PatternKind,
    interval: i64,
    start: Date,
    /// Day 0 of period 0: the start date, the Monday of its week, or the first of its month.
    origin: Date,
}

#[derive(Debug, Clone)]
enum PatternKind {
    Days,
    /// Monday-zero offsets, sorted, distinct.
    Weeks(Vec<i8>),
    /// Days of month, sorted, distinct, 1..=31.
    Months(Vec<i8>),
}

fn epoch_day(d: Date) -> i64 {
    i64::from(
        d.since(Date::constant(1970, 1, 1))
            .map(|s| s.get_days())
            .unwrap_or(0),
    )
}

fn add_days(d: Date, n: i64) -> Option<Date> {
    d.checked_add(Span::new().try_days(n).ok()?).ok()
}

fn month_index(d: Date) -> i64 {
    i64::from(d.year()) * 12 + i64::from(d.month()) - 1
}

fn month_start(index: i64) -> Option<Date> {
    let year = i16::try_from(index.div_euclid(12)).ok()?;
    let month = i8::try_from(index.rem_euclid(12) + 1).ok()?;
    Date::new(year, month, 1).ok()
}

impl Pattern {
    fn new(repeat: &Repeat, start: Date) -> Option<Pattern> {
        let (kind, interval, origin) = match repeat {
            Repeat::Days { interval } => (PatternKind::Days, *interval, start),
            Repeat::Weeks { interval, weekdays } => {
                let mut offsets: Vec<i8> =
                    weekdays.iter().map(|w| w.monday_zero_offset()).collect();
                offsets.sort_unstable();
                offsets.dedup();
                let monday = add_days(start, -i64::from(start.weekday().to_monday_zero_offset()))?;
                (PatternKind::Weeks(offsets), *interval, monday)
            }
            Repeat::Months { interval, days } => {
                let mut days: Vec<i8> = days
                    .iter()
                    .filter(|d| (1..=31).contains(*d))
                    .map(|d| *d as i8)
                    .collect();
                days.sort_unstable();
                days.dedup();
                (PatternKind::Months(days), *interval, start.first_of_month())
            }
        };
        let empty = match &kind {
            PatternKind::Days => false,
            PatternKind::Weeks(v) | PatternKind::Months(v) => v.is_empty(),
        };
        if interval == 0 || empty {
            return None;
        }
        Some(Pattern {
            kind,
            interval: i64::from(interval),
            start,
            origin,
        })
    }

    /// The period whose span contains `date` (or the last period starting before it); 0 for dates
    /// before the origin.
    fn period_of(&self, date: Date) -> i64 {
        let p = match self.kind {
            PatternKind::Days => {
                (epoch_day(date) - epoch_day(self.origin)).div_euclid(self.interval)
            }
            PatternKind::Weeks(_) => {
                (epoch_day(date) - epoch_day(self.origin)).div_euclid(7 * self.interval)
            }
            PatternKind::Months(_) => {
                (month_index(date) - month_index(self.origin)).div_euclid(self.interval)
            }
        };
        p.max(0)
    }

    /// The slot dates of period `p`, in order (some may be before the start date).
    fn slots(&self, p: i64) -> Vec<Date> {
        match &self.kind {
            PatternKind::Days => add_days(self.origin, p * self.interval)
                .into_iter()
                .collect(),
            PatternKind::Weeks(offsets) => {
                let Some(monday) = add_days(self.origin, p * 7 * self.interval) else {
                    return Vec::new();
                };
                offsets
                    .iter()
                    .filter_map(|o| add_days(monday, i64::from(*o)))
                    .collect()
            }
            PatternKind::Months(days) => {
                let Some(first) = month_start(month_index(self.origin) + p * self.interval) else {
                    return Vec::new();
                };
                let last = first.days_in_month();
                let mut out: Vec<Date> = days
                    .iter()
                    .filter_map(|d| first.with().day((*d).min(last)).build().ok())
                    .collect();
                out.dedup();
                out
            }
        }
    }

    /// How many slots (on or after the start date) periods `from..to` hold. Closed form for days
    /// and weeks; for months one step per period (at most a few thousand: years are bounded).
    fn slots_between_periods(&self, from: i64, to: i64) -> u64 {
        if to <= from {
            return 0;
        }
        match &self.kind {
            PatternKind::Days => (to - from) as u64,
            PatternKind::Weeks(offsets) if from > 0 => (to - from) as u64 * offsets.len() as u64,
            _ => (from..to)
                .map(|p| {
                    self.slots(p)
                        .into_iter()
                        .filter(|d| *d >= self.start)
                        .count() as u64
                })
                .sum(),
        }
    }
}

/// The outcome of searching a recurring pattern, with what the explanation needs.
#[derive(Debug, Clone, Default)]
struct RecurringSearch {
    runs: Vec<Run>,
    /// The first run (number 1), even when `runs` starts later or is empty because of `after`.
    first: Option<Run>,
    /// The slot date of the first run (the day before its local date when a gap moved it past
    /// midnight).
    first_slot: Option<Date>,
    /// The last slot on or after the start date that was skipped because it was before the
    /// moment of publishing.
    skipped_for_publish: Option<Date>,
    /// The first slot on or after the start date (ignoring publishing and the end).
    first_slot_from_start: Option<Date>,
}

/// The most periods searched for the first run or the first run after `after`. Every period holds
/// a slot and slots are at most ~a year apart in time, so the first run is always within a few
/// periods of where the search starts; this is a safety net.
const MAX_EMPTY_PERIODS: usize = 400;

fn recurring_runs(
    pattern: &Pattern,
    tz: &TimeZone,
    time: Time,
    end: &End,
    published_at: Timestamp,
    after: Option<Timestamp>,
    count: usize,
) -> RecurringSearch {
    let mut out = RecurringSearch::default();
    let end_date = match end {
        End::OnDate { date } => Some(*date),
        _ => None,
    };
    let max_runs = match end {
        End::AfterRuns { runs } => Some(*runs),
        _ => None,
    };
    if let Some(d) = pattern.slots(0).into_iter().find(|d| *d >= pattern.start) {
        out.first_slot_from_start = Some(d);
    } else if let Some(d) = pattern.slots(1).first() {
        out.first_slot_from_start = Some(*d);
    }

    // 1. The first run: the first slot on or after the start date and the publish instant.
    // Start one day early in local terms: any slot whose date is before the publish instant's
    // local date minus a day is certainly before the publish instant.
    let publish_date = tz.to_datetime(published_at).date();
    let search_from = add_days(publish_date, -1)
        .unwrap_or(publish_date)
        .max(pattern.start);
    let first_period = pattern.period_of(search_from);
    if first_period > 0 {
        // Slots in earlier periods are before the publish instant.
        out.skipped_for_publish = pattern
            .slots(first_period - 1)
            .into_iter()
            .rfind(|d| *d >= pattern.start);
    }
    let mut first: Option<(i64, usize, Date, Run)> = None;
    let mut latest: Option<Timestamp> = None;
    'search: for p in first_period..first_period + MAX_EMPTY_PERIODS as i64 {
        for (i, date) in pattern.slots(p).into_iter().enumerate() {
            if date < pattern.start {
                continue;
            }
            if end_date.is_some_and(|e| date > e) {
                break 'search;
            }
            let run = match slot_run(tz, date, time) {
                Slot::Run(run) => Run { number: 1, ..run },
                Slot::NoSuchDate => continue,
                Slot::OutOfRange => break 'search,
            };
            if latest.is_some_and(|l| run.utc <= l) {
                continue;
            }
            latest = Some(run.utc);
            if run.utc >= published_at {
                first = Some((p, i, date, run));
                break 'search;
            }
            out.skipped_for_publish = Some(date);
        }
    }
    let Some((first_p, first_i, first_date, first_run)) = first else {
        return out;
    };
    out.first = Some(first_run);
    out.first_slot = Some(first_date);
    if count == 0 {
        return out;
    }

    // 2. Runs strictly after `after`, numbered from the first run.
    let (mut p, mut number) = match after {
        Some(a) if a >= first_run.utc => {
            let after_date = tz.to_datetime(a).date();
            let from = add_days(after_date, -1).unwrap_or(after_date);
            let p = pattern.period_of(from).max(first_p);
            // Skip to period p, counting the runs before it in closed form: those of the first
            // period from the first run on, plus every slot of the periods in between. That
            // count is exact only when no slot in between was dropped (missing date, repeated
            // instant), which takes a clock change of a day or more; across one (Pacific/Apia,
            // 2011) every slot from the first run on is walked instead.
            let margin = jiff::SignedDuration::from_hours(48);
            let window_from = first_run.utc.checked_sub(margin).unwrap_or(first_run.utc);
            let window_to = a.checked_add(margin).unwrap_or(a);
            if p > first_p && offsets_vary_less_than_a_day(tz, window_from, window_to) {
                let before = (pattern.slots(first_p).len() - first_i) as u64
                    + pattern.slots_between_periods(first_p + 1, p);
                (p, before)
            } else {
                (first_p, 0)
            }
        }
        _ => (first_p, 0),
    };
    if max_runs.is_some_and(|k| number >= u64::from(k)) {
        return out;
    }
    // The instant of the last run counted, to drop a slot that does not come after it.
    let mut latest: Option<Timestamp> = None;
    let mut empty_periods = 0;
    loop {
        let before_number = number;
        for date in pattern.slots(p) {
            if date < pattern.start || (p == first_p && date < first_date) {
                continue;
            }
            if end_date.is_some_and(|e| date > e) {
                return out;
            }
            let run = match slot_run(tz, date, time) {
                Slot::Run(run) => run,
                Slot::NoSuchDate => continue,
                Slot::OutOfRange => return out,
            };
            if latest.is_some_and(|l| run.utc <= l) {
                continue;
            }
            latest = Some(run.utc);
            number += 1;
            if max_runs.is_some_and(|k| number > u64::from(k)) {
                return out;
            }
            let Ok(n) = u32::try_from(number) else {
                return out;
            };
            if after.is_none_or(|a| run.utc > a) {
                out.runs.push(Run { number: n, ..run });
                if out.runs.len() >= count {
                    return out;
                }
            }
        }
        if number == before_number {
            empty_periods += 1;
            if empty_periods > MAX_EMPTY_PERIODS {
                return out;
            }
        }
        p += 1;
    }
}

// ---------------------------------------------------------------------------------------------
// Words
// ---------------------------------------------------------------------------------------------

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// "7 April 2027".
pub fn long_date(d: Date) -> String {
    format!(
        "{} {} {}",
        d.day(),
        MONTHS[(d.month() - 1) as usize],
        d.year()
    )
}

/// "7 Apr 2027".
pub fn short_date(d: Date) -> String {
    format!(
        "{} {} {}",
        d.day(),
        &MONTHS[(d.month() - 1) as usize][..3],
        d.year()
    )
}

/// "09:30".
pub fn hhmm(t: Time) -> String {
    format!("{:02}:{:02}", t.hour(), t.minute())
}

/// "1st", "2nd", "3rd", "4th", "11th", "21st", "31st".
pub fn ordinal(n: u32) -> String {
    let suffix = match (n % 10, n % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}

fn join_and(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

fn pattern_words(repeat: &Repeat) -> String {
    match repeat {
        Repeat::Days { interval: 1 } => "every day".to_string(),
        Repeat::Days { interval } => format!("every {interval} days"),
        Repeat::Weeks { interval, weekdays } => {
            let mut w = weekdays.clone();
            w.sort();
            w.dedup();
            let names: Vec<String> = w.iter().map(|d| d.short_name().to_string()).collect();
            let every = if *interval == 1 {
                "every week".to_string()
            } else {
                format!("every {interval} weeks")
            };
            format!("{every} on {}", join_and(&names))
        }
        Repeat::Months { interval, days } => {
            let mut d = days.clone();
            d.sort();
            d.dedup();
            let names: Vec<String> = d.iter().map(|d| ordinal(u32::from(*d))).collect();
            let every = if *interval == 1 {
                "every month".to_string()
            } else {
                format!("every {interval} months")
            };
            format!("{every} on the {}", join_and(&names))
        }
    }
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

fn explain_recurring(
    schedule: &Schedule,
    repeat: &Repeat,
    time: Time,
    start_date: Date,
    end: &End,
    found: &RecurringSearch,
    unpublished: bool,
) -> String {
    let lead = format!(
        "Runs {} at {} {}",
        pattern_words(repeat),
        hhmm(time),
        schedule.time_zone
    );
    let Some(first) = found.first else {
        return match end {
            End::OnDate { date } => format!(
                "{lead}, but it will never run: no matching day falls between {} and the end date, {}.",
                if unpublished {
                    "now".to_string()
                } else {
                    long_date(start_date)
                },
                long_date(*date)
            ),
            _ => format!("{lead}, but it has no run."),
        };
    };
    let first_date = found.first_slot.unwrap_or(first.local.date());
    let mut reason = if let Some(skipped) = found.skipped_for_publish {
        if unpublished {
            format!("{} is before the moment you publish", long_date(skipped))
        } else {
            format!(
                "{} was before the campaign was published",
                long_date(skipped)
            )
        }
    } else if first_date == start_date {
        "it is the start date".to_string()
    } else {
        format!(
            "it is the first matching day on or after the start date, {}",
            long_date(start_date)
        )
    };
    if let Repeat::Months { days, .. } = repeat
        && !days.contains(&(first_date.day() as u8))
    {
        reason.push_str(&format!(
            " ({} has only {} days, so it runs on the last day)",
            MONTHS[(first_date.month() - 1) as usize],
            first_date.days_in_month()
        ));
    }
    let mut s = format!(
        "{lead}; the first run is {} because {reason}",
        long_date(first_date)
    );
    push_shift_note(&mut s, first_date.to_datetime(time), Some(&first));
    if !unpublished {
        match found.runs.first() {
            Some(next) if next.number != 1 => s.push_str(&format!(
                "; the next run is number {} on {}",
                next.number,
                long_date(next.local.date())
            )),
            None => s.push_str("; there are no more runs"),
            _ => {}
        }
    }
    s.push('.');
    s
}

impl Schedule {
    /// A short summary for the campaign list: "Every 2 weeks on Mon and Thu at 09:00, from
    /// 1 Dec 2026, 10 runs".
    pub fn summary(&self) -> String {
        match &self.kind {
            ScheduleKind::Now => "Once, as soon as published".to_string(),
            ScheduleKind::Once { at } => {
                format!("Once on {} at {}", short_date(at.date()), hhmm(at.time()))
            }
            ScheduleKind::Multiple { times } => match times.iter().min() {
                Some(first) => format!(
                    "{} times, from {} at {}",
                    times.len(),
                    short_date(first.date()),
                    hhmm(first.time())
                ),
                None => "No dates yet".to_string(),
            },
            ScheduleKind::Recurring {
                repeat,
                time,
                start_date,
                end,
            } => {
                let end = match end {
                    End::Never => "no end".to_string(),
                    End::OnDate { date } => format!("until {}", short_date(*date)),
                    End::AfterRuns { runs: 1 } => "1 run".to_string(),
                    End::AfterRuns { runs } => format!("{runs} runs"),
                };
                format!(
                    "{} at {}, from {}, {end}",
                    capitalise(&pattern_words(repeat)),
                    hhmm(*time),
                    short_date(*start_date)
                )
            }
        }
    }
}

// `Deserialize` of the tagged enums and flattened structs, written by hand for code size.
mod de;
pub mod default_zone;

#[cfg(test)]
mod tests;
