use super::*;
use jiff::civil::date;
use serde_json::json;

fn paths(errors: &[FieldError]) -> Vec<&str> {
    errors.iter().map(|e| e.path.as_str()).collect()
}

fn group(combine: Combine, rules: Vec<Segment>) -> Segment {
    Segment::Group(Group { combine, rules })
}

fn did(event: &str, window: Window) -> Segment {
    Segment::Event(EventRule {
        did: true,
        event: event.into(),
        filters: vec![],
        aggregate: None,
        window,
        occurrence: Occurrence::Any,
    })
}

fn plan_is(v: &str) -> Segment {
    Segment::UserProperty(PropertyFilter {
        property: "Plan".into(),
        condition: Condition::Text(TextCondition::Equals { value: v.into() }),
    })
}

#[test]
fn a_valid_segment_has_no_errors() {
    let s = group(
        Combine::AllOf,
        vec![
            did("Charged", Window::LastDays { days: 30 }),
            group(Combine::AnyOf, vec![plan_is("gold"), plan_is("silver")]),
            Segment::SavedSegment(SavedSegmentRule {
                segment_id: 4,
                mode: SavedSegmentMode::Exclude,
            }),
        ],
    );
    assert_eq!(validate_segment(&s, "audience"), vec![]);
    assert_eq!(s.depth(), 2);
    assert_eq!(s.condition_count(), 4);
}

#[test]
fn an_empty_group_is_reported_at_its_own_path() {
    let s = group(
        Combine::AllOf,
        vec![plan_is("gold"), group(Combine::AnyOf, vec![])],
    );
    assert_eq!(
        validate_segment(&s, "audience"),
        vec![FieldError::new(
            "audience.rules[1]",
            "Add at least one condition to this group."
        )]
    );
    assert_eq!(
        paths(&validate_segment(&Segment::empty(), "audience")),
        vec!["audience"]
    );
}

#[test]
fn three_levels_of_groups_are_allowed_and_four_are_not() {
    let three = group(
        Combine::AllOf,
        vec![group(
            Combine::AnyOf,
            vec![group(Combine::AllOf, vec![plan_is("a")])],
        )],
    );
    assert_eq!(validate_segment(&three, "audience"), vec![]);
    let four = group(
        Combine::AllOf,
        vec![group(
            Combine::AnyOf,
            vec![group(
                Combine::AllOf,
                vec![group(Combine::AnyOf, vec![plan_is("a")])],
            )],
        )],
    );
    assert_eq!(
        paths(&validate_segment(&four, "audience")),
        vec!["audience.rules[0].rules[0].rules[0]"]
    );
}

#[test]
fn group_and_total_sizes_are_bounded() {
    let wide = group(Combine::AnyOf, (0..21).map(|_| plan_is("a")).collect());
    assert_eq!(
        paths(&validate_segment(&wide, "audience")),
        vec!["audience.rules"]
    );
    let many = group(
        Combine::AllOf,
        (0..3)
            .map(|_| group(Combine::AnyOf, (0..17).map(|_| plan_is("a")).collect()))
            .collect(),
    );
    assert_eq!(
        paths(&validate_segment(&many, "audience")),
        vec!["audience"]
    );
}

#[test]
fn windows_are_checked() {
    let s = group(
        Combine::AllOf,
        vec![
            did("A", Window::LastDays { days: 0 }),
            did("B", Window::LastHours { hours: 721 }),
            did(
                "C",
                Window::Between {
                    from: date(2027, 3, 10),
                    to: date(2027, 3, 9),
                },
            ),
            did(
                "D",
                Window::Since {
                    date: date(1900, 1, 1),
                },
            ),
            did("", Window::Ever),
        ],
    );
    let errors = validate_segment(&s, "audience");
    assert_eq!(
        paths(&errors),
        vec![
            "audience.rules[0].window.days",
            "audience.rules[1].window.hours",
            "audience.rules[2].window.to",
            "audience.rules[3].window.date",
            "audience.rules[4].event",
        ]
    );
    assert_eq!(
        errors[2].message,
        "The end date must be on or after the start date."
    );
}

