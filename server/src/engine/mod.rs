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
//! SQL that differs between databases lives in [`dialect`]: SQLite and PostgreSQL compile the
//! same plan with their own fragments, and a [`SegmentQuery`] remembers which one it was compiled
//! for.

mod dialect;
mod sets;

use std::collections::HashMap;

use jiff::Timestamp;
use jiff::tz::TimeZone;
use shared::segment::eval::{EvalContext, window_bounds};
use shared::segment::{
    Aggregate, BooleanCondition, Combine, Comparison, Condition, DateCondition, EventRule,
    ListCondition, Measure, NumberCondition, Occurrence, PropertyFilter, SavedSegmentMode, Segment,
    TextCondition, Window,
};
use sqlx::{PgPool, SqlitePool};

use crate::customer::store::DAY;
use crate::db::Db;

pub use dialect::{Dialect, PropSource};
pub use sets::{Bits, Evaluation, Leaf, Plan};

/// The database the engine reads: `&SqlitePool`, `&PgPool` and `&Db` all convert into it, so
/// callers pass whichever they hold.
#[derive(Debug, Clone, Copy)]
pub enum Pool<'a> {
    Sqlite(&'a SqlitePool),
    Postgres(&'a PgPool),
}

impl Pool<'_> {
    pub fn dialect(self) -> Dialect {
        match self {
            Self::Sqlite(_) => Dialect::Sqlite,
            Self::Postgres(_) => Dialect::Postgres,
        }
    }
}

impl<'a> From<&'a SqlitePool> for Pool<'a> {
    fn from(pool: &'a SqlitePool) -> Self {
        Self::Sqlite(pool)
    }
}

impl<'a> From<&'a PgPool> for Pool<'a> {
    fn from(pool: &'a PgPool) -> Self {
        Self::Postgres(pool)
    }
}

impl<'a> From<&'a Db> for Pool<'a> {
    fn from(db: &'a Db) -> Self {
        match db {
            Db::Sqlite(pool) => Self::Sqlite(pool),
            Db::Postgres(pool) => Self::Postgres(pool),
        }
    }
}

/// Runs `$body` with `$pool` bound to the pool inside an engine [`Pool`].
macro_rules! on_pool {
    ($p:expr, $pool:ident => $body:expr) => {
        match $p {
            $crate::engine::Pool::Sqlite($pool) => $body,
            $crate::engine::Pool::Postgres($pool) => $body,
        }
    };
}
pub(crate) use on_pool;

/// A value bound to a placeholder.
#[derive(Debug, Clone, PartialEq)]
pub enum Bind {
    Int(i64),
    Real(f64),
    Text(String),
}

/// A compiled segment: `where_sql` is a condition on `p.id` for `from profiles p` (with `?`
/// placeholders; see [`Dialect::numbered`]) after the common table expressions of `with_sql`;
/// `plan` is the same segment as set algebra over id lists, which [`SegmentQuery::evaluate`]
/// runs.
///
/// Each saved segment the segment uses, directly or through others, is compiled once however
/// many rules refer to it: a CTE `saved_seg_<i>` of `with_sql` and a plan of `saved_plans`
/// ([`Plan::Saved`]`(i)`), each evaluated once per evaluation. Inlining them instead made a
/// segment using 20 × a segment using 20 × … grow exponentially (160,000 queries at 4 levels).
/// A condition tests membership as `s<i>.id is not null` through one left join per saved
/// segment it uses (`from_sql`), not `p.id in (select … from saved_seg_<i>)` per rule: SQLite
/// copies a CTE into every place that names it, which would grow exponentially again.
#[derive(Debug, Clone)]
pub struct SegmentQuery {
    pub dialect: Dialect,
    /// `with saved_seg_0 as materialized (…), … ` (empty without saved segments).
    pub with_sql: String,
    /// ` left join saved_seg_<i> s<i> on s<i>.id = p.id…`: after `from profiles p`.
    pub from_sql: String,
    pub where_sql: String,
    /// The binds of `with_sql`'s placeholders, then those of `where_sql`.
    pub binds: Vec<Bind>,
    pub plan: Plan,
    /// The plans of the saved segments, in order of dependency: each refers only to earlier
    /// ones.
    pub saved_plans: Vec<Plan>,
}

/// A compiled piece of a segment, in both forms.
struct Node {
    sql: String,
    plan: Plan,
}

impl Node {
    /// Members: the profiles `leaf` selects.
    fn ids(leaf: Leaf) -> Node {
        Node {
            sql: format!("(p.id in ({}))", leaf.sql),
            plan: Plan::Ids(leaf),
        }
    }

    fn not(self) -> Node {
        Node {
            sql: format!("not {}", self.sql),
            plan: Plan::Not(Box::new(self.plan)),
        }
    }
}

/// Where and when the segment is evaluated (as `shared`'s `EvalContext`).
pub struct RunAt<'a> {
    pub run_at: Timestamp,
    pub time_zone: &'a TimeZone,
}

/// Compiles `segment` (already validated) for the database of `pool`, looking up the ids of its
/// event names and the definitions of the saved segments it includes or excludes (and theirs,
/// transitively).
pub async fn compile<'a>(
    pool: impl Into<Pool<'a>>,
    segment: &Segment,
    at: &RunAt<'_>,
) -> sqlx::Result<SegmentQuery> {
    let pool = pool.into();
    // Uploads' events may still be staged (customer::writer): merged first, so that the query
    // built here sees every event uploaded before it.
    crate::customer::writer::flush_pool(pool).await?;
    let saved = load_saved_segments(pool, segment).await?;
    let mut names = Vec::new();
    collect_event_names(segment, &mut names);
    for definition in saved.values() {
        collect_event_names(definition, &mut names);
    }
    names.sort_unstable();
    names.dedup();
    let mut ids = HashMap::new();
    for name in names {
        let id: Option<i64> = on_pool!(pool, pool => {
            sqlx::query_scalar("select id from event_names where name = $1")
                .bind(name)
                .fetch_optional(pool)
                .await?
        });
        // An event never uploaded matches no row; -1 is no id.
        ids.insert(name.to_owned(), id.unwrap_or(-1));
    }
    Ok(compile_for(pool.dialect(), segment, at, &ids, &saved))
}

