//! Label rows. Labels are shared by every campaign; their rules are in `shared::label`.

use std::collections::HashSet;

use jiff::Timestamp;
use shared::label::Label;

use super::repo::ts_to_db;
use crate::{
    db::{Db, with_pool},
    error::ApiResult,
};

#[derive(sqlx::FromRow)]
struct LabelRow {
    id: i64,
    name: String,
    color: Option<String>,
}

impl From<LabelRow> for Label {
    fn from(row: LabelRow) -> Self {
        Label {
            id: row.id,
            name: row.name,
            color: row.color,
        }
    }
}

/// Every label, by name regardless of case.
pub async fn list(db: &Db) -> ApiResult<Vec<Label>> {
    let rows: Vec<LabelRow> = with_pool!(db, pool => {
        sqlx::query_as("select id, name, color from labels order by name_key, id")
            .fetch_all(pool)
            .await?
    });
    Ok(rows.into_iter().map(Label::from).collect())
}

/// Inserts a label. `key` is `shared::label::label_key(name)`; a second label with the same key
/// fails with a unique violation (the caller turns it into a field error).
pub async fn insert(
    db: &Db,
    name: &str,
    key: &str,
    color: Option<&str>,
    now: Timestamp,
) -> Result<Label, sqlx::Error> {
    let now = ts_to_db(now);
    let row: LabelRow = with_pool!(db, pool => {
        sqlx::query_as(
            "insert into labels (name, name_key, color, created_at) values ($1, $2, $3, $4) \
             returning id, name, color",
        )
        .bind(name)
        .bind(key)
        .bind(color)
        .bind(&now)
        .fetch_one(pool)
        .await?
    });
    Ok(row.into())
}

/// Which of `ids` name an existing label.
pub async fn existing_ids(db: &Db, ids: &[i64]) -> ApiResult<HashSet<i64>> {
    if ids.is_empty() {
        return Ok(HashSet::new());
    }
    let found: Vec<i64> = with_pool!(db, pool => {
        let mut query = sqlx::QueryBuilder::new("select id from labels where id in (");
        let mut list = query.separated(", ");
        for id in ids {
            list.push_bind(*id);
        }
        query.push(")");
        query.build_query_scalar().fetch_all(pool).await?
    });
    Ok(found.into_iter().collect())
}
