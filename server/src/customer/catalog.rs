//! Reads for the segment builder: the catalog of events and properties, and member samples.

use std::collections::HashMap;

use crate::db::{Db, with_pool};
use crate::engine::{Pool, SegmentQuery, pg_arguments};
use shared::audience_data::{
    Catalog, EventInfo, ProfileSample, PropertyInfo, PropertyType, ValueCount,
};

/// Most frequent values listed per text profile property.
const TOP_VALUES: i64 = 5;

pub(crate) fn property_type(kind: &str) -> PropertyType {
    match kind {
        "number" => PropertyType::Number,
        "boolean" => PropertyType::Boolean,
        "date" => PropertyType::Date,
        "list" => PropertyType::List,
        _ => PropertyType::Text,
    }
}

pub async fn catalog(db: &Db) -> sqlx::Result<Catalog> {
    // Uploads' events may still be staged (customer::writer): merged first, so that the counts are whole.
    crate::customer::writer::flush(db).await?;
    let mut event_props: HashMap<String, Vec<PropertyInfo>> = HashMap::new();
    let rows: Vec<(String, String, String)> = with_pool!(db, pool => {
        sqlx::query_as(
            "select event_name, key, kind from property_types where scope = 'event' \
             order by event_name, key",
        )
        .fetch_all(pool)
        .await?
    });
    for (event, key, kind) in rows {
        event_props.entry(event).or_default().push(PropertyInfo {
            name: key,
            kind: property_type(&kind),
            top_values: Vec::new(),
        });
    }
    let rows: Vec<(String, i64, Option<i64>)> = with_pool!(db, pool => {
        sqlx::query_as("select name, count, last_seen from event_names order by count desc, name")
            .fetch_all(pool)
            .await?
    });
    let events = rows
        .into_iter()
        .map(|(name, count, last_seen)| EventInfo {
            properties: event_props.remove(&name).unwrap_or_default(),
            name,
            count: count.max(0) as u64,
            last_seen: last_seen.and_then(|s| jiff::Timestamp::from_second(s).ok()),
        })
        .collect();

    let rows: Vec<(String, String)> = with_pool!(db, pool => {
        sqlx::query_as("select key, kind from property_types where scope = 'profile' order by key")
            .fetch_all(pool)
            .await?
    });
    let mut profile_properties = Vec::with_capacity(rows.len());
    for (key, kind) in rows {
        let kind = property_type(&kind);
        let top_values = if kind == PropertyType::Text {
            top_values(db, &key).await?
        } else {
            Vec::new()
        };
        profile_properties.push(PropertyInfo {
            name: key,
            kind,
            top_values,
        });
    }
    Ok(Catalog {
        events,
        profile_properties,
    })
}

/// The most frequent values of the text profile property `key`, most frequent first.
pub(crate) async fn top_values(db: &Db, key: &str) -> sqlx::Result<Vec<ValueCount>> {
    let values: Vec<(String, i64)> = with_pool!(db, pool => {
        sqlx::query_as(
            "select t, count(*) as c from profile_props where key = $1 and kind = 'text' \
             group by t order by c desc, t limit $2",
        )
        .bind(key)
        .bind(TOP_VALUES)
        .fetch_all(pool)
        .await?
    });
    Ok(values
        .into_iter()
        .map(|(value, count)| ValueCount {
            value,
            count: count.max(0) as u64,
        })
        .collect())
}

pub async fn total_profiles(db: &Db) -> sqlx::Result<u64> {
    let n: i64 = with_pool!(db, pool => {
        sqlx::query_scalar("select count(*) from profiles")
            .fetch_one(pool)
            .await?
    });
    Ok(n.max(0) as u64)
}

/// The profiles `ids`, in that order (ids that no longer exist are left out).
pub async fn sample_of(db: &Db, ids: &[i64]) -> sqlx::Result<Vec<ProfileSample>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    type Row = (String, Option<String>, Option<String>, Option<String>);
    // A short list: SQLite takes it as JSON, PostgreSQL as an `int8` array.
    let rows: Vec<Row> = match db {
        Db::Sqlite(pool) => {
            sqlx::query_as(
                "select p.identity, p.email, p.phone, p.city from profiles p \
                 where p.id in (select value from json_each($1)) order by p.id",
            )
            .bind(serde_json::to_string(ids).unwrap_or_else(|_| "[]".into()))
            .fetch_all(pool)
            .await?
        }
        Db::Postgres(pool) => {
            sqlx::query_as(
                "select p.identity, p.email, p.phone, p.city from profiles p \
                 where p.id = any($1) order by p.id",
            )
            .bind(ids)
            .fetch_all(pool)
            .await?
        }
    };
    Ok(rows
        .into_iter()
        .map(|(identity, email, phone, city)| ProfileSample {
            identity,
            email,
            phone,
            city,
        })
        .collect())
}

/// Up to `limit` members of the segment, lowest ids first.
pub async fn sample<'a>(
    pool: impl Into<Pool<'a>>,
    segment: &SegmentQuery,
    limit: u32,
) -> sqlx::Result<Vec<ProfileSample>> {
    let sql = segment.select_sql(
        "p.identity, p.email, p.phone, p.city",
        &format!(" order by p.id limit {limit}"),
    );
    type Row = (String, Option<String>, Option<String>, Option<String>);
    let rows: Vec<Row> = match pool.into() {
        Pool::Sqlite(pool) => {
            sqlx::query_as_with(&sql, segment.arguments())
                .fetch_all(pool)
                .await?
        }
        Pool::Postgres(pool) => {
            sqlx::query_as_with(&sql, pg_arguments(&segment.binds))
                .fetch_all(pool)
                .await?
        }
    };
    Ok(rows
        .into_iter()
        .map(|(identity, email, phone, city)| ProfileSample {
            identity,
            email,
            phone,
            city,
        })
        .collect())
}
