//! The store's SQL for SQLite: multi-row `values` in chunks under SQLite's bound-parameter limit.
//!
//! sqlx runs SQLite on a thread of its own and hands every result row across a channel (a
//! thread wake-up each), so statements here return few rows: lookups of a whole batch come back
//! as one JSON array, and events are inserted without `returning`.

use std::collections::{HashMap, HashSet};

use sqlx::{QueryBuilder, Sqlite, SqliteConnection, SqlitePool};

use super::{Batch, Tally};

/// Rows per multi-row statement: SQLite's bound-parameter limit (32766) over the widest row
/// (13 columns). Full chunks share one statement text, so its prepared form is reused.
const CHUNK: usize = 1000;

pub(super) async fn store(pool: &SqlitePool, batch: &Batch<'_>, now: i64) -> sqlx::Result<()> {
    if batch.identities.is_empty() {
        return Ok(());
    }
    let mut tx = pool.begin().await?;
    let conn = &mut *tx;
    let profile_ids = ensure_profiles(conn, &batch.identities, now).await?;
    update_profiles(conn, batch, &profile_ids, now).await?;
    if !batch.events.is_empty() {
        let name_ids = ensure_names(conn, &batch.names, now).await?;
        let tally = insert_events(conn, batch, &profile_ids, &name_ids).await?;
        add_tally(conn, &tally).await?;
    }
    register_types(conn, batch, now).await?;
    tx.commit().await
}

/// Creates the profiles not seen before (counting them in `profile_count`); returns the id of
/// every identity in the batch. Looking them up first and inserting only the missing ones
/// spares the usual case (every identity known) a conflicting insert per identity.
async fn ensure_profiles<'a>(
    conn: &mut SqliteConnection,
    identities: &[&'a str],
    now: i64,
) -> sqlx::Result<HashMap<&'a str, i64>> {
    let mut by_text: HashMap<String, i64> = HashMap::with_capacity(identities.len());
    for chunk in identities.chunks(CHUNK) {
        let mut q = QueryBuilder::<Sqlite>::new(
            "select json_group_array(json_array(identity, id)) from profiles where identity in (",
        );
        let mut list = q.separated(", ");
        for identity in chunk {
            list.push_bind(*identity);
        }
        q.push(")");
        let (rows,): (String,) = q.build_query_as().fetch_one(&mut *conn).await?;
        by_text.extend(json_pairs(&rows)?);
    }
    let missing: Vec<&str> = identities
        .iter()
        .copied()
        .filter(|i| !by_text.contains_key(*i))
        .collect();
    for chunk in missing.chunks(CHUNK) {
        let mut q =
            QueryBuilder::<Sqlite>::new("insert into profiles (identity, created_at, updated_at) ");
        q.push_values(chunk, |mut b, identity| {
            b.push_bind(*identity).push_bind(now).push_bind(now);
        });
        q.push(" on conflict (identity) do nothing returning identity, id");
        let added: Vec<(String, i64)> = q.build_query_as().fetch_all(&mut *conn).await?;
        sqlx::query("update profile_count set n = n + $1 where id = 1")
            .bind(added.len() as i64)
            .execute(&mut *conn)
            .await?;
        by_text.extend(added);
    }
    Ok(identities.iter().map(|i| (*i, by_text[*i])).collect())
}