/// The definitions of every saved segment `segment` refers to, directly or through other saved
/// segments. A missing id is left out: the rule then treats everyone as a non-member.
async fn load_saved_segments(
    pool: Pool<'_>,
    segment: &Segment,
) -> sqlx::Result<HashMap<i64, Segment>> {
    let mut saved = HashMap::new();
    let mut todo = Vec::new();
    collect_saved_ids(segment, &mut todo);
    while let Some(id) = todo.pop() {
        if saved.contains_key(&id) {
            continue;
        }
        let row: Option<String> = on_pool!(pool, pool => {
            sqlx::query_scalar("select definition from saved_segments where id = $1")
                .bind(id)
                .fetch_optional(pool)
                .await?
        });
        let Some(definition) = row.and_then(|json| serde_json::from_str::<Segment>(&json).ok())
        else {
            continue;
        };
        collect_saved_ids(&definition, &mut todo);
        saved.insert(id, definition);
    }
    Ok(saved)
}

fn collect_saved_ids(segment: &Segment, out: &mut Vec<i64>) {
    match segment {
        Segment::Group(g) => g.rules.iter().for_each(|r| collect_saved_ids(r, out)),
        Segment::SavedSegment(s) => out.push(s.segment_id),
        Segment::Event(_) | Segment::UserProperty(_) => {}
    }
}

fn collect_event_names<'a>(segment: &'a Segment, out: &mut Vec<&'a str>) {
    match segment {
        Segment::Group(g) => g.rules.iter().for_each(|r| collect_event_names(r, out)),
        Segment::Event(rule) => out.push(&rule.event),
        Segment::UserProperty(_) | Segment::SavedSegment(_) => {}
    }
}

/// The pure part of [`compile`] (for SQLite) for a segment without saved-segment rules (they
/// then treat everyone as a non-member): `event_ids` maps each event name of the segment to its
/// id.
pub fn compile_with(
    segment: &Segment,
    at: &RunAt<'_>,
    event_ids: &HashMap<String, i64>,
) -> SegmentQuery {
    compile_with_saved(segment, at, event_ids, &HashMap::new())
}

/// [`compile_for`] SQLite.
pub fn compile_with_saved(
    segment: &Segment,
    at: &RunAt<'_>,
    event_ids: &HashMap<String, i64>,
    saved: &HashMap<i64, Segment>,
) -> SegmentQuery {
    compile_for(Dialect::Sqlite, segment, at, event_ids, saved)
}

/// The pure part of [`compile`]: `saved` holds the definitions of the saved segments the
/// segment refers to. A saved-segment rule is compiled as its definition (include) or the
/// negation of it (exclude), evaluated at the same instant and in the same time zone.
pub fn compile_for(
    dialect: Dialect,
    segment: &Segment,
    at: &RunAt<'_>,
    event_ids: &HashMap<String, i64>,
    saved: &HashMap<i64, Segment>,
) -> SegmentQuery {
    let not_member = |_: i64| false;
    let ctx = EvalContext {
        run_at: at.run_at,
        time_zone: at.time_zone,
        in_saved_segment: &not_member,
    };
    let mut c = Compiler {
        d: dialect,
        ctx,
        event_ids,
        saved,
        expanding: Vec::new(),
        binds: Vec::new(),
        compiled: HashMap::new(),
        parts: Vec::new(),
        joins: std::collections::BTreeSet::new(),
    };
    let node = c.segment(segment);
    let mut binds = Vec::new();
    let mut ctes = Vec::new();
    let mut saved_plans = Vec::new();
    for (i, part) in c.parts.into_iter().enumerate() {
        ctes.push(format!(
            "{} as materialized (select p.id from profiles p{} where {})",
            saved_cte(i),
            joins_sql(&part.joins),
            part.sql
        ));
        binds.extend(part.binds);
        saved_plans.push(part.plan);
    }
    binds.extend(c.binds);
    let with_sql = if ctes.is_empty() {
        String::new()
    } else {
        format!("with {} ", ctes.join(", "))
    };
    SegmentQuery {
        dialect,
        with_sql,
        from_sql: joins_sql(&c.joins),
        where_sql: node.sql,
        binds,
        plan: node.plan,
        saved_plans,
    }
}

/// The name of the CTE of the `i`th compiled saved segment.
fn saved_cte(i: usize) -> String {
    format!("saved_seg_{i}")
}

/// ` left join saved_seg_<i> s<i> on s<i>.id = p.id` for each of `joins`.
fn joins_sql(joins: &std::collections::BTreeSet<usize>) -> String {
    joins
        .iter()
        .map(|i| format!(" left join {} s{i} on s{i}.id = p.id", saved_cte(*i)))
        .collect()
}

/// A saved segment compiled once: a condition on `p.id` (with the saved segments it uses
/// joined) with its own binds, and its plan.
struct SavedPart {
    sql: String,
    joins: std::collections::BTreeSet<usize>,
    binds: Vec<Bind>,
    plan: Plan,
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
    d: Dialect,
    ctx: EvalContext<'a>,
    event_ids: &'a HashMap<String, i64>,
    saved: &'a HashMap<i64, Segment>,
    /// The saved segments being expanded, outermost first: a cycle (refused when saving, but a
    /// concurrent edit could still make one) ends at the repeated segment, taken as "no member".
    expanding: Vec<i64>,
    binds: Vec<Bind>,
    /// The saved segments compiled so far: id → index in `parts`.
    compiled: HashMap<i64, usize>,
    parts: Vec<SavedPart>,
    /// The saved segments the condition being compiled tests (joined once each).
    joins: std::collections::BTreeSet<usize>,
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

    /// Marks where a leaf's binds start: [`Compiler::leaf`] takes the binds pushed since.
    fn mark(&self) -> usize {
        self.binds.len()
    }

    /// A leaf of the set plan: `sql` selects `profile_id` (and `n` for counts), with the binds
    /// pushed since `mark`.
    fn leaf(&self, mark: usize, sql: &str) -> Leaf {
        Leaf {
            sql: sql.to_owned(),
            binds: self.binds[mark..].to_vec(),
        }
    }

