use super::*;
use crate::segment::{Group, SavedSegmentRule};
use jiff::civil::date;

fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn ev(name: &str, at: &str) -> EventRecord {
    EventRecord {
        name: name.into(),
        at: ts(at),
        properties: BTreeMap::new(),
    }
}

fn ev_with(name: &str, at: &str, props: &[(&str, Value)]) -> EventRecord {
    EventRecord {
        name: name.into(),
        at: ts(at),
        properties: props
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect(),
    }
}

fn profile(props: &[(&str, Value)]) -> ProfileRecord {
    ProfileRecord {
        properties: props
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect(),
    }
}

fn rule(did: bool, event: &str, window: Window) -> EventRule {
    EventRule {
        did,
        event: event.into(),
        filters: vec![],
        aggregate: None,
        window,
        occurrence: Occurrence::Any,
    }
}

fn no_saved(_: i64) -> bool {
    false
}

/// Evaluates at `run_at` in `tz` with no saved segments.
fn eval_at(
    segment: &Segment,
    p: &ProfileRecord,
    events: &[EventRecord],
    tz: &str,
    run_at: &str,
) -> bool {
    let tz = TimeZone::get(tz).unwrap();
    let ctx = EvalContext {
        run_at: ts(run_at),
        time_zone: &tz,
        in_saved_segment: &no_saved,
    };
    matches(segment, p, events, &ctx)
}

fn eval(segment: &Segment, events: &[EventRecord]) -> bool {
    eval_at(
        segment,
        &ProfileRecord::default(),
        events,
        "UTC",
        "2027-03-10T12:00:00Z",
    )
}

// ----- did / did not -----

#[test]
fn did_not_matches_users_with_no_events_at_all() {
    let s = Segment::Event(rule(false, "Charged", Window::LastDays { days: 30 }));
    assert!(eval(&s, &[]));
    assert!(eval(&s, &[ev("App Launched", "2027-03-09T00:00:00Z")]));
    assert!(!eval(&s, &[ev("Charged", "2027-03-09T00:00:00Z")]));
    // An event before the window does not count.
    assert!(eval(&s, &[ev("Charged", "2027-01-01T00:00:00Z")]));
}

#[test]
fn events_after_the_run_instant_are_ignored() {
    let s = Segment::Event(rule(true, "Charged", Window::Ever));
    assert!(!eval(&s, &[ev("Charged", "2027-03-10T12:00:01Z")]));
    assert!(eval(&s, &[ev("Charged", "2027-03-10T12:00:00Z")]));
}

// ----- aggregates -----

fn count_rule(op: Comparison, value: f64, include_never_did: bool) -> Segment {
    Segment::Event(EventRule {
        aggregate: Some(Aggregate {
            measure: Measure::Count,
            op,
            value,
            include_never_did,
        }),
        ..rule(true, "Charged", Window::LastDays { days: 7 })
    })
}

#[test]
fn at_most_leaves_out_users_who_never_did_it_unless_asked() {
    let one = [ev("Charged", "2027-03-09T00:00:00Z")];
    let three = [
        ev("Charged", "2027-03-07T00:00:00Z"),
        ev("Charged", "2027-03-08T00:00:00Z"),
        ev("Charged", "2027-03-09T00:00:00Z"),
    ];
    let without = count_rule(Comparison::AtMost, 2.0, false);
    assert!(eval(&without, &one));
    assert!(!eval(&without, &three));
    assert!(!eval(&without, &[]), "never did, not included");
    // Did it only outside the window: also "never did" in the window.
    assert!(!eval(&without, &[ev("Charged", "2027-01-01T00:00:00Z")]));
    let with = count_rule(Comparison::AtMost, 2.0, true);
    assert!(eval(&with, &one));
    assert!(!eval(&with, &three));
    assert!(eval(&with, &[]), "never did, included");
    assert!(eval(&with, &[ev("Charged", "2027-01-01T00:00:00Z")]));
}

