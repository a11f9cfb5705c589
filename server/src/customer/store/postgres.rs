//! The store's SQL for PostgreSQL: each table written by one statement over `unnest` of one
//! array per column, so a batch is a handful of round trips whatever its size (no
//! bound-parameter limit to chunk under).

use std::collections::{BTreeMap, HashMap};

use sqlx::{PgConnection, PgPool};

use super::{Batch, KEY_COLUMNS, TimedKeys, keys_set_sql};
use crate::customer::activity::{self, Bookkeeping};

/// Key of the transaction-level advisory lock every upload takes (any constant unique to this
/// purpose; it reads "custdata"). Writers are serialised, as on SQLite: two uploads upserting
/// the same event names, daily counts or profiles in different orders would otherwise deadlock,
/// and one of them fail.
pub(crate) const WRITER_LOCK: i64 = 0x6375_7374_6461_7461;

/// Key of the transaction-level advisory lock of the merge of staged events ([`merge_inbox`];
/// it reads "custmrge"). A merge does not hold [`WRITER_LOCK`], so uploads go on staging while
/// it runs; what must not overlap a merge takes this lock after [`WRITER_LOCK`] (never the other
/// way round): an erasure and an upload that merges an anonymous profile (both delete a
/// profile whose staged events a running merge may be storing), and a merge of the direct path.
pub(crate) const MERGE_LOCK: i64 = 0x6375_7374_6d72_6765;

/// Takes [`MERGE_LOCK`] for the rest of the transaction, waiting for a running merge.
pub(crate) async fn lock_merges(conn: &mut PgConnection) -> sqlx::Result<()> {
    sqlx::query("select pg_advisory_xact_lock($1)")
        .bind(MERGE_LOCK)
        .execute(conn)
        .await?;
    Ok(())
}

/// Stores a batch in one transaction. The events are staged in `events_inbox`; with `merge`
/// they are moved into `events` in the same transaction (the upload writer merges many
/// uploads' at once instead, see `writer` and [`merge_staged`]).
pub(super) async fn store(
    pool: &PgPool,
    batch: &Batch<'_>,
    books: &[&Bookkeeping],
    now: i64,
    merge: bool,
) -> sqlx::Result<()> {
    if batch.identities.is_empty() && books.is_empty() {
        return Ok(());
    }
    let mut tx = pool.begin().await?;
    let conn = &mut *tx;
    sqlx::query("select pg_advisory_xact_lock($1)")
        .bind(WRITER_LOCK)
        .execute(&mut *conn)
        .await?;
    if !batch.identities.is_empty() {
        let mut keys = batch.keys_by_identity();
        let profile_ids = ensure_profiles(conn, &batch.identities, &mut keys, now).await?;
        let keys = keys
            .into_iter()
            .map(|(identity, keys)| (profile_ids[identity], keys))
            .collect();
        update_profiles(conn, batch, &profile_ids, &keys, now).await?;
        if !batch.events.is_empty() {
            let name_ids = ensure_names(conn, &batch.names, now).await?;
            stage_events(conn, batch, &profile_ids, &name_ids).await?;
        }
        register_types(conn, batch, now).await?;
        super::identity::link_postgres(conn, batch, now).await?;
        if merge {
            lock_merges(conn).await?;
            merge_inbox(conn).await?;
        }
    }
    activity::record_postgres(conn, books, now).await?;
    tx.commit().await
}

