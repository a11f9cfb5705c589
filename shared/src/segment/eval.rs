//! The reference evaluator: does one user belong to a segment at a run instant?
//!
//! Written to be obviously correct, not fast: it pins the semantics that the server's SQL engine
//! implements (a differential test compares the two). Assumes a segment that passed
//! [`validate_segment`](super::validate_segment).

use std::collections::BTreeMap;

use jiff::civil::{Date, Time};
use jiff::tz::TimeZone;
use jiff::{Span, Timestamp};
use serde::{Deserialize, Serialize};

use super::{
    Aggregate, BooleanCondition, Combine, Comparison, Condition, DateCondition, EventRule,
    ListCondition, Measure, NumberCondition, Occurrence, PropertyFilter, SavedSegmentMode, Segment,
    TextCondition, Window,
};

/// A typed property value: `{"type":"number","value":3}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "type", content = "value", rename_all = "snake_case")]
pub enum Value {
    Text(String),
    Number(f64),
    Boolean(bool),
    /// An instant (CleverTap's `$D_<epoch>` dates).
    Date(Timestamp),
    List(Vec<String>),
}

/// A user's profile properties.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ProfileRecord {
    #[serde(default)]
    pub properties: BTreeMap<String, Value>,
}

/// One event a user did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventRecord {
    pub name: String,
    pub at: Timestamp,
    #[serde(default)]
    pub properties: BTreeMap<String, Value>,
}

/// Where and when a segment is evaluated.
pub struct EvalContext<'a> {
    /// The run's instant `R`: windows end here and later events are ignored.
    pub run_at: Timestamp,
    /// The campaign's time zone: calendar dates and "N days" are counted in it.
    pub time_zone: &'a TimeZone,
    /// Whether this user is a member of saved segment `id`. An unknown segment should answer
    /// `false` (so an include fails and an exclude passes).
    pub in_saved_segment: &'a dyn Fn(i64) -> bool,
}

/// Whether the user with `profile` and `events` (in any order) matches `segment`.
pub fn matches(
    segment: &Segment,
    profile: &ProfileRecord,
    events: &[EventRecord],
    ctx: &EvalContext<'_>,
) -> bool {
    match segment {
        Segment::Group(g) => match g.combine {
            Combine::AllOf => g.rules.iter().all(|r| matches(r, profile, events, ctx)),
            Combine::AnyOf => g.rules.iter().any(|r| matches(r, profile, events, ctx)),
        },
        Segment::UserProperty(f) => filter_matches(f, &profile.properties, ctx),
        Segment::SavedSegment(s) => {
            let member = (ctx.in_saved_segment)(s.segment_id);
            match s.mode {
                SavedSegmentMode::Include => member,
                SavedSegmentMode::Exclude => !member,
            }
        }
        Segment::Event(rule) => {
            let did = did_match(rule, events, ctx);
            if rule.did { did } else { !did }
        }
    }
}

/// 00:00 of `date` in the time zone (the first instant of the day, if midnight is skipped).
pub fn start_of_day(date: Date, tz: &TimeZone) -> Timestamp {
    tz.to_ambiguous_timestamp(date.to_datetime(Time::midnight()))
        .compatible()
        .unwrap_or(Timestamp::MIN)
}

fn days_before(date: Date, days: u32) -> Date {
    date.checked_sub(Span::new().days(i64::from(days)))
        .unwrap_or(Date::MIN)
}

/// The window as `[lower, upper)` plus the rule "not after R": `lower` inclusive (`None`:
/// unbounded), `upper` exclusive (`None`: only bounded by R, inclusive).
pub fn window_bounds(
    window: &Window,
    ctx: &EvalContext<'_>,
) -> (Option<Timestamp>, Option<Timestamp>) {
    let tz = ctx.time_zone;
    let run_date = tz.to_datetime(ctx.run_at).date();
    let next_day = |d: Date| d.tomorrow().unwrap_or(Date::MAX);
    match window {
        Window::LastDays { days } => (Some(start_of_day(days_before(run_date, *days), tz)), None),
        Window::LastHours { hours } => (
            Some(
                ctx.run_at
                    .checked_sub(Span::new().hours(i64::from(*hours)))
                    .unwrap_or(Timestamp::MIN),
            ),
            None,
        ),
        Window::Between { from, to } => (
            Some(start_of_day(*from, tz)),
            Some(start_of_day(next_day(*to), tz)),
        ),
        Window::Since { date } => (Some(start_of_day(*date, tz)), None),
        Window::Before { date } => (None, Some(start_of_day(*date, tz))),
        Window::Ever => (None, None),
    }
}

fn in_window(
    t: Timestamp,
    bounds: (Option<Timestamp>, Option<Timestamp>),
    run_at: Timestamp,
) -> bool {
    t <= run_at && bounds.0.is_none_or(|l| t >= l) && bounds.1.is_none_or(|u| t < u)
}