#[test]
fn at_least_and_exactly_count_events_in_the_window() {
    let two = [
        ev("Charged", "2027-03-08T00:00:00Z"),
        ev("Charged", "2027-03-09T00:00:00Z"),
    ];
    assert!(eval(&count_rule(Comparison::AtLeast, 2.0, false), &two));
    assert!(!eval(&count_rule(Comparison::AtLeast, 3.0, false), &two));
    assert!(eval(&count_rule(Comparison::Exactly, 2.0, false), &two));
    assert!(!eval(&count_rule(Comparison::Exactly, 1.0, false), &two));
}

fn amount(x: f64) -> (&'static str, Value) {
    ("Amount", Value::Number(x))
}

#[test]
fn sum_and_average_treat_a_missing_property_as_zero() {
    let events = [
        ev_with("Charged", "2027-03-08T00:00:00Z", &[amount(100.0)]),
        ev_with("Charged", "2027-03-09T00:00:00Z", &[amount(50.0)]),
        ev("Charged", "2027-03-09T01:00:00Z"),
        ev_with(
            "Charged",
            "2027-03-09T02:00:00Z",
            &[("Amount", Value::Text("1000".into()))],
        ),
    ];
    let agg = |measure, op, value, filters| {
        Segment::Event(EventRule {
            filters,
            aggregate: Some(Aggregate {
                measure,
                op,
                value,
                include_never_did: false,
            }),
            ..rule(true, "Charged", Window::Ever)
        })
    };
    let sum = || Measure::Sum {
        property: "Amount".into(),
    };
    let avg = || Measure::Average {
        property: "Amount".into(),
    };
    assert!(eval(
        &agg(sum(), Comparison::Exactly, 150.0, vec![]),
        &events
    ));
    // 150 / 4 events = 37.5: the missing and the text amounts count as 0.
    assert!(eval(
        &agg(avg(), Comparison::Exactly, 37.5, vec![]),
        &events
    ));
    // With an "Amount is a number" style filter (exists) the missing one is left out; the text
    // one still counts as 0: 150 / 3 = 50.
    let exists = vec![PropertyFilter {
        property: "Amount".into(),
        condition: Condition::Text(TextCondition::Exists),
    }];
    assert!(eval(
        &agg(avg(), Comparison::Exactly, 50.0, exists),
        &events
    ));
    // Only numbers: a number filter (type mismatch never matches) gives 150 / 2 = 75.
    let numeric = vec![PropertyFilter {
        property: "Amount".into(),
        condition: Condition::Number(NumberCondition::AtLeast { value: 0.0 }),
    }];
    assert!(eval(
        &agg(avg(), Comparison::AtLeast, 75.0, numeric),
        &events
    ));
}

// ----- first / last time -----

fn occurrence_rule(occurrence: Occurrence) -> Segment {
    Segment::Event(EventRule {
        occurrence,
        ..rule(true, "App Launched", Window::LastDays { days: 7 })
    })
}

#[test]
fn first_time_means_the_first_ever_occurrence_is_in_the_window() {
    // Run 10 March 12:00 Berlin; last 7 days starts 3 March 00:00 Berlin = 2 March 23:00Z.
    let run = "2027-03-10T11:00:00Z";
    let first = occurrence_rule(Occurrence::FirstTime);
    let at_edge = [ev("App Launched", "2027-03-02T23:00:00Z")];
    let just_before = [ev("App Launched", "2027-03-02T22:59:59Z")];
    let p = ProfileRecord::default();
    assert!(eval_at(&first, &p, &at_edge, "Europe/Berlin", run));
    assert!(!eval_at(&first, &p, &just_before, "Europe/Berlin", run));
    // An earlier first occurrence disqualifies even with later ones in the window.
    let both = [
        ev("App Launched", "2027-03-02T22:59:59Z"),
        ev("App Launched", "2027-03-09T00:00:00Z"),
    ];
    assert!(!eval_at(&first, &p, &both, "Europe/Berlin", run));
    assert!(eval_at(
        &occurrence_rule(Occurrence::Any),
        &p,
        &both,
        "Europe/Berlin",
        run
    ));
}

