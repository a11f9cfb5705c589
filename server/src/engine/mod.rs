//! The segment engine: a [`Segment`] evaluated against stored customer data, in SQL.
//!
//! The meaning of every rule is `shared::segment::eval::matches`; this module only translates it,
//! and the differential test (`tests` below) compares the two on random data. The translation:
//!
//! * A segment becomes one boolean expression over `p.id` (a row of `profiles p`). Leaves are
//!   `p.id in (subquery)` with uncorrelated subqueries, which the database computes once per
//!   query, so the cost follows the number of matching rows, not profiles × rules.
//! * Window bounds and calendar arithmetic come from `shared` (`window_bounds`), computed in Rust
//!   and bound as epoch seconds. Stored times are whole seconds, so a bound with a fraction (a run
//!   instant at 09:00:00.5) is rounded to the equivalent whole-second comparison.
//! * "Did not" is `not (did)`, exactly the users "did" leaves out — users with no events
//!   included.
//! * Typed conditions test the stored value's own type, so a property of another type never
//!   matches, as in `shared`.
//!
//! SQL that differs between databases lives in [`dialect`]; only SQLite is implemented so far.

mod dialect;

use std::collections::HashMap;

use jiff::Timestamp;
use jiff::tz::TimeZone;
use shared::segment::eval::{EvalContext, window_bounds};
use shared::segment::{
    Aggregate, BooleanCondition, Combine, Comparison, Condition, DateCondition, EventRule,
    ListCondition, Measure, NumberCondition, Occurrence, PropertyFilter, SavedSegmentMode, Segment,
    TextCondition, Window,
};
use sqlx::SqlitePool;

pub use dialect::PropSource;

/// A value bound to a `?` placeholder.
#[derive(Debug, Clone, PartialEq)]
pub enum Bind {
    Int(i64),
    Real(f64),
    Text(String),
}

/// A compiled segment: `where_sql` is a condition on `p.id` for `from profiles p`.
#[derive(Debug, Clone)]
pub struct SegmentQuery {
    pub where_sql: String,
    pub binds: Vec<Bind>,
}

/// Where and when the segment is evaluated (as `shared`'s `EvalContext`).
pub struct RunAt<'a> {
    pub run_at: Timestamp,
    pub time_zone: &'a TimeZone,
}

/// Compiles `segment` (already validated) for SQLite, looking up the ids of its event names.
/// Saved-segment rules treat every user as a non-member until saved segments exist, as
/// `shared` does for an unknown segment (include fails, exclude passes).
pub async fn compile(
    pool: &SqlitePool,
    segment: &Segment,
    at: &RunAt<'_>,
) -> sqlx::Result<SegmentQuery> {
    let mut names = Vec::new();
    collect_event_names(segment, &mut names);
    let mut ids = HashMap::new();
    for name in names {
        let id: Option<i64> = sqlx::query_scalar("select id from event_names where name = ?")
            .bind(name)
            .fetch_optional(pool)
            .await?;
        // An event never uploaded matches no row; -1 is no id.
        ids.insert(name.to_owned(), id.unwrap_or(-1));
    }
    Ok(compile_with(segment, at, &ids))
}

fn collect_event_names<'a>(segment: &'a Segment, out: &mut Vec<&'a str>) {
    match segment {
        Segment::Group(g) => g.rules.iter().for_each(|r| collect_event_names(r, out)),
        Segment::Event(rule) => out.push(&rule.event),
        Segment::UserProperty(_) | Segment::SavedSegment(_) => {}
    }
}

/// The pure part of [`compile`]: `event_ids` maps each event name of the segment to its id.
pub fn compile_with(
    segment: &Segment,
    at: &RunAt<'_>,
    event_ids: &HashMap<String, i64>,
) -> SegmentQuery {
    let not_member = |_: i64| false;
    let ctx = EvalContext {
        run_at: at.run_at,
        time_zone: at.time_zone,
        in_saved_segment: &not_member,
    };
    let mut c = Compiler {
        ctx,
        event_ids,
        binds: Vec::new(),
    };
    let where_sql = c.segment(segment);
    SegmentQuery {
        where_sql,
        binds: c.binds,
    }
}

/// Whole epoch seconds `s` with `s >= t` ⇔ `s >= ceil(t)`; `s < t` ⇔ `s < ceil(t)`.
fn ceil_second(t: Timestamp) -> i64 {
    let s = t.as_second();
    if t.subsec_nanosecond() > 0 { s + 1 } else { s }
}