#[test]
fn aggregates_are_checked() {
    let rule = |did: bool, aggregate: Aggregate, occurrence: Occurrence| {
        Segment::Event(EventRule {
            did,
            event: "Charged".into(),
            filters: vec![],
            aggregate: Some(aggregate),
            window: Window::Ever,
            occurrence,
        })
    };
    let count = |op, value, include_never_did| Aggregate {
        measure: Measure::Count,
        op,
        value,
        include_never_did,
    };
    let s = group(
        Combine::AllOf,
        vec![
            rule(
                false,
                count(Comparison::AtLeast, 2.0, false),
                Occurrence::Any,
            ),
            rule(
                true,
                count(Comparison::AtLeast, 0.0, false),
                Occurrence::Any,
            ),
            rule(
                true,
                count(Comparison::AtLeast, 1.5, false),
                Occurrence::Any,
            ),
            rule(true, count(Comparison::Exactly, 2.0, true), Occurrence::Any),
            rule(
                true,
                count(Comparison::AtMost, 0.0, true),
                Occurrence::FirstTime,
            ),
            rule(
                true,
                Aggregate {
                    measure: Measure::Sum {
                        property: "".into(),
                    },
                    op: Comparison::AtLeast,
                    value: f64::INFINITY,
                    include_never_did: false,
                },
                Occurrence::Any,
            ),
            rule(true, count(Comparison::AtMost, 0.0, true), Occurrence::Any),
        ],
    );
    assert_eq!(
        paths(&validate_segment(&s, "audience")),
        vec![
            "audience.rules[0].aggregate",
            "audience.rules[1].aggregate.value",
            "audience.rules[2].aggregate.value",
            "audience.rules[3].aggregate.include_never_did",
            "audience.rules[4].occurrence",
            "audience.rules[5].aggregate.property",
            "audience.rules[5].aggregate.value",
        ]
    );
}

#[test]
fn property_conditions_are_checked() {
    let prop = |property: &str, condition| {
        Segment::UserProperty(PropertyFilter {
            property: property.into(),
            condition,
        })
    };
    let s = group(
        Combine::AllOf,
        vec![
            prop("", Condition::Boolean(BooleanCondition::IsTrue)),
            prop(
                &"p".repeat(121),
                Condition::Boolean(BooleanCondition::IsTrue),
            ),
            prop(
                "City",
                Condition::Text(TextCondition::Contains {
                    value: "x".repeat(513),
                }),
            ),
            prop(
                "City",
                Condition::Text(TextCondition::InList {
                    values: vec!["a".into(), "".into()],
                }),
            ),
            prop(
                "Tags",
                Condition::List(ListCondition::ContainsAny {
                    values: (0..101).map(|i| i.to_string()).collect(),
                }),
            ),
            prop(
                "Age",
                Condition::Number(NumberCondition::Between { from: 5.0, to: 1.0 }),
            ),
            prop(
                "Signup",
                Condition::Date(DateCondition::Between {
                    from: date(2027, 2, 1),
                    to: date(2027, 1, 1),
                }),
            ),
            prop(
                "Signup",
                Condition::Date(DateCondition::InLastDays { days: 0 }),
            ),
            Segment::SavedSegment(SavedSegmentRule {
                segment_id: 0,
                mode: SavedSegmentMode::Include,
            }),
        ],
    );
    assert_eq!(
        paths(&validate_segment(&s, "audience")),
        vec![
            "audience.rules[0].property",
            "audience.rules[1].property",
            "audience.rules[2].condition.value",
            "audience.rules[3].condition.values[1]",
            "audience.rules[4].condition.values",
            "audience.rules[5].condition.to",
            "audience.rules[6].condition.to",
            "audience.rules[7].condition.days",
            "audience.rules[8].segment_id",
        ]
    );
}

#[test]
fn event_filters_are_checked_with_their_paths() {
    let s = group(
        Combine::AllOf,
        vec![Segment::Event(EventRule {
            did: true,
            event: "Charged".into(),
            filters: vec![PropertyFilter {
                property: "Amount".into(),
                condition: Condition::Number(NumberCondition::AtLeast { value: f64::NAN }),
            }],
            aggregate: None,
            window: Window::Ever,
            occurrence: Occurrence::Any,
        })],
    );
    assert_eq!(
        paths(&validate_segment(&s, "audience")),
        vec!["audience.rules[0].filters[0].condition.value"]
    );
}