    fn segment(&mut self, segment: &Segment) -> Node {
        match segment {
            Segment::Group(g) => {
                let op = match g.combine {
                    Combine::AllOf => " and ",
                    Combine::AnyOf => " or ",
                };
                // An empty group fails validation; answer as `shared` would (all: true, any: false).
                if g.rules.is_empty() {
                    let all = g.combine == Combine::AllOf;
                    return Node {
                        sql: self.d.boolean(all).into(),
                        plan: Plan::Const(all),
                    };
                }
                let parts: Vec<Node> = g.rules.iter().map(|r| self.segment(r)).collect();
                let sql: Vec<&str> = parts.iter().map(|n| n.sql.as_str()).collect();
                let sql = format!("({})", sql.join(op));
                let plans = parts.into_iter().map(|n| n.plan).collect();
                Node {
                    sql,
                    plan: match g.combine {
                        Combine::AllOf => Plan::All(plans),
                        Combine::AnyOf => Plan::Any(plans),
                    },
                }
            }
            Segment::UserProperty(f) => self.profile_filter(f),
            Segment::SavedSegment(s) => {
                let member = match self.saved_part(s.segment_id) {
                    Some(i) => {
                        self.joins.insert(i);
                        Node {
                            sql: format!("(s{i}.id is not null)"),
                            plan: Plan::Saved(i),
                        }
                    }
                    // Unknown (or cyclic): nobody is a member, as in `shared`.
                    None => Node {
                        sql: self.d.boolean(false).into(),
                        plan: Plan::Const(false),
                    },
                };
                match s.mode {
                    SavedSegmentMode::Include => member,
                    SavedSegmentMode::Exclude => member.not(),
                }
            }
            Segment::Event(rule) => {
                let did = self.did(rule);
                if rule.did { did } else { did.not() }
            }
        }
    }

    /// The index of saved segment `id` in `parts`, compiling it (and the saved segments it uses,
    /// first) on its first use; `None` when it does not exist or leads back to itself.
    fn saved_part(&mut self, id: i64) -> Option<usize> {
        if let Some(&i) = self.compiled.get(&id) {
            return Some(i);
        }
        let saved = self.saved;
        let definition = saved.get(&id)?;
        if self.expanding.contains(&id) {
            return None;
        }
        self.expanding.push(id);
        // Its placeholders are numbered in its CTE, before the main condition's.
        let outer = std::mem::take(&mut self.binds);
        let outer_joins = std::mem::take(&mut self.joins);
        let node = self.segment(definition);
        let binds = std::mem::replace(&mut self.binds, outer);
        let joins = std::mem::replace(&mut self.joins, outer_joins);
        self.expanding.pop();
        self.parts.push(SavedPart {
            sql: node.sql,
            joins,
            binds,
            plan: node.plan,
        });
        let i = self.parts.len() - 1;
        self.compiled.insert(id, i);
        Some(i)
    }

    fn profile_filter(&mut self, f: &PropertyFilter) -> Node {
        let src = PropSource::Profile;
        let mark = self.mark();
        let key = self.text(&f.property);
        let (sub, negate) = match &f.condition {
            Condition::Text(TextCondition::Exists) => (
                format!("select profile_id from profile_props where key = {key}"),
                false,
            ),
            Condition::Text(TextCondition::DoesNotExist) => (
                format!("select profile_id from profile_props where key = {key}"),
                true,
            ),
            c => {
                let cond = self.condition(c, src);
                (
                    format!("select profile_id from profile_props where key = {key} and {cond}"),
                    false,
                )
            }
        };
        let node = Node::ids(self.leaf(mark, &sub));
        if negate { node.not() } else { node }
    }

    /// A filter on the properties of the event row `e`.
    fn event_filter(&mut self, f: &PropertyFilter) -> String {
        let src = PropSource::Event;
        let key = self.text(&f.property);
        let each = self.d.each("e");
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
                let (is, v) = (self.d.is_text(src), self.d.text(src));
                let test = match t {
                    TextCondition::Equals { value } => format!("{v} = {}", self.text(value)),
                    TextCondition::NotEquals { value } => format!("{v} <> {}", self.text(value)),
                    TextCondition::Contains { value } => self.d.contains(v, self.text(value)),
                    TextCondition::DoesNotContain { value } => {
                        format!("not {}", self.d.contains(v, self.text(value)))
                    }
                    TextCondition::StartsWith { value } => {
                        let a = self.text(value);
                        let b = self.text(value);
                        self.d.starts_with(v, a, b)
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
                let (is, v) = (self.d.is_number(src), self.d.number(src));
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
                let (is, t) = (self.d.is_boolean(src), self.d.boolean_true(src));
                match b {
                    BooleanCondition::IsTrue => format!("({is} and {t})"),
                    BooleanCondition::IsFalse => format!("({is} and not {t})"),
                }
            }
            Condition::Date(d) => {
                let (is, v) = (self.d.is_date(src), self.d.date(src));
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
                let (is, elements) = (self.d.is_list(src), self.d.list_elements(src));
                let list = self.text_list(values);
                format!("({is} and exists (select 1 from {elements} where k.value in ({list})))")
            }
        }
    }

