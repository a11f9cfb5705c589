//! Writes parsed records: every valid record of one upload in one transaction, with multi-row
//! statements (a round trip per row would cap ingestion far below the target rate).

use std::collections::{BTreeMap, HashMap};

use serde_json::{Value as Json, json};
use shared::segment::eval::Value;
use sqlx::{QueryBuilder, Sqlite, SqlitePool, Transaction};

use super::record::{NewEvent, ProfileUpdate, Record};

/// Rows per multi-row statement: SQLite's bound-parameter limit (32766) over the widest row.
const CHUNK: usize = 1000;

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

/// An event property in the `events.props` JSON encoding (see the migration).
fn to_json(value: &Value) -> Json {
    match value {
        Value::Text(s) => json!(s),
        Value::Number(x) => json!(x),
        Value::Boolean(b) => json!(b),
        Value::Date(t) => json!({ "d": t.as_second() }),
        Value::List(items) => json!(items),
    }
}

/// A profile property as the `(t, n)` columns of `profile_props`.
fn to_columns(value: &Value) -> (Option<String>, Option<f64>) {
    match value {
        Value::Text(s) => (Some(s.clone()), None),
        Value::Number(x) => (None, Some(*x)),
        Value::Boolean(b) => (None, Some(if *b { 1.0 } else { 0.0 })),
        Value::Date(t) => (None, Some(t.as_second() as f64)),
        Value::List(items) => (Some(json!(items).to_string()), None),
    }
}

/// Stores `records` (all valid) atomically; `now` is epoch seconds.
pub async fn store_records(pool: &SqlitePool, records: &[Record], now: i64) -> sqlx::Result<()> {
    if records.is_empty() {
        return Ok(());
    }
    let mut tx = pool.begin().await?;
    let profile_ids = ensure_profiles(&mut tx, records, now).await?;
    let profiles: Vec<&ProfileUpdate> = records
        .iter()
        .filter_map(|r| match r {
            Record::Profile(p) => Some(&**p),
            Record::Event(_) => None,
        })
        .collect();
    let events: Vec<&NewEvent> = records
        .iter()
        .filter_map(|r| match r {
            Record::Event(e) => Some(e),
            Record::Profile(_) => None,
        })
        .collect();
    update_profiles(&mut tx, &profiles, &profile_ids, now).await?;
    insert_events(&mut tx, &events, &profile_ids, now).await?;
    register_types(&mut tx, &profiles, &events, now).await?;
    tx.commit().await
}

/// Creates the profiles not seen before; returns the id of every identity in the batch.
async fn ensure_profiles(
    tx: &mut Transaction<'_, Sqlite>,
    records: &[Record],
    now: i64,
) -> sqlx::Result<HashMap<String, i64>> {
    let mut identities: Vec<&str> = records.iter().map(Record::identity).collect();
    identities.sort_unstable();
    identities.dedup();
    let mut ids = HashMap::with_capacity(identities.len());
    for chunk in identities.chunks(CHUNK) {
        let mut q =
            QueryBuilder::<Sqlite>::new("insert into profiles (identity, created_at, updated_at) ");
        q.push_values(chunk, |mut b, identity| {
            b.push_bind(*identity).push_bind(now).push_bind(now);
        });
        q.push(" on conflict (identity) do nothing");
        let added = q.build().execute(&mut **tx).await?.rows_affected();
        if added > 0 {
            sqlx::query("update profile_count set n = n + ? where id = 1")
                .bind(added as i64)
                .execute(&mut **tx)
                .await?;
        }

        let mut q =
            QueryBuilder::<Sqlite>::new("select identity, id from profiles where identity in (");
        let mut list = q.separated(", ");
        for identity in chunk {
            list.push_bind(*identity);
        }
        q.push(")");
        let rows: Vec<(String, i64)> = q.build_query_as().fetch_all(&mut **tx).await?;
        ids.extend(rows);
    }
    Ok(ids)
}

async fn update_profiles(
    tx: &mut Transaction<'_, Sqlite>,
    profiles: &[&ProfileUpdate],
    ids: &HashMap<String, i64>,
    now: i64,
) -> sqlx::Result<()> {
    // Last write in the batch wins per (profile, key); deduplicating here also keeps one row per
    // key in a statement, which PostgreSQL's upsert requires.
    let mut props: BTreeMap<(i64, &str), &Value> = BTreeMap::new();
    for p in profiles {
        let id = ids[&p.identity];
        let k = &p.match_keys;
        sqlx::query(
            "update profiles set email = coalesce(?, email), phone = coalesce(?, phone), \
             first_name = coalesce(?, first_name), last_name = coalesce(?, last_name), \
             gender = coalesce(?, gender), date_of_birth = coalesce(?, date_of_birth), \
             city = coalesce(?, city), state = coalesce(?, state), zip = coalesce(?, zip), \
             country = coalesce(?, country), madid = coalesce(?, madid), updated_at = ? \
             where id = ?",
        )
        .bind(&k.email)
        .bind(&k.phone)
        .bind(&k.first_name)
        .bind(&k.last_name)
        .bind(&k.gender)
        .bind(&k.date_of_birth)
        .bind(&k.city)
        .bind(&k.state)
        .bind(&k.zip)
        .bind(&k.country)
        .bind(&k.madid)
        .bind(now)
        .bind(id)
        .execute(&mut **tx)
        .await?;
        for (key, value) in &p.properties {
            props.insert((id, key.as_str()), value);
        }
    }
    let rows: Vec<_> = props.into_iter().collect();
    for chunk in rows.chunks(CHUNK) {
        let mut q =
            QueryBuilder::<Sqlite>::new("insert into profile_props (profile_id, key, kind, t, n) ");
        q.push_values(chunk, |mut b, ((id, key), value)| {
            let (t, n) = to_columns(value);
            b.push_bind(*id)
                .push_bind(*key)
                .push_bind(kind_of(value))
                .push_bind(t)
                .push_bind(n);
        });
        q.push(
            " on conflict (profile_id, key) do update set \
             kind = excluded.kind, t = excluded.t, n = excluded.n",
        );
        q.build().execute(&mut **tx).await?;
    }
    Ok(())
}