#[test]
fn last_time_means_the_last_occurrence_up_to_the_run_is_in_the_window() {
    let run = "2027-03-10T11:00:00Z";
    let last = occurrence_rule(Occurrence::LastTime);
    let p = ProfileRecord::default();
    // Last occurrence exactly at the window's start.
    let edge = [
        ev("App Launched", "2027-02-01T00:00:00Z"),
        ev("App Launched", "2027-03-02T23:00:00Z"),
    ];
    assert!(eval_at(&last, &p, &edge, "Europe/Berlin", run));
    // Last occurrence just before the window.
    let before = [ev("App Launched", "2027-03-02T22:59:59Z")];
    assert!(!eval_at(&last, &p, &before, "Europe/Berlin", run));
    // A later occurrence after the run instant does not count as "last".
    let future = [
        ev("App Launched", "2027-03-05T00:00:00Z"),
        ev("App Launched", "2027-03-11T00:00:00Z"),
    ];
    assert!(eval_at(&last, &p, &future, "Europe/Berlin", run));
    // "Stopped doing it": did not, last time in the last 7 days.
    let stopped = Segment::Event(EventRule {
        did: false,
        occurrence: Occurrence::LastTime,
        ..rule(true, "App Launched", Window::LastDays { days: 7 })
    });
    assert!(eval_at(&stopped, &p, &before, "Europe/Berlin", run));
    assert!(!eval_at(&stopped, &p, &edge, "Europe/Berlin", run));
}

// ----- windows and time zones -----

#[test]
fn calendar_windows_use_the_campaigns_time_zone() {
    // Between 3 and 5 March in Asia/Kolkata (UTC+05:30).
    let s = Segment::Event(rule(
        true,
        "Charged",
        Window::Between {
            from: date(2027, 3, 3),
            to: date(2027, 3, 5),
        },
    ));
    let p = ProfileRecord::default();
    let run = "2027-03-10T00:00:00Z";
    // 23:30 local on 3 March (the window's first day) = 18:00Z: counts.
    let first_day = [ev("Charged", "2027-03-03T18:00:00Z")];
    // 23:30 local on 2 March = 18:00Z on 2 March: does not.
    let day_before = [ev("Charged", "2027-03-02T18:00:00Z")];
    assert!(eval_at(&s, &p, &first_day, "Asia/Kolkata", run));
    assert!(!eval_at(&s, &p, &day_before, "Asia/Kolkata", run));
    // The same instants judged in UTC give the opposite answer for 23:30 local on 5 March.
    let last_day_late = [ev("Charged", "2027-03-05T18:00:00Z")];
    assert!(eval_at(&s, &p, &last_day_late, "Asia/Kolkata", run));
    let after_end = [ev("Charged", "2027-03-05T18:30:00Z")]; // 00:00 local on 6 March
    assert!(!eval_at(&s, &p, &after_end, "Asia/Kolkata", run));
    assert!(eval_at(&s, &p, &after_end, "UTC", run));
}

#[test]
fn last_1_day_starts_at_midnight_yesterday_and_last_24_hours_rolls() {
    let run = "2027-03-10T15:00:00Z";
    let p = ProfileRecord::default();
    let day = Segment::Event(rule(true, "X", Window::LastDays { days: 1 }));
    let hours = Segment::Event(rule(true, "X", Window::LastHours { hours: 24 }));
    let yesterday_morning = [ev("X", "2027-03-09T01:00:00Z")];
    assert!(eval_at(&day, &p, &yesterday_morning, "UTC", run));
    assert!(!eval_at(&hours, &p, &yesterday_morning, "UTC", run));
    let two_days_ago = [ev("X", "2027-03-08T23:59:59Z")];
    assert!(!eval_at(&day, &p, &two_days_ago, "UTC", run));
    let edge = [ev("X", "2027-03-09T15:00:00Z")];
    assert!(eval_at(&hours, &p, &edge, "UTC", run));
}

#[test]
fn since_includes_its_day_and_before_excludes_it() {
    let p = ProfileRecord::default();
    let run = "2027-03-10T00:00:00Z";
    let since = Segment::Event(rule(
        true,
        "X",
        Window::Since {
            date: date(2027, 3, 5),
        },
    ));
    let before = Segment::Event(rule(
        true,
        "X",
        Window::Before {
            date: date(2027, 3, 5),
        },
    ));
    let on_day = [ev("X", "2027-03-05T00:00:00Z")];
    let day_before = [ev("X", "2027-03-04T23:59:59Z")];
    assert!(eval_at(&since, &p, &on_day, "UTC", run));
    assert!(!eval_at(&since, &p, &day_before, "UTC", run));
    assert!(!eval_at(&before, &p, &on_day, "UTC", run));
    assert!(eval_at(&before, &p, &day_before, "UTC", run));
}