    /// `p.id in (…)`: the users for whom the "did" half of `rule` holds.
    fn did(&mut self, rule: &EventRule) -> Node {
        let name_id = self.event_ids.get(&rule.event).copied().unwrap_or(-1);
        if rule.occurrence == Occurrence::Any && rule.filters.is_empty() && counts_only(rule) {
            let (lo, hi) = window_bounds(&rule.window, &self.ctx);
            return self.did_from_counts(rule.aggregate.as_ref(), name_id, lo, hi);
        }
        let mark = self.mark();
        // Events of this name, not after R, passing every filter (`relevant` in `shared`).
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
                let sub = format!(
                    "select e.profile_id from events e where {relevant} \
                     group by e.profile_id having {}{w}",
                    self.d.boolean(true)
                );
                Node::ids(self.leaf(mark, &sub))
            }
            Occurrence::Any => {
                let w = in_window(self, "e.ts");
                let counted = format!("select e.profile_id from events e where {relevant}{w}");
                match &rule.aggregate {
                    None => Node::ids(self.leaf(mark, &counted)),
                    Some(a) => self.aggregate(a, &counted, mark),
                }
            }
        }
    }

    fn aggregate(&mut self, a: &Aggregate, counted: &str, mark: usize) -> Node {
        let measure = match &a.measure {
            Measure::Count => "count(*)".to_owned(),
            // An event without the property, or with a non-number, adds 0 (as in `shared`).
            Measure::Sum { property } => {
                let key = self.text(property);
                self.d.total(&self.d.event_number_or_zero("e", key))
            }
            Measure::Average { property } => {
                let key = self.text(property);
                format!(
                    "{} / count(*)",
                    self.d.total(&self.d.event_number_or_zero("e", key))
                )
            }
        };
        let op = comparison(a.op);
        let value = self.real(a.value);
        let test = format!("{measure} {op} {value}");
        if a.include_never_did {
            // Members: no counted event, or a measure that passes. That is everyone except the
            // users with counted events whose measure fails — one subquery instead of two.
            let sub = format!("{counted} group by e.profile_id having not ({test})");
            Node::ids(self.leaf(mark, &sub)).not()
        } else {
            let sub = format!("{counted} group by e.profile_id having {test}");
            Node::ids(self.leaf(mark, &sub))
        }
    }

    /// The "did" half of a rule that only counts events (no filters, occurrence `any`, no
    /// aggregate or a count), answered from daily counts.
    fn did_from_counts(
        &mut self,
        aggregate: Option<&Aggregate>,
        name_id: i64,
        lo: Option<Timestamp>,
        hi: Option<Timestamp>,
    ) -> Node {
        // The set plan runs each part on its own (concurrently, and without the cost of a
        // `union all` subquery per row); the SQL condition unites them.
        let parts = self.daily_counts(name_id, lo, hi);
        let sql: Vec<&str> = parts.iter().map(|l| l.sql.as_str()).collect();
        let rows = sql.join(" union all ");
        let Some(a) = aggregate else {
            // PostgreSQL 15 wants an alias on every subquery in `from`.
            let sql = format!("(p.id in (select profile_id from ({rows}) c))");
            let mut ids: Vec<Plan> = parts.into_iter().map(Plan::Ids).collect();
            let plan = if ids.len() == 1 {
                ids.remove(0)
            } else {
                Plan::Any(ids)
            };
            return Node { sql, plan };
        };
        // The set plan adds the counts up itself (cheaper than SQLite's GROUP BY); the SQL
        // condition groups in the database.
        let counts = parts;
        let op = comparison(a.op);
        let test = format!("sum(c.n) {op} {}", self.real(a.value));
        let grouped = format!("select c.profile_id from ({rows}) c group by c.profile_id");
        if a.include_never_did {
            Node {
                sql: format!("(p.id not in ({grouped} having not ({test})))"),
                plan: Plan::Not(Box::new(Plan::Counts {
                    parts: counts,
                    op: a.op,
                    value: a.value,
                    passing: false,
                })),
            }
        } else {
            Node {
                sql: format!("(p.id in ({grouped} having {test}))"),
                plan: Plan::Counts {
                    parts: counts,
                    op: a.op,
                    value: a.value,
                    passing: true,
                },
            }
        }
    }

    /// Queries of `(profile_id, n)` rows whose `n` add up, over all the queries, per profile, to
    /// the number of events named `name_id` in the window `[lo, hi)` and not after R. Whole UTC
    /// days come from `event_days`; the partial days at either edge (a campaign's midnight is
    /// rarely UTC's, and R is mid-day) are counted from raw `events`, so the answer is exact in
    /// every time zone.
    fn daily_counts(
        &mut self,
        name_id: i64,
        lo: Option<Timestamp>,
        hi: Option<Timestamp>,
    ) -> Vec<Leaf> {
        // Whole seconds [a, b): "not after R" is `ts < floor(R) + 1`.
        let a = lo.map(ceil_second);
        let not_after_run = floor_second(self.ctx.run_at).saturating_add(1);
        let b = hi.map_or(not_after_run, |hi| ceil_second(hi).min(not_after_run));
        // Whole days [first_day, end_day) inside [a, b).
        let first_day = a.map(|a| a.div_euclid(DAY) + i64::from(a.rem_euclid(DAY) != 0));
        let end_day = b.div_euclid(DAY);
        let mut parts = Vec::new();
        match first_day {
            Some(first) if first >= end_day => {
                parts.push(self.raw_counts(name_id, a, b));
            }
            _ => {
                let mark = self.mark();
                let mut daily = format!(
                    "select profile_id, n from event_days where name_id = {}",
                    self.int(name_id)
                );
                if let Some(first) = first_day {
                    daily.push_str(&format!(" and day >= {}", self.int(first)));
                }
                daily.push_str(&format!(" and day < {}", self.int(end_day)));
                parts.push(self.leaf(mark, &daily));
                if let (Some(a), Some(first)) = (a, first_day)
                    && a < first * DAY
                {
                    parts.push(self.raw_counts(name_id, Some(a), first * DAY));
                }
                if end_day * DAY < b {
                    parts.push(self.raw_counts(name_id, Some(end_day * DAY), b));
                }
            }
        }
        parts
    }

    /// `(profile_id, 1)` per raw event named `name_id` with `a <= ts < b`.
    fn raw_counts(&mut self, name_id: i64, a: Option<i64>, b: i64) -> Leaf {
        let mark = self.mark();
        let mut sql = format!(
            "select profile_id, 1 as n from events where name_id = {}",
            self.int(name_id)
        );
        if let Some(a) = a {
            sql.push_str(&format!(" and ts >= {}", self.int(a)));
        }
        sql.push_str(&format!(" and ts < {}", self.int(b)));
        self.leaf(mark, &sql)
    }
}

/// Whether a rule (occurrence `any`, no filters) needs only event counts: no aggregate, or a
/// count.
fn counts_only(rule: &EventRule) -> bool {
    rule.aggregate
        .as_ref()
        .is_none_or(|a| matches!(a.measure, Measure::Count))
}

