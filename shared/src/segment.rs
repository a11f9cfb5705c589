//! The "Who" step: which users are in a campaign's audience.
//!
//! A [`Segment`] is a tree. Groups combine their `rules` with `all_of` (AND) or `any_of` (OR) and
//! nest at most [`MAX_DEPTH`] levels; leaves are past behaviour ([`EventRule`]), a user property
//! ([`PropertyFilter`]) or a saved segment ([`SavedSegmentRule`]).
//!
//! The precise meaning of every rule is in `docs/domain.md` and pinned by the reference evaluator
//! [`eval::matches`]; in short:
//!
//! * Everything is evaluated at the run's instant `R` in the campaign's time zone. Events after `R`
//!   are ignored.
//! * "In the last N days" starts at 00:00 (local) of the day N days before the run's local date and
//!   ends at `R` (CleverTap: last 1 day = from 00:00 yesterday until now). "In the last N hours" is
//!   the rolling `[R − N h, R]`. Calendar dates are local dates; "between" includes both days,
//!   "since" includes its day, "before" excludes its day.
//! * A property of the wrong type, or a missing property, never matches (except `does_not_exist`
//!   and `exists`, which look only at presence).
//! * "Did not" is the negation of the same "did" rule, so users with no events match it.

// `Deserialize` of the tagged enums and flattened structs, written by hand for code size.
mod de;
pub mod eval;

use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use crate::error::FieldError;

/// Deepest nesting of groups; the root group is level 1.
pub const MAX_DEPTH: usize = 3;
/// Most rules directly inside one group.
pub const MAX_RULES_PER_GROUP: usize = 20;
/// Most leaf conditions in a whole segment.
pub const MAX_CONDITIONS: usize = 50;
/// Longest event or property name, in characters.
pub const MAX_NAME_LEN: usize = 120;
/// Longest text value, in characters.
pub const MAX_VALUE_LEN: usize = 512;
/// Most values in a list condition.
pub const MAX_LIST_VALUES: usize = 100;
/// Most property filters on one event rule.
pub const MAX_EVENT_FILTERS: usize = 10;
/// Bounds of "in the last N days" (event windows and date properties).
pub const LAST_DAYS: std::ops::RangeInclusive<u32> = 1..=1095;
/// Bounds of "in the last N hours".
pub const LAST_HOURS: std::ops::RangeInclusive<u32> = 1..=720;
/// Largest count in a count condition.
pub const MAX_COUNT: f64 = 1_000_000.0;
/// Largest magnitude of any number in a condition.
pub const MAX_NUMBER: f64 = 1e15;
/// Earliest and latest year of a date in a condition.
pub const DATE_YEARS: std::ops::RangeInclusive<i16> = 1970..=2199;

/// A segment: a group of rules or a single rule, tagged by `kind`.
///
/// ```json
/// {"kind":"group","combine":"all_of","rules":[
///   {"kind":"event","did":true,"event":"Charged","window":{"kind":"last_days","days":30},
///    "aggregate":{"of":"sum","property":"Amount","op":"at_least","value":100}},
///   {"kind":"user_property","property":"Plan","condition":{"type":"text","op":"equals","value":"gold"}},
///   {"kind":"saved_segment","segment_id":7,"mode":"exclude"}]}
/// ```
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Segment {
    Group(Group),
    Event(EventRule),
    UserProperty(PropertyFilter),
    SavedSegment(SavedSegmentRule),
}

/// Rules combined with AND (`all_of`) or OR (`any_of`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Group {
    pub combine: Combine,
    /// 1 to [`MAX_RULES_PER_GROUP`] rules.
    #[cfg_attr(
        feature = "openapi",
        schema(no_recursion, min_items = 1, max_items = 20)
    )]
    pub rules: Vec<Segment>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Combine {
    /// Every rule must match (AND). An empty group would match everyone; validation forbids it.
    AllOf,
    /// At least one rule must match (OR).
    AnyOf,
}

