//! Saved segments: rows of `saved_segments`. The rules (names, definitions, no loops, a bounded
//! size with the saved segments they use) are in
//! `shared::saved_segment`; this module stores and reads them on either database.

use std::collections::HashMap;

use anyhow::Context;
use jiff::Timestamp;
use shared::error::FieldError;
use shared::saved_segment::{
    SavedSegment, SavedSegmentInput, saved_segment_refs, validate_references,
    validate_saved_segment, validate_users_of,
};
use shared::segment::Segment;

use crate::{
    campaigns::repo::{ts_from_db, ts_to_db},
    db::{Db, with_pool},
    error::{ApiError, ApiResult},
};

#[derive(sqlx::FromRow)]
struct Row {
    id: i64,
    name: String,
    description: String,
    definition: String,
    last_size: Option<i64>,
    last_computed_at: Option<String>,
    created_at: String,
    updated_at: String,
}

const COLUMNS: &str =
    "id, name, description, definition, last_size, last_computed_at, created_at, updated_at";

impl TryFrom<Row> for SavedSegment {
    type Error = anyhow::Error;

    fn try_from(row: Row) -> anyhow::Result<Self> {
        Ok(SavedSegment {
            definition: serde_json::from_str(&row.definition)
                .with_context(|| format!("saved segment {} has a bad definition", row.id))?,
            id: row.id,
            name: row.name,
            description: row.description,
            last_size: row.last_size.map(|n| n.max(0) as u64),
            last_computed_at: row
                .last_computed_at
                .as_deref()
                .map(ts_from_db)
                .transpose()?,
            created_at: ts_from_db(&row.created_at)?,
            updated_at: ts_from_db(&row.updated_at)?,
        })
    }
}

/// Every saved segment, by name.
pub async fn list(db: &Db) -> ApiResult<Vec<SavedSegment>> {
    let sql = format!("select {COLUMNS} from saved_segments order by lower(name), id");
    let rows: Vec<Row> = with_pool!(db, pool => sqlx::query_as(&sql).fetch_all(pool).await?);
    Ok(rows
        .into_iter()
        .map(SavedSegment::try_from)
        .collect::<anyhow::Result<_>>()?)
}

pub async fn get(db: &Db, id: i64) -> ApiResult<SavedSegment> {
    let sql = format!("select {COLUMNS} from saved_segments where id = $1");
    let row: Option<Row> =
        with_pool!(db, pool => sqlx::query_as(&sql).bind(id).fetch_optional(pool).await?);
    let row = row.ok_or_else(|| ApiError::not_found(format!("There is no saved segment {id}.")))?;
    Ok(row.try_into()?)
}

/// Every stored definition, to check references for loops.
async fn definitions(db: &Db) -> ApiResult<HashMap<i64, Segment>> {
    let rows: Vec<(i64, String)> = with_pool!(db, pool => {
        sqlx::query_as("select id, definition from saved_segments")
            .fetch_all(pool)
            .await?
    });
    Ok(rows
        .into_iter()
        .filter_map(|(id, json)| Some((id, serde_json::from_str(&json).ok()?)))
        .collect())
}

/// Validates `input` as segment `own_id` (`None`: a new one), including its references to other
/// saved segments: each must exist and none may lead back to this one.
pub async fn validate(db: &Db, own_id: Option<i64>, input: &SavedSegmentInput) -> ApiResult<()> {
    let mut errors = validate_saved_segment(input);
    let stored = definitions(db).await?;
    let lookup = |id: i64| stored.get(&id).cloned();
    errors.extend(validate_references(
        own_id,
        &input.definition,
        "definition",
        &lookup,
    ));
    if let Some(own) = own_id
        && errors.is_empty()
    {
        let ids: Vec<i64> = stored.keys().copied().collect();
        errors.extend(validate_users_of(
            own,
            &input.definition,
            "definition",
            &ids,
            &lookup,
        ));
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::Validation(errors))
    }
}

/// The references of a campaign audience (or an estimated segment) to saved segments that do
/// not exist; `prefix` is the path of the segment in the request (`audience`, `segment`).
pub async fn reference_errors(
    db: &Db,
    segment: &Segment,
    prefix: &str,
) -> ApiResult<Vec<FieldError>> {
    if saved_segment_refs(segment, prefix).is_empty() {
        return Ok(Vec::new());
    }
    let stored = definitions(db).await?;
    Ok(validate_references(None, segment, prefix, &|id| {
        stored.get(&id).cloned()
    }))
}

/// Checks that a campaign audience (or an estimated segment) refers only to existing saved
/// segments; `prefix` is the path of the segment in the request (`audience`, `segment`).
pub async fn validate_refs_in(db: &Db, segment: &Segment, prefix: &str) -> ApiResult<()> {
    let errors = reference_errors(db, segment, prefix).await?;
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::Validation(errors))
    }
}

