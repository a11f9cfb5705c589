//! A segment as set algebra over profile ids: the fast way to count members.
//!
//! The SQL condition of a [`SegmentQuery`] makes SQLite test every profile and build a temporary
//! B-tree per `in (subquery)` and per `group by`; on a million profiles and twenty million events
//! that alone takes a second. Here each leaf subquery runs once, on its own pooled connection
//! (concurrently), and comes back in one value — SQLite: one text (`group_concat`) parsed here,
//! since a row per id costs far more through the driver; PostgreSQL: `int8` arrays
//! (`array_agg`), decoded from the binary protocol — that becomes a bitmap; counts are added up
//! in Rust, and groups become bitwise AND/OR/NOT. The leaves are the very subqueries of the SQL
//! condition, so both forms give the same members (the differential test checks it).

use tokio::task::JoinSet;

use super::{Bind, OwnedPool, Pool, SegmentQuery, pg_arguments, sqlite_arguments};
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
    /// The members of the `i`th saved segment of [`SegmentQuery::saved_plans`], evaluated once.
    Saved(usize),
    /// The profiles with rows in the leaves (`profile_id, n`) whose total `n` over all of them
    /// passes `op value` (`passing`), or fails it (`!passing`).
    Counts {
        parts: Vec<Leaf>,
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

    /// The ids in ascending order, the bitmap moved into the iterator (which may outlive it).
    pub fn into_ids(self) -> impl Iterator<Item = i64> + Send + 'static {
        self.0
            .into_iter()
            .enumerate()
            .flat_map(|(i, w)| word_ids(i, w))
    }

    /// The ids in ascending order.
    pub fn iter(&self) -> impl Iterator<Item = i64> + '_ {
        self.0.iter().enumerate().flat_map(|(i, &w)| word_ids(i, w))
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

/// Every query of `plan`, in the order [`combine`] consumes their answers; `true` marks the
/// `(profile_id, n)` queries of counts.
fn leaves<'a>(plan: &'a Plan, out: &mut Vec<(&'a Leaf, bool)>) {
    match plan {
        Plan::Const(_) | Plan::Saved(_) => {}
        Plan::All(ps) | Plan::Any(ps) => ps.iter().for_each(|p| leaves(p, out)),
        Plan::Not(p) => leaves(p, out),
        Plan::Ids(leaf) => out.push((leaf, false)),
        Plan::Counts { parts, .. } => out.extend(parts.iter().map(|leaf| (leaf, true))),
    }
}

/// Parses `group_concat` output: ids separated by commas, each maybe followed by `:n` (an item
/// that is not of that form is skipped). A byte loop: the lists hold up to millions of items and
/// are parsed while the estimate waits.
fn parse_list(text: &str, mut each: impl FnMut(usize, u64)) {
    // The item being read: its id, its count when `:` was seen, and whether it is well formed.
    let (mut id, mut n, mut digits, mut in_count, mut bad) = (0usize, 0u64, false, false, false);
    for &b in text.as_bytes().iter().chain(std::iter::once(&b',')) {
        match b {
            b'0'..=b'9' => {
                let d = b - b'0';
                if in_count {
                    n = n.saturating_mul(10).saturating_add(u64::from(d));
                } else {
                    match id
                        .checked_mul(10)
                        .and_then(|x| x.checked_add(usize::from(d)))
                    {
                        Some(x) => id = x,
                        None => bad = true,
                    }
                    digits = true;
                }
            }
            b':' if !in_count => in_count = true,
            b',' => {
                if digits && !bad {
                    each(id, if in_count { n } else { 1 });
                }
                (id, n, digits, in_count, bad) = (0, 0, false, false, false);
            }
            _ => bad = true,
        }
    }
}

async fn fetch(pool: OwnedPool, leaf: &Leaf, counts: bool) -> sqlx::Result<Fetched> {
    match pool {
        OwnedPool::Sqlite(pool) => fetch_sqlite(&pool, leaf, counts).await,
        OwnedPool::Postgres(pool) => fetch_postgres(&pool, leaf, counts).await,
    }
}

