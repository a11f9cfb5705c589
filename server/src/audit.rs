//! The audit log: who created, changed, published, paused, stopped or deleted what, and when,
//! with a short before/after summary. Written next to the change it records; read by admins.

use jiff::Timestamp;
use shared::account::AuditEntry;

use crate::{
    campaigns::repo::ts_to_db,
    db::{Db, with_pool},
    error::ApiResult,
};

/// The most entries one `GET /api/audit` returns.
pub const MAX_PAGE: u32 = 200;

/// One change to record. `before`/`after` are short human-readable summaries (`status: Draft`).
pub struct Record<'a> {
    pub actor: &'a str,
    pub action: &'a str,
    pub entity_type: &'a str,
    pub entity_id: String,
    pub summary: String,
    pub before: Option<String>,
    pub after: Option<String>,
}

/// Appends `record`. A failure to write the log fails the request: an unrecorded change is
/// worse than a retried one. (The change itself is already saved; the caller sees a 500.)
pub async fn record(db: &Db, record: Record<'_>, now: Timestamp) -> ApiResult<()> {
    let at = ts_to_db(now);
    with_pool!(db, pool => {
        sqlx::query(
            "insert into audit_log (at, actor, action, entity_type, entity_id, summary, \
             before_summary, after_summary) values ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&at)
        .bind(record.actor)
        .bind(record.action)
        .bind(record.entity_type)
        .bind(&record.entity_id)
        .bind(&record.summary)
        .bind(&record.before)
        .bind(&record.after)
        .execute(pool)
        .await?;
    });
    Ok(())
}

#[derive(sqlx::FromRow)]
struct Row {
    id: i64,
    at: String,
    actor: String,
    action: String,
    entity_type: String,
    entity_id: String,
    summary: String,
    before_summary: Option<String>,
    after_summary: Option<String>,
}

/// The newest entries first; `before_id` pages back from there.
pub async fn list(db: &Db, limit: u32, before_id: Option<i64>) -> ApiResult<Vec<AuditEntry>> {
    let limit = i64::from(limit.clamp(1, MAX_PAGE));
    let rows: Vec<Row> = with_pool!(db, pool => {
        sqlx::query_as(
            "select id, at, actor, action, entity_type, entity_id, summary, before_summary, \
             after_summary from audit_log where ($1 is null or id < $1) order by id desc limit $2",
        )
        .bind(before_id)
        .bind(limit)
        .fetch_all(pool)
        .await?
    });
    Ok(rows
        .into_iter()
        .map(|r| AuditEntry {
            id: r.id,
            at: r.at,
            actor: r.actor,
            action: r.action,
            entity_type: r.entity_type,
            entity_id: r.entity_id,
            summary: r.summary,
            before: r.before_summary,
            after: r.after_summary,
        })
        .collect())
}
