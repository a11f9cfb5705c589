//! Writes parsed records: all the valid records of an upload (or of several, see `writer`) in one
//! transaction, with set-based statements (a round trip per row would cap ingestion far below
//! the target rate).
//!
//! What needs no database — which identities and event names a batch names, the profile
//! updates merged per profile, the property types first seen, the daily counts of the events
//! actually inserted — is computed here once; [`sqlite`] and [`postgres`] hold each dialect's
//! SQL (and how each learns which events are new: a lookup of the stored keys on SQLite,
//! `returning` on PostgreSQL), so both backends store exactly the same rows.

mod identity;
mod postgres;
pub(crate) use postgres::{MERGE_LOCK, WRITER_LOCK};
mod sqlite;

use std::collections::{BTreeMap, HashMap};

use serde::ser::{Serialize, SerializeMap, Serializer};
use shared::segment::eval::Value;

use super::activity::Bookkeeping;
use super::record::{Link, MatchKeys, NewEvent, ProfileUpdate, Record};
use crate::db::Db;

/// Seconds in a UTC day: `event_days.day` is `ts.div_euclid(DAY)`.
pub const DAY: i64 = 86_400;

/// The name of a value's type, as stored in `kind` columns and the type registry.
pub fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Text(_) => "text",
        Value::Number(_) => "number",
        Value::Boolean(_) => "boolean",
        Value::Date(_) => "date",
        Value::List(_) => "list",
    }
}

/// An event's properties in the `events.props` JSON encoding (see the migration): text →
/// string, number → number, boolean → true/false, list → array of strings, date →
/// `{"d": epoch seconds}`. Serialised straight to text, without an intermediate JSON tree.
struct PropsJson<'a>(&'a BTreeMap<String, Value>);

impl Serialize for PropsJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        struct Date(i64);
        impl Serialize for Date {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                let mut m = s.serialize_map(Some(1))?;
                m.serialize_entry("d", &self.0)?;
                m.end()
            }
        }
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (key, value) in self.0 {
            match value {
                Value::Text(t) => m.serialize_entry(key, t)?,
                Value::Number(x) => m.serialize_entry(key, x)?,
                Value::Boolean(b) => m.serialize_entry(key, b)?,
                Value::Date(t) => m.serialize_entry(key, &Date(t.as_second()))?,
                Value::List(items) => m.serialize_entry(key, items)?,
            }
        }
        m.end()
    }
}

pub(super) fn props_json(props: &BTreeMap<String, Value>) -> String {
    if props.is_empty() {
        return "{}".to_owned();
    }
    // Serialising strings, numbers and maps of them cannot fail.
    serde_json::to_string(&PropsJson(props)).unwrap_or_else(|_| "{}".to_owned())
}

/// A profile property as the `(t, n)` columns of `profile_props`.
fn to_columns(value: &Value) -> (Option<String>, Option<f64>) {
    match value {
        Value::Text(s) => (Some(s.clone()), None),
        Value::Number(x) => (None, Some(*x)),
        Value::Boolean(b) => (None, Some(if *b { 1.0 } else { 0.0 })),
        Value::Date(t) => (None, Some(t.as_second() as f64)),
        Value::List(items) => (
            Some(serde_json::to_string(items).unwrap_or_else(|_| "[]".to_owned())),
            None,
        ),
    }
}

/// Stores `records` (all valid) atomically in whichever database the server uses; `now` is
/// epoch seconds.
pub async fn store(db: &Db, records: &[Record], now: i64) -> sqlx::Result<()> {
    store_refs(db, &records.iter().collect::<Vec<_>>(), &[], now).await
}

/// [`store`] of records gathered from several uploads, with their requests' bookkeeping (the
/// Data page's counts) in the same transaction.
pub(super) async fn store_refs(
    db: &Db,
    records: &[&Record],
    books: &[&Bookkeeping],
    now: i64,
) -> sqlx::Result<()> {
    match db {
        Db::Sqlite(pool) => sqlite::store(pool, &Batch::new(records), books, now).await,
        Db::Postgres(pool) => postgres::store(pool, &Batch::new(records), books, now, true).await,
    }
}