// ----- properties -----

fn user_prop(property: &str, condition: Condition) -> Segment {
    Segment::UserProperty(PropertyFilter {
        property: property.into(),
        condition,
    })
}

#[test]
fn a_property_of_another_type_never_matches() {
    let p = profile(&[("Plan", Value::Number(3.0))]);
    let run = "2027-03-10T00:00:00Z";
    let text = |c| user_prop("Plan", Condition::Text(c));
    assert!(!eval_at(
        &text(TextCondition::Equals { value: "3".into() }),
        &p,
        &[],
        "UTC",
        run
    ));
    assert!(!eval_at(
        &text(TextCondition::NotEquals {
            value: "gold".into()
        }),
        &p,
        &[],
        "UTC",
        run
    ));
    assert!(!eval_at(
        &text(TextCondition::NotInList {
            values: vec!["a".into()]
        }),
        &p,
        &[],
        "UTC",
        run
    ));
    // Presence does not look at the type.
    assert!(eval_at(&text(TextCondition::Exists), &p, &[], "UTC", run));
    assert!(!eval_at(
        &text(TextCondition::DoesNotExist),
        &p,
        &[],
        "UTC",
        run
    ));
    assert!(!eval_at(
        &user_prop("Plan", Condition::Boolean(BooleanCondition::IsTrue)),
        &p,
        &[],
        "UTC",
        run
    ));
    assert!(eval_at(
        &user_prop(
            "Plan",
            Condition::Number(NumberCondition::Equals { value: 3.0 })
        ),
        &p,
        &[],
        "UTC",
        run
    ));
    // A missing property matches no comparison, including the negative ones.
    let empty = ProfileRecord::default();
    assert!(!eval_at(
        &text(TextCondition::NotEquals {
            value: "gold".into()
        }),
        &empty,
        &[],
        "UTC",
        run
    ));
    assert!(eval_at(
        &text(TextCondition::DoesNotExist),
        &empty,
        &[],
        "UTC",
        run
    ));
}

#[test]
fn text_number_boolean_date_and_list_operators() {
    let p = profile(&[
        ("City", Value::Text("Mumbai".into())),
        ("Age", Value::Number(30.0)),
        ("Subscribed", Value::Boolean(false)),
        ("Signup", Value::Date(ts("2027-03-04T20:00:00Z"))), // 5 March 01:30 in Kolkata
        (
            "Interests",
            Value::List(vec!["golf".into(), "tennis".into()]),
        ),
    ]);
    let run = "2027-03-10T00:00:00Z";
    let check = |s: Segment, expected: bool| {
        assert_eq!(eval_at(&s, &p, &[], "Asia/Kolkata", run), expected, "{s:?}");
    };
    let text = |c| user_prop("City", Condition::Text(c));
    check(
        text(TextCondition::Equals {
            value: "Mumbai".into(),
        }),
        true,
    );
    check(
        text(TextCondition::Equals {
            value: "mumbai".into(),
        }),
        false,
    );
    check(
        text(TextCondition::Contains {
            value: "mba".into(),
        }),
        true,
    );
    check(
        text(TextCondition::DoesNotContain {
            value: "mba".into(),
        }),
        false,
    );
    check(
        text(TextCondition::StartsWith {
            value: "Mum".into(),
        }),
        true,
    );
    check(
        text(TextCondition::InList {
            values: vec!["Pune".into(), "Mumbai".into()],
        }),
        true,
    );
    check(
        text(TextCondition::NotInList {
            values: vec!["Pune".into()],
        }),
        true,
    );
    let num = |c| user_prop("Age", Condition::Number(c));
    check(num(NumberCondition::NotEquals { value: 30.0 }), false);
    check(num(NumberCondition::LessThan { value: 30.0 }), false);
    check(num(NumberCondition::AtMost { value: 30.0 }), true);
    check(num(NumberCondition::GreaterThan { value: 29.5 }), true);
    check(num(NumberCondition::AtLeast { value: 31.0 }), false);
    check(
        num(NumberCondition::Between {
            from: 30.0,
            to: 30.0,
        }),
        true,
    );
    check(
        user_prop("Subscribed", Condition::Boolean(BooleanCondition::IsFalse)),
        true,
    );
    let d = |c| user_prop("Signup", Condition::Date(c));
    // Local date of Signup is 5 March (Kolkata), although it is 4 March in UTC.
    check(
        d(DateCondition::Before {
            date: date(2027, 3, 5),
        }),
        false,
    );
    check(
        d(DateCondition::After {
            date: date(2027, 3, 4),
        }),
        true,
    );
    check(
        d(DateCondition::After {
            date: date(2027, 3, 5),
        }),
        false,
    );
    check(
        d(DateCondition::Between {
            from: date(2027, 3, 5),
            to: date(2027, 3, 5),
        }),
        true,
    );
    // Run is 10 March 05:30 local: last 5 days starts 5 March 00:00 local.
    check(d(DateCondition::InLastDays { days: 5 }), true);
    check(d(DateCondition::InLastDays { days: 4 }), false);
    let list = |v: &[&str]| {
        user_prop(
            "Interests",
            Condition::List(ListCondition::ContainsAny {
                values: v.iter().map(|s| s.to_string()).collect(),
            }),
        )
    };
    check(list(&["chess", "golf"]), true);
    check(list(&["chess"]), false);
    // A list property is not text.
    check(
        user_prop(
            "Interests",
            Condition::Text(TextCondition::Equals {
                value: "golf".into(),
            }),
        ),
        false,
    );
}

