//! The store's SQL for PostgreSQL: each table written by one statement over `unnest` of one
//! array per column, so a batch is a handful of round trips whatever its size (no
//! bound-parameter limit to chunk under).

use std::collections::HashMap;

use sqlx::{PgConnection, PgPool};

use super::{Batch, Tally};
use crate::customer::activity::{self, Bookkeeping};

/// Key of the transaction-level advisory lock every upload takes (any constant unique to this
/// purpose; it reads "custdata"). Writers are serialised, as on SQLite: two uploads upserting
/// the same event names, daily counts or profiles in different orders would otherwise deadlock,
/// and one of them fail.
const WRITER_LOCK: i64 = 0x6375_7374_6461_7461;

pub(super) async fn store(
    pool: &PgPool,
    batch: &Batch<'_>,
    books: &[&Bookkeeping],
    now: i64,
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
        let profile_ids = ensure_profiles(conn, &batch.identities, now).await?;
        update_profiles(conn, batch, &profile_ids, now).await?;
        if !batch.events.is_empty() {
            let name_ids = ensure_names(conn, &batch.names, now).await?;
            let tally = insert_events(conn, batch, &profile_ids, &name_ids).await?;
            add_tally(conn, &tally).await?;
        }
        register_types(conn, batch, now).await?;
    }
    activity::record_postgres(conn, books, now).await?;
    tx.commit().await
}

/// Creates the profiles not seen before (counting them in `profile_count`); returns the id of
/// every identity in the batch. Only the missing ones are inserted: an `insert … on conflict do
/// nothing` of every identity would draw a sequence value for each conflicting row too, leaving
/// gaps in the ids that the engine's bitmaps (dense over `1..=max(id)`) would have to span.
async fn ensure_profiles<'a>(
    conn: &mut PgConnection,
    identities: &[&'a str],
    now: i64,
) -> sqlx::Result<HashMap<&'a str, i64>> {
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
        // Sorted (as `identities` is), so ids follow the identities' order, as on SQLite.
        let added: Vec<(String, i64)> = sqlx::query_as(
            "insert into profiles (identity, created_at, updated_at) \
             select i, $2, $2 from unnest($1::text[]) with ordinality as u(i, o) order by o \
             on conflict (identity) do nothing returning identity, id",
        )
        .bind(&missing)
        .bind(now)
        .fetch_all(&mut *conn)
        .await?;
        sqlx::query("update profile_count set n = n + $1 where id = 1")
            .bind(added.len() as i64)
            .execute(&mut *conn)
            .await?;
        by_text.extend(added);
    }
    Ok(identities.iter().map(|i| (*i, by_text[*i])).collect())
}