/// [`store_refs`] on a given SQLite connection, leaving the events staged in `events_inbox`
/// for [`merge_staged`] (see `writer`).
pub(super) async fn stage_refs_on(
    conn: &mut sqlx::SqliteConnection,
    records: &[&Record],
    books: &[&Bookkeeping],
    now: i64,
) -> sqlx::Result<()> {
    sqlite::store_on(conn, &Batch::new(records), books, now, false).await
}

/// [`store_refs`] on PostgreSQL, leaving the events staged in `events_inbox` for
/// [`merge_staged_postgres`] (see `writer`).
pub(super) async fn stage_refs_postgres(
    pool: &sqlx::PgPool,
    records: &[&Record],
    books: &[&Bookkeeping],
    now: i64,
) -> sqlx::Result<()> {
    postgres::store(pool, &Batch::new(records), books, now, false).await
}

/// Moves the events staged on PostgreSQL into `events` and the aggregates, in one transaction
/// holding the upload writers' lock; returns how many were new. Any server process may run it:
/// the lock is PostgreSQL's, so the staged events of every process are merged once.
pub(super) async fn merge_staged_postgres(pool: &sqlx::PgPool) -> sqlx::Result<u64> {
    postgres::merge_staged(pool).await
}

/// Staged events per transaction of a merge (see [`merge_staged`]). At 250,000 a slice of a
/// 5M-event database took up to 6 s on the loaded machine and the job poller waited up to 7.3 s
/// for the write lock; at 100,000 the server spent 20 % more CPU per event at 2M events (each
/// slice reads the whole inbox, and a sliced merge deletes rows where a whole one drops the
/// table's pages), so merges up to this size stay whole (docs/scaling.md).
const MERGE_PART: i64 = 250_000;

/// Moves the events staged on SQLite into `events` and the aggregates; returns how many were
/// new.
///
/// In one transaction per slice of time of about [`MERGE_PART`] events (equal widths between
/// the earliest and latest staged time): a slice's events fall into its own part of each
/// time-ordered tree, so the slices together write each page no more often than one large
/// transaction would, while no transaction holds SQLite's write lock for long (other
/// connections — jobs, sessions — wait for it, up to their busy timeout of 10 s). Each slice
/// moves its events and deletes them from the inbox in the same transaction: an event is always
/// in exactly one of the two places.
pub(super) async fn merge_staged(conn: &mut sqlx::SqliteConnection) -> sqlx::Result<u64> {
    merge_staged_by(conn, MERGE_PART).await
}

/// [`merge_staged`] in slices of about `part` events.
async fn merge_staged_by(conn: &mut sqlx::SqliteConnection, part: i64) -> sqlx::Result<u64> {
    use sqlx::Connection as _;
    let (staged, first, last): (i64, Option<i64>, Option<i64>) =
        sqlx::query_as("select count(*), min(ts), max(ts) from events_inbox")
            .fetch_one(&mut *conn)
            .await?;
    let (Some(first), Some(last)) = (first, last) else {
        return Ok(0);
    };
    let part = part.max(1);
    let parts = (staged + part - 1) / part;
    let width = ((last - first) / parts.max(1)).saturating_add(1);
    let mut added = 0;
    for part in 0..parts {
        let from = first.saturating_add(part.saturating_mul(width));
        let until = if part == parts - 1 {
            last.saturating_add(1)
        } else {
            from.saturating_add(width)
        };
        if part > 0 {
            // A connection waiting for the write lock retries in SQLite's busy handler every
            // 100 ms at most: taking the lock again at once after a commit could starve it past
            // its timeout over several slices (a background jobs tick failed in one 1M/5M run).
            tokio::time::sleep(std::time::Duration::from_millis(150)).await;
        }
        let mut tx = conn.begin_with("begin immediate").await?;
        let times = (parts > 1).then_some((from, until));
        added += sqlite::merge_inbox(&mut tx, times).await?;
        tx.commit().await?;
    }
    Ok(added)
}

