//! The store's SQL for SQLite: multi-row `values` in chunks under SQLite's bound-parameter limit.
//!
//! sqlx runs SQLite on a thread of its own and hands every result row across a channel (a
//! thread wake-up each), so statements here return few rows: lookups of a whole batch come back
//! as one JSON array, and events are inserted without `returning`.

use std::collections::{BTreeMap, HashMap};

use sqlx::{Connection, QueryBuilder, Sqlite, SqliteConnection, SqlitePool};

use super::{Batch, TimedKeys, keys_set_sql};
use crate::customer::activity::{self, Bookkeeping};

/// Rows per multi-row statement: SQLite's bound-parameter limit (32766) over the widest row
/// (26 columns, a new profile). Full chunks share one statement text, so its prepared form is reused.
const CHUNK: usize = 1000;

pub(super) async fn store(
    pool: &SqlitePool,
    batch: &Batch<'_>,
    books: &[&Bookkeeping],
    now: i64,
) -> sqlx::Result<()> {
    store_on(&mut *pool.acquire().await?, batch, books, now, true).await
}

/// [`store`] on a given connection (the upload writer keeps one, see `writer`). The events are
/// staged in `events_inbox`; with `merge` they are moved into `events` in the same transaction
/// (the upload writer merges many uploads' at once instead, see `writer`).
pub(super) async fn store_on(
    conn: &mut SqliteConnection,
    batch: &Batch<'_>,
    books: &[&Bookkeeping],
    now: i64,
    merge: bool,
) -> sqlx::Result<()> {
    if batch.identities.is_empty() && books.is_empty() {
        return Ok(());
    }
    // `immediate`: the write lock is taken now, waiting (busy timeout) for another connection's
    // write to end. A deferred transaction reads first and takes the lock at its first write;
    // if another connection wrote in between (a job, a session), that upgrade fails at once
    // with SQLITE_BUSY_SNAPSHOT (517), whatever the timeout, and the uploads of the group got a
    // 500 (seen under the backfill bench while the Data page's counts were still written from
    // another connection).
    let mut tx = conn.begin_with("begin immediate").await?;
    let conn = &mut *tx;
    if !batch.identities.is_empty() {
        let (profile_ids, new) = profile_ids(conn, &batch.identities).await?;
        write_profiles(conn, batch, &profile_ids, &new, now).await?;
        if !batch.events.is_empty() {
            let name_ids = ensure_names(conn, &batch.names, now).await?;
            stage_events(conn, batch, &profile_ids, &name_ids).await?;
        }
        register_types(conn, batch, now).await?;
        super::identity::link_sqlite(conn, batch, now).await?;
        if merge {
            merge_inbox(conn, None).await?;
        }
    }
    activity::record_sqlite(conn, books, now).await?;
    tx.commit().await
}

/// The id of every identity in the batch, and the identities not stored yet (in the batch's
/// order, which is sorted). Those get the next ids, `max(id) + 1` on in that order: the ids
/// SQLite itself gives rows inserted one by one into a rowid table, and this transaction is the
/// only writer. Knowing them up front, [`insert_profiles`] needs no `returning` (sqlx hands each
/// returned row across a thread) and writes each new profile once, its match keys included,
/// instead of inserting it and then updating its keys.
///
/// The lookup binds the identities as one JSON array: its statement text never changes, so it
/// is prepared once, where a list of binds made a new 1000-parameter statement per upload (the
/// number of distinct identities varies); the ids come back as one text in the list's order.
async fn profile_ids<'a>(
    conn: &mut SqliteConnection,
    identities: &[&'a str],
) -> sqlx::Result<(HashMap<&'a str, i64>, Vec<&'a str>)> {
    let list = serde_json::to_string(identities).map_err(decode_error)?;
    let (found,): (Option<String>,) = sqlx::query_as(
        "select group_concat(coalesce(p.id, 0), ',' order by j.key) \
         from json_each($1) j left join profiles p on p.identity = j.value",
    )
    .bind(&list)
    .fetch_one(&mut *conn)
    .await?;
    let mut ids: HashMap<&str, i64> = HashMap::with_capacity(identities.len());
    let mut missing: Vec<&str> = Vec::new();
    let found = found.unwrap_or_default();
    let mut found = found.split(',').filter(|s| !s.is_empty());
    for identity in identities {
        match found.next().map(str::parse::<i64>) {
            Some(Ok(id)) if id > 0 => {
                ids.insert(identity, id);
            }
            Some(Ok(_)) => missing.push(identity),
            _ => {
                return Err(decode_error(
                    "the profile lookup returned fewer ids than asked",
                ));
            }
        }
    }
    if !missing.is_empty() {
        let (last,): (i64,) = sqlx::query_as("select coalesce(max(id), 0) from profiles")
            .fetch_one(&mut *conn)
            .await?;
        for (id, identity) in (last + 1..).zip(&missing) {
            ids.insert(identity, id);
        }
    }
    Ok((ids, missing))
}