fn comparison(op: Comparison) -> &'static str {
    match op {
        Comparison::AtLeast => ">=",
        Comparison::AtMost => "<=",
        Comparison::Exactly => "=",
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

/// The binds as SQLite arguments.
pub(crate) fn sqlite_arguments(binds: &[Bind]) -> sqlx::sqlite::SqliteArguments<'static> {
    use sqlx::Arguments;
    let mut args = sqlx::sqlite::SqliteArguments::default();
    for b in binds {
        // Adding to SQLite arguments does not fail for these types.
        let _ = match b {
            Bind::Int(v) => args.add(*v),
            Bind::Real(v) => args.add(*v),
            Bind::Text(v) => args.add(v.clone()),
        };
    }
    args
}

/// The binds as PostgreSQL arguments (`int8`, `float8`, `text`).
pub(crate) fn pg_arguments(binds: &[Bind]) -> sqlx::postgres::PgArguments {
    use sqlx::Arguments;
    let mut args = sqlx::postgres::PgArguments::default();
    for b in binds {
        // Encoding these types does not fail.
        let _ = match b {
            Bind::Int(v) => args.add(*v),
            Bind::Real(v) => args.add(*v),
            Bind::Text(v) => args.add(v.clone()),
        };
    }
    args
}

/// Member ids per query when streaming members: big enough that a round trip is noise, small
/// enough that a few chunks in flight stay a few megabytes. Tests use small chunks, so that small
/// data sets cross many chunk boundaries.
const MEMBER_CHUNK: usize = if cfg!(test) { 64 } else { 8192 };
/// Chunks read ahead while the caller consumes the current one.
const MEMBER_CHUNKS_AHEAD: usize = 3;

/// A pool that spawned tasks can own.
#[derive(Clone)]
enum OwnedPool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

impl From<Pool<'_>> for OwnedPool {
    fn from(pool: Pool<'_>) -> Self {
        match pool {
            Pool::Sqlite(pool) => Self::Sqlite(pool.clone()),
            Pool::Postgres(pool) => Self::Postgres(pool.clone()),
        }
    }
}

/// The match keys of the profiles `ids` (ascending), in id order. When the ids are dense (at
/// least half the id range between the first and the last) the range is read by primary key and
/// filtered here, which is cheaper than a list of thousands of ids; otherwise the list is sent.
async fn read_members(pool: OwnedPool, ids: Vec<i64>) -> sqlx::Result<Vec<Member>> {
    let Some(chunk) = IdChunk::of(&ids) else {
        return Ok(Vec::new());
    };
    let (first, last, dense) = (chunk.first, chunk.last, chunk.dense);
    let mut rows: Vec<Member> = match (&pool, dense) {
        (OwnedPool::Sqlite(pool), _) => {
            let rows: Vec<MemberRow> = chunk
                .sqlite_rows(pool, Dialect::Sqlite.member_columns(), &ids)
                .await?;
            let mut rows: Vec<Member> = rows.into_iter().map(Member::from).collect();
            // Already in id order when read by range; sorting sorted rows is one pass.
            rows.sort_unstable_by_key(|m| m.id);
            rows
        }
        // PostgreSQL: one array per column, decoded from the binary protocol — a message per
        // row costs three times more (3.1 s for a million), and `json_agg` more still.
        (OwnedPool::Postgres(pool), _) => {
            let cond = chunk.condition(Dialect::Postgres);
            let sql = format!(
                "select array_agg(p.id), array_agg(p.identity), array_agg(p.email), \
                 array_agg(p.phone), array_agg(p.first_name), array_agg(p.last_name), \
                 array_agg(p.gender), array_agg(to_char(p.date_of_birth, 'YYYY-MM-DD')), \
                 array_agg(p.city), array_agg(p.state), array_agg(p.zip), array_agg(p.country), \
                 array_agg(p.madid) from profiles p where {cond}"
            );
            let query = sqlx::query_as::<_, PgMemberColumns>(&sql);
            let query = if dense {
                query.bind(first).bind(last)
            } else {
                query.bind(&ids)
            };
            let mut rows = members_from_columns(query.fetch_one(pool).await?);
            rows.sort_unstable_by_key(|m| m.id);
            rows
        }
    };
    chunk.keep_listed(&ids, &mut rows, |m| m.id);
    Ok(rows)
}

/// A chunk of ascending profile ids as the readers select it: by id range when dense (one
/// index range scan; the few rows in between that are not listed are dropped afterwards),
/// otherwise by the list itself. Queries bind `first` and `last` when dense, else the list.
struct IdChunk {
    first: i64,
    last: i64,
    dense: bool,
}

impl IdChunk {
    fn of(ids: &[i64]) -> Option<Self> {
        let (&first, &last) = (ids.first()?, ids.last()?);
        let dense = (last - first + 1) as usize <= 2 * ids.len();
        Some(Self { first, last, dense })
    }

    /// The condition on `p.id`, with its placeholders.
    fn condition(&self, dialect: Dialect) -> &'static str {
        match (dialect, self.dense) {
            (Dialect::Sqlite, true) => "p.id between ? and ?",
            (Dialect::Sqlite, false) => "p.id in (select value from json_each(?))",
            (Dialect::Postgres, true) => "p.id between $1 and $2",
            (Dialect::Postgres, false) => "p.id = any($1)",
        }
    }

    /// SQLite: `columns` of the chunk's profiles as one JSON array of rows, built by SQLite and
    /// parsed here — a row at a time through the driver costs several times more (4.9 s for a
    /// million members).
    async fn sqlite_rows<T: serde::de::DeserializeOwned>(
        &self,
        pool: &SqlitePool,
        columns: &str,
        ids: &[i64],
    ) -> sqlx::Result<Vec<T>> {
        let text = self.sqlite_json(pool, columns, ids).await?;
        serde_json::from_str(text.as_deref().unwrap_or("[]"))
            .map_err(|e| sqlx::Error::Decode(Box::new(e)))
    }

    /// The JSON text [`Self::sqlite_rows`] parses.
    async fn sqlite_json(
        &self,
        pool: &SqlitePool,
        columns: &str,
        ids: &[i64],
    ) -> sqlx::Result<Option<String>> {
        let sql = format!(
            "select json_group_array(json_array({columns})) from profiles p where {}",
            self.condition(Dialect::Sqlite)
        );
        let query = sqlx::query_scalar::<_, Option<String>>(&sql);
        let query = if self.dense {
            query.bind(self.first).bind(self.last)
        } else {
            query.bind(serde_json::to_string(ids).unwrap_or_else(|_| "[]".into()))
        };
        query.fetch_one(pool).await
    }

    /// After a range read, keeps the rows (ascending by `id_of`) whose id is listed in `ids`.
    fn keep_listed<T>(&self, ids: &[i64], rows: &mut Vec<T>, id_of: impl Fn(&T) -> i64) {
        if !self.dense {
            return;
        }
        // Both ascending: one pass.
        let mut wanted = ids.iter().peekable();
        rows.retain(|r| {
            let id = id_of(r);
            while wanted.next_if(|&&w| w < id).is_some() {}
            wanted.peek().is_some_and(|&&w| w == id)
        });
    }
}

