//! "Why is this person in (or not in) my audience?": the segment's tree for one person, each
//! node with its verdict and the figure behind it ("did Product Viewed 4 times in the last 30
//! days (needs at least 3)"). Every verdict comes from the same functions as [`matches`], so the
//! root's verdict is the person's membership by definition, and the figures are read off the
//! same events and windows.

use jiff::{Timestamp, tz::TimeZone};
use serde::{Deserialize, Serialize};

use super::{
    EvalContext, EventRecord, ProfileRecord, Value, filter_matches, in_window, matches,
    window_bounds,
};
use crate::segment::{
    Aggregate, BooleanCondition, Combine, Comparison, Condition, DateCondition, EventRule,
    ListCondition, Measure, NumberCondition, Occurrence, PropertyFilter, SavedSegmentMode, Segment,
    TextCondition, Window,
};

/// Saved segments inside saved segments are explained this deep; deeper ones show their verdict
/// only (cycles are refused when segments are saved, this is a second guard).
const MAX_SAVED_DEPTH: usize = 4;

/// One node of the explained tree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Explanation {
    pub matched: bool,
    /// The rule in words, then what this person has: `City is "Pune" — is "Delhi"`.
    pub text: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[cfg_attr(feature = "openapi", schema(no_recursion))]
    pub children: Vec<Explanation>,
}

/// A saved segment's name and definition, for explaining a rule that refers to it.
pub type SavedLookup<'a> = &'a dyn Fn(i64) -> Option<(String, Segment)>;

/// Explains `segment` for one person. `saved` gives the definitions of the saved segments it
/// refers to; membership in them is `ctx.in_saved_segment`, exactly as for [`matches`].
/// Instants in the texts are the viewer's wall clock in `shown_in` ("Mon 7 Dec 2026, 15:21
/// CET"), as the app shows every instant; the evaluation itself is in `ctx.time_zone`.
pub fn explain(
    segment: &Segment,
    profile: &ProfileRecord,
    events: &[EventRecord],
    ctx: &EvalContext<'_>,
    saved: SavedLookup<'_>,
    shown_in: &TimeZone,
) -> Explanation {
    let shown = Shown {
        saved,
        zone: shown_in,
    };
    node(segment, profile, events, ctx, &shown, 0)
}

/// What a node needs besides the person and the context: the saved segments' definitions and
/// the zone its instants are worded in.
struct Shown<'a> {
    saved: SavedLookup<'a>,
    zone: &'a TimeZone,
}

fn node(
    segment: &Segment,
    profile: &ProfileRecord,
    events: &[EventRecord],
    ctx: &EvalContext<'_>,
    shown: &Shown<'_>,
    depth: usize,
) -> Explanation {
    let matched = matches(segment, profile, events, ctx);
    match segment {
        Segment::Group(g) => {
            let children: Vec<Explanation> = g
                .rules
                .iter()
                .map(|r| node(r, profile, events, ctx, shown, depth))
                .collect();
            let true_count = children.iter().filter(|c| c.matched).count();
            let text = match (g.combine, g.rules.len()) {
                (_, 0) => "Everyone (no conditions)".to_owned(),
                (Combine::AllOf, n) => format!("All of these ({true_count} of {n} true)"),
                (Combine::AnyOf, n) => format!("Any of these ({true_count} of {n} true)"),
            };
            Explanation {
                matched,
                text,
                children,
            }
        }
        Segment::UserProperty(f) => Explanation {
            matched,
            text: format!(
                "{} — {}",
                describe_filter(f),
                actual(profile.properties.get(&f.property), shown.zone)
            ),
            children: Vec::new(),
        },
        Segment::SavedSegment(s) => {
            let found = (shown.saved)(s.segment_id);
            let name = found.as_ref().map_or_else(
                || format!("#{}", s.segment_id),
                |(name, _)| format!("\u{201c}{name}\u{201d}"),
            );
            let member = (ctx.in_saved_segment)(s.segment_id);
            let verb = match s.mode {
                SavedSegmentMode::Include => "in",
                SavedSegmentMode::Exclude => "not in",
            };
            let status = if member { "a member" } else { "not a member" };
            let children = match found {
                Some((_, definition)) if depth < MAX_SAVED_DEPTH => {
                    vec![node(&definition, profile, events, ctx, shown, depth + 1)]
                }
                _ => Vec::new(),
            };
            Explanation {
                matched,
                text: format!("{verb} saved segment {name} — {status}"),
                children,
            }
        }
        Segment::Event(rule) => Explanation {
            matched,
            text: describe_event(rule, events, ctx, shown.zone),
            children: Vec::new(),
        },
    }
}