/// Inserts the profiles not stored yet (`new`, with the ids [`profile_ids`] gave them) with
/// their match keys, and counts them in `profile_count`. A new profile has no stored key, so
/// each key of the batch is set as it is, with its message's time: what the last-write-wins
/// update of [`update_keys`] gives it.
async fn insert_profiles(
    conn: &mut SqliteConnection,
    new: &[&str],
    ids: &HashMap<&str, i64>,
    keys: &BTreeMap<i64, TimedKeys>,
    now: i64,
) -> sqlx::Result<()> {
    static INSERT: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
        let keys: Vec<String> = super::KEY_COLUMNS
            .iter()
            .map(|c| format!("{c}, {c}_at"))
            .collect();
        format!(
            "insert into profiles (id, identity, {}, created_at, updated_at) ",
            keys.join(", ")
        )
    });
    let none = TimedKeys::default();
    for chunk in new.chunks(CHUNK) {
        let mut q = QueryBuilder::<Sqlite>::new(INSERT.as_str());
        q.push_values(chunk, |mut b, identity| {
            let id = ids[identity];
            b.push_bind(id).push_bind(*identity);
            for slot in &keys.get(&id).unwrap_or(&none).0 {
                match slot {
                    Some((value, at)) => b.push_bind(value.as_str()).push_bind(*at),
                    None => b.push_bind(None::<&str>).push_bind(None::<i64>),
                };
            }
            b.push_bind(now).push_bind(now);
        });
        q.build().execute(&mut *conn).await?;
    }
    sqlx::query("update profile_count set n = n + $1 where id = 1")
        .bind(new.len() as i64)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Writes the batch's profiles: the new ones inserted whole, the others' match keys updated,
/// then every property upserted.
async fn write_profiles(
    conn: &mut SqliteConnection,
    batch: &Batch<'_>,
    ids: &HashMap<&str, i64>,
    new: &[&str],
    now: i64,
) -> sqlx::Result<()> {
    let mut keys = batch.match_keys(ids);
    if let Some(&first_new) = new.first().map(|identity| &ids[identity]) {
        // The new profiles have the highest ids.
        let new_keys = keys.split_off(&first_new);
        insert_profiles(conn, new, ids, &new_keys, now).await?;
    }
    update_keys(conn, &keys, now).await?;
    let rows = batch.profile_props(ids);
    for chunk in rows.chunks(CHUNK) {
        let mut q = QueryBuilder::<Sqlite>::new(
            "insert into profile_props (profile_id, key, kind, t, n, at) ",
        );
        q.push_values(chunk, |mut b, row| {
            b.push_bind(row.profile_id)
                .push_bind(row.key)
                .push_bind(row.kind)
                .push_bind(&row.t)
                .push_bind(row.n)
                .push_bind(row.at);
        });
        q.push(PROPS_LAST_WRITE_WINS);
        q.build().execute(&mut *conn).await?;
    }
    Ok(())
}

/// The upsert's end that keeps a stored property set by a newer message (last write wins by
/// message time; a row from before the times were kept counts as the oldest).
pub(super) const PROPS_LAST_WRITE_WINS: &str = " on conflict (profile_id, key) do update set \
     kind = excluded.kind, t = excluded.t, n = excluded.n, at = excluded.at \
     where profile_props.at is null or excluded.at >= profile_props.at";

