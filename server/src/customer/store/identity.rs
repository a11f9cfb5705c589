//! Segment's anonymous profiles merged into identified ones, in the same transaction as the
//! batch that links them (so no call can land on an anonymous profile that a link has already
//! merged away).
//!
//! A call with only an `anonymousId` is stored on the profile `anonymous:<anonymousId>`. An
//! `identify` with both ids, or an `alias` (`previousId` → `userId`), records the link
//! (`identity_links`; the first link of an anonymous id stays). Whenever a batch links an
//! anonymous id or writes to an anonymous profile whose id is linked, that profile is merged into
//! the identified one: its events and daily counts move over, each of its properties and match
//! keys replaces the identified profile's only when it was set by a newer message (last write
//! wins by message time, as everywhere), and the anonymous profile is deleted.

use std::collections::{BTreeMap, BTreeSet};

use shared::tracking::ANONYMOUS_PREFIX;
use sqlx::{PgConnection, Row, SqliteConnection};

use super::{Batch, KEY_COLUMNS, TimedKeys};

const INSERT_LINK: &str = "insert into identity_links (anonymous_id, identity, linked_at) \
                           values ($1, $2, $3) on conflict (anonymous_id) do nothing";
/// `(anonymous profile, identified profile)` of a linked anonymous id, when both exist.
const PAIR: &str = "select a.id, u.id from identity_links l \
                    join profiles a on a.identity = $2 \
                    join profiles u on u.identity = l.identity \
                    where l.anonymous_id = $1";
const MOVE_EVENTS: &str = "update events set profile_id = $1 where profile_id = $2";
/// The staged events (`events_inbox`, see `sqlite::merge_inbox`) of every merged profile, on SQLite:
/// `$1` a JSON array of `[anonymous id, identified id]`: one read of the table per batch (it has
/// no index). They are counted in `event_days` when merged, under the profile they then have.
const MOVE_STAGED: &str = "update events_inbox set profile_id = m.into_id \
                           from (select j.value ->> 0 as from_id, j.value ->> 1 as into_id \
                           from json_each($1) j) as m where events_inbox.profile_id = m.from_id";
const MOVE_DAYS: &str = "insert into event_days (name_id, day, profile_id, n) \
                         select name_id, day, cast($1 as bigint), n from event_days where profile_id = $2 \
                         on conflict (name_id, day, profile_id) \
                         do update set n = event_days.n + excluded.n";
const DELETE_DAYS: &str = "delete from event_days where profile_id = $1";
/// On a tie the identified profile's value stays.
const MOVE_PROPS: &str = "insert into profile_props (profile_id, key, kind, t, n, at) \
                          select cast($1 as bigint), key, kind, t, n, at from profile_props where profile_id = $2 \
                          on conflict (profile_id, key) do update set kind = excluded.kind, \
                          t = excluded.t, n = excluded.n, at = excluded.at \
                          where excluded.at is not null \
                          and (profile_props.at is null or excluded.at > profile_props.at)";
const DELETE_PROFILE: &str = "delete from profiles where id = $1";
const COUNT_DOWN: &str = "update profile_count set n = n - 1 where id = 1";

/// The anonymous ids the batch touches: those it links and those of its anonymous profiles.
fn anonymous_ids<'a>(batch: &Batch<'a>) -> Vec<&'a str> {
    let mut ids: BTreeSet<&'a str> = batch.links.iter().map(|l| l.anonymous.as_str()).collect();
    ids.extend(
        batch
            .identities
            .iter()
            .filter_map(|i| i.strip_prefix(ANONYMOUS_PREFIX)),
    );
    ids.into_iter().collect()
}

/// The match keys stored on a profile, with their times, as a [`TimedKeys`] to apply elsewhere.
fn keys_sql() -> String {
    let cols: Vec<String> = KEY_COLUMNS
        .iter()
        .map(|c| format!("cast({c} as text), {c}_at"))
        .collect();
    format!("select {} from profiles where id = $1", cols.join(", "))
}