/// Reads `ids` (ascending) in chunks with `read`, a few chunks ahead of `each`, which gets the
/// rows in order; returns how many.
async fn stream_chunks<T, F, Fut>(
    pool: OwnedPool,
    mut ids: impl Iterator<Item = i64>,
    read: F,
    mut each: impl FnMut(T),
) -> sqlx::Result<u64>
where
    T: Send + 'static,
    F: Fn(OwnedPool, Vec<i64>) -> Fut,
    Fut: Future<Output = sqlx::Result<Vec<T>>> + Send + 'static,
{
    let mut pending = std::collections::VecDeque::new();
    let mut n = 0;
    loop {
        while pending.len() < MEMBER_CHUNKS_AHEAD {
            let chunk: Vec<i64> = ids.by_ref().take(MEMBER_CHUNK).collect();
            if chunk.is_empty() {
                break;
            }
            pending.push_back(tokio::spawn(read(pool.clone(), chunk)));
        }
        let Some(next) = pending.pop_front() else {
            break;
        };
        let rows = next
            .await
            .map_err(|e| sqlx::Error::Protocol(e.to_string()))??;
        for row in rows {
            each(row);
            n += 1;
        }
    }
    Ok(n)
}

/// Calls `each` with the match keys of the profiles `ids` (ascending) that exist, in id order.
pub async fn for_each_member_by_id<'a>(
    pool: impl Into<Pool<'a>>,
    ids: &[i64],
    each: impl FnMut(Member),
) -> sqlx::Result<u64> {
    debug_assert!(ids.is_sorted());
    let pool = OwnedPool::from(pool.into());
    stream_chunks(pool, ids.iter().copied(), read_members, each).await
}

/// A chunk of members as the sync's plan reads them: per member its profile id, stored
/// match-key fingerprint (`None` when not known) and the range of its identity in
/// `identities`. One buffer per chunk instead of a `String` per member: the plan keeps the
/// identity only of the members that joined or changed (at 10M members, 1 % of them).
#[derive(Debug, Default)]
pub struct FingerprintChunk {
    rows: Vec<(i64, Option<i64>, u32, u32)>,
    identities: String,
}

impl FingerprintChunk {
    fn push(&mut self, id: i64, fingerprint: Option<i64>, identity: &str) {
        let start = self.identities.len() as u32;
        self.identities.push_str(identity);
        self.rows
            .push((id, fingerprint, start, self.identities.len() as u32));
    }

    /// (id, stored fingerprint, identity) of each member, in order.
    pub fn iter(&self) -> impl Iterator<Item = (i64, Option<i64>, &str)> + '_ {
        self.rows
            .iter()
            .map(|&(id, fp, a, b)| (id, fp, &self.identities[a as usize..b as usize]))
    }
}

/// The chunks of [`SegmentQuery::fingerprint_chunks`].
pub struct FingerprintChunks {
    pool: OwnedPool,
    ids: Box<dyn Iterator<Item = i64> + Send>,
    pending: std::collections::VecDeque<FingerprintRead>,
}

/// A chunk being read; stopped if the stream is dropped first.
struct FingerprintRead(tokio::task::JoinHandle<sqlx::Result<Vec<FingerprintChunk>>>);

impl Drop for FingerprintRead {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl FingerprintChunks {
    /// The next chunk, `None` after the last.
    pub async fn next(&mut self) -> sqlx::Result<Option<FingerprintChunk>> {
        loop {
            while self.pending.len() < MEMBER_CHUNKS_AHEAD {
                let chunk: Vec<i64> = self.ids.by_ref().take(MEMBER_CHUNK).collect();
                if chunk.is_empty() {
                    break;
                }
                let read = tokio::spawn(read_fingerprints(self.pool.clone(), chunk));
                self.pending.push_back(FingerprintRead(read));
            }
            let Some(mut next) = self.pending.pop_front() else {
                return Ok(None);
            };
            let chunks = (&mut next.0)
                .await
                .map_err(|e| sqlx::Error::Protocol(e.to_string()))??;
            // One chunk per read; an empty read (every profile deleted) is skipped.
            if let Some(chunk) = chunks.into_iter().next() {
                return Ok(Some(chunk));
            }
        }
    }
}

/// A row of the fingerprint read's JSON, its identity borrowed from the text when it has no
/// escapes.
#[derive(serde::Deserialize)]
struct FingerprintJsonRow<'a>(i64, Option<i64>, #[serde(borrow)] std::borrow::Cow<'a, str>);