fn describe_event(
    rule: &EventRule,
    events: &[EventRecord],
    ctx: &EvalContext<'_>,
    zone: &TimeZone,
) -> String {
    // The same selection as `did_match`: this name, not after R, every filter passed.
    let relevant: Vec<&EventRecord> = events
        .iter()
        .filter(|e| e.name == rule.event && e.at <= ctx.run_at)
        .filter(|e| {
            rule.filters
                .iter()
                .all(|f| filter_matches(f, &e.properties, ctx))
        })
        .collect();
    let bounds = window_bounds(&rule.window, ctx);
    let counted: Vec<&EventRecord> = relevant
        .iter()
        .copied()
        .filter(|e| in_window(e.at, bounds, ctx.run_at))
        .collect();
    let verb = if rule.did { "did" } else { "did not do" };
    let window = describe_window(&rule.window);
    let filters = if rule.filters.is_empty() {
        String::new()
    } else {
        let list: Vec<String> = rule.filters.iter().map(describe_filter).collect();
        format!(" where {}", list.join(" and "))
    };
    let event = &rule.event;
    let (rule_text, figure) = match rule.occurrence {
        Occurrence::FirstTime | Occurrence::LastTime => {
            let first = rule.occurrence == Occurrence::FirstTime;
            let which = if first { "first" } else { "last" };
            let at = if first {
                relevant.iter().map(|e| e.at).min()
            } else {
                relevant.iter().map(|e| e.at).max()
            };
            let figure = at.map_or_else(
                || "never did it".to_owned(),
                |t| format!("{which} time {}", when(t, zone)),
            );
            (
                format!("{verb} {event}{filters} for the {which} time {window}"),
                figure,
            )
        }
        Occurrence::Any => match &rule.aggregate {
            None => (
                format!("{verb} {event}{filters} {window}"),
                times(counted.len()),
            ),
            Some(a) => {
                let (measure, figure) = measured(a, &counted);
                let never = if a.include_never_did {
                    " (or never did it)"
                } else {
                    ""
                };
                (
                    format!(
                        "{verb} {event}{filters} {window} with {measure} {} {}{never}",
                        comparison(a.op),
                        number(a.value)
                    ),
                    figure,
                )
            }
        },
    };
    format!("{rule_text} — {figure}")
}

fn measured(a: &Aggregate, counted: &[&EventRecord]) -> (String, String) {
    let value = |e: &EventRecord, p: &str| match e.properties.get(p) {
        Some(Value::Number(x)) => *x,
        _ => 0.0,
    };
    match &a.measure {
        Measure::Count => ("a count of".to_owned(), times(counted.len())),
        Measure::Sum { property } => {
            let sum: f64 = counted.iter().map(|e| value(e, property)).sum();
            (
                format!("a total {property} of"),
                format!("total {} over {}", number(sum), times(counted.len())),
            )
        }
        Measure::Average { property } => {
            let figure = if counted.is_empty() {
                "never did it".to_owned()
            } else {
                let avg =
                    counted.iter().map(|e| value(e, property)).sum::<f64>() / counted.len() as f64;
                format!("average {} over {}", number(avg), times(counted.len()))
            };
            (format!("an average {property} of"), figure)
        }
    }
}

fn times(n: usize) -> String {
    match n {
        0 => "0 times".to_owned(),
        1 => "once".to_owned(),
        n => format!("{n} times"),
    }
}

fn comparison(op: Comparison) -> &'static str {
    match op {
        Comparison::AtLeast => "at least",
        Comparison::AtMost => "at most",
        Comparison::Exactly => "exactly",
    }
}

fn describe_window(window: &Window) -> String {
    match window {
        Window::LastDays { days: 1 } => "in the last 1 day".to_owned(),
        Window::LastDays { days } => format!("in the last {days} days"),
        Window::LastHours { hours: 1 } => "in the last hour".to_owned(),
        Window::LastHours { hours } => format!("in the last {hours} hours"),
        Window::Between { from, to } => format!("between {from} and {to}"),
        Window::Since { date } => format!("since {date}"),
        Window::Before { date } => format!("before {date}"),
        Window::Ever => "ever".to_owned(),
    }
}