/// Whole epoch seconds `s` with `s <= t` ⇔ `s <= floor(t)`.
fn floor_second(t: Timestamp) -> i64 {
    let s = t.as_second();
    if t.subsec_nanosecond() < 0 { s - 1 } else { s }
}

struct Compiler<'a> {
    ctx: EvalContext<'a>,
    event_ids: &'a HashMap<String, i64>,
    binds: Vec<Bind>,
}

impl Compiler<'_> {
    fn int(&mut self, v: i64) -> &'static str {
        self.binds.push(Bind::Int(v));
        "?"
    }

    fn real(&mut self, v: f64) -> &'static str {
        self.binds.push(Bind::Real(v));
        "?"
    }

    fn text(&mut self, v: &str) -> &'static str {
        self.binds.push(Bind::Text(v.to_owned()));
        "?"
    }

    fn text_list(&mut self, values: &[String]) -> String {
        let marks: Vec<&str> = values.iter().map(|v| self.text(v)).collect();
        marks.join(", ")
    }

    fn segment(&mut self, segment: &Segment) -> String {
        match segment {
            Segment::Group(g) => {
                let op = match g.combine {
                    Combine::AllOf => " and ",
                    Combine::AnyOf => " or ",
                };
                // An empty group fails validation; answer as `shared` would (all: true, any: false).
                if g.rules.is_empty() {
                    return match g.combine {
                        Combine::AllOf => "1".into(),
                        Combine::AnyOf => "0".into(),
                    };
                }
                let parts: Vec<String> = g.rules.iter().map(|r| self.segment(r)).collect();
                format!("({})", parts.join(op))
            }
            Segment::UserProperty(f) => self.profile_filter(f),
            Segment::SavedSegment(s) => match s.mode {
                SavedSegmentMode::Include => "0".into(),
                SavedSegmentMode::Exclude => "1".into(),
            },
            Segment::Event(rule) => {
                let did = self.did(rule);
                if rule.did { did } else { format!("not {did}") }
            }
        }
    }

    fn profile_filter(&mut self, f: &PropertyFilter) -> String {
        let src = PropSource::Profile;
        let key = self.text(&f.property);
        match &f.condition {
            Condition::Text(TextCondition::Exists) => {
                format!("(p.id in (select profile_id from profile_props where key = {key}))")
            }
            Condition::Text(TextCondition::DoesNotExist) => {
                format!("(p.id not in (select profile_id from profile_props where key = {key}))")
            }
            c => {
                let cond = self.condition(c, src);
                format!(
                    "(p.id in (select profile_id from profile_props where key = {key} and {cond}))"
                )
            }
        }
    }

    /// A filter on the properties of the event row `e`.
    fn event_filter(&mut self, f: &PropertyFilter) -> String {
        let src = PropSource::Event;
        let key = self.text(&f.property);
        let each = src.each("e");
        match &f.condition {
            Condition::Text(TextCondition::Exists) => {
                format!("exists (select 1 from {each} where j.key = {key})")
            }
            Condition::Text(TextCondition::DoesNotExist) => {
                format!("not exists (select 1 from {each} where j.key = {key})")
            }
            c => {
                let cond = self.condition(c, src);
                format!("exists (select 1 from {each} where j.key = {key} and {cond})")
            }
        }
    }

    /// A typed condition on one stored value (not `exists`/`does_not_exist`).
    fn condition(&mut self, c: &Condition, src: PropSource) -> String {
        match c {
            Condition::Text(t) => {
                let (is, v) = (src.is_text(), src.text());
                let test = match t {
                    TextCondition::Equals { value } => format!("{v} = {}", self.text(value)),
                    TextCondition::NotEquals { value } => format!("{v} <> {}", self.text(value)),
                    TextCondition::Contains { value } => dialect::contains(v, self.text(value)),
                    TextCondition::DoesNotContain { value } => {
                        format!("not {}", dialect::contains(v, self.text(value)))
                    }
                    TextCondition::StartsWith { value } => {
                        let a = self.text(value);
                        let b = self.text(value);
                        dialect::starts_with(v, a, b)
                    }
                    TextCondition::InList { values } => {
                        format!("{v} in ({})", self.text_list(values))
                    }
                    TextCondition::NotInList { values } => {
                        format!("{v} not in ({})", self.text_list(values))
                    }
                    TextCondition::Exists | TextCondition::DoesNotExist => {
                        unreachable!("presence is tested by the caller")
                    }
                };
                format!("({is} and {test})")
            }
            Condition::Number(n) => {
                let (is, v) = (src.is_number(), src.number());
                let test = match *n {
                    NumberCondition::Equals { value } => format!("{v} = {}", self.real(value)),
                    NumberCondition::NotEquals { value } => format!("{v} <> {}", self.real(value)),
                    NumberCondition::LessThan { value } => format!("{v} < {}", self.real(value)),
                    NumberCondition::AtMost { value } => format!("{v} <= {}", self.real(value)),
                    NumberCondition::GreaterThan { value } => {
                        format!("{v} > {}", self.real(value))
                    }
                    NumberCondition::AtLeast { value } => format!("{v} >= {}", self.real(value)),
                    NumberCondition::Between { from, to } => {
                        format!("{v} between {} and {}", self.real(from), self.real(to))
                    }
                };
                format!("({is} and {test})")
            }
            Condition::Boolean(b) => {
                let (is, t) = (src.is_boolean(), src.boolean_true());
                match b {
                    BooleanCondition::IsTrue => format!("({is} and {t})"),
                    BooleanCondition::IsFalse => format!("({is} and not {t})"),
                }
            }
            Condition::Date(d) => {
                let (is, v) = (src.is_date(), src.date());
                // Every date bound is one of `shared`'s window bounds, so the calendar rules are
                // written once.
                let (lo, hi, not_after_run) = match *d {
                    DateCondition::Before { date } => (
                        None,
                        window_bounds(&Window::Before { date }, &self.ctx).1,
                        false,
                    ),
                    DateCondition::After { date } => (
                        window_bounds(
                            &Window::Between {
                                from: date,
                                to: date,
                            },
                            &self.ctx,
                        )
                        .1,
                        None,
                        false,
                    ),
                    DateCondition::Between { from, to } => {
                        let (lo, hi) = window_bounds(&Window::Between { from, to }, &self.ctx);
                        (lo, hi, false)
                    }
                    DateCondition::InLastDays { days } => (
                        window_bounds(&Window::LastDays { days }, &self.ctx).0,
                        None,
                        true,
                    ),
                };
                let mut tests = vec![is.to_owned()];
                if let Some(lo) = lo {
                    tests.push(format!("{v} >= {}", self.int(ceil_second(lo))));
                }
                if let Some(hi) = hi {
                    tests.push(format!("{v} < {}", self.int(ceil_second(hi))));
                }
                if not_after_run {
                    tests.push(format!(
                        "{v} <= {}",
                        self.int(floor_second(self.ctx.run_at))
                    ));
                }
                format!("({})", tests.join(" and "))
            }
            Condition::List(ListCondition::ContainsAny { values }) => {
                let (is, v) = (src.is_list(), src.list());
                let list = self.text_list(values);
                format!(
                    "({is} and exists (select 1 from {} where k.value in ({list})))",
                    dialect::list_elements(v)
                )
            }
        }
    }

    /// `p.id in (…)`: the users for whom the "did" half of `rule` holds.
    fn did(&mut self, rule: &EventRule) -> String {
        // Events of this name, not after R, passing every filter (`relevant` in `shared`).
        let name_id = self.event_ids.get(&rule.event).copied().unwrap_or(-1);
        let mut relevant = format!(
            "e.name_id = {} and e.ts <= {}",
            self.int(name_id),
            self.int(floor_second(self.ctx.run_at))
        );
        for f in &rule.filters {
            let sql = self.event_filter(f);
            relevant.push_str(" and ");
            relevant.push_str(&sql);
        }
        let (lo, hi) = window_bounds(&rule.window, &self.ctx);
        let in_window = |c: &mut Self, col: &str| {
            let mut w = String::new();
            if let Some(lo) = lo {
                w.push_str(&format!(" and {col} >= {}", c.int(ceil_second(lo))));
            }
            if let Some(hi) = hi {
                w.push_str(&format!(" and {col} < {}", c.int(ceil_second(hi))));
            }
            w
        };
        match rule.occurrence {
            Occurrence::FirstTime | Occurrence::LastTime => {
                let f = if rule.occurrence == Occurrence::FirstTime {
                    "min(e.ts)"
                } else {
                    "max(e.ts)"
                };
                let w = in_window(self, f);
                format!(
                    "(p.id in (select e.profile_id from events e where {relevant} \
                     group by e.profile_id having 1{w}))"
                )
            }
            Occurrence::Any => {
                let w = in_window(self, "e.ts");
                let counted = format!("select e.profile_id from events e where {relevant}{w}");
                match &rule.aggregate {
                    None => format!("(p.id in ({counted}))"),
                    Some(a) => self.aggregate(a, &counted),
                }
            }
        }
    }

    fn aggregate(&mut self, a: &Aggregate, counted: &str) -> String {
        let measure = match &a.measure {
            Measure::Count => "count(*)".to_owned(),
            // An event without the property, or with a non-number, adds 0 (as in `shared`).
            Measure::Sum { property } => {
                dialect::total(&dialect::event_number_or_zero("e", self.text(property)))
            }
            Measure::Average { property } => format!(
                "{} / count(*)",
                dialect::total(&dialect::event_number_or_zero("e", self.text(property)))
            ),
        };
        let op = match a.op {
            Comparison::AtLeast => ">=",
            Comparison::AtMost => "<=",
            Comparison::Exactly => "=",
        };
        let value = self.real(a.value);
        let test = format!("{measure} {op} {value}");
        if a.include_never_did {
            // Members: no counted event, or a measure that passes. That is everyone except the
            // users with counted events whose measure fails — one subquery instead of two.
            format!("(p.id not in ({counted} group by e.profile_id having not ({test})))")
        } else {
            format!("(p.id in ({counted} group by e.profile_id having {test}))")
        }
    }
}