/// Sets the match keys of each profile in `keys`, each unless the stored one comes from a newer
/// message: one statement for the whole batch, its rows bound as one JSON array
/// `[[id, value, time, value, time, …], …]` in [`super::KEY_COLUMNS`]' order (a statement per
/// profile cost ~30 µs each, most of a profile's write). The text of the statement never
/// changes, so it is prepared once.
///
/// Each row is read into binary JSON once (the materialised `u`): `json_each`'s `value`, used
/// directly, is turned back into JSON text and parsed again at every one of its 23 uses, which
/// made this statement a quarter of a new profile's CPU (docs/scaling.md).
pub(super) async fn update_keys(
    conn: &mut SqliteConnection,
    keys: &BTreeMap<i64, TimedKeys>,
    now: i64,
) -> sqlx::Result<()> {
    static SQL: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
        let columns: Vec<String> = (0..super::KEY_COLUMNS.len())
            .map(|i| {
                format!(
                    "r.row ->> {} as v{i}, r.row ->> {} as t{i}",
                    2 * i + 1,
                    2 * i + 2
                )
            })
            .collect();
        format!(
            "with r as materialized (select jsonb(j.value) as row from json_each($1) j) \
             update profiles set {}, updated_at = $2 \
             from (select r.row ->> 0 as id, {} from r) as u \
             where profiles.id = u.id",
            keys_set_sql(
                |i| format!("u.v{i}"),
                |i| format!("u.t{i}"),
                "profiles.",
                |_, v| v,
            ),
            columns.join(", ")
        )
    });
    if keys.is_empty() {
        return Ok(());
    }
    let rows: Vec<serde_json::Value> = keys
        .iter()
        .map(|(id, keys)| {
            let mut row = Vec::with_capacity(1 + 2 * keys.0.len());
            row.push(serde_json::Value::from(*id));
            for slot in &keys.0 {
                match slot {
                    Some((v, t)) => {
                        row.push(serde_json::Value::from(v.as_str()));
                        row.push(serde_json::Value::from(*t));
                    }
                    None => row.extend([serde_json::Value::Null, serde_json::Value::Null]),
                }
            }
            serde_json::Value::Array(row)
        })
        .collect();
    let rows = serde_json::to_string(&rows).map_err(decode_error)?;
    sqlx::query(SQL.as_str())
        .bind(rows)
        .bind(now)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// The id of every event name in the batch, creating the new ones.
async fn ensure_names<'a>(
    conn: &mut SqliteConnection,
    names: &[&'a str],
    now: i64,
) -> sqlx::Result<HashMap<&'a str, i64>> {
    let mut q = QueryBuilder::<Sqlite>::new("select name, id from event_names where name in (");
    let mut list = q.separated(", ");
    for name in names {
        list.push_bind(*name);
    }
    q.push(")");
    let mut by_text: HashMap<String, i64> = q
        .build_query_as()
        .fetch_all(&mut *conn)
        .await?
        .into_iter()
        .collect();
    let missing: Vec<&str> = names
        .iter()
        .copied()
        .filter(|n| !by_text.contains_key(*n))
        .collect();
    if !missing.is_empty() {
        let mut q = QueryBuilder::<Sqlite>::new("insert into event_names (name, first_seen) ");
        q.push_values(&missing, |mut b, name| {
            b.push_bind(*name).push_bind(now);
        });
        q.push(" on conflict (name) do nothing returning name, id");
        let added: Vec<(String, i64)> = q.build_query_as().fetch_all(&mut *conn).await?;
        by_text.extend(added);
    }
    Ok(names.iter().map(|n| (*n, by_text[*n])).collect())
}

/// Appends the batch's events to `events_inbox` (arrival order, whatever their times); returns
/// how many were staged. They reach `events` and the aggregates at the next [`merge_inbox`],
/// which drops the resends.
async fn stage_events(
    conn: &mut SqliteConnection,
    batch: &Batch<'_>,
    profile_ids: &HashMap<&str, i64>,
    name_ids: &HashMap<&str, i64>,
) -> sqlx::Result<u64> {
    let rows = batch.event_rows(profile_ids, name_ids);
    let all: Vec<usize> = (0..rows.ts.len()).collect();
    let mut staged = 0;
    for chunk in all.chunks(CHUNK) {
        let mut q = QueryBuilder::<Sqlite>::new(
            "insert into events_inbox (profile_id, name_id, ts, props, dedup_key) ",
        );
        q.push_values(chunk, |mut b, &i| {
            b.push_bind(rows.profile_id[i])
                .push_bind(rows.name_id[i])
                .push_bind(rows.ts[i])
                .push_bind(rows.props[i])
                .push_bind(&rows.dedup_key[i][..]);
        });
        staged += q.build().execute(&mut *conn).await?.rows_affected();
    }
    Ok(staged)
}

/// `floor(ts / DAY)` in SQL (`/` of integers truncates toward zero, on both databases).
pub(super) const DAY_OF_TS: &str = "(ts - (((ts % 86400) + 86400) % 86400)) / 86400";