/// Creates the profiles not seen before (counting them in `profile_count`) with their match
/// keys, taking those out of `keys`; returns the id of every identity in the batch. A new
/// profile has no stored key, so each key of the batch is set as it is, with its message's
/// time: what the last-write-wins update of [`update_keys`] gives it, without writing the row
/// twice (an update of a just-inserted row is a second tuple, and an entry in every index).
/// Only the missing ones are inserted: an `insert … on conflict do nothing` of every identity
/// would draw a sequence value for each conflicting row too, leaving gaps in the ids that the
/// engine's bitmaps (dense over `1..=max(id)`) would have to span.
async fn ensure_profiles<'a>(
    conn: &mut PgConnection,
    identities: &[&'a str],
    keys: &mut HashMap<&'a str, TimedKeys>,
    now: i64,
) -> sqlx::Result<HashMap<&'a str, i64>> {
    static INSERT: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
        let columns: Vec<String> = KEY_COLUMNS.iter().map(|c| format!("{c}, {c}_at")).collect();
        let arrays = key_arrays(3);
        let values: Vec<String> = KEY_COLUMNS
            .iter()
            .map(|c| {
                let v = if *c == "date_of_birth" {
                    format!("u.v_{c}::date")
                } else {
                    format!("u.v_{c}")
                };
                format!("{v}, u.t_{c}")
            })
            .collect();
        let names = key_aliases();
        format!(
            "insert into profiles (identity, {}, created_at, updated_at) \
             select u.i, {}, $2, $2 from unnest($1::text[], {}) with ordinality as u(i, {}, o) \
             order by o on conflict (identity) do nothing returning identity, id",
            columns.join(", "),
            values.join(", "),
            arrays,
            names
        )
    });
    let mut by_text: HashMap<String, i64> =
        sqlx::query_as("select identity, id from profiles where identity = any($1::text[])")
            .bind(identities)
            .fetch_all(&mut *conn)
            .await?
            .into_iter()
            .collect();
    let missing: Vec<&str> = identities
        .iter()
        .copied()
        .filter(|i| !by_text.contains_key(*i))
        .collect();
    if !missing.is_empty() {
        let new_keys: Vec<TimedKeys> = missing
            .iter()
            .map(|identity| keys.remove(identity).unwrap_or_default())
            .collect();
        // Sorted (as `identities` is), so ids follow the identities' order, as on SQLite.
        let mut q = sqlx::query_as(INSERT.as_str()).bind(&missing).bind(now);
        for (values, times) in key_columns(&new_keys) {
            q = q.bind(values).bind(times);
        }
        let added: Vec<(String, i64)> = q.fetch_all(&mut *conn).await?;
        sqlx::query("update profile_count set n = n + $1 where id = 1")
            .bind(added.len() as i64)
            .execute(&mut *conn)
            .await?;
        by_text.extend(added);
    }
    Ok(identities.iter().map(|i| (*i, by_text[*i])).collect())
}

/// Updates the match keys of the profiles already stored (`keys`), then upserts every property.
async fn update_profiles(
    conn: &mut PgConnection,
    batch: &Batch<'_>,
    ids: &HashMap<&str, i64>,
    keys: &BTreeMap<i64, TimedKeys>,
    now: i64,
) -> sqlx::Result<()> {
    update_keys(conn, keys, now).await?;
    let rows = batch.profile_props(ids);
    if !rows.is_empty() {
        let mut id = Vec::with_capacity(rows.len());
        let mut key = Vec::with_capacity(rows.len());
        let mut kind = Vec::with_capacity(rows.len());
        let mut t = Vec::with_capacity(rows.len());
        let mut n = Vec::with_capacity(rows.len());
        let mut at = Vec::with_capacity(rows.len());
        for r in rows {
            id.push(r.profile_id);
            key.push(r.key);
            kind.push(r.kind);
            t.push(r.t);
            n.push(r.n);
            at.push(r.at);
        }
        sqlx::query(&format!(
            "insert into profile_props (profile_id, key, kind, t, n, at) \
             select * from unnest($1::bigint[], $2::text[], $3::text[], $4::text[], \
                                  $5::float8[], $6::bigint[]){}",
            super::sqlite::PROPS_LAST_WRITE_WINS
        ))
        .bind(id)
        .bind(key)
        .bind(kind)
        .bind(t)
        .bind(n)
        .bind(at)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// Sets the match keys of several profiles, each key unless the stored one comes from a newer
/// message: one statement over `unnest` of a value and a time array per key.
pub(super) async fn update_keys(
    conn: &mut PgConnection,
    keys: &BTreeMap<i64, TimedKeys>,
    now: i64,
) -> sqlx::Result<()> {
    static SQL: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
        let arrays = key_arrays(2);
        let names = key_aliases();
        format!(
            "update profiles p set {}, updated_at = $24 \
             from unnest($1::bigint[], {}) as u(id, {}) where p.id = u.id",
            keys_set_sql(
                |i| format!("u.v_{}", KEY_COLUMNS[i]),
                |i| format!("u.t_{}", KEY_COLUMNS[i]),
                "p.",
                |col, v| if col == "date_of_birth" {
                    format!("{v}::date")
                } else {
                    v
                },
            ),
            arrays,
            names
        )
    });
    if keys.is_empty() {
        return Ok(());
    }
    let ids: Vec<i64> = keys.keys().copied().collect();
    let mut q = sqlx::query(SQL.as_str()).bind(ids);
    let keys: Vec<&TimedKeys> = keys.values().collect();
    for (values, times) in key_columns(&keys) {
        q = q.bind(values).bind(times);
    }
    q.bind(now).execute(&mut *conn).await?;
    Ok(())
}