/// A member and the Facebook match keys stored for it (normalised at upload; identity is the
/// EXTERN_ID).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Member {
    pub id: i64,
    pub identity: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub gender: Option<String>,
    pub date_of_birth: Option<String>,
    pub city: Option<String>,
    pub state: Option<String>,
    pub zip: Option<String>,
    pub country: Option<String>,
    pub madid: Option<String>,
}

/// Runs compiled segments.
impl SegmentQuery {
    /// `select {columns} from profiles p where <segment>{tail}`.
    pub fn select_sql(&self, columns: &str, tail: &str) -> String {
        format!(
            "select {columns} from profiles p where {}{tail}",
            self.where_sql
        )
    }

    /// How many profiles are members.
    pub async fn count(&self, pool: &SqlitePool) -> sqlx::Result<i64> {
        let sql = self.select_sql("count(*)", "");
        let row: (i64,) = sqlx::query_as_with(&sql, self.arguments())
            .fetch_one(pool)
            .await?;
        Ok(row.0)
    }

    /// The ids of the members, ascending.
    pub async fn member_ids(&self, pool: &SqlitePool) -> sqlx::Result<Vec<i64>> {
        let sql = self.select_sql("p.id", " order by p.id");
        let rows: Vec<(i64,)> = sqlx::query_as_with(&sql, self.arguments())
            .fetch_all(pool)
            .await?;
        Ok(rows.into_iter().map(|r| r.0).collect())
    }