#[test]
fn json_shape_is_stable_and_round_trips() {
    let value = json!({
        "kind": "group", "combine": "all_of", "rules": [
            {"kind": "event", "did": true, "event": "Charged",
             "filters": [{"property": "Category", "condition": {"type": "text", "op": "in_list", "values": ["shoes", "bags"]}}],
             "aggregate": {"of": "sum", "property": "Amount", "op": "at_least", "value": 100.0, "include_never_did": false},
             "window": {"kind": "last_days", "days": 30},
             "occurrence": "any"},
            {"kind": "event", "did": false, "event": "App Launched",
             "window": {"kind": "between", "from": "2027-01-01", "to": "2027-01-31"},
             "occurrence": "first_time"},
            {"kind": "group", "combine": "any_of", "rules": [
                {"kind": "user_property", "property": "Plan", "condition": {"type": "text", "op": "exists"}},
                {"kind": "user_property", "property": "Age", "condition": {"type": "number", "op": "between", "from": 18.0, "to": 30.0}},
                {"kind": "user_property", "property": "Subscribed", "condition": {"type": "boolean", "op": "is_true"}},
                {"kind": "user_property", "property": "Signup", "condition": {"type": "date", "op": "in_last_days", "days": 7}},
                {"kind": "user_property", "property": "Interests", "condition": {"type": "list", "op": "contains_any", "values": ["golf"]}}
            ]},
            {"kind": "saved_segment", "segment_id": 7, "mode": "exclude"}
        ]
    });
    let s: Segment = serde_json::from_value(value.clone()).unwrap();
    assert_eq!(validate_segment(&s, "audience"), vec![]);
    assert_eq!(serde_json::to_value(&s).unwrap(), value);
    // Optional fields may be left out.
    let short: Segment = serde_json::from_value(
        json!({"kind": "event", "did": true, "event": "X", "window": {"kind": "ever"}}),
    )
    .unwrap();
    let Segment::Event(rule) = short else {
        panic!()
    };
    assert_eq!(rule.occurrence, Occurrence::Any);
    assert!(rule.filters.is_empty() && rule.aggregate.is_none());
    // A value of the wrong type for the operator is rejected when parsing.
    assert!(
        serde_json::from_value::<Condition>(
            json!({"type": "number", "op": "equals", "value": "3"})
        )
        .is_err()
    );
    assert!(
        serde_json::from_value::<Condition>(
            json!({"type": "boolean", "op": "contains", "value": "x"})
        )
        .is_err()
    );
}

#[cfg(feature = "openapi")]
#[test]
fn openapi_schema_of_the_recursive_tree_builds() {
    use utoipa::{PartialSchema, ToSchema};
    let _ = Segment::schema();
    let mut schemas = Vec::new();
    Segment::schemas(&mut schemas);
}

/// The tagged enums' `Deserialize` is written by hand (`segment/de.rs`): every variant must read
/// back as the one written, so a variant mapped to the wrong name, or left out, fails here.
#[test]
fn every_variant_of_the_hand_written_deserialisers_round_trips() {
    let conditions = [
        json!({"type": "text", "op": "equals", "value": "a"}),
        json!({"type": "text", "op": "not_equals", "value": "a"}),
        json!({"type": "text", "op": "contains", "value": "a"}),
        json!({"type": "text", "op": "does_not_contain", "value": "a"}),
        json!({"type": "text", "op": "starts_with", "value": "a"}),
        json!({"type": "text", "op": "in_list", "values": ["a", "b"]}),
        json!({"type": "text", "op": "not_in_list", "values": ["a"]}),
        json!({"type": "text", "op": "exists"}),
        json!({"type": "text", "op": "does_not_exist"}),
        json!({"type": "number", "op": "equals", "value": 1.5}),
        json!({"type": "number", "op": "not_equals", "value": 1.5}),
        json!({"type": "number", "op": "less_than", "value": 1.5}),
        json!({"type": "number", "op": "at_most", "value": 1.5}),
        json!({"type": "number", "op": "greater_than", "value": 1.5}),
        json!({"type": "number", "op": "at_least", "value": 1.5}),
        json!({"type": "number", "op": "between", "from": 1.0, "to": 2.0}),
        json!({"type": "boolean", "op": "is_true"}),
        json!({"type": "boolean", "op": "is_false"}),
        json!({"type": "date", "op": "before", "date": "2027-01-02"}),
        json!({"type": "date", "op": "after", "date": "2027-01-02"}),
        json!({"type": "date", "op": "between", "from": "2027-01-02", "to": "2027-02-03"}),
        json!({"type": "date", "op": "in_last_days", "days": 7}),
        json!({"type": "list", "op": "contains_any", "values": ["golf"]}),
    ];
    for value in conditions {
        let parsed: Condition = serde_json::from_value(value.clone()).unwrap();
        assert_eq!(serde_json::to_value(&parsed).unwrap(), value);
    }
    let windows = [
        json!({"kind": "last_days", "days": 30}),
        json!({"kind": "last_hours", "hours": 12}),
        json!({"kind": "between", "from": "2027-01-01", "to": "2027-01-31"}),
        json!({"kind": "since", "date": "2027-01-01"}),
        json!({"kind": "before", "date": "2027-01-01"}),
        json!({"kind": "ever"}),
    ];
    for value in windows {
        let parsed: Window = serde_json::from_value(value.clone()).unwrap();
        assert_eq!(serde_json::to_value(&parsed).unwrap(), value);
    }
    let aggregates = [
        json!({"of": "count", "op": "at_least", "value": 3.0, "include_never_did": false}),
        json!({"of": "sum", "property": "Amount", "op": "at_most", "value": 3.0, "include_never_did": true}),
        json!({"of": "average", "property": "Amount", "op": "exactly", "value": 3.0, "include_never_did": false}),
    ];
    for value in aggregates {
        let parsed: Aggregate = serde_json::from_value(value.clone()).unwrap();
        assert_eq!(serde_json::to_value(&parsed).unwrap(), value);
    }
}
