//! The store writes the same rows on both backends. SQLite always runs; PostgreSQL too when
//! `TEST_POSTGRES_URL` names a server (an admin URL: a throwaway database is created there and
//! dropped afterwards).

use serde_json::{Value as Json, json};
use sqlx::{Connection, Executor, PgConnection};

use super::store;
use crate::{
    customer::record::{Record, parse_record},
    db::{Db, with_pool},
};

/// Batches that exercise every table: new and known profiles, match keys merged within a
/// batch, a property whose type changes, an event resent in a later batch and a duplicate
/// within one, events on both sides of a UTC midnight, and a type first seen as a number.
fn batches() -> Vec<Vec<Json>> {
    vec![
        vec![
            json!({"type":"profile","identity":"a","ts":10,"profileData":{
                "Name":"Ann Lee","Email":"Ann@X.com","Age":30,"Tags":["x",2],"DOB":"$D_0"}}),
            json!({"type":"profile","identity":"a","ts":11,"profileData":{
                "Phone":"+14155551234","City":"Pune","Age":31}}),
            json!({"type":"event","identity":"a","ts":86_399,"evtName":"Charged",
                "evtData":{"Amount":300,"Paid":true,"At":"$D_5","Items":["p",1]}}),
            json!({"type":"event","identity":"a","ts":86_400,"evtName":"Charged","evtData":{"Amount":1}}),
            json!({"type":"event","identity":"b","ts":86_401,"evtName":"Viewed"}),
            json!({"type":"event","identity":"b","ts":86_401,"evtName":"Viewed"}),
        ],
        vec![
            json!({"type":"event","identity":"a","ts":86_400,"evtName":"Charged","evtData":{"Amount":1}}),
            json!({"type":"event","identity":"c","ts":90_000,"evtName":"Charged","evtData":{"Amount":"lots"}}),
            json!({"type":"profile","identity":"b","profileData":{"Age":"old","Gender":"F"}}),
            json!({"type":"event","identity":"b","ts":86_402,"evtName":"Viewed"}),
        ],
    ]
}

/// Batch `i` of [`batches`], parsed (received at time `1_000 + i`).
fn batch_records(i: usize) -> Vec<Record> {
    batches()[i]
        .iter()
        .map(|r| parse_record(r, 1_000 + i as i64).unwrap())
        .collect()
}

/// The rows of `table` on PostgreSQL.
async fn pg_count(pool: &sqlx::PgPool, table: &str) -> i64 {
    sqlx::query_scalar(&format!("select count(*) from {table}"))
        .fetch_one(pool)
        .await
        .unwrap()
}

async fn load(db: &Db) {
    db.migrate().await.unwrap();
    for i in 0..batches().len() {
        store(db, &batch_records(i), 1_000 + i as i64)
            .await
            .unwrap();
    }
}

/// Every stored row, as text lines sorted, with ids replaced by what they stand for.
async fn dump(db: &Db) -> Vec<String> {
    // Both dialects read the same text for every column.
    let queries = [
        "select 'profile', identity, coalesce(email, '-'), coalesce(phone, '-'), \
         coalesce(first_name, '-'), coalesce(last_name, '-'), coalesce(gender, '-'), \
         coalesce(cast(date_of_birth as text), '-'), coalesce(city, '-'), \
         cast(created_at as text), cast(updated_at as text) from profiles",
        "select 'prop', p.identity, pp.key, pp.kind, coalesce(pp.t, '-'), \
         coalesce(cast(pp.n as text), '-'), '', '', '', '', '' \
         from profile_props pp join profiles p on p.id = pp.profile_id",
        "select 'event', p.identity, n.name, cast(e.ts as text), cast(e.props as text), '', \
         '', '', '', '', '' from events e join profiles p on p.id = e.profile_id \
         join event_names n on n.id = e.name_id",
        "select 'name', name, cast(count as text), cast(first_seen as text), \
         coalesce(cast(last_seen as text), '-'), '', '', '', '', '', '' from event_names",
        "select 'day', n.name, cast(d.day as text), p.identity, cast(d.n as text), '', '', '', \
         '', '', '' from event_days d join profiles p on p.id = d.profile_id \
         join event_names n on n.id = d.name_id",
        "select 'type', scope, event_name, key, kind, cast(first_seen as text), '', '', '', '', '' \
         from property_types",
        "select 'count', cast(n as text), '', '', '', '', '', '', '', '', '' from profile_count",
    ];
    let mut lines = Vec::new();
    for sql in queries {
        type Row = (
            String,
            String,
            String,
            String,
            String,
            String,
            String,
            String,
            String,
            String,
            String,
        );
        let rows: Vec<Row> = with_pool!(db, pool => sqlx::query_as(sql).fetch_all(pool).await)
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
        for r in rows {
            let mut cells = vec![r.0, r.1, r.2, r.3, r.4, r.5, r.6, r.7, r.8, r.9, r.10];
            if cells[0] == "event" {
                // jsonb spaces its text differently: compare the JSON, not its spelling.
                cells[4] = serde_json::from_str::<Json>(&cells[4]).unwrap().to_string();
            }
            if cells[0] == "prop" && cells[5] != "-" {
                // PostgreSQL prints `30`, SQLite `30.0`.
                cells[5] = cells[5].parse::<f64>().unwrap().to_string();
            }
            lines.push(cells.join(" | "));
        }
    }
    lines.sort();
    lines
}

