//! The Data page's figures (`GET /api/data`) and the bookkeeping behind them: for each source,
//! when records last arrived and how many were stored or refused, and the latest refused
//! records with their reason, so a broken integration shows in the app instead of only in the
//! server's log.

use std::collections::HashMap;

use jiff::{Timestamp, civil::Date, tz::TimeZone};
use shared::{
    audience_data::{PropertyType, ValueCount},
    data_overview::{
        DataOverview, EventActivity, IngestSource, KeyCoverage, PropertyCoverage, REJECTED_KEPT,
        REJECTED_LISTED, RejectedRecord, SourceActivity, daily_series,
    },
};

use super::catalog::{property_type, top_values};
use crate::db::{Db, with_pool};

/// A refused record's text is cut here: the page shows what went wrong, not whole payloads.
const RECORD_BYTES: usize = 2000;

/// One refused record: its code, the reason and the record as sent.
pub struct Refusal<'a> {
    pub code: u16,
    pub error: &'a str,
    pub record: &'a str,
}

/// What one upload request adds to the Data page: its source's counts and its latest refused
/// records. Written by the upload writer in the transaction that stores the request's records
/// (`customer/writer.rs`), not in one of its own: a second writing transaction per request cost
/// a commit each and, on SQLite, invalidated the writer connection's page cache (any write by
/// another connection drops it), so every group read the pages it touched back from the file.
pub struct Bookkeeping {
    source: IngestSource,
    stored: usize,
    refused: usize,
    /// The latest [`REJECTED_KEPT`] refusals: `(code, error, record cut to RECORD_BYTES)`.
    kept: Vec<(u16, String, String)>,
}