// ----- groups and saved segments -----

#[test]
fn groups_and_saved_segments_combine() {
    let tz = TimeZone::UTC;
    let in_seven = |id: i64| id == 7;
    let ctx = EvalContext {
        run_at: ts("2027-03-10T00:00:00Z"),
        time_zone: &tz,
        in_saved_segment: &in_seven,
    };
    let saved = |segment_id, mode| Segment::SavedSegment(SavedSegmentRule { segment_id, mode });
    let p = ProfileRecord::default();
    let all = |rules| {
        Segment::Group(Group {
            combine: Combine::AllOf,
            rules,
        })
    };
    let any = |rules| {
        Segment::Group(Group {
            combine: Combine::AnyOf,
            rules,
        })
    };
    // Include 7 and exclude 8: ANDed.
    assert!(matches(
        &all(vec![
            saved(7, SavedSegmentMode::Include),
            saved(8, SavedSegmentMode::Exclude)
        ]),
        &p,
        &[],
        &ctx
    ));
    assert!(!matches(
        &all(vec![
            saved(7, SavedSegmentMode::Include),
            saved(7, SavedSegmentMode::Exclude)
        ]),
        &p,
        &[],
        &ctx
    ));
    assert!(matches(
        &any(vec![
            saved(8, SavedSegmentMode::Include),
            saved(7, SavedSegmentMode::Include)
        ]),
        &p,
        &[],
        &ctx
    ));
    assert!(!matches(
        &any(vec![saved(8, SavedSegmentMode::Include)]),
        &p,
        &[],
        &ctx
    ));
}

#[test]
fn values_and_records_round_trip_as_json() {
    let e = ev_with(
        "Charged",
        "2027-03-08T00:00:00Z",
        &[
            amount(10.5),
            ("When", Value::Date(ts("2027-03-08T00:00:00Z"))),
            ("Items", Value::List(vec!["a".into()])),
            ("Gift", Value::Boolean(true)),
            ("Note", Value::Text("hi".into())),
        ],
    );
    let json = serde_json::to_value(&e).unwrap();
    assert_eq!(
        json["properties"]["Amount"],
        serde_json::json!({"type": "number", "value": 10.5})
    );
    assert_eq!(
        json["properties"]["When"],
        serde_json::json!({"type": "date", "value": "2027-03-08T00:00:00Z"})
    );
    assert_eq!(serde_json::from_value::<EventRecord>(json).unwrap(), e);
    let p = profile(&[("City", Value::Text("Pune".into()))]);
    let back: ProfileRecord = serde_json::from_str(&serde_json::to_string(&p).unwrap()).unwrap();
    assert_eq!(back, p);
}