/// Moves every staged event into `events`, `event_days` and the catalog's counts, inside the
/// caller's transaction; returns how many events were new (a resent one is skipped, and counts
/// nowhere).
///
/// The events go in sorted by time: every time-ordered tree then takes them from left to right,
/// each leaf page written once per merge instead of once per event — the `dedup_key` index,
/// whose keys start with the time, in one sweep, and `events_by_name_ts` (name, ts, profile) in
/// one sweep per name, side by side (sorted by (name, time) instead, the `dedup_key` index was
/// swept once per name: 15 % slower at 2M events, more once it outgrows the cache).
/// `event_days` gets its rows from a `group by` in its own key order. Rows get ids
/// above the largest so far (SQLite's rowid rule; nothing here sets them) and this transaction
/// is the only writer, so the rows above `before` are the ones it added: the aggregates are
/// computed from them, in their key order too.
///
/// `times` limits the merge to the staged events with `from <= ts < until` (see
/// [`super::merge_staged`]); `None` merges them all.
pub(crate) async fn merge_inbox(
    conn: &mut SqliteConnection,
    times: Option<(i64, i64)>,
) -> sqlx::Result<u64> {
    let staged: bool = sqlx::query_scalar("select exists (select 1 from events_inbox)")
        .fetch_one(&mut *conn)
        .await?;
    if !staged {
        return Ok(0);
    }
    let (from, until) = times.unwrap_or((i64::MIN, i64::MAX));
    let (before,): (i64,) = sqlx::query_as("select coalesce(max(id), 0) from events")
        .fetch_one(&mut *conn)
        .await?;
    // An event already stored is skipped by the upsert (the stored one stays); of one staged
    // twice (a resend) the first in the merge's order stays: the first staged for the upload
    // API, whose resends are identical; for the Segment API, whose resends repeat the
    // messageId but may correct the time differently, the one with the earliest corrected time
    // (keeping the first staged took a sort of the staged keys: +40 % on the merge). An event
    // whose profile was erased after it was staged goes nowhere. `where true`: SQLite's grammar
    // needs a `where` before an upsert clause on `insert … select` (the time range is one).
    let added = sqlx::query(
        "insert into events (profile_id, name_id, ts, props, dedup_key) \
         select i.profile_id, i.name_id, i.ts, i.props, i.dedup_key from events_inbox i \
         join profiles p on p.id = i.profile_id where i.ts >= $1 and i.ts < $2 \
         order by i.ts, i.id \
         on conflict (dedup_key) do nothing",
    )
    .bind(from)
    .bind(until)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if added > 0 {
        sqlx::query(&format!(
            "insert into event_days (name_id, day, profile_id, n) \
             select name_id, {DAY_OF_TS}, profile_id, count(*) from events where id > $1 \
             group by 1, 2, 3 order by 1, 2, 3 \
             on conflict (name_id, day, profile_id) do update set n = event_days.n + excluded.n"
        ))
        .bind(before)
        .execute(&mut *conn)
        .await?;
        sqlx::query(
            "update event_names set count = count + v.c, \
             last_seen = max(coalesce(last_seen, v.l), v.l) \
             from (select name_id, count(*) as c, max(ts) as l from events where id > $1 \
             group by name_id) as v where event_names.id = v.name_id",
        )
        .bind(before)
        .execute(&mut *conn)
        .await?;
    }
    if times.is_some() {
        sqlx::query("delete from events_inbox where ts >= $1 and ts < $2")
            .bind(from)
            .bind(until)
            .execute(&mut *conn)
            .await?;
    } else {
        // Without a `where`, SQLite drops the table's pages at once.
        sqlx::query("delete from events_inbox")
            .execute(&mut *conn)
            .await?;
    }
    Ok(added)
}

fn decode_error(e: impl std::fmt::Display) -> sqlx::Error {
    sqlx::Error::Decode(e.to_string().into())
}

/// Records the type of every property not seen before; the first type seen stays.
async fn register_types(
    conn: &mut SqliteConnection,
    batch: &Batch<'_>,
    now: i64,
) -> sqlx::Result<()> {
    for chunk in batch.types.chunks(CHUNK) {
        let mut q = QueryBuilder::<Sqlite>::new(
            "insert into property_types (scope, event_name, key, kind, first_seen) ",
        );
        q.push_values(chunk, |mut b, ((scope, event, key), kind)| {
            b.push_bind(*scope)
                .push_bind(*event)
                .push_bind(*key)
                .push_bind(*kind)
                .push_bind(now);
        });
        q.push(" on conflict do nothing");
        q.build().execute(&mut *conn).await?;
    }
    Ok(())
}