async fn sqlite_dump() -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::connect(&format!("sqlite://{}/s.db", dir.path().display()))
        .await
        .unwrap();
    load(&db).await;
    let lines = dump(&db).await;
    db.close().await;
    lines
}

/// The upload writer's path: every batch staged (`events_inbox`), then one merge in slices of
/// time of about two events each, with the resend and the duplicate in different batches and
/// slices. It must store exactly what the direct path stores.
#[tokio::test]
async fn events_staged_then_merged_in_slices_are_stored_as_if_inserted_directly() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::connect(&format!("sqlite://{}/s.db", dir.path().display()))
        .await
        .unwrap();
    db.migrate().await.unwrap();
    let Db::Sqlite(pool) = &db else {
        unreachable!()
    };
    let mut conn = pool.acquire().await.unwrap();
    for i in 0..batches().len() {
        let records = batch_records(i);
        let refs: Vec<&Record> = records.iter().collect();
        super::stage_refs_on(&mut conn, &refs, &[], 1_000 + i as i64)
            .await
            .unwrap();
    }
    let staged: i64 = sqlx::query_scalar("select count(*) from events_inbox")
        .fetch_one(&mut *conn)
        .await
        .unwrap();
    assert_eq!(staged, 7);
    assert_eq!(super::merge_staged_by(&mut conn, 2).await.unwrap(), 5);
    let left: i64 = sqlx::query_scalar("select count(*) from events_inbox")
        .fetch_one(&mut *conn)
        .await
        .unwrap();
    assert_eq!(left, 0);
    drop(conn);
    let lines = dump(&db).await;
    db.close().await;
    assert_eq!(lines, sqlite_dump().await);
}

#[tokio::test]
async fn the_store_keeps_one_event_per_key_and_counts_what_it_inserted() {
    let lines = sqlite_dump().await;
    let has = |l: &str| lines.iter().any(|x| x == l);
    // Resent and duplicated events are stored once; the counts follow the stored rows.
    assert_eq!(lines.iter().filter(|l| l.starts_with("event |")).count(), 5);
    assert!(
        has("name | Charged | 3 | 1000 | 90000 |  |  |  |  |  | "),
        "{lines:#?}"
    );
    assert!(
        has("name | Viewed | 2 | 1000 | 86402 |  |  |  |  |  | "),
        "{lines:#?}"
    );
    assert!(
        has("day | Charged | 0 | a | 1 |  |  |  |  |  | "),
        "{lines:#?}"
    );
    assert!(
        has("day | Charged | 1 | a | 1 |  |  |  |  |  | "),
        "{lines:#?}"
    );
    assert!(
        has("day | Viewed | 1 | b | 2 |  |  |  |  |  | "),
        "{lines:#?}"
    );
    assert!(has("count | 3 |  |  |  |  |  |  |  |  | "), "{lines:#?}");
    // Both profile updates of one batch apply, the later value winning.
    assert!(
        has(
            "profile | a | ann@x.com | +14155551234 | ann | lee | - | 1970-01-01 | pune | 1000 | 1000"
        ),
        "{lines:#?}"
    );
    assert!(
        has("prop | a | Age | number | - | 31 |  |  |  |  | "),
        "{lines:#?}"
    );
    // The first type seen stays registered; the later value keeps its own type.
    assert!(
        has("type | profile |  | Age | number | 1000 |  |  |  |  | "),
        "{lines:#?}"
    );
    assert!(
        has("prop | b | Age | text | old | - |  |  |  |  | "),
        "{lines:#?}"
    );
    assert!(
        has("type | event | Charged | Amount | number | 1000 |  |  |  |  | "),
        "{lines:#?}"
    );
}

/// A throwaway database on the server `TEST_POSTGRES_URL` names, migrated; `None` (and a note)
/// without one. [`drop_postgres`] deletes it.
async fn postgres_db() -> Option<(Db, String, String)> {
    let Ok(admin_url) = std::env::var("TEST_POSTGRES_URL") else {
        eprintln!("TEST_POSTGRES_URL is not set: the PostgreSQL half is skipped");
        return None;
    };
    let name = format!(
        "test_store_{}_{}",
        std::process::id(),
        jiff::Timestamp::now().as_nanosecond()
    );
    let mut admin = PgConnection::connect(&admin_url).await.unwrap();
    admin
        .execute(format!("create database {name}").as_str())
        .await
        .unwrap();
    let (base, _) = admin_url.rsplit_once('/').unwrap();
    let db = Db::connect(&format!("{base}/{name}")).await.unwrap();
    db.migrate().await.unwrap();
    Some((db, admin_url, name))
}