async fn update_profiles(
    conn: &mut SqliteConnection,
    batch: &Batch<'_>,
    ids: &HashMap<&str, i64>,
    now: i64,
) -> sqlx::Result<()> {
    for (id, k) in batch.match_keys(ids) {
        sqlx::query(
            "update profiles set email = coalesce($1, email), phone = coalesce($2, phone), \
             first_name = coalesce($3, first_name), last_name = coalesce($4, last_name), \
             gender = coalesce($5, gender), date_of_birth = coalesce($6, date_of_birth), \
             city = coalesce($7, city), state = coalesce($8, state), zip = coalesce($9, zip), \
             country = coalesce($10, country), madid = coalesce($11, madid), updated_at = $12 \
             where id = $13",
        )
        .bind(k.email)
        .bind(k.phone)
        .bind(k.first_name)
        .bind(k.last_name)
        .bind(k.gender)
        .bind(k.date_of_birth)
        .bind(k.city)
        .bind(k.state)
        .bind(k.zip)
        .bind(k.country)
        .bind(k.madid)
        .bind(now)
        .bind(id)
        .execute(&mut *conn)
        .await?;
    }
    let rows = batch.profile_props(ids);
    for chunk in rows.chunks(CHUNK) {
        let mut q =
            QueryBuilder::<Sqlite>::new("insert into profile_props (profile_id, key, kind, t, n) ");
        q.push_values(chunk, |mut b, row| {
            b.push_bind(row.profile_id)
                .push_bind(row.key)
                .push_bind(row.kind)
                .push_bind(&row.t)
                .push_bind(row.n);
        });
        q.push(
            " on conflict (profile_id, key) do update set \
             kind = excluded.kind, t = excluded.t, n = excluded.n",
        );
        q.build().execute(&mut *conn).await?;
    }
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

/// Inserts the events not stored yet; returns what they add to the aggregates.
async fn insert_events(
    conn: &mut SqliteConnection,
    batch: &Batch<'_>,
    profile_ids: &HashMap<&str, i64>,
    name_ids: &HashMap<&str, i64>,
) -> sqlx::Result<Tally> {
    let rows = batch.event_rows(profile_ids, name_ids);
    // The keys already stored: a resent event is skipped, so uploads are idempotent.
    let mut seen: HashSet<[u8; 16]> = HashSet::with_capacity(rows.ts.len());
    for chunk in rows.dedup_key.chunks(CHUNK) {
        let mut q = QueryBuilder::<Sqlite>::new(
            "select coalesce(json_group_array(hex(dedup_key)), '[]') from events \
             where dedup_key in (",
        );
        let mut list = q.separated(", ");
        for key in chunk {
            list.push_bind(&key[..]);
        }
        q.push(")");
        let (stored,): (String,) = q.build_query_as().fetch_one(&mut *conn).await?;
        let stored: Vec<String> = serde_json::from_str(&stored).map_err(decode_error)?;
        for hex in stored {
            seen.insert(from_hex(&hex)?);
        }
    }
    // Of the others, the first of two identical events in the batch.
    let new: Vec<usize> = (0..rows.ts.len())
        .filter(|&i| seen.insert(rows.dedup_key[i]))
        .collect();
    let mut tally = Tally::default();
    for chunk in new.chunks(CHUNK) {
        let mut q = QueryBuilder::<Sqlite>::new(
            "insert into events (profile_id, name_id, ts, props, dedup_key) ",
        );
        q.push_values(chunk, |mut b, &i| {
            b.push_bind(rows.profile_id[i])
                .push_bind(rows.name_id[i])
                .push_bind(rows.ts[i])
                .push_bind(&rows.props[i])
                .push_bind(&rows.dedup_key[i][..]);
            tally.add(rows.name_id[i], rows.ts[i], rows.profile_id[i]);
        });
        // No `on conflict`: uploads are written one at a time, and in WAL mode a write by
        // another connection after the lookup's snapshot fails this transaction (busy
        // snapshot) rather than letting it insert on stale knowledge. A conflict here would be
        // a bug, and failing the upload (nothing stored) is better than miscounting.
        q.build().execute(&mut *conn).await?;
    }
    Ok(tally)
}

async fn add_tally(conn: &mut SqliteConnection, tally: &Tally) -> sqlx::Result<()> {
    let days: Vec<_> = tally.days.iter().collect();
    for chunk in days.chunks(CHUNK) {
        let mut q =
            QueryBuilder::<Sqlite>::new("insert into event_days (name_id, day, profile_id, n) ");
        q.push_values(chunk, |mut b, ((name_id, day, profile_id), n)| {
            b.push_bind(*name_id)
                .push_bind(*day)
                .push_bind(*profile_id)
                .push_bind(**n);
        });
        q.push(
            " on conflict (name_id, day, profile_id) do update set n = event_days.n + excluded.n",
        );
        q.build().execute(&mut *conn).await?;
    }
    if !tally.names.is_empty() {
        let mut q = QueryBuilder::<Sqlite>::new("with v (id, c, l) as (values ");
        let mut rows = q.separated(", ");
        for (name_id, (count, last)) in &tally.names {
            rows.push("(")
                .push_bind_unseparated(*name_id)
                .push_unseparated(", ")
                .push_bind_unseparated(*count)
                .push_unseparated(", ")
                .push_bind_unseparated(*last)
                .push_unseparated(")");
        }
        q.push(
            ") update event_names set count = count + v.c, \
             last_seen = max(coalesce(last_seen, v.l), v.l) from v where event_names.id = v.id",
        );
        q.build().execute(&mut *conn).await?;
    }
    Ok(())
}

/// `[[text, id], …]` from `json_group_array(json_array(text, id))`.
fn json_pairs(json: &str) -> sqlx::Result<Vec<(String, i64)>> {
    serde_json::from_str(json).map_err(decode_error)
}

fn from_hex(hex: &str) -> sqlx::Result<[u8; 16]> {
    let mut key = [0; 16];
    if hex.len() != 32 {
        return Err(decode_error(format!(
            "a dedup key of {} hex digits",
            hex.len()
        )));
    }
    for (i, byte) in key.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).map_err(decode_error)?;
    }
    Ok(key)
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