/// A property condition in words: `City is "Pune"`, `Age ≥ 18`.
pub fn describe_filter(f: &PropertyFilter) -> String {
    let p = &f.property;
    let quoted = |v: &str| format!("\u{201c}{v}\u{201d}");
    let list = |vs: &[String]| vs.iter().map(|v| quoted(v)).collect::<Vec<_>>().join(", ");
    match &f.condition {
        Condition::Text(c) => match c {
            TextCondition::Equals { value } => format!("{p} is {}", quoted(value)),
            TextCondition::NotEquals { value } => format!("{p} is not {}", quoted(value)),
            TextCondition::Contains { value } => format!("{p} contains {}", quoted(value)),
            TextCondition::DoesNotContain { value } => {
                format!("{p} does not contain {}", quoted(value))
            }
            TextCondition::StartsWith { value } => format!("{p} starts with {}", quoted(value)),
            TextCondition::InList { values } => format!("{p} is one of {}", list(values)),
            TextCondition::NotInList { values } => format!("{p} is none of {}", list(values)),
            TextCondition::Exists => format!("{p} is set"),
            TextCondition::DoesNotExist => format!("{p} is not set"),
        },
        Condition::Number(c) => match *c {
            NumberCondition::Equals { value } => format!("{p} = {}", number(value)),
            NumberCondition::NotEquals { value } => format!("{p} ≠ {}", number(value)),
            NumberCondition::LessThan { value } => format!("{p} < {}", number(value)),
            NumberCondition::AtMost { value } => format!("{p} ≤ {}", number(value)),
            NumberCondition::GreaterThan { value } => format!("{p} > {}", number(value)),
            NumberCondition::AtLeast { value } => format!("{p} ≥ {}", number(value)),
            NumberCondition::Between { from, to } => {
                format!("{p} between {} and {}", number(from), number(to))
            }
        },
        Condition::Boolean(BooleanCondition::IsTrue) => format!("{p} is true"),
        Condition::Boolean(BooleanCondition::IsFalse) => format!("{p} is false"),
        Condition::Date(c) => match c {
            DateCondition::Before { date } => format!("{p} is before {date}"),
            DateCondition::After { date } => format!("{p} is after {date}"),
            DateCondition::Between { from, to } => format!("{p} is between {from} and {to}"),
            DateCondition::InLastDays { days } => format!("{p} is in the last {days} days"),
        },
        Condition::List(ListCondition::ContainsAny { values }) => {
            format!("{p} contains any of {}", list(values))
        }
    }
}

/// What the person has: `is “Delhi”`, `not set`, `is 12 (a number)`.
fn actual(value: Option<&Value>, zone: &TimeZone) -> String {
    match value {
        None => "not set".to_owned(),
        Some(Value::Text(s)) => format!("is \u{201c}{s}\u{201d}"),
        Some(Value::Number(x)) => format!("is {} (a number)", number(*x)),
        Some(Value::Boolean(b)) => format!("is {b} (yes/no)"),
        Some(Value::Date(t)) => format!("is {} (a date)", when(*t, zone)),
        Some(Value::List(items)) => format!("is the list [{}]", items.join(", ")),
    }
}

fn number(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{}", x as i64)
    } else {
        format!("{}", (x * 100.0).round() / 100.0)
    }
}