pub async fn insert(db: &Db, input: &SavedSegmentInput, now: Timestamp) -> ApiResult<SavedSegment> {
    let now = ts_to_db(now);
    let definition = serde_json::to_string(&input.definition).context("segment as JSON")?;
    let sql = format!(
        "insert into saved_segments (name, description, definition, created_at, updated_at) \
         values ($1, $2, $3, $4, $4) returning {COLUMNS}"
    );
    let row: Row = with_pool!(db, pool => {
        sqlx::query_as(&sql)
            .bind(input.name.trim())
            .bind(input.description.trim())
            .bind(&definition)
            .bind(&now)
            .fetch_one(pool)
            .await?
    });
    Ok(row.try_into()?)
}

/// Replaces name, description and definition; the last size is cleared (it described the old
/// definition).
pub async fn update(
    db: &Db,
    id: i64,
    input: &SavedSegmentInput,
    now: Timestamp,
) -> ApiResult<SavedSegment> {
    let now = ts_to_db(now);
    let definition = serde_json::to_string(&input.definition).context("segment as JSON")?;
    let sql = format!(
        "update saved_segments set name = $1, description = $2, definition = $3, \
         last_size = null, last_computed_at = null, updated_at = $4 where id = $5 \
         returning {COLUMNS}"
    );
    let row: Option<Row> = with_pool!(db, pool => {
        sqlx::query_as(&sql)
            .bind(input.name.trim())
            .bind(input.description.trim())
            .bind(&definition)
            .bind(&now)
            .bind(id)
            .fetch_optional(pool)
            .await?
    });
    let row = row.ok_or_else(|| ApiError::not_found(format!("There is no saved segment {id}.")))?;
    Ok(row.try_into()?)
}

pub async fn record_size(db: &Db, id: i64, size: u64, at: Timestamp) -> ApiResult<()> {
    let at = ts_to_db(at);
    with_pool!(db, pool => {
        sqlx::query(
            "update saved_segments set last_size = $1, last_computed_at = $2 where id = $3",
        )
        .bind(size as i64)
        .bind(&at)
        .bind(id)
        .execute(pool)
        .await
        .map(drop)?
    });
    Ok(())
}

/// Campaigns that may still run (published, not stopped or completed) whose audience refers to
/// saved segment `id`: their names, by id.
async fn live_campaigns_using(db: &Db, id: i64) -> ApiResult<Vec<String>> {
    let rows: Vec<(i64, String, String)> = with_pool!(db, pool => {
        sqlx::query_as(
            "select id, name, audience from campaigns where audience is not null \
             and status not in ('draft', 'completed', 'stopped') order by id",
        )
        .fetch_all(pool)
        .await?
    });
    Ok(rows
        .into_iter()
        .filter(|(_, _, audience)| {
            serde_json::from_str::<Segment>(audience)
                .is_ok_and(|seg| saved_segment_refs(&seg, "").iter().any(|(r, _)| *r == id))
        })
        .map(|(_, name, _)| name)
        .collect())
}

/// Deletes a saved segment that no other saved segment and no published campaign that may still
/// run uses (409 otherwise, naming them). Drafts may keep a reference to it: saving or
/// publishing them then fails with a 422 on the rule, which the wizard shows.
pub async fn delete(db: &Db, id: i64) -> ApiResult<()> {
    let campaigns = live_campaigns_using(db, id).await?;
    if !campaigns.is_empty() {
        let names: Vec<String> = campaigns
            .iter()
            .map(|n| format!("\u{201c}{n}\u{201d}"))
            .collect();
        return Err(ApiError::Conflict(format!(
            "Published campaign(s) {} use this segment; stop them or remove it from their audience first.",
            names.join(", ")
        )));
    }
    let users: Vec<i64> = definitions(db)
        .await?
        .into_iter()
        .filter(|(other, def)| {
            *other != id && saved_segment_refs(def, "").iter().any(|(r, _)| *r == id)
        })
        .map(|(other, _)| other)
        .collect();
    if !users.is_empty() {
        let names: Vec<String> = users.iter().map(|u| u.to_string()).collect();
        return Err(ApiError::Conflict(format!(
            "Saved segment(s) {} use this segment; remove it from them first.",
            names.join(", ")
        )));
    }
    let done = with_pool!(db, pool => {
        sqlx::query("delete from saved_segments where id = $1")
            .bind(id)
            .execute(pool)
            .await?
            .rows_affected()
    });
    if done == 0 {
        return Err(ApiError::not_found(format!(
            "There is no saved segment {id}."
        )));
    }
    Ok(())
}