/// Past behaviour: the user did (or did not) do an event in a time window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EventRule {
    /// `true`: did; `false`: did not — exactly the users the same rule with `true` leaves out,
    /// including users with no events at all.
    pub did: bool,
    /// The event name, e.g. `Charged`: not blank, at most [`MAX_NAME_LEN`] characters.
    #[cfg_attr(
        feature = "openapi",
        schema(
            max_length = 120,
            pattern = r"[^\t-\r \u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]"
        )
    )]
    pub event: String,
    /// Only events whose properties pass every filter count; at most [`MAX_EVENT_FILTERS`].
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[cfg_attr(feature = "openapi", schema(max_items = 10))]
    pub filters: Vec<PropertyFilter>,
    /// A condition on the count, sum or average over the counted events; none means "at least
    /// once". Only with `did: true` and `occurrence: any`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aggregate: Option<Aggregate>,
    pub window: Window,
    #[serde(default)]
    pub occurrence: Occurrence,
}

/// A count, sum or average condition.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Aggregate {
    #[serde(flatten)]
    pub measure: Measure,
    pub op: Comparison,
    pub value: f64,
    /// Also match users with no counted event in the window. Only for `at_most`.
    #[serde(default)]
    pub include_never_did: bool,
}

/// What is aggregated over the counted events, tagged by `of`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "of", rename_all = "snake_case")]
pub enum Measure {
    /// How many events.
    Count,
    /// The total of a numeric event property; an event without it (or with a non-number) adds 0.
    Sum {
        #[cfg_attr(
            feature = "openapi",
            schema(
                max_length = 120,
                pattern = r"[^\t-\r \u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]"
            )
        )]
        property: String,
    },
    /// Sum ÷ count; events without the property count as 0 (CleverTap). Add an `exists` filter on
    /// the property to leave them out.
    Average {
        #[cfg_attr(
            feature = "openapi",
            schema(
                max_length = 120,
                pattern = r"[^\t-\r \u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]"
            )
        )]
        property: String,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Comparison {
    /// ≥ value
    AtLeast,
    /// ≤ value
    AtMost,
    /// = value
    Exactly,
}

/// Which occurrence of the event must fall in the window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Occurrence {
    /// Any occurrence (and aggregates count all occurrences in the window).
    #[default]
    Any,
    /// The user's first-ever matching occurrence falls in the window.
    FirstTime,
    /// The user's last matching occurrence up to the run instant falls in the window.
    LastTime,
}

/// The time window of an event rule, tagged by `kind`. Evaluated at the run's instant `R`; ends
/// at `R` unless said otherwise. Dates are calendar dates in the campaign's time zone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Window {
    /// From 00:00 of the day `days` days before the run's date, until `R`.
    LastDays {
        /// [`LAST_DAYS`].
        #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 1095))]
        days: u32,
    },
    /// The rolling `[R − hours, R]`.
    LastHours {
        /// [`LAST_HOURS`].
        #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 720))]
        hours: u32,
    },
    /// From 00:00 of `from` to the end of `to` (both days included), and not after `R`.
    Between { from: Date, to: Date },
    /// From 00:00 of `date` until `R`.
    Since { date: Date },
    /// Before 00:00 of `date` (the day itself is excluded), and not after `R`.
    Before { date: Date },
    /// Any time up to `R`.
    Ever,
}

/// A condition on one property (of the user's profile, or of an event).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PropertyFilter {
    /// Not blank; at most [`MAX_NAME_LEN`] characters.
    #[cfg_attr(
        feature = "openapi",
        schema(
            max_length = 120,
            pattern = r"[^\t-\r \u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]"
        )
    )]
    pub property: String,
    pub condition: Condition,
}

/// A typed condition, tagged by `type` (the property's type) and `op`. A property whose stored
/// value has another type, or no value, never matches — except `exists`/`does_not_exist`.
///
/// `{"type":"text","op":"equals","value":"gold"}`, `{"type":"number","op":"between","from":1,"to":5}`
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Condition {
    Text(TextCondition),
    Number(NumberCondition),
    Boolean(BooleanCondition),
    Date(DateCondition),
    List(ListCondition),
}