async fn fetch_postgres(pool: &sqlx::PgPool, leaf: &Leaf, counts: bool) -> sqlx::Result<Fetched> {
    let numbered = |leaf: &Leaf| super::Dialect::Postgres.numbered(&leaf.sql);
    match counts {
        false => {
            let sql = format!(
                "select coalesce(array_agg(profile_id), '{{}}') from ({}) x",
                numbered(leaf)
            );
            let ids: Vec<i64> = sqlx::query_scalar_with(&sql, pg_arguments(&leaf.binds))
                .fetch_one(pool)
                .await?;
            let mut bits = Bits::default();
            for id in ids {
                if let Ok(id) = usize::try_from(id) {
                    bits.insert(id);
                }
            }
            Ok(Fetched::Ids(bits))
        }
        true => {
            let sql = format!(
                "select coalesce(array_agg(profile_id), '{{}}'), \
                 coalesce(array_agg(n::int8), '{{}}') from ({}) x",
                numbered(leaf)
            );
            let (ids, ns): (Vec<i64>, Vec<i64>) =
                sqlx::query_as_with(&sql, pg_arguments(&leaf.binds))
                    .fetch_one(pool)
                    .await?;
            let rows = ids
                .into_iter()
                .zip(ns)
                .filter_map(|(id, n)| Some((usize::try_from(id).ok()?, n.max(0) as u64)))
                .collect();
            Ok(Fetched::Counts(rows))
        }
    }
}

async fn fetch_sqlite(pool: &sqlx::SqlitePool, leaf: &Leaf, counts: bool) -> sqlx::Result<Fetched> {
    match counts {
        false => {
            let sql = format!("select group_concat(profile_id) from ({})", leaf.sql);
            let text: Option<String> = sqlx::query_scalar_with(&sql, sqlite_arguments(&leaf.binds))
                .fetch_one(pool)
                .await?;
            let mut bits = Bits::default();
            parse_list(text.as_deref().unwrap_or(""), |id, _| bits.insert(id));
            Ok(Fetched::Ids(bits))
        }
        true => {
            // Most (profile, day) rows count 1: send the count only when it is not.
            let sql = format!(
                "select group_concat(iif(n = 1, profile_id, profile_id || ':' || n)) from ({})",
                leaf.sql
            );
            let text: Option<String> = sqlx::query_scalar_with(&sql, sqlite_arguments(&leaf.binds))
                .fetch_one(pool)
                .await?;
            let mut rows = Vec::new();
            parse_list(text.as_deref().unwrap_or(""), |id, n| rows.push((id, n)));
            Ok(Fetched::Counts(rows))
        }
    }
}

fn passes(op: Comparison, total: f64, value: f64) -> bool {
    match op {
        Comparison::AtLeast => total >= value,
        Comparison::AtMost => total <= value,
        Comparison::Exactly => total == value,
    }
}