/// The id of every event name in the batch, creating the new ones (only those, for the same
/// reason as profiles).
async fn ensure_names<'a>(
    conn: &mut PgConnection,
    names: &[&'a str],
    now: i64,
) -> sqlx::Result<HashMap<&'a str, i64>> {
    let mut by_text: HashMap<String, i64> =
        sqlx::query_as("select name, id from event_names where name = any($1::text[])")
            .bind(names)
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
        let added: Vec<(String, i64)> = sqlx::query_as(
            "insert into event_names (name, first_seen) \
             select n, $2 from unnest($1::text[]) with ordinality as u(n, o) order by o \
             on conflict (name) do nothing returning name, id",
        )
        .bind(&missing)
        .bind(now)
        .fetch_all(&mut *conn)
        .await?;
        by_text.extend(added);
    }
    Ok(names.iter().map(|n| (*n, by_text[*n])).collect())
}

/// Appends the batch's events to `events_inbox` (arrival order, whatever their times). They
/// reach `events` and the aggregates at the next [`merge_inbox`], which drops the resends.
/// `props` goes as text and is cast, so the JSON is parsed once, by PostgreSQL, here: a value
/// it refuses fails this upload, not the merge.
async fn stage_events(
    conn: &mut PgConnection,
    batch: &Batch<'_>,
    profile_ids: &HashMap<&str, i64>,
    name_ids: &HashMap<&str, i64>,
) -> sqlx::Result<()> {
    let rows = batch.event_rows(profile_ids, name_ids);
    let keys: Vec<&[u8]> = rows.dedup_key.iter().map(|k| &k[..]).collect();
    sqlx::query(
        "insert into events_inbox (profile_id, name_id, ts, props, dedup_key) \
         select p, n, t, j::jsonb, k \
         from unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::text[], $5::bytea[]) \
              as u(p, n, t, j, k)",
    )
    .bind(&rows.profile_id)
    .bind(&rows.name_id)
    .bind(&rows.ts)
    .bind(&rows.props)
    .bind(keys)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Moves every staged event into `events`, `event_days` and the catalog's counts, inside the
/// caller's transaction, which holds [`MERGE_LOCK`]; returns how many events were new.
///
/// Uploads may stage more meanwhile: one statement takes the staged rows out (`delete …
/// returning`) and stores them, so it moves exactly the rows its snapshot sees, and a row
/// staged by a transaction that commits later stays for the next merge. (A `truncate` frees the
/// pages at once but would take those rows too, or wait for every upload.)
///
/// Sorted by time, as on SQLite (`sqlite::merge_inbox`): the `dedup_key` index (whose keys
/// start with the time) and `events_by_name_ts` take the events from left to right, each leaf
/// page dirtied once per merge instead of once per event, and `event_days` gets its rows in
/// its key order. An event already stored is skipped by the upsert; of one staged twice (a
/// resend) the first in the merge's order stays; an event whose profile was erased after it was
/// staged goes nowhere (the join). The aggregates are computed from the rows the insert
/// returns, in the same statement.
pub(crate) async fn merge_inbox(conn: &mut PgConnection) -> sqlx::Result<u64> {
    static SQL: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
        format!(
            "with moved as (\
               delete from events_inbox returning id, profile_id, name_id, ts, props, dedup_key), \
             added as (\
               insert into events (profile_id, name_id, ts, props, dedup_key) \
               select i.profile_id, i.name_id, i.ts, i.props, i.dedup_key from moved i \
               join profiles p on p.id = i.profile_id order by i.ts, i.id \
               on conflict (dedup_key) do nothing returning name_id, ts, profile_id), \
             days as (\
               insert into event_days (name_id, day, profile_id, n) \
               select name_id, {day}, profile_id, count(*) from added \
               group by 1, 2, 3 order by 1, 2, 3 \
               on conflict (name_id, day, profile_id) do update set n = event_days.n + excluded.n), \
             names as (\
               update event_names e set count = e.count + v.c, \
               last_seen = greatest(e.last_seen, v.l) \
               from (select name_id, count(*) as c, max(ts) as l from added group by name_id) v \
               where e.id = v.name_id) \
             select count(*) from added",
            day = super::sqlite::DAY_OF_TS
        )
    });
    let staged: bool = sqlx::query_scalar("select exists (select 1 from events_inbox)")
        .fetch_one(&mut *conn)
        .await?;
    if !staged {
        return Ok(0);
    }
    let added: i64 = sqlx::query_scalar(SQL.as_str())
        .fetch_one(&mut *conn)
        .await?;
    Ok(u64::try_from(added).unwrap_or(0))
}