impl Bookkeeping {
    pub fn new(source: IngestSource, stored: usize, refused: &[Refusal<'_>]) -> Self {
        // The newest last: only the latest REJECTED_KEPT are worth inserting.
        let kept = refused
            .iter()
            .skip(refused.len().saturating_sub(REJECTED_KEPT))
            .map(|r| (r.code, r.error.to_owned(), cut(r.record).to_owned()))
            .collect();
        Self {
            source,
            stored,
            refused: refused.len(),
            kept,
        }
    }
}

/// Writes the bookkeeping of the requests of a group (in arrival order) on `$conn`, inside the
/// caller's transaction: one upsert per source, the refused records, and the trim to the latest
/// [`REJECTED_KEPT`]. The SQL is portable; the macro compiles it for each connection type.
macro_rules! record_on {
    ($conn:expr, $books:expr, $now:expr) => {{
        let conn = $conn;
        let books: &[&Bookkeeping] = $books;
        let now: i64 = $now;
        for source in [
            IngestSource::UploadApi,
            IngestSource::Import,
            IngestSource::SegmentApi,
        ] {
            let mine = || books.iter().filter(|b| b.source == source);
            if mine().next().is_none() {
                continue;
            }
            let stored: usize = mine().map(|b| b.stored).sum();
            let refused: usize = mine().map(|b| b.refused).sum();
            sqlx::query(
                "insert into ingest_sources (source, stored, refused, last_at) \
                 values ($1, $2, $3, $4) \
                 on conflict (source) do update set \
                 stored = ingest_sources.stored + excluded.stored, \
                 refused = ingest_sources.refused + excluded.refused, \
                 last_at = case when excluded.last_at > ingest_sources.last_at \
                 then excluded.last_at else ingest_sources.last_at end",
            )
            .bind(source.as_str())
            .bind(stored as i64)
            .bind(refused as i64)
            .bind(now)
            .execute(&mut *conn)
            .await?;
        }
        let kept: Vec<(IngestSource, &(u16, String, String))> = books
            .iter()
            .flat_map(|b| b.kept.iter().map(move |k| (b.source, k)))
            .collect();
        for (source, (code, error, record)) in &kept[kept.len().saturating_sub(REJECTED_KEPT)..] {
            sqlx::query(
                "insert into rejected_records (at, source, code, error, record) \
                 values ($1, $2, $3, $4, $5)",
            )
            .bind(now)
            .bind(source.as_str())
            .bind(i32::from(*code))
            .bind(error.as_str())
            .bind(record.as_str())
            .execute(&mut *conn)
            .await?;
        }
        if !kept.is_empty() {
            sqlx::query(
                "delete from rejected_records \
                 where id <= (select max(id) from rejected_records) - $1",
            )
            .bind(REJECTED_KEPT as i64)
            .execute(&mut *conn)
            .await?;
        }
        Ok(())
    }};
}

/// [`Bookkeeping`] of a group, on SQLite, inside the caller's transaction.
pub(super) async fn record_sqlite(
    conn: &mut sqlx::SqliteConnection,
    books: &[&Bookkeeping],
    now: i64,
) -> sqlx::Result<()> {
    record_on!(conn, books, now)
}

/// [`Bookkeeping`] of a group, on PostgreSQL, inside the caller's transaction.
pub(super) async fn record_postgres(
    conn: &mut sqlx::PgConnection,
    books: &[&Bookkeeping],
    now: i64,
) -> sqlx::Result<()> {
    record_on!(conn, books, now)
}

fn cut(text: &str) -> &str {
    if text.len() <= RECORD_BYTES {
        return text;
    }
    let mut end = RECORD_BYTES;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// The match-key columns of `profiles`, in the order the page lists them.
const MATCH_KEYS: [&str; 11] = [
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

pub async fn overview(db: &Db) -> sqlx::Result<DataOverview> {
    // Uploads' events may still be staged (customer::writer): merged first, so that the counts are whole.
    crate::customer::writer::flush(db).await?;
    let profiles: i64 = with_pool!(db, pool => {
        sqlx::query_scalar("select coalesce((select n from profile_count where id = 1), 0)")
            .fetch_one(pool)
            .await?
    });
    // The parts read different tables and each scans one: side by side on the pool's
    // connections they take the longest one's time, not the sum (1M profiles / 20M events:
    // the key coverage's scan of `profiles` alone is about half of the page's time).
    let (
        (profiles_with_match_key, match_keys),
        sources,
        events_by_name,
        profile_properties,
        (rejected, rejected_kept),
    ) = tokio::try_join!(
        key_coverage(db),
        sources(db),
        events_by_name(db, Timestamp::now()),
        profile_properties(db),
        rejected(db),
    )?;
    let events = events_by_name.iter().map(|e| e.count).sum();
    Ok(DataOverview {
        profiles: profiles.max(0) as u64,
        events,
        profiles_with_match_key,
        match_keys,
        sources,
        events_by_name,
        profile_properties,
        rejected,
        rejected_kept,
    })
}

async fn key_coverage(db: &Db) -> sqlx::Result<(u64, Vec<KeyCoverage>)> {
    let counts = MATCH_KEYS
        .iter()
        .map(|k| format!("count({k})"))
        .collect::<Vec<_>>()
        .join(", ");
    let any = MATCH_KEYS
        .iter()
        .map(|k| format!("{k} is not null"))
        .collect::<Vec<_>>()
        .join(" or ");
    let sql = format!(
        "select cast(coalesce(sum(case when {any} then 1 else 0 end), 0) as bigint), {counts} \
         from profiles"
    );
    let row: Vec<i64> = with_pool!(db, pool => {
        let row = sqlx::query(&sql).fetch_one(pool).await?;
        (0..=MATCH_KEYS.len())
            .map(|i| sqlx::Row::try_get::<i64, _>(&row, i))
            .collect::<sqlx::Result<Vec<i64>>>()?
    });
    let with_any = row[0].max(0) as u64;
    let keys = MATCH_KEYS
        .iter()
        .zip(&row[1..])
        .map(|(key, n)| KeyCoverage {
            key: (*key).to_owned(),
            profiles: (*n).max(0) as u64,
        })
        .collect();
    Ok((with_any, keys))
}

async fn sources(db: &Db) -> sqlx::Result<Vec<SourceActivity>> {
    let rows: Vec<(String, i64, i64, i64)> = with_pool!(db, pool => {
        sqlx::query_as(
            "select source, stored, refused, last_at from ingest_sources order by last_at desc, source",
        )
        .fetch_all(pool)
        .await?
    });
    Ok(rows
        .into_iter()
        .filter_map(|(source, stored, refused, last_at)| {
            Some(SourceActivity {
                source: IngestSource::parse(&source)?,
                last_at: Timestamp::from_second(last_at).ok()?,
                stored: stored.max(0) as u64,
                refused: refused.max(0) as u64,
            })
        })
        .collect())
}

/// Event names by count with their last 30 UTC days from `event_days` (one range read of its
/// primary key per name, never a scan of raw events).
async fn events_by_name(db: &Db, now: Timestamp) -> sqlx::Result<Vec<EventActivity>> {
    let today = now.to_zoned(TimeZone::UTC).date();
    let first = daily_series(today, &[])
        .first()
        .map(|d| d.day)
        .unwrap_or(today);
    let first_day = epoch_day(first);
    let names: Vec<(i64, String, i64, Option<i64>)> = with_pool!(db, pool => {
        sqlx::query_as("select id, name, count, last_seen from event_names order by count desc, name")
            .fetch_all(pool)
            .await?
    });
    // One range read per name, all at once (the pool bounds how many run together).
    let reads = names
        .into_iter()
        .map(|(id, name, count, last_seen)| async move {
            let days: Vec<(i64, i64)> = with_pool!(db, pool => {
                sqlx::query_as(
                    "select day, cast(sum(n) as bigint) from event_days \
                     where name_id = $1 and day >= $2 group by day",
                )
                .bind(id)
                .bind(first_day)
                .fetch_all(pool)
                .await?
            });
            let days: Vec<(Date, u64)> = days
                .into_iter()
                .filter_map(|(day, n)| Some((from_epoch_day(day)?, n.max(0) as u64)))
                .collect();
            Ok::<_, sqlx::Error>(EventActivity {
                name,
                count: count.max(0) as u64,
                last_seen: last_seen.and_then(|s| Timestamp::from_second(s).ok()),
                daily: daily_series(today, &days),
            })
        });
    futures_util::future::try_join_all(reads).await
}

fn epoch_day(day: Date) -> i64 {
    day.to_zoned(TimeZone::UTC)
        .map(|z| z.timestamp().as_second().div_euclid(86_400))
        .unwrap_or_default()
}

fn from_epoch_day(day: i64) -> Option<Date> {
    Timestamp::from_second(day.checked_mul(86_400)?)
        .ok()
        .map(|t| t.to_zoned(TimeZone::UTC).date())
}

async fn profile_properties(db: &Db) -> sqlx::Result<Vec<PropertyCoverage>> {
    let counts: Vec<(String, i64)> = with_pool!(db, pool => {
        sqlx::query_as("select key, count(*) from profile_props group by key")
            .fetch_all(pool)
            .await?
    });
    let counts: HashMap<String, i64> = counts.into_iter().collect();
    let types: Vec<(String, String)> = with_pool!(db, pool => {
        sqlx::query_as("select key, kind from property_types where scope = 'profile' order by key")
            .fetch_all(pool)
            .await?
    });
    let mut out = Vec::with_capacity(types.len());
    for (key, kind) in types {
        let kind = property_type(&kind);
        let top: Vec<ValueCount> = if kind == PropertyType::Text {
            top_values(db, &key).await?
        } else {
            Vec::new()
        };
        out.push(PropertyCoverage {
            profiles: counts.get(&key).copied().unwrap_or_default().max(0) as u64,
            name: key,
            kind,
            top_values: top,
        });
    }
    out.sort_by(|a, b| {
        b.profiles
            .cmp(&a.profiles)
            .then_with(|| a.name.cmp(&b.name))
    });
    Ok(out)
}

async fn rejected(db: &Db) -> sqlx::Result<(Vec<RejectedRecord>, u64)> {
    let rows: Vec<(i64, String, i32, String, String)> = with_pool!(db, pool => {
        sqlx::query_as(
            "select at, source, code, error, record from rejected_records order by id desc limit $1",
        )
        .bind(REJECTED_LISTED as i64)
        .fetch_all(pool)
        .await?
    });
    let kept: i64 = with_pool!(db, pool => {
        sqlx::query_scalar("select count(*) from rejected_records")
            .fetch_one(pool)
            .await?
    });
    let rows = rows
        .into_iter()
        .filter_map(|(at, source, code, error, record)| {
            Some(RejectedRecord {
                at: Timestamp::from_second(at).ok()?,
                source: IngestSource::parse(&source)?,
                code: u16::try_from(code).ok()?,
                error,
                record,
            })
        })
        .collect();
    Ok((rows, kept.max(0) as u64))
}