/// Text comparisons are exact and case-sensitive.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum TextCondition {
    Equals {
        value: String,
    },
    NotEquals {
        value: String,
    },
    Contains {
        value: String,
    },
    DoesNotContain {
        value: String,
    },
    StartsWith {
        value: String,
    },
    InList {
        values: Vec<String>,
    },
    NotInList {
        values: Vec<String>,
    },
    /// The property has a value of any type.
    Exists,
    /// The property has no value.
    DoesNotExist,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum NumberCondition {
    Equals {
        value: f64,
    },
    NotEquals {
        value: f64,
    },
    LessThan {
        value: f64,
    },
    AtMost {
        value: f64,
    },
    GreaterThan {
        value: f64,
    },
    AtLeast {
        value: f64,
    },
    /// `from ≤ x ≤ to`.
    Between {
        from: f64,
        to: f64,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum BooleanCondition {
    IsTrue,
    IsFalse,
}

/// Dates are calendar dates in the campaign's time zone; the property holds an instant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum DateCondition {
    /// Before 00:00 of `date`.
    Before { date: Date },
    /// From 00:00 of the day after `date`.
    After { date: Date },
    /// From 00:00 of `from` to the end of `to`.
    Between { from: Date, to: Date },
    /// From 00:00 of the day `days` days before the run's date, until the run instant.
    InLastDays { days: u32 },
}

/// For list-valued properties (a list of text).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum ListCondition {
    /// At least one element equals one of `values`.
    ContainsAny { values: Vec<String> },
}

/// Include or exclude the members of a saved segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SavedSegmentRule {
    pub segment_id: i64,
    pub mode: SavedSegmentMode,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum SavedSegmentMode {
    Include,
    Exclude,
}

impl Segment {
    /// An `all_of` group with no rules: what the builder starts from.
    pub fn empty() -> Segment {
        Segment::Group(Group {
            combine: Combine::AllOf,
            rules: Vec::new(),
        })
    }

    /// The number of leaf conditions.
    pub fn condition_count(&self) -> usize {
        match self {
            Segment::Group(g) => g.rules.iter().map(Segment::condition_count).sum(),
            _ => 1,
        }
    }