async fn update_profiles(
    conn: &mut PgConnection,
    batch: &Batch<'_>,
    ids: &HashMap<&str, i64>,
    now: i64,
) -> sqlx::Result<()> {
    let keys = batch.match_keys(ids);
    if !keys.is_empty() {
        let mut cols: [Vec<Option<String>>; 11] = Default::default();
        let mut id_col = Vec::with_capacity(keys.len());
        for (id, k) in keys {
            id_col.push(id);
            let values = [
                k.email,
                k.phone,
                k.first_name,
                k.last_name,
                k.gender,
                k.date_of_birth,
                k.city,
                k.state,
                k.zip,
                k.country,
                k.madid,
            ];
            for (col, v) in cols.iter_mut().zip(values) {
                col.push(v);
            }
        }
        let [
            email,
            phone,
            first,
            last,
            gender,
            dob,
            city,
            state,
            zip,
            country,
            madid,
        ] = cols;
        sqlx::query(
            "update profiles p set email = coalesce(u.email, p.email), \
             phone = coalesce(u.phone, p.phone), \
             first_name = coalesce(u.first_name, p.first_name), \
             last_name = coalesce(u.last_name, p.last_name), \
             gender = coalesce(u.gender, p.gender), \
             date_of_birth = coalesce(u.dob::date, p.date_of_birth), \
             city = coalesce(u.city, p.city), state = coalesce(u.state, p.state), \
             zip = coalesce(u.zip, p.zip), country = coalesce(u.country, p.country), \
             madid = coalesce(u.madid, p.madid), updated_at = $13 \
             from unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], \
                         $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], \
                         $11::text[], $12::text[]) \
                  as u(id, email, phone, first_name, last_name, gender, dob, city, state, zip, \
                       country, madid) \
             where p.id = u.id",
        )
        .bind(id_col)
        .bind(email)
        .bind(phone)
        .bind(first)
        .bind(last)
        .bind(gender)
        .bind(dob)
        .bind(city)
        .bind(state)
        .bind(zip)
        .bind(country)
        .bind(madid)
        .bind(now)
        .execute(&mut *conn)
        .await?;
    }
    let rows = batch.profile_props(ids);
    if !rows.is_empty() {
        let mut id = Vec::with_capacity(rows.len());
        let mut key = Vec::with_capacity(rows.len());
        let mut kind = Vec::with_capacity(rows.len());
        let mut t = Vec::with_capacity(rows.len());
        let mut n = Vec::with_capacity(rows.len());
        for r in rows {
            id.push(r.profile_id);
            key.push(r.key);
            kind.push(r.kind);
            t.push(r.t);
            n.push(r.n);
        }
        sqlx::query(
            "insert into profile_props (profile_id, key, kind, t, n) \
             select * from unnest($1::bigint[], $2::text[], $3::text[], $4::text[], \
                                  $5::float8[]) \
             on conflict (profile_id, key) do update set \
             kind = excluded.kind, t = excluded.t, n = excluded.n",
        )
        .bind(id)
        .bind(key)
        .bind(kind)
        .bind(t)
        .bind(n)
        .execute(&mut *conn)
        .await?;
    }
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

async fn insert_events(
    conn: &mut PgConnection,
    batch: &Batch<'_>,
    profile_ids: &HashMap<&str, i64>,
    name_ids: &HashMap<&str, i64>,
) -> sqlx::Result<Tally> {
    let rows = batch.event_rows(profile_ids, name_ids);
    let keys: Vec<&[u8]> = rows.dedup_key.iter().map(|k| &k[..]).collect();
    // A resent event conflicts on its key and is skipped: uploads are idempotent. `props` goes
    // as text and is cast, so the JSON is parsed once, by PostgreSQL.
    let inserted: Vec<(i64, i64, i64)> = sqlx::query_as(
        "insert into events (profile_id, name_id, ts, props, dedup_key) \
         select p, n, t, j::jsonb, k \
         from unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::text[], $5::bytea[]) \
              as u(p, n, t, j, k) \
         on conflict (name_id, ts, profile_id, dedup_key) do nothing returning name_id, ts, profile_id",
    )
    .bind(&rows.profile_id)
    .bind(&rows.name_id)
    .bind(&rows.ts)
    .bind(&rows.props)
    .bind(keys)
    .fetch_all(&mut *conn)
    .await?;
    let mut tally = Tally::default();
    for (name_id, ts, profile_id) in inserted {
        tally.add(name_id, ts, profile_id);
    }
    Ok(tally)
}

async fn add_tally(conn: &mut PgConnection, tally: &Tally) -> sqlx::Result<()> {
    if !tally.days.is_empty() {
        let len = tally.days.len();
        let (mut name, mut day, mut profile, mut n) = (
            Vec::with_capacity(len),
            Vec::with_capacity(len),
            Vec::with_capacity(len),
            Vec::with_capacity(len),
        );
        for ((name_id, d, profile_id), count) in &tally.days {
            name.push(*name_id);
            day.push(*d);
            profile.push(*profile_id);
            n.push(*count);
        }
        sqlx::query(
            "insert into event_days (name_id, day, profile_id, n) \
             select * from unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::bigint[]) \
             on conflict (name_id, day, profile_id) do update set n = event_days.n + excluded.n",
        )
        .bind(name)
        .bind(day)
        .bind(profile)
        .bind(n)
        .execute(&mut *conn)
        .await?;
    }
    if !tally.names.is_empty() {
        let ids: Vec<i64> = tally.names.keys().copied().collect();
        let counts: Vec<i64> = tally.names.values().map(|v| v.0).collect();
        let lasts: Vec<i64> = tally.names.values().map(|v| v.1).collect();
        // `greatest` ignores a null `last_seen` (a name never counted before).
        sqlx::query(
            "update event_names e set count = e.count + u.c, last_seen = greatest(e.last_seen, u.l) \
             from unnest($1::bigint[], $2::bigint[], $3::bigint[]) as u(id, c, l) \
             where e.id = u.id",
        )
        .bind(ids)
        .bind(counts)
        .bind(lasts)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
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