/// The stored match-key fingerprints and identities of the profiles `ids` (ascending), in id
/// order, as one chunk; read by range when dense, as [`read_members`].
async fn read_fingerprints(pool: OwnedPool, ids: Vec<i64>) -> sqlx::Result<Vec<FingerprintChunk>> {
    let Some(chunk) = IdChunk::of(&ids) else {
        return Ok(Vec::new());
    };
    let (first, last, dense) = (chunk.first, chunk.last, chunk.dense);
    let mut out = FingerprintChunk::default();
    match &pool {
        OwnedPool::Sqlite(pool) => {
            let text = chunk
                .sqlite_json(pool, "p.id, p.key_fingerprint, p.identity", &ids)
                .await?;
            let rows: Vec<FingerprintJsonRow<'_>> =
                serde_json::from_str(text.as_deref().unwrap_or("[]"))
                    .map_err(|e| sqlx::Error::Decode(Box::new(e)))?;
            out.identities.reserve(rows.iter().map(|r| r.2.len()).sum());
            out.rows.reserve(rows.len());
            for FingerprintJsonRow(id, fp, identity) in &rows {
                out.push(*id, *fp, identity);
            }
        }
        OwnedPool::Postgres(pool) => {
            let sql = format!(
                "select array_agg(p.id), array_agg(p.key_fingerprint), array_agg(p.identity) \
                 from profiles p where {}",
                chunk.condition(Dialect::Postgres)
            );
            type Columns = (
                Option<Vec<i64>>,
                Option<Vec<Option<i64>>>,
                Option<Vec<String>>,
            );
            let query = sqlx::query_as::<_, Columns>(&sql);
            let query = if dense {
                query.bind(first).bind(last)
            } else {
                query.bind(&ids)
            };
            let (id_col, fp_col, identity_col) = query.fetch_one(pool).await?;
            for ((id, fp), identity) in id_col
                .unwrap_or_default()
                .into_iter()
                .zip(fp_col.unwrap_or_default())
                .zip(identity_col.unwrap_or_default())
            {
                out.push(id, fp, &identity);
            }
        }
    }
    out.rows.sort_unstable_by_key(|r| r.0);
    chunk.keep_listed(&ids, &mut out.rows, |r| r.0);
    Ok(vec![out])
}

/// The match keys of the profiles `ids` (ascending) that exist, in id order, in one read (by id
/// range when dense): a sync batch's rows, read when the batch is sent.
pub async fn members_by_id<'a>(
    pool: impl Into<Pool<'a>>,
    ids: Vec<i64>,
) -> sqlx::Result<Vec<Member>> {
    debug_assert!(ids.is_sorted());
    read_members(OwnedPool::from(pool.into()), ids).await
}

/// Stores `fingerprint` of the profiles `ids` that have none stored, as their keys are now.
/// Each chunk is read and written in one transaction that keeps writers out (SQLite's write lock
/// taken up front; PostgreSQL's row locks), so no key can change in between and no stale
/// fingerprint is ever stored. On PostgreSQL rows an upload holds are skipped (left for next
/// time), so this never waits for a writer that might wait for it. Returns how many were stored.
pub async fn store_fingerprints<'a>(
    pool: impl Into<Pool<'a>>,
    ids: &[i64],
    fingerprint: impl Fn(&Member) -> i64,
) -> sqlx::Result<u64> {
    // Small enough that an upload waiting for the lock waits a few milliseconds.
    const CHUNK: usize = 4096;
    let mut stored = 0;
    match pool.into() {
        Pool::Sqlite(pool) => {
            for chunk in ids.chunks(CHUNK) {
                let mut tx = pool.begin_with("begin immediate").await?;
                let sql = format!(
                    "select json_group_array(json_array({})) from profiles p \
                     where p.id in (select value from json_each($1)) and p.key_fingerprint is null",
                    Dialect::Sqlite.member_columns()
                );
                let ids_json =
                    serde_json::to_string(chunk).map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
                let text: Option<String> = sqlx::query_scalar(&sql)
                    .bind(ids_json)
                    .fetch_one(&mut *tx)
                    .await?;
                let rows: Vec<MemberRow> = serde_json::from_str(text.as_deref().unwrap_or("[]"))
                    .map_err(|e| sqlx::Error::Decode(Box::new(e)))?;
                let pairs: Vec<(i64, i64)> = rows
                    .into_iter()
                    .map(|r| {
                        let m = Member::from(r);
                        (m.id, fingerprint(&m))
                    })
                    .collect();
                let pairs =
                    serde_json::to_string(&pairs).map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
                stored += sqlx::query(
                    "update profiles as p set key_fingerprint = u.value ->> 1 \
                     from json_each($1) as u where p.id = u.value ->> 0",
                )
                .bind(pairs)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                tx.commit().await?;
            }
        }
        Pool::Postgres(pool) => {
            for chunk in ids.chunks(CHUNK) {
                let mut tx = pool.begin().await?;
                let columns = Dialect::Postgres.member_columns();
                let sql = format!(
                    "select array_agg(p.id), array_agg(p.identity), array_agg(p.email), \
                     array_agg(p.phone), array_agg(p.first_name), array_agg(p.last_name), \
                     array_agg(p.gender), array_agg(p.date_of_birth), array_agg(p.city), \
                     array_agg(p.state), array_agg(p.zip), array_agg(p.country), \
                     array_agg(p.madid) from (select {columns} from profiles p \
                     where p.id = any($1) and p.key_fingerprint is null for update skip locked) p"
                );
                let members = members_from_columns(
                    sqlx::query_as::<_, PgMemberColumns>(&sql)
                        .bind(chunk)
                        .fetch_one(&mut *tx)
                        .await?,
                );
                let (ids, fps): (Vec<i64>, Vec<i64>) =
                    members.iter().map(|m| (m.id, fingerprint(m))).unzip();
                stored += sqlx::query(
                    "update profiles p set key_fingerprint = u.fp \
                     from unnest($1::bigint[], $2::bigint[]) as u(id, fp) where p.id = u.id",
                )
                .bind(ids)
                .bind(fps)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                tx.commit().await?;
            }
        }
    }
    Ok(stored)
}

/// Stores the fingerprint of every profile that has none (see [`store_fingerprints`]); returns
/// how many were stored. For bulk loads and tools: a sync run stores those of its members itself.
pub async fn store_missing_fingerprints<'a>(
    pool: impl Into<Pool<'a>>,
    fingerprint: impl Fn(&Member) -> i64,
) -> sqlx::Result<u64> {
    let pool = pool.into();
    let ids: Vec<i64> = match pool {
        Pool::Sqlite(pool) => {
            sqlx::query_scalar("select id from profiles where key_fingerprint is null order by id")
                .fetch_all(pool)
                .await?
        }
        Pool::Postgres(pool) => {
            sqlx::query_scalar("select id from profiles where key_fingerprint is null order by id")
                .fetch_all(pool)
                .await?
        }
    };
    store_fingerprints(pool, &ids, fingerprint).await
}

