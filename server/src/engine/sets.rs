//! A segment as set algebra over profile ids: the fast way to count members.
//!
//! The SQL condition of a [`SegmentQuery`] makes SQLite test every profile and build a temporary
//! B-tree per `in (subquery)` and per `group by`; on a million profiles and twenty million events
//! that alone takes a second. Here each leaf subquery runs once, on its own pooled connection
//! (concurrently), and comes back as one text value (`group_concat`) that is parsed into a
//! bitmap; counts are added up in Rust, and groups become bitwise AND/OR/NOT. The leaves are
//! the very subqueries of the SQL condition, so both forms give the same members (the
//! differential test checks it).

use sqlx::SqlitePool;
use tokio::task::JoinSet;

use super::{Bind, SegmentQuery};
use shared::segment::Comparison;

/// One subquery: `select profile_id …` (for [`Plan::Counts`], `select profile_id, n …`).
#[derive(Debug, Clone, PartialEq)]
pub struct Leaf {
    pub sql: String,
    pub binds: Vec<Bind>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Plan {
    Const(bool),
    All(Vec<Plan>),
    Any(Vec<Plan>),
    Not(Box<Plan>),
    /// The profiles the leaf lists.
    Ids(Leaf),
    /// The profiles with rows in the leaf whose total `n` passes `op value` (`passing`), or
    /// fails it (`!passing`).
    Counts {
        leaf: Leaf,
        op: Comparison,
        value: f64,
        passing: bool,
    },
}

/// A set of profile ids.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Bits(Vec<u64>);

impl Bits {
    fn with_range(max_id: usize) -> Bits {
        // Ids 1..=max_id.
        let mut b = Bits(vec![u64::MAX; max_id / 64 + 1]);
        b.0[0] &= !1;
        let last = max_id % 64;
        if let Some(w) = b.0.last_mut() {
            *w &= if last == 63 {
                u64::MAX
            } else {
                (1u64 << (last + 1)) - 1
            };
        }
        b
    }

    fn insert(&mut self, id: usize) {
        let w = id / 64;
        if w >= self.0.len() {
            self.0.resize(w + 1, 0);
        }
        self.0[w] |= 1 << (id % 64);
    }

    fn and(mut self, other: &Bits) -> Bits {
        self.0.truncate(other.0.len());
        for (a, b) in self.0.iter_mut().zip(&other.0) {
            *a &= b;
        }
        self
    }

    fn or(mut self, other: &Bits) -> Bits {
        if other.0.len() > self.0.len() {
            self.0.resize(other.0.len(), 0);
        }
        for (a, b) in self.0.iter_mut().zip(&other.0) {
            *a |= b;
        }
        self
    }

    /// `universe` minus `self`.
    fn complement_in(&self, universe: &Bits) -> Bits {
        let mut out = universe.clone();
        for (a, b) in out.0.iter_mut().zip(&self.0) {
            *a &= !b;
        }
        out
    }

    pub fn len(&self) -> u64 {
        self.0.iter().map(|w| u64::from(w.count_ones())).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.0.iter().all(|w| *w == 0)
    }

    /// The ids in ascending order.
    pub fn iter(&self) -> impl Iterator<Item = i64> + '_ {
        self.0.iter().enumerate().flat_map(|(i, &w)| {
            let mut w = w;
            std::iter::from_fn(move || {
                if w == 0 {
                    return None;
                }
                let bit = w.trailing_zeros();
                w &= w - 1;
                Some((i * 64 + bit as usize) as i64)
            })
        })
    }
}

/// The members of a segment, and how many profiles there are in all.
#[derive(Debug, Clone)]
pub struct Evaluation {
    pub members: Bits,
    pub total_profiles: u64,
}

/// What a leaf came back as.
enum Fetched {
    Ids(Bits),
    Counts(Vec<(usize, u64)>),
}

fn leaves<'a>(plan: &'a Plan, out: &mut Vec<&'a Plan>) {
    match plan {
        Plan::Const(_) => {}
        Plan::All(ps) | Plan::Any(ps) => ps.iter().for_each(|p| leaves(p, out)),
        Plan::Not(p) => leaves(p, out),
        Plan::Ids(_) | Plan::Counts { .. } => out.push(plan),
    }
}