/// Evaluates `plan` given the fetched leaves, in the order [`leaves`] lists them, and the
/// members of the saved segments evaluated before it (`saved`).
fn combine(
    plan: &Plan,
    fetched: &mut std::vec::IntoIter<Fetched>,
    universe: &Bits,
    saved: &[Bits],
) -> Bits {
    let sub =
        |p: &Plan, fetched: &mut std::vec::IntoIter<Fetched>| combine(p, fetched, universe, saved);
    match plan {
        Plan::Saved(i) => saved.get(*i).cloned().unwrap_or_default(),
        Plan::Const(true) => universe.clone(),
        Plan::Const(false) => Bits::default(),
        Plan::All(ps) => {
            let mut acc = universe.clone();
            for p in ps {
                acc = acc.and(&sub(p, fetched));
            }
            acc
        }
        Plan::Any(ps) => {
            let mut acc = Bits::default();
            for p in ps {
                acc = acc.or(&sub(p, fetched));
            }
            acc
        }
        Plan::Not(p) => sub(p, fetched).complement_in(universe),
        Plan::Ids(_) => match fetched.next() {
            Some(Fetched::Ids(bits)) => bits.and(universe),
            _ => Bits::default(),
        },
        Plan::Counts {
            parts,
            op,
            value,
            passing,
        } => {
            // Totals per profile over every part; ids beyond the universe are no profile.
            let size = universe.0.len() * 64;
            let mut totals: Vec<u64> = vec![0; size];
            let mut seen = Bits(vec![0; universe.0.len()]);
            for _ in parts {
                let Some(Fetched::Counts(rows)) = fetched.next() else {
                    return Bits::default();
                };
                for (id, n) in rows {
                    if id < size {
                        totals[id] += n;
                        seen.insert(id);
                    }
                }
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

/// Every profile, for NOT and for the total. Ids are dense (1..=max) unless profiles were
/// deleted; then they are listed.
async fn universe(pool: Pool<'_>) -> sqlx::Result<Bits> {
    const SIZES: &str =
        "select (select max(id) from profiles), (select n from profile_count where id = 1)";
    let (max_id, count): (Option<i64>, Option<i64>) = super::on_pool!(pool, pool => {
        sqlx::query_as(SIZES).fetch_one(pool).await?
    });
    let max_id = max_id.unwrap_or(0).max(0) as usize;
    if count.is_some_and(|n| n >= 0 && n as usize == max_id) {
        return Ok(Bits::with_range(max_id));
    }
    let mut bits = Bits::default();
    match pool {
        Pool::Sqlite(pool) => {
            let text: Option<String> = sqlx::query_scalar("select group_concat(id) from profiles")
                .fetch_one(pool)
                .await?;
            parse_list(text.as_deref().unwrap_or(""), |id, _| bits.insert(id));
        }
        Pool::Postgres(pool) => {
            let ids: Vec<i64> =
                sqlx::query_scalar("select coalesce(array_agg(id), '{}') from profiles")
                    .fetch_one(pool)
                    .await?;
            for id in ids {
                if let Ok(id) = usize::try_from(id) {
                    bits.insert(id);
                }
            }
        }
    }
    Ok(bits)
}

impl SegmentQuery {
    /// The members, computed leaf by leaf (see the module comment), and the number of profiles.
    pub async fn evaluate<'a>(&self, pool: impl Into<Pool<'a>>) -> sqlx::Result<Evaluation> {
        let pool = pool.into();
        self.check(pool)?;
        // Each saved segment's leaves once, then the segment's own.
        let mut list = Vec::new();
        for plan in &self.saved_plans {
            leaves(plan, &mut list);
        }
        leaves(&self.plan, &mut list);
        let mut tasks = JoinSet::new();
        for (i, (leaf, counts)) in list.into_iter().enumerate() {
            let (owned, leaf) = (OwnedPool::from(pool), leaf.clone());
            tasks.spawn(async move { (i, fetch(owned, &leaf, counts).await) });
        }
        let universe = universe(pool).await?;
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
        let mut fetched = fetched.into_iter();
        let mut saved = Vec::with_capacity(self.saved_plans.len());
        for plan in &self.saved_plans {
            let members = combine(plan, &mut fetched, &universe, &saved);
            saved.push(members);
        }
        let members = combine(&self.plan, &mut fetched, &universe, &saved);
        Ok(Evaluation {
            members,
            total_profiles: total,
        })
    }
}

/// The ids set in word `i` of a bitmap, ascending.
fn word_ids(i: usize, mut w: u64) -> impl Iterator<Item = i64> + Send + 'static {
    std::iter::from_fn(move || {
        if w == 0 {
            return None;
        }
        let bit = w.trailing_zeros();
        w &= w - 1;
        Some((i * 64 + bit as usize) as i64)
    })
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
        let mut skipped = Vec::new();
        parse_list("1,x,-2,4:,,18446744073709551616,7", |id, n| {
            skipped.push((id, n))
        });
        assert_eq!(skipped, [(1, 1), (4, 0), (7, 1)]);
        let mut none = Vec::new();
        parse_list("", |id, n| none.push((id, n)));
        assert!(none.is_empty());
    }
}