/// [`store`] on SQLite.
pub async fn store_records(
    pool: &sqlx::SqlitePool,
    records: &[Record],
    now: i64,
) -> sqlx::Result<()> {
    let records: Vec<&Record> = records.iter().collect();
    sqlite::store(pool, &Batch::new(&records), &[], now).await
}

/// One upload's records, sorted out for writing.
struct Batch<'a> {
    /// Every identity the batch names, sorted and unique.
    identities: Vec<&'a str>,
    profiles: Vec<&'a ProfileUpdate>,
    events: Vec<&'a NewEvent>,
    /// Every event name, sorted and unique.
    names: Vec<&'a str>,
    /// Segment's anonymous → identified links (`identity`).
    links: Vec<&'a Link>,
    /// `(scope, event name or '', key) → kind` of every property, as first seen in the batch
    /// (the registry keeps the first type ever seen: `on conflict do nothing`).
    types: Vec<(PropertyKey<'a>, &'static str)>,
}

type PropertyKey<'a> = (&'static str, &'a str, &'a str);

impl<'a> Batch<'a> {
    fn new(records: &[&'a Record]) -> Self {
        let mut identities: Vec<&str> = records.iter().map(|r| r.identity()).collect();
        identities.sort_unstable();
        identities.dedup();
        let mut profiles = Vec::new();
        let mut events = Vec::new();
        let mut links = Vec::new();
        for r in records {
            match *r {
                Record::Profile(p) => profiles.push(&**p),
                Record::Event(e) => events.push(e),
                Record::Link(l) => links.push(l),
            }
        }
        let mut names: Vec<&str> = events.iter().map(|e| e.name.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        let mut types: BTreeMap<PropertyKey<'a>, &'static str> = BTreeMap::new();
        for p in &profiles {
            for (key, value) in &p.properties {
                types.entry(("profile", "", key)).or_insert(kind_of(value));
            }
        }
        for e in &events {
            for (key, value) in &e.properties {
                types
                    .entry(("event", &e.name, key))
                    .or_insert(kind_of(value));
            }
        }
        Batch {
            identities,
            profiles,
            events,
            names,
            links,
            types: types.into_iter().collect(),
        }
    }

    /// The match keys to set per profile id, each with the time of the message that set it:
    /// per key, the newest message of the batch that has one wins (the later in the batch on a
    /// tie), and the store keeps it only if it is not older than the stored key's
    /// (last write wins by message time, see docs/customer-data.md).
    fn match_keys(&self, ids: &HashMap<&str, i64>) -> BTreeMap<i64, TimedKeys> {
        self.keys_by_identity()
            .into_iter()
            .map(|(identity, keys)| (ids[identity], keys))
            .collect()
    }

    /// [`Self::match_keys`] by identity, for profiles that have no id yet.
    fn keys_by_identity(&self) -> HashMap<&'a str, TimedKeys> {
        let mut merged: HashMap<&'a str, TimedKeys> = HashMap::new();
        for p in &self.profiles {
            merged
                .entry(p.identity.as_str())
                .or_default()
                .merge(&p.match_keys, p.ts);
        }
        merged
    }

    /// `profile_props` rows: per (profile, key) the value of the newest message in the batch
    /// (the later in the batch on a tie), with that message's time. One row per key also keeps
    /// PostgreSQL's upsert from seeing a row twice in one statement.
    fn profile_props(&self, ids: &HashMap<&str, i64>) -> Vec<PropRow<'a>> {
        let mut props: BTreeMap<(i64, &str), (&Value, i64)> = BTreeMap::new();
        for p in &self.profiles {
            let id = ids[p.identity.as_str()];
            for (key, value) in &p.properties {
                let entry = props.entry((id, key.as_str())).or_insert((value, p.ts));
                if p.ts >= entry.1 {
                    *entry = (value, p.ts);
                }
            }
        }
        props
            .into_iter()
            .map(|((id, key), (value, at))| {
                let (t, n) = to_columns(value);
                PropRow {
                    profile_id: id,
                    key,
                    kind: kind_of(value),
                    t,
                    n,
                    at,
                }
            })
            .collect()
    }