fn arguments<'q>(binds: &[Bind]) -> sqlx::sqlite::SqliteArguments<'q> {
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

/// Parses `group_concat` output: ids separated by commas, each maybe followed by `:n`.
fn parse_list(text: &str, mut each: impl FnMut(usize, u64)) {
    for item in text.split(',') {
        let (id, n) = match item.split_once(':') {
            Some((id, n)) => (id, n.parse().unwrap_or(0)),
            None => (item, 1),
        };
        if let Ok(id) = id.parse::<usize>() {
            each(id, n);
        }
    }
}

async fn fetch(pool: &SqlitePool, plan: &Plan) -> sqlx::Result<Fetched> {
    match plan {
        Plan::Ids(leaf) => {
            let sql = format!("select group_concat(profile_id) from ({})", leaf.sql);
            let text: Option<String> = sqlx::query_scalar_with(&sql, arguments(&leaf.binds))
                .fetch_one(pool)
                .await?;
            let mut bits = Bits::default();
            parse_list(text.as_deref().unwrap_or(""), |id, _| bits.insert(id));
            Ok(Fetched::Ids(bits))
        }
        Plan::Counts { leaf, .. } => {
            // Most (profile, day) rows count 1: send the count only when it is not.
            let sql = format!(
                "select group_concat(iif(n = 1, profile_id, profile_id || ':' || n)) from ({})",
                leaf.sql
            );
            let text: Option<String> = sqlx::query_scalar_with(&sql, arguments(&leaf.binds))
                .fetch_one(pool)
                .await?;
            let mut rows = Vec::new();
            parse_list(text.as_deref().unwrap_or(""), |id, n| rows.push((id, n)));
            Ok(Fetched::Counts(rows))
        }
        _ => Ok(Fetched::Ids(Bits::default())),
    }
}

fn passes(op: Comparison, total: f64, value: f64) -> bool {
    match op {
        Comparison::AtLeast => total >= value,
        Comparison::AtMost => total <= value,
        Comparison::Exactly => total == value,
    }
}

/// Evaluates `plan` given the fetched leaves, in the order [`leaves`] lists them.
fn combine(plan: &Plan, fetched: &mut std::vec::IntoIter<Fetched>, universe: &Bits) -> Bits {
    match plan {
        Plan::Const(true) => universe.clone(),
        Plan::Const(false) => Bits::default(),
        Plan::All(ps) => {
            let mut acc = universe.clone();
            for p in ps {
                acc = acc.and(&combine(p, fetched, universe));
            }
            acc
        }
        Plan::Any(ps) => {
            let mut acc = Bits::default();
            for p in ps {
                acc = acc.or(&combine(p, fetched, universe));
            }
            acc
        }
        Plan::Not(p) => combine(p, fetched, universe).complement_in(universe),
        Plan::Ids(_) => match fetched.next() {
            Some(Fetched::Ids(bits)) => bits.and(universe),
            _ => Bits::default(),
        },
        Plan::Counts {
            op, value, passing, ..
        } => {
            let Some(Fetched::Counts(rows)) = fetched.next() else {
                return Bits::default();
            };
            let mut totals: Vec<u64> = Vec::new();
            let mut seen = Bits::default();
            for (id, n) in rows {
                if id >= totals.len() {
                    totals.resize(id + 1, 0);
                }
                totals[id] += n;
                seen.insert(id);
            }
            let mut out = Bits::default();
            for id in seen.iter() {
                let total = totals[id as usize] as f64;
                if passes(*op, total, *value) == *passing {
                    out.insert(id as usize);
                }
            }
            out.and(universe)
        }
    }
}

impl SegmentQuery {
    /// The members, computed leaf by leaf (see the module comment), and the number of profiles.
    pub async fn evaluate(&self, pool: &SqlitePool) -> sqlx::Result<Evaluation> {
        let mut list = Vec::new();
        leaves(&self.plan, &mut list);
        let mut tasks = JoinSet::new();
        for (i, leaf) in list.into_iter().enumerate() {
            let (pool, leaf) = (pool.clone(), leaf.clone());
            tasks.spawn(async move { (i, fetch(&pool, &leaf).await) });
        }
        // Every profile, for NOT and for the total. Ids are dense (1..=max) unless profiles
        // were deleted; then they are listed.
        let (max_id, count): (Option<i64>, Option<i64>) = sqlx::query_as(
            "select (select max(id) from profiles), (select n from profile_count where id = 1)",
        )
        .fetch_one(pool)
        .await?;
        let max_id = max_id.unwrap_or(0).max(0) as usize;
        let universe = if count.is_some_and(|n| n >= 0 && n as usize == max_id) {
            Bits::with_range(max_id)
        } else {
            let text: Option<String> = sqlx::query_scalar("select group_concat(id) from profiles")
                .fetch_one(pool)
                .await?;
            let mut bits = Bits::default();
            parse_list(text.as_deref().unwrap_or(""), |id, _| bits.insert(id));
            bits
        };
        let total = universe.len();
        let mut fetched: Vec<Option<Fetched>> = Vec::new();
        while let Some(joined) = tasks.join_next().await {
            let (i, result) = joined.map_err(|e| sqlx::Error::Protocol(e.to_string()))?;
            if i >= fetched.len() {
                fetched.resize_with(i + 1, || None);
            }
            fetched[i] = Some(result?);
        }
        let fetched: Vec<Fetched> = fetched.into_iter().flatten().collect();
        let members = combine(&self.plan, &mut fetched.into_iter(), &universe);
        Ok(Evaluation {
            members,
            total_profiles: total,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_hold_exactly_the_ids_from_one_to_max() {
        for max in [0, 1, 62, 63, 64, 65, 127, 128, 1000] {
            let ids: Vec<i64> = Bits::with_range(max).iter().collect();
            assert_eq!(ids, (1..=max as i64).collect::<Vec<_>>(), "max {max}");
        }
    }

    #[test]
    fn lists_parse_with_and_without_counts() {
        let mut got = Vec::new();
        parse_list("3,70:2,5", |id, n| got.push((id, n)));
        assert_eq!(got, [(3, 1), (70, 2), (5, 1)]);
        let mut none = Vec::new();
        parse_list("", |id, n| none.push((id, n)));
        assert!(none.is_empty());
    }
}