fn keys_of<R: Row>(row: &R) -> sqlx::Result<TimedKeys>
where
    usize: sqlx::ColumnIndex<R>,
    for<'r> Option<String>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> Option<i64>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    let mut keys = TimedKeys::default();
    for (i, slot) in keys.0.iter_mut().enumerate() {
        let value: Option<String> = row.try_get(2 * i)?;
        let at: Option<i64> = row.try_get(2 * i + 1)?;
        // A key without a time was stored before times were kept: older than any message.
        *slot = value.map(|v| (v, at.unwrap_or(0)));
    }
    Ok(keys)
}

/// Records the batch's identity links and folds every linked anonymous profile into its
/// identified one: events, daily counts and properties move, match keys merge by time, the
/// anonymous profile goes. The same statements on both databases; only the connection type and
/// the key update differ, so the body is written once, as `activity::record_on!` is. Evaluates
/// to the `[from, into]` profile pairs it folded.
macro_rules! link_on {
    ($conn:expr, $batch:expr, $now:expr, $update_keys:path) => {{
        let conn = &mut *$conn;
        let batch: &Batch<'_> = $batch;
        let now: i64 = $now;
        let mut moved: Vec<[i64; 2]> = Vec::new();
        let anonymous = anonymous_ids(batch);
        if !anonymous.is_empty() {
            for l in &batch.links {
                sqlx::query(INSERT_LINK)
                    .bind(&l.anonymous)
                    .bind(&l.identity)
                    .bind(now)
                    .execute(&mut *conn)
                    .await?;
            }
            for anon in anonymous {
                let pair: Option<(i64, i64)> = sqlx::query_as(PAIR)
                    .bind(anon)
                    .bind(format!("{ANONYMOUS_PREFIX}{anon}"))
                    .fetch_optional(&mut *conn)
                    .await?;
                let Some((from, into)) = pair.filter(|(a, u)| a != u) else {
                    continue;
                };
                moved.push([from, into]);
                for sql in [MOVE_EVENTS, MOVE_DAYS, MOVE_PROPS] {
                    sqlx::query(sql)
                        .bind(into)
                        .bind(from)
                        .execute(&mut *conn)
                        .await?;
                }
                let row = sqlx::query(&keys_sql())
                    .bind(from)
                    .fetch_one(&mut *conn)
                    .await?;
                let keys = BTreeMap::from([(into, keys_of(&row)?)]);
                $update_keys(&mut *conn, &keys, now).await?;
                for sql in [DELETE_DAYS, DELETE_PROFILE] {
                    sqlx::query(sql).bind(from).execute(&mut *conn).await?;
                }
                sqlx::query(COUNT_DOWN).execute(&mut *conn).await?;
            }
        }
        moved
    }};
}

pub(super) async fn link_sqlite(
    conn: &mut SqliteConnection,
    batch: &Batch<'_>,
    now: i64,
) -> sqlx::Result<()> {
    let moved = link_on!(conn, batch, now, super::sqlite::update_keys);
    // Events still staged (`events_inbox`) move with the profile too, in one pass.
    if !moved.is_empty() {
        let moved =
            serde_json::to_string(&moved).map_err(|e| sqlx::Error::Decode(e.to_string().into()))?;
        sqlx::query(MOVE_STAGED)
            .bind(moved)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

pub(super) async fn link_postgres(
    conn: &mut PgConnection,
    batch: &Batch<'_>,
    now: i64,
) -> sqlx::Result<()> {
    if !anonymous_ids(batch).is_empty() {
        // A running merge may be storing the staged events of a profile this batch merges away.
        super::postgres::lock_merges(&mut *conn).await?;
    }
    let moved = link_on!(conn, batch, now, super::postgres::update_keys);
    // Events still staged (`events_inbox`) move with the profile too, in one pass.
    if !moved.is_empty() {
        let (from, into): (Vec<i64>, Vec<i64>) = moved.iter().map(|[f, i]| (*f, *i)).unzip();
        sqlx::query(
            "update events_inbox i set profile_id = m.into_id \
             from unnest($1::bigint[], $2::bigint[]) as m(from_id, into_id) \
             where i.profile_id = m.from_id",
        )
        .bind(from)
        .bind(into)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}