    /// The `events` rows, in batch order.
    fn event_rows(
        &self,
        profiles: &HashMap<&str, i64>,
        names: &HashMap<&str, i64>,
    ) -> EventRows<'a> {
        let n = self.events.len();
        let mut rows = EventRows {
            profile_id: Vec::with_capacity(n),
            name_id: Vec::with_capacity(n),
            ts: Vec::with_capacity(n),
            props: Vec::with_capacity(n),
            dedup_key: Vec::with_capacity(n),
        };
        for e in &self.events {
            rows.profile_id.push(profiles[e.identity.as_str()]);
            rows.name_id.push(names[e.name.as_str()]);
            rows.ts.push(e.ts);
            rows.props.push(e.props_json.as_str());
            rows.dedup_key.push(e.dedup_key);
        }
        rows
    }
}

struct PropRow<'a> {
    profile_id: i64,
    key: &'a str,
    kind: &'static str,
    t: Option<String>,
    n: Option<f64>,
    /// The time of the message that set it (epoch seconds).
    at: i64,
}

/// The match-key columns of `profiles`, in [`TimedKeys`]' order; each has a `<column>_at`.
const KEY_COLUMNS: [&str; 11] = [
    "email",
    "phone",
    "first_name",
    "last_name",
    "gender",
    "date_of_birth",
    "city",
    "state",
    "zip",
    "country",
    "madid",
];

/// Match keys to set on one profile, in [`KEY_COLUMNS`]' order, each with the time of the
/// message it comes from; `None` leaves the stored key as it is.
#[derive(Debug, Default, Clone, PartialEq)]
struct TimedKeys([Option<(String, i64)>; 11]);

impl TimedKeys {
    /// Takes the keys `keys` has, from a message at `at`; a key already taken from a newer
    /// message stays.
    fn merge(&mut self, keys: &MatchKeys, at: i64) {
        let from = [
            &keys.email,
            &keys.phone,
            &keys.first_name,
            &keys.last_name,
            &keys.gender,
            &keys.date_of_birth,
            &keys.city,
            &keys.state,
            &keys.zip,
            &keys.country,
            &keys.madid,
        ];
        for (slot, value) in self.0.iter_mut().zip(from) {
            if let Some(value) = value
                && slot.as_ref().is_none_or(|(_, t)| at >= *t)
            {
                *slot = Some((value.clone(), at));
            }
        }
    }
}

/// `set` clauses of the last-write-wins update of the match keys: `<col>` and `<col>_at` take
/// the given value and time when one is given and the stored key is not newer. `value(i)` and
/// `time(i)` are the SQL of the `i`-th key's new value and time; `cast` wraps a value (the
/// date of birth is a `date` on PostgreSQL).
fn keys_set_sql(
    value: impl Fn(usize) -> String,
    time: impl Fn(usize) -> String,
    stored: &str,
    cast: impl Fn(&str, String) -> String,
) -> String {
    KEY_COLUMNS
        .iter()
        .enumerate()
        .map(|(i, col)| {
            let (v, t) = (value(i), time(i));
            let newer = format!(
                "{v} is not null and ({stored}{col}_at is null or {t} >= {stored}{col}_at)"
            );
            let v = cast(col, v);
            format!(
                "{col} = case when {newer} then {v} else {stored}{col} end, \
                 {col}_at = case when {newer} then {t} else {stored}{col}_at end"
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The `events` rows of a batch, column by column (PostgreSQL binds each as one array).
struct EventRows<'a> {
    profile_id: Vec<i64>,
    name_id: Vec<i64>,
    ts: Vec<i64>,
    props: Vec<&'a str>,
    dedup_key: Vec<[u8; 16]>,
}

#[cfg(test)]
mod tests;