fn when(t: Timestamp, zone: &TimeZone) -> String {
    crate::time_text::instant_text(&crate::time_text::wall_clock(t, zone))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::segment::{Group, SavedSegmentRule};

    fn ctx_at<'a>(tz: &'a TimeZone, member: &'a dyn Fn(i64) -> bool) -> EvalContext<'a> {
        EvalContext {
            run_at: "2026-12-07T12:00:00Z".parse().unwrap(),
            time_zone: tz,
            in_saved_segment: member,
        }
    }

    fn viewed(day: &str) -> EventRecord {
        EventRecord {
            name: "Product Viewed".into(),
            at: format!("2026-{day}T10:00:00Z").parse().unwrap(),
            properties: Default::default(),
        }
    }

    use jiff::tz::TimeZone;

    #[test]
    fn each_rule_says_what_it_asks_and_what_the_person_has() {
        let segment: Segment = serde_json::from_value(serde_json::json!({
            "kind": "group", "combine": "all_of", "rules": [
                {"kind": "event", "did": true, "event": "Product Viewed",
                 "window": {"kind": "last_days", "days": 30},
                 "aggregate": {"of": "count", "op": "at_least", "value": 3.0}},
                {"kind": "user_property", "property": "City",
                 "condition": {"type": "text", "op": "equals", "value": "Pune"}},
                {"kind": "saved_segment", "segment_id": 7, "mode": "exclude"}
            ]
        }))
        .unwrap();
        let profile = ProfileRecord {
            properties: [("City".to_owned(), Value::Text("Delhi".into()))].into(),
        };
        // Four views in the window, one before it, one after the run.
        let events = [
            viewed("12-01"),
            viewed("12-02"),
            viewed("12-03"),
            viewed("12-06"),
            viewed("10-01"),
            viewed("12-08"),
        ];
        let tz = TimeZone::UTC;
        let member = |id: i64| id == 7;
        let lookup = |id: i64| {
            (id == 7).then(|| {
                let s: Segment = serde_json::from_value(serde_json::json!({
                    "kind": "user_property", "property": "City",
                    "condition": {"type": "text", "op": "exists"}
                }))
                .unwrap();
                ("Has a city".to_owned(), s)
            })
        };
        let ctx = ctx_at(&tz, &member);
        let e = explain(&segment, &profile, &events, &ctx, &lookup, &tz);
        assert!(!e.matched);
        assert_eq!(e.text, "All of these (1 of 3 true)");
        assert_eq!(
            e.children[0].text,
            "did Product Viewed in the last 30 days with a count of at least 3 — 4 times"
        );
        assert!(e.children[0].matched);
        assert_eq!(e.children[1].text, "City is “Pune” — is “Delhi”");
        assert!(!e.children[1].matched);
        assert_eq!(
            e.children[2].text,
            "not in saved segment “Has a city” — a member"
        );
        assert!(!e.children[2].matched);
        assert_eq!(e.children[2].children[0].text, "City is set — is “Delhi”");
        assert_eq!(e.matched, matches(&segment, &profile, &events, &ctx));
    }

    #[test]
    fn first_time_and_missing_properties_are_explained() {
        let first: Segment = serde_json::from_value(serde_json::json!({
            "kind": "event", "did": true, "event": "Product Viewed",
            "occurrence": "first_time", "window": {"kind": "last_days", "days": 7}
        }))
        .unwrap();
        let tz = TimeZone::UTC;
        let member = |_: i64| false;
        let ctx = ctx_at(&tz, &member);
        let none = |_: i64| None;
        let e = explain(
            &first,
            &ProfileRecord::default(),
            &[viewed("10-01"), viewed("12-06")],
            &ctx,
            &none,
            &tz,
        );
        assert!(!e.matched);
        assert_eq!(
            e.text,
            "did Product Viewed for the first time in the last 7 days — first time Thu 1 Oct 2026, 10:00 UTC"
        );
        // Evaluated in the campaign's zone, worded in the viewer's.
        let paris = TimeZone::get("Europe/Paris").unwrap();
        let e = explain(
            &first,
            &ProfileRecord::default(),
            &[viewed("10-01")],
            &ctx,
            &none,
            &paris,
        );
        assert!(
            e.text.ends_with("— first time Thu 1 Oct 2026, 12:00 CEST"),
            "{}",
            e.text
        );
        let age = Segment::Group(Group {
            combine: Combine::AnyOf,
            rules: vec![
                serde_json::from_value(serde_json::json!({
                    "kind": "user_property", "property": "Age",
                    "condition": {"type": "number", "op": "at_least", "value": 18.0}
                }))
                .unwrap(),
                Segment::SavedSegment(SavedSegmentRule {
                    segment_id: 3,
                    mode: SavedSegmentMode::Include,
                }),
            ],
        });
        let e = explain(&age, &ProfileRecord::default(), &[], &ctx, &none, &tz);
        assert_eq!(e.text, "Any of these (0 of 2 true)");
        assert_eq!(e.children[0].text, "Age ≥ 18 — not set");
        assert_eq!(e.children[1].text, "in saved segment #3 — not a member");
    }
}