    /// The deepest group level (the root group is 1; a lone leaf is 0).
    pub fn depth(&self) -> usize {
        match self {
            Segment::Group(g) => 1 + g.rules.iter().map(Segment::depth).max().unwrap_or(0),
            _ => 0,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Validation
// ---------------------------------------------------------------------------------------------

/// Every problem with `segment`; `prefix` is its path (`audience`), so errors read
/// `audience.rules[0].window.days`.
pub fn validate_segment(segment: &Segment, prefix: &str) -> Vec<FieldError> {
    let mut errors = Vec::new();
    walk(segment, prefix, 1, &mut errors);
    let n = segment.condition_count();
    if n > MAX_CONDITIONS {
        errors.push(FieldError::new(
            prefix,
            format!("A segment can have at most {MAX_CONDITIONS} conditions; this one has {n}."),
        ));
    }
    errors
}

fn walk(segment: &Segment, path: &str, level: usize, errors: &mut Vec<FieldError>) {
    match segment {
        Segment::Group(group) => {
            if level > MAX_DEPTH {
                errors.push(FieldError::new(
                    path,
                    format!("Groups can be nested at most {MAX_DEPTH} levels deep."),
                ));
                return;
            }
            if group.rules.is_empty() {
                errors.push(FieldError::new(
                    path,
                    "Add at least one condition to this group.",
                ));
            } else if group.rules.len() > MAX_RULES_PER_GROUP {
                errors.push(FieldError::new(
                    format!("{path}.rules"),
                    format!("A group can hold at most {MAX_RULES_PER_GROUP} conditions."),
                ));
            }
            for (i, rule) in group.rules.iter().enumerate() {
                walk(rule, &format!("{path}.rules[{i}]"), level + 1, errors);
            }
        }
        Segment::Event(rule) => validate_event_rule(rule, path, errors),
        Segment::UserProperty(filter) => validate_filter(filter, path, errors),
        Segment::SavedSegment(rule) => {
            if rule.segment_id <= 0 {
                errors.push(FieldError::new(
                    format!("{path}.segment_id"),
                    "Choose a saved segment.",
                ));
            }
        }
    }
}

fn check_name(errors: &mut Vec<FieldError>, path: String, name: &str, missing: &str) {
    if name.trim().is_empty() {
        errors.push(FieldError::new(path, missing));
    } else if name.chars().count() > MAX_NAME_LEN {
        errors.push(FieldError::new(
            path,
            format!("Names can be at most {MAX_NAME_LEN} characters long."),
        ));
    }
}

fn check_date(errors: &mut Vec<FieldError>, path: String, date: Date) {
    if !DATE_YEARS.contains(&date.year()) {
        errors.push(FieldError::new(
            path,
            format!(
                "Pick a date between the years {} and {}.",
                DATE_YEARS.start(),
                DATE_YEARS.end()
            ),
        ));
    }
}

fn check_date_range(errors: &mut Vec<FieldError>, path: &str, from: Date, to: Date) {
    check_date(errors, format!("{path}.from"), from);
    check_date(errors, format!("{path}.to"), to);
    if to < from {
        errors.push(FieldError::new(
            format!("{path}.to"),
            "The end date must be on or after the start date.",
        ));
    }
}

fn check_number(errors: &mut Vec<FieldError>, path: String, x: f64) {
    if !x.is_finite() || x.abs() > MAX_NUMBER {
        errors.push(FieldError::new(path, "Enter a number of reasonable size."));
    }
}

fn check_days(errors: &mut Vec<FieldError>, path: String, days: u32) {
    if !LAST_DAYS.contains(&days) {
        errors.push(FieldError::new(
            path,
            format!(
                "Enter a number of days from {} to {}.",
                LAST_DAYS.start(),
                LAST_DAYS.end()
            ),
        ));
    }
}

fn check_text(errors: &mut Vec<FieldError>, path: String, value: &str) {
    if value.is_empty() {
        errors.push(FieldError::new(path, "Enter a value."));
    } else if value.chars().count() > MAX_VALUE_LEN {
        errors.push(FieldError::new(
            path,
            format!("Values can be at most {MAX_VALUE_LEN} characters long."),
        ));
    }
}

fn check_list(errors: &mut Vec<FieldError>, path: String, values: &[String]) {
    if values.is_empty() {
        errors.push(FieldError::new(path, "Enter at least one value."));
        return;
    }
    if values.len() > MAX_LIST_VALUES {
        errors.push(FieldError::new(
            path,
            format!("A list can hold at most {MAX_LIST_VALUES} values."),
        ));
        return;
    }
    for (i, v) in values.iter().enumerate() {
        check_text(errors, format!("{path}[{i}]"), v);
    }
}

/// Checks one property filter at `path` (its `property` and `condition`).
pub fn validate_filter(filter: &PropertyFilter, path: &str, errors: &mut Vec<FieldError>) {
    check_name(
        errors,
        format!("{path}.property"),
        &filter.property,
        "Choose a property.",
    );
    let c = format!("{path}.condition");
    match &filter.condition {
        Condition::Text(t) => match t {
            TextCondition::Equals { value }
            | TextCondition::NotEquals { value }
            | TextCondition::Contains { value }
            | TextCondition::DoesNotContain { value }
            | TextCondition::StartsWith { value } => {
                check_text(errors, format!("{c}.value"), value)
            }
            TextCondition::InList { values } | TextCondition::NotInList { values } => {
                check_list(errors, format!("{c}.values"), values)
            }
            TextCondition::Exists | TextCondition::DoesNotExist => {}
        },
        Condition::Number(n) => match n {
            NumberCondition::Equals { value }
            | NumberCondition::NotEquals { value }
            | NumberCondition::LessThan { value }
            | NumberCondition::AtMost { value }
            | NumberCondition::GreaterThan { value }
            | NumberCondition::AtLeast { value } => {
                check_number(errors, format!("{c}.value"), *value)
            }
            NumberCondition::Between { from, to } => {
                check_number(errors, format!("{c}.from"), *from);
                check_number(errors, format!("{c}.to"), *to);
                if to < from {
                    errors.push(FieldError::new(
                        format!("{c}.to"),
                        "The second number must be at least the first.",
                    ));
                }
            }
        },
        Condition::Boolean(_) => {}
        Condition::Date(d) => match d {
            DateCondition::Before { date } | DateCondition::After { date } => {
                check_date(errors, format!("{c}.date"), *date)
            }
            DateCondition::Between { from, to } => check_date_range(errors, &c, *from, *to),
            DateCondition::InLastDays { days } => check_days(errors, format!("{c}.days"), *days),
        },
        Condition::List(ListCondition::ContainsAny { values }) => {
            check_list(errors, format!("{c}.values"), values)
        }
    }
}

fn validate_event_rule(rule: &EventRule, path: &str, errors: &mut Vec<FieldError>) {
    check_name(
        errors,
        format!("{path}.event"),
        &rule.event,
        "Choose an event.",
    );
    if rule.filters.len() > MAX_EVENT_FILTERS {
        errors.push(FieldError::new(
            format!("{path}.filters"),
            format!("An event can have at most {MAX_EVENT_FILTERS} property filters."),
        ));
    } else {
        for (i, f) in rule.filters.iter().enumerate() {
            validate_filter(f, &format!("{path}.filters[{i}]"), errors);
        }
    }
    if let Some(a) = &rule.aggregate {
        let ap = format!("{path}.aggregate");
        if !rule.did {
            errors.push(FieldError::new(
                &ap,
                "A count, total or average can only be used with \u{201c}did\u{201d}; remove it or switch to \u{201c}did\u{201d}.",
            ));
        }
        if rule.occurrence != Occurrence::Any {
            errors.push(FieldError::new(
                format!("{path}.occurrence"),
                "\u{201c}For the first time\u{201d} and \u{201c}for the last time\u{201d} cannot be combined with a count, total or average.",
            ));
        }
        match &a.measure {
            Measure::Count => {
                let min = if a.op == Comparison::AtMost { 0.0 } else { 1.0 };
                if a.value.fract() != 0.0 || a.value < min || a.value > MAX_COUNT {
                    errors.push(FieldError::new(
                        format!("{ap}.value"),
                        format!(
                            "Enter a whole number of times from {min} to {MAX_COUNT}{}.",
                            if min == 0.0 {
                                ""
                            } else {
                                " (use \u{201c}did not\u{201d} for zero)"
                            }
                        ),
                    ));
                }
            }
            Measure::Sum { property } | Measure::Average { property } => {
                check_name(
                    errors,
                    format!("{ap}.property"),
                    property,
                    "Choose the numeric property to add up.",
                );
                check_number(errors, format!("{ap}.value"), a.value);
            }
        }
        if a.include_never_did && a.op != Comparison::AtMost {
            errors.push(FieldError::new(
                format!("{ap}.include_never_did"),
                "Users who never did the event can only be included in an \u{201c}at most\u{201d} condition.",
            ));
        }
    }
    let w = format!("{path}.window");
    match &rule.window {
        Window::LastDays { days } => check_days(errors, format!("{w}.days"), *days),
        Window::LastHours { hours } => {
            if !LAST_HOURS.contains(hours) {
                errors.push(FieldError::new(
                    format!("{w}.hours"),
                    format!(
                        "Enter a number of hours from {} to {}.",
                        LAST_HOURS.start(),
                        LAST_HOURS.end()
                    ),
                ));
            }
        }
        Window::Between { from, to } => check_date_range(errors, &w, *from, *to),
        Window::Since { date } | Window::Before { date } => {
            check_date(errors, format!("{w}.date"), *date)
        }
        Window::Ever => {}
    }
}

#[cfg(test)]
mod tests;