async fn insert_events(
    tx: &mut Transaction<'_, Sqlite>,
    events: &[&NewEvent],
    profile_ids: &HashMap<String, i64>,
    now: i64,
) -> sqlx::Result<()> {
    if events.is_empty() {
        return Ok(());
    }
    let mut names: Vec<&str> = events.iter().map(|e| e.name.as_str()).collect();
    names.sort_unstable();
    names.dedup();
    let mut q = QueryBuilder::<Sqlite>::new("insert into event_names (name, first_seen) ");
    q.push_values(&names, |mut b, name| {
        b.push_bind(*name).push_bind(now);
    });
    q.push(" on conflict (name) do nothing");
    q.build().execute(&mut **tx).await?;
    let mut q = QueryBuilder::<Sqlite>::new("select name, id from event_names where name in (");
    let mut list = q.separated(", ");
    for name in &names {
        list.push_bind(*name);
    }
    q.push(")");
    let name_ids: HashMap<String, i64> = q
        .build_query_as()
        .fetch_all(&mut **tx)
        .await?
        .into_iter()
        .collect();

    // (count, last seen) of the rows actually inserted, per event name; and per (name, UTC day,
    // profile) for `event_days`.
    let mut inserted: HashMap<i64, (i64, i64)> = HashMap::new();
    let mut days: BTreeMap<(i64, i64, i64), i64> = BTreeMap::new();
    for chunk in events.chunks(CHUNK) {
        let mut q = QueryBuilder::<Sqlite>::new(
            "insert into events (profile_id, name_id, ts, props, dedup_key) ",
        );
        q.push_values(chunk, |mut b, e| {
            let props: serde_json::Map<String, Json> = e
                .properties
                .iter()
                .map(|(k, v)| (k.clone(), to_json(v)))
                .collect();
            b.push_bind(profile_ids[&e.identity])
                .push_bind(name_ids[&e.name])
                .push_bind(e.ts)
                .push_bind(Json::Object(props).to_string())
                .push_bind(&e.dedup_key[..]);
        });
        // A resent event conflicts on its key and is skipped: uploads are idempotent.
        q.push(" on conflict (dedup_key) do nothing returning name_id, ts, profile_id");
        let rows: Vec<(i64, i64, i64)> = q.build_query_as().fetch_all(&mut **tx).await?;
        for (name_id, ts, profile_id) in rows {
            *days
                .entry((name_id, ts.div_euclid(DAY), profile_id))
                .or_insert(0) += 1;
            let entry = inserted.entry(name_id).or_insert((0, i64::MIN));
            entry.0 += 1;
            entry.1 = entry.1.max(ts);
        }
    }
    let days: Vec<_> = days.into_iter().collect();
    for chunk in days.chunks(CHUNK) {
        let mut q =
            QueryBuilder::<Sqlite>::new("insert into event_days (name_id, day, profile_id, n) ");
        q.push_values(chunk, |mut b, ((name_id, day, profile_id), n)| {
            b.push_bind(*name_id)
                .push_bind(*day)
                .push_bind(*profile_id)
                .push_bind(*n);
        });
        q.push(
            " on conflict (name_id, day, profile_id) do update set n = event_days.n + excluded.n",
        );
        q.build().execute(&mut **tx).await?;
    }
    for (name_id, (count, last)) in inserted {
        sqlx::query(
            "update event_names set count = count + ?, \
             last_seen = max(coalesce(last_seen, ?), ?) where id = ?",
        )
        .bind(count)
        .bind(last)
        .bind(last)
        .bind(name_id)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// Records the type of every property not seen before; the first type seen stays.
async fn register_types(
    tx: &mut Transaction<'_, Sqlite>,
    profiles: &[&ProfileUpdate],
    events: &[&NewEvent],
    now: i64,
) -> sqlx::Result<()> {
    let mut types: BTreeMap<(&str, &str, &str), &str> = BTreeMap::new();
    for p in profiles {
        for (key, value) in &p.properties {
            types.entry(("profile", "", key)).or_insert(kind_of(value));
        }
    }
    for e in events {
        for (key, value) in &e.properties {
            types
                .entry(("event", &e.name, key))
                .or_insert(kind_of(value));
        }
    }
    let rows: Vec<_> = types.into_iter().collect();
    for chunk in rows.chunks(CHUNK) {
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
        q.build().execute(&mut **tx).await?;
    }
    Ok(())
}