/// Merges the staged events ([`merge_inbox`]) in a transaction of their own, holding only
/// [`MERGE_LOCK`] (uploads go on); returns how many were new.
pub(crate) async fn merge_staged(pool: &PgPool) -> sqlx::Result<u64> {
    let mut tx = pool.begin().await?;
    lock_merges(&mut tx).await?;
    // The merge sorts up to a million staged rows (~100 bytes each) and groups them by day:
    // with the default 4 MB both spilled to temporary files. The memory is PostgreSQL's, for
    // this one transaction, and merges run one at a time.
    sqlx::query("set local work_mem = '128MB'")
        .execute(&mut *tx)
        .await?;
    let added = merge_inbox(&mut tx).await?;
    tx.commit().await?;
    // The merge deleted the rows it moved: vacuumed now, their space is reused by the next
    // uploads' rows at once, where waiting for autovacuum let the inbox's file grow by gigabytes
    // over a backfill (a 20M-event one measured 2.1 GB more on disk). A vacuum does not block
    // uploads; a failure leaves it to autovacuum.
    if let Err(e) = sqlx::query("vacuum events_inbox").execute(pool).await {
        tracing::warn!(error = %e, "vacuuming the staged events' table failed");
    }
    Ok(added)
}

async fn register_types(conn: &mut PgConnection, batch: &Batch<'_>, now: i64) -> sqlx::Result<()> {
    if batch.types.is_empty() {
        return Ok(());
    }
    let mut scope = Vec::with_capacity(batch.types.len());
    let mut event = Vec::with_capacity(batch.types.len());
    let mut key = Vec::with_capacity(batch.types.len());
    let mut kind = Vec::with_capacity(batch.types.len());
    for ((s, e, k), t) in &batch.types {
        scope.push(*s);
        event.push(*e);
        key.push(*k);
        kind.push(*t);
    }
    // One row per key (the batch keeps the first type it saw); a registered key keeps its type.
    sqlx::query(
        "insert into property_types (scope, event_name, key, kind, first_seen) \
         select s, e, k, t, $5 from unnest($1::text[], $2::text[], $3::text[], $4::text[]) \
              as u(s, e, k, t) \
         on conflict do nothing",
    )
    .bind(scope)
    .bind(event)
    .bind(key)
    .bind(kind)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The match keys of `keys` as PostgreSQL arrays, column by column (for `unnest`): for each key
/// column, its values and the times they were set, one element per profile.
fn key_columns<K: std::borrow::Borrow<TimedKeys>>(keys: &[K]) -> Vec<KeyColumn<'_>> {
    (0..KEY_COLUMNS.len())
        .map(|i| {
            keys.iter()
                .map(|k| {
                    k.borrow().0[i]
                        .as_ref()
                        .map(|(v, t)| (v.as_str(), *t))
                        .unzip()
                })
                .unzip()
        })
        .collect()
}

/// One key column's values and their times, one element per profile.
type KeyColumn<'a> = (Vec<Option<&'a str>>, Vec<Option<i64>>);

/// The `unnest` arguments of the match keys: a value and a time array per key, numbered from
/// parameter `$first` on (the order of [`KEY_COLUMNS`] and of [`key_columns`]' binds).
fn key_arrays(first: usize) -> String {
    (0..KEY_COLUMNS.len())
        .map(|i| {
            format!(
                "${}::text[], ${}::bigint[]",
                first + 2 * i,
                first + 2 * i + 1
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The column aliases [`key_arrays`] are unnested into: `v_<key>, t_<key>` per key.
fn key_aliases() -> String {
    KEY_COLUMNS
        .iter()
        .map(|c| format!("v_{c}, t_{c}"))
        .collect::<Vec<_>>()
        .join(", ")
}