    /// Calls `each` with every member and its match keys, ascending by id, reading rows as they
    /// come: a sync of millions of members does not hold them all in memory. Returns how many.
    pub async fn for_each_member(
        &self,
        pool: &SqlitePool,
        mut each: impl FnMut(Member),
    ) -> sqlx::Result<u64> {
        use futures_util::TryStreamExt;
        let sql = self.select_sql(
            "p.id, p.identity, p.email, p.phone, p.first_name, p.last_name, p.gender, \
             p.date_of_birth, p.city, p.state, p.zip, p.country, p.madid",
            " order by p.id",
        );
        let mut rows = sqlx::query_as_with::<_, Member, _>(&sql, self.arguments()).fetch(pool);
        let mut n = 0;
        while let Some(member) = rows.try_next().await? {
            each(member);
            n += 1;
        }
        Ok(n)
    }

    /// The binds as sqlx arguments, for queries built on [`SegmentQuery::select_sql`].
    pub fn arguments(&self) -> sqlx::sqlite::SqliteArguments<'_> {
        use sqlx::Arguments;
        let mut args = sqlx::sqlite::SqliteArguments::default();
        for b in &self.binds {
            // Adding to SQLite arguments does not fail for these types.
            let _ = match b {
                Bind::Int(v) => args.add(*v),
                Bind::Real(v) => args.add(*v),
                Bind::Text(v) => args.add(v.as_str()),
            };
        }
        args
    }
}

#[cfg(test)]
mod tests;