/// [`Member`]'s columns in order, as a JSON array.
type MemberRow = (
    i64,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
);

impl From<MemberRow> for Member {
    fn from(r: MemberRow) -> Member {
        Member {
            id: r.0,
            identity: r.1,
            email: r.2,
            phone: r.3,
            first_name: r.4,
            last_name: r.5,
            gender: r.6,
            date_of_birth: r.7,
            city: r.8,
            state: r.9,
            zip: r.10,
            country: r.11,
            madid: r.12,
        }
    }
}

/// [`Member`]'s columns as PostgreSQL arrays (`None` when no row matched).
type Texts = Option<Vec<Option<String>>>;
type PgMemberColumns = (
    Option<Vec<i64>>,
    Option<Vec<String>>,
    Texts,
    Texts,
    Texts,
    Texts,
    Texts,
    Texts,
    Texts,
    Texts,
    Texts,
    Texts,
    Texts,
);

fn members_from_columns(c: PgMemberColumns) -> Vec<Member> {
    let (ids, identities) = (c.0.unwrap_or_default(), c.1.unwrap_or_default());
    let mut columns: Vec<std::vec::IntoIter<Option<String>>> =
        [c.2, c.3, c.4, c.5, c.6, c.7, c.8, c.9, c.10, c.11, c.12]
            .into_iter()
            .map(|column| column.unwrap_or_default().into_iter())
            .collect();
    let mut next = |k: usize| columns[k].next().flatten();
    ids.into_iter()
        .zip(identities)
        .map(|(id, identity)| Member {
            id,
            identity,
            email: next(0),
            phone: next(1),
            first_name: next(2),
            last_name: next(3),
            gender: next(4),
            date_of_birth: next(5),
            city: next(6),
            state: next(7),
            zip: next(8),
            country: next(9),
            madid: next(10),
        })
        .collect()
}

/// Runs compiled segments.
impl SegmentQuery {
    /// `select {columns} from profiles p where <segment>{tail}`, placeholders numbered for the
    /// dialect the segment was compiled for.
    pub fn select_sql(&self, columns: &str, tail: &str) -> String {
        self.dialect.numbered(&format!(
            "{}select {columns} from profiles p{} where {}{tail}",
            self.with_sql, self.from_sql, self.where_sql
        ))
    }

    /// A segment compiled for one database cannot run on another.
    fn check(&self, pool: Pool<'_>) -> sqlx::Result<()> {
        if pool.dialect() == self.dialect {
            Ok(())
        } else {
            Err(sqlx::Error::Configuration(
                format!(
                    "a segment compiled for {:?} cannot run on {:?}",
                    self.dialect,
                    pool.dialect()
                )
                .into(),
            ))
        }
    }

    /// How many profiles are members, by the single SQL condition.
    pub async fn count<'a>(&self, pool: impl Into<Pool<'a>>) -> sqlx::Result<i64> {
        let pool = pool.into();
        self.check(pool)?;
        let sql = self.select_sql("count(*)", "");
        let n: i64 = match pool {
            Pool::Sqlite(pool) => {
                sqlx::query_scalar_with(&sql, self.arguments())
                    .fetch_one(pool)
                    .await?
            }
            Pool::Postgres(pool) => {
                sqlx::query_scalar_with(&sql, pg_arguments(&self.binds))
                    .fetch_one(pool)
                    .await?
            }
        };
        Ok(n)
    }

    /// The ids of the members, ascending, by the single SQL condition (the differential test
    /// holds it against the set evaluation).
    pub async fn member_ids<'a>(&self, pool: impl Into<Pool<'a>>) -> sqlx::Result<Vec<i64>> {
        let pool = pool.into();
        self.check(pool)?;
        let sql = self.select_sql("p.id", " order by p.id");
        match pool {
            Pool::Sqlite(pool) => {
                sqlx::query_scalar_with(&sql, self.arguments())
                    .fetch_all(pool)
                    .await
            }
            Pool::Postgres(pool) => {
                sqlx::query_scalar_with(&sql, pg_arguments(&self.binds))
                    .fetch_all(pool)
                    .await
            }
        }
    }

    /// Calls `each` with every member and its match keys, ascending by id; returns how many.
    ///
    /// The members are found by the set evaluation (as an estimate: a bitmap of a few hundred
    /// kilobytes for millions of profiles), then their match keys are read in id-ordered chunks
    /// by primary key, a few chunks ahead of the caller: a sync of millions of members never holds
    /// them all in memory, and no query tests every profile against the segment.
    pub async fn for_each_member<'a>(
        &self,
        pool: impl Into<Pool<'a>>,
        each: impl FnMut(Member),
    ) -> sqlx::Result<u64> {
        let pool = pool.into();
        let members = self.evaluate(pool).await?.members;
        stream_chunks(OwnedPool::from(pool), members.iter(), read_members, each).await
    }

    /// Every member's id, stored match-key fingerprint (`None` when not known) and identity, in
    /// id-ordered chunks the caller pulls one at a time (a few read ahead), so that it may
    /// await between them: the sync's plan reads the confirmed membership and writes batches
    /// alongside. As [`Self::for_each_member`], but a number and the identity a member instead
    /// of every key.
    pub async fn fingerprint_chunks<'a>(
        &self,
        pool: impl Into<Pool<'a>>,
    ) -> sqlx::Result<FingerprintChunks> {
        let pool = pool.into();
        let members = self.evaluate(pool).await?.members;
        Ok(FingerprintChunks {
            pool: OwnedPool::from(pool),
            ids: Box::new(members.into_ids()),
            pending: std::collections::VecDeque::new(),
        })
    }

    /// The binds as SQLite arguments, for queries built on [`SegmentQuery::select_sql`].
    pub fn arguments(&self) -> sqlx::sqlite::SqliteArguments<'static> {
        sqlite_arguments(&self.binds)
    }
}

#[cfg(test)]
mod tests;