/// The "did" half of an event rule (before any negation).
fn did_match(rule: &EventRule, events: &[EventRecord], ctx: &EvalContext<'_>) -> bool {
    // Events of this name, not after R, passing every filter.
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
    match rule.occurrence {
        Occurrence::FirstTime => relevant
            .iter()
            .map(|e| e.at)
            .min()
            .is_some_and(|t| in_window(t, bounds, ctx.run_at)),
        Occurrence::LastTime => relevant
            .iter()
            .map(|e| e.at)
            .max()
            .is_some_and(|t| in_window(t, bounds, ctx.run_at)),
        Occurrence::Any => {
            let counted: Vec<&EventRecord> = relevant
                .into_iter()
                .filter(|e| in_window(e.at, bounds, ctx.run_at))
                .collect();
            match &rule.aggregate {
                None => !counted.is_empty(),
                Some(a) => aggregate_matches(a, &counted),
            }
        }
    }
}

fn aggregate_matches(a: &Aggregate, counted: &[&EventRecord]) -> bool {
    if counted.is_empty() {
        // "Never did" in the window: only when the marketer asked to include them.
        return a.include_never_did;
    }
    let number = |e: &EventRecord, p: &str| match e.properties.get(p) {
        Some(Value::Number(x)) => *x,
        _ => 0.0,
    };
    let measured = match &a.measure {
        Measure::Count => counted.len() as f64,
        Measure::Sum { property } => counted.iter().map(|e| number(e, property)).sum(),
        Measure::Average { property } => {
            counted.iter().map(|e| number(e, property)).sum::<f64>() / counted.len() as f64
        }
    };
    match a.op {
        Comparison::AtLeast => measured >= a.value,
        Comparison::AtMost => measured <= a.value,
        Comparison::Exactly => measured == a.value,
    }
}

/// Whether a property filter matches a property map (a profile's or an event's).
pub fn filter_matches(
    filter: &PropertyFilter,
    properties: &BTreeMap<String, Value>,
    ctx: &EvalContext<'_>,
) -> bool {
    let value = properties.get(&filter.property);
    match &filter.condition {
        Condition::Text(TextCondition::Exists) => value.is_some(),
        Condition::Text(TextCondition::DoesNotExist) => value.is_none(),
        Condition::Text(c) => {
            let Some(Value::Text(s)) = value else {
                return false;
            };
            match c {
                TextCondition::Equals { value } => s == value,
                TextCondition::NotEquals { value } => s != value,
                TextCondition::Contains { value } => s.contains(value.as_str()),
                TextCondition::DoesNotContain { value } => !s.contains(value.as_str()),
                TextCondition::StartsWith { value } => s.starts_with(value.as_str()),
                TextCondition::InList { values } => values.contains(s),
                TextCondition::NotInList { values } => !values.contains(s),
                TextCondition::Exists | TextCondition::DoesNotExist => unreachable!(),
            }
        }
        Condition::Number(c) => {
            let Some(Value::Number(x)) = value else {
                return false;
            };
            let x = *x;
            match *c {
                NumberCondition::Equals { value } => x == value,
                NumberCondition::NotEquals { value } => x != value,
                NumberCondition::LessThan { value } => x < value,
                NumberCondition::AtMost { value } => x <= value,
                NumberCondition::GreaterThan { value } => x > value,
                NumberCondition::AtLeast { value } => x >= value,
                NumberCondition::Between { from, to } => from <= x && x <= to,
            }
        }
        Condition::Boolean(c) => {
            let Some(Value::Boolean(b)) = value else {
                return false;
            };
            match c {
                BooleanCondition::IsTrue => *b,
                BooleanCondition::IsFalse => !*b,
            }
        }
        Condition::Date(c) => {
            let Some(Value::Date(t)) = value else {
                return false;
            };
            let tz = ctx.time_zone;
            let t = *t;
            match c {
                DateCondition::Before { date } => t < start_of_day(*date, tz),
                DateCondition::After { date } => {
                    t >= start_of_day(date.tomorrow().unwrap_or(Date::MAX), tz)
                }
                DateCondition::Between { from, to } => {
                    t >= start_of_day(*from, tz)
                        && t < start_of_day(to.tomorrow().unwrap_or(Date::MAX), tz)
                }
                DateCondition::InLastDays { days } => {
                    let run_date = tz.to_datetime(ctx.run_at).date();
                    t >= start_of_day(days_before(run_date, *days), tz) && t <= ctx.run_at
                }
            }
        }
        Condition::List(ListCondition::ContainsAny { values }) => {
            let Some(Value::List(items)) = value else {
                return false;
            };
            items.iter().any(|i| values.contains(i))
        }
    }
}

pub mod explain;

#[cfg(test)]
mod tests;