async fn drop_postgres(db: Db, admin_url: &str, name: &str) {
    db.close().await;
    let mut admin = PgConnection::connect(admin_url).await.unwrap();
    admin
        .execute(format!("drop database {name} with (force)").as_str())
        .await
        .unwrap();
}

#[tokio::test]
async fn postgres_stores_exactly_what_sqlite_stores() {
    let Some((db, admin_url, name)) = postgres_db().await else {
        return;
    };
    load(&db).await;
    let pg = dump(&db).await;
    drop_postgres(db, &admin_url, &name).await;
    assert_eq!(pg, sqlite_dump().await);
}

/// The upload writer's path on PostgreSQL: every batch staged, then one merge (which any server
/// process may run). It must store exactly what SQLite's direct path stores, and leave nothing
/// staged.
#[tokio::test]
async fn postgres_events_staged_then_merged_are_stored_as_if_inserted_directly() {
    let Some((db, admin_url, name)) = postgres_db().await else {
        return;
    };
    let Db::Postgres(pool) = &db else {
        unreachable!()
    };
    for i in 0..batches().len() {
        let records = batch_records(i);
        let refs: Vec<&Record> = records.iter().collect();
        super::stage_refs_postgres(pool, &refs, &[], 1_000 + i as i64)
            .await
            .unwrap();
    }
    assert_eq!(pg_count(pool, "events_inbox").await, 7);
    assert_eq!(
        pg_count(pool, "events").await,
        0,
        "nothing stored before the merge"
    );
    assert_eq!(super::merge_staged_postgres(pool).await.unwrap(), 5);
    assert_eq!(pg_count(pool, "events_inbox").await, 0);
    // A second merge finds nothing to do.
    assert_eq!(super::merge_staged_postgres(pool).await.unwrap(), 0);
    let pg = dump(&db).await;
    drop_postgres(db, &admin_url, &name).await;
    assert_eq!(pg, sqlite_dump().await);
}

/// A merge runs beside the uploads (it does not hold the writers' lock): an upload still in its
/// transaction when a merge starts neither blocks the merge nor loses its events — they stay
/// staged, for the next merge.
#[tokio::test]
async fn postgres_merge_leaves_an_upload_in_flight_staged_for_the_next() {
    let Some((db, admin_url, name)) = postgres_db().await else {
        return;
    };
    let Db::Postgres(pool) = &db else {
        unreachable!()
    };
    let records = batch_records(0);
    let refs: Vec<&Record> = records.iter().collect();
    super::stage_refs_postgres(pool, &refs, &[], 1_000)
        .await
        .unwrap();
    // The upload in flight: one more event staged, not committed yet.
    let mut upload = pool.begin().await.unwrap();
    sqlx::query(
        "insert into events_inbox (profile_id, name_id, ts, props, dedup_key) \
         select profile_id, name_id, ts + 1, props, '\\x00ff'::bytea from events_inbox limit 1",
    )
    .execute(&mut *upload)
    .await
    .unwrap();
    let merged = tokio::time::timeout(
        std::time::Duration::from_secs(20),
        super::merge_staged_postgres(pool),
    )
    .await
    .expect("the merge waited for the upload in flight")
    .unwrap();
    // Four staged, two of them the same event.
    assert_eq!(
        merged, 3,
        "the first batch's events, without the one in flight"
    );
    upload.commit().await.unwrap();
    assert_eq!(pg_count(pool, "events_inbox").await, 1);
    assert_eq!(super::merge_staged_postgres(pool).await.unwrap(), 1);
    assert_eq!(pg_count(pool, "events").await, 4);
    drop_postgres(db, &admin_url, &name).await;
}

/// Identities are looked up as one JSON list (SQLite 3.40 ends a JSON text at an escaped NUL):
/// "a\u0000b" must still be its own profile, not "a"'s.
#[tokio::test]
async fn an_identity_with_a_nul_is_not_taken_for_its_prefix() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::connect(&format!("sqlite://{}/s.db", dir.path().display()))
        .await
        .unwrap();
    db.migrate().await.unwrap();
    for (i, identity) in ["a", "a\u{0}b", "a\u{0}b"].into_iter().enumerate() {
        let record = json!({"type":"event","identity":identity,"ts":10 + i,"evtName":"Viewed"});
        store(&db, &[parse_record(&record, 1_000).unwrap()], 1_000)
            .await
            .unwrap();
    }
    let Db::Sqlite(pool) = &db else {
        unreachable!()
    };
    let per_profile: Vec<(String, i64)> = sqlx::query_as(
        "select hex(p.identity), count(*) from events e join profiles p on p.id = e.profile_id \
         group by p.identity order by 1",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    assert_eq!(
        per_profile,
        [("61".to_owned(), 1), ("610062".to_owned(), 2)]
    );
    db.close().await;
}
