//! Campaign rows: SQL and the mapping between rows and `shared::campaign::Campaign`. No rules
//! here; [`super`] decides what may be stored.
//!
//! Every query is portable between SQLite and PostgreSQL and written once ([`with_pool`]).

use anyhow::Context;
use jiff::{Timestamp, Unit};
use serde::{Serialize, de::DeserializeOwned};
use shared::campaign::{Campaign, CampaignDraft, CampaignStatus};

use crate::{
    db::{Db, with_pool},
    error::ApiResult,
};

/// Writes a campaign's labels in the user's order, inside the transaction `tx` of whichever
/// backend [`with_pool`] picked (a macro, because the transaction's type differs per backend).
macro_rules! insert_labels {
    ($tx:ident, $campaign_id:expr, $labels:expr) => {
        for (position, label) in (0_i64..).zip($labels) {
            sqlx::query(
                "insert into campaign_labels (campaign_id, label_id, position) values ($1, $2, $3)",
            )
            .bind($campaign_id)
            .bind(label)
            .bind(position)
            .execute(&mut *$tx)
            .await?;
        }
    };
}

/// A stored campaign with what the server keeps beside the API shape.
#[derive(Debug, Clone)]
pub struct StoredCampaign {
    pub campaign: Campaign,
    /// When the last run started (set by the scheduler); `None` if it never ran.
    pub last_run_at: Option<Timestamp>,
}

/// Which campaigns to list; every filter is optional.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub status: Option<CampaignStatus>,
    pub label: Option<i64>,
    /// Part of the name, any case.
    pub q: Option<String>,
}

/// A new status and the run times that go with it.
#[derive(Debug, Clone, Copy)]
pub struct StatusChange {
    pub status: CampaignStatus,
    pub published_at: Option<Timestamp>,
    pub next_run_at: Option<Timestamp>,
}

const SELECT: &str = "select c.id, c.name, c.channel, c.status, c.schedule, c.audience, c.target, \
     c.conversion_goal, c.holdout_percent, c.created_at, c.updated_at, c.created_by, c.updated_by, c.published_at, \
     c.next_run_at, c.last_run_at, c.version from campaigns c";

// `$n is null or …` keeps one statement for every combination of filters. The parameters are
// typed by their Rust binds, so PostgreSQL knows their types even when they are null.
const FILTER: &str = "where ($1 is null or c.status = $1) \
     and ($2 is null or exists (select 1 from campaign_labels f \
                                where f.campaign_id = c.id and f.label_id = $2)) \
     and ($3 is null or c.name_lower like $3 escape '\\')";

#[derive(sqlx::FromRow)]
struct CampaignRow {
    id: i64,
    name: String,
    channel: String,
    status: String,
    schedule: Option<String>,
    audience: Option<String>,
    target: Option<String>,
    conversion_goal: Option<String>,
    holdout_percent: Option<i64>,
    created_at: String,
    updated_at: String,
    created_by: String,
    updated_by: String,
    published_at: Option<String>,
    next_run_at: Option<String>,
    last_run_at: Option<String>,
    version: i64,
}

#[derive(sqlx::FromRow)]
struct LabelLink {
    campaign_id: i64,
    label_id: i64,
}

/// The campaigns matching `filter`, most recently updated first.
pub async fn list(db: &Db, filter: &Filter) -> ApiResult<Vec<StoredCampaign>> {
    let status = filter.status.map(enum_to_db);
    let pattern = filter.q.as_deref().map(like_pattern);
    let campaigns_sql = format!("{SELECT} {FILTER} order by c.updated_at desc, c.id desc");
    let links_sql = format!(
        "select l.campaign_id, l.label_id from campaign_labels l \
         join campaigns c on c.id = l.campaign_id {FILTER} order by l.position"
    );
    let (rows, links) = with_pool!(db, pool => {
        let rows: Vec<CampaignRow> = sqlx::query_as(&campaigns_sql)
            .bind(&status)
            .bind(filter.label)
            .bind(&pattern)
            .fetch_all(pool)
            .await?;
        let links: Vec<LabelLink> = sqlx::query_as(&links_sql)
            .bind(&status)
            .bind(filter.label)
            .bind(&pattern)
            .fetch_all(pool)
            .await?;
        (rows, links)
    });
    rows.into_iter()
        .map(|row| {
            let labels = links
                .iter()
                .filter(|l| l.campaign_id == row.id)
                .map(|l| l.label_id)
                .collect();
            Ok(row.into_stored(labels)?)
        })
        .collect()
}

pub async fn find(db: &Db, id: i64) -> ApiResult<Option<StoredCampaign>> {
    let sql = format!("{SELECT} where c.id = $1");
    let (row, labels) = with_pool!(db, pool => {
        let row: Option<CampaignRow> = sqlx::query_as(&sql).bind(id).fetch_optional(pool).await?;
        let labels: Vec<i64> = sqlx::query_scalar(
            "select label_id from campaign_labels where campaign_id = $1 order by position",
        )
        .bind(id)
        .fetch_all(pool)
        .await?;
        (row, labels)
    });
    Ok(row.map(|row| row.into_stored(labels)).transpose()?)
}

/// Inserts a draft and its labels in one transaction; returns the new id.
pub async fn insert(db: &Db, draft: &CampaignDraft, actor: &str, now: Timestamp) -> ApiResult<i64> {
    let steps = Steps::of(draft)?;
    let now = ts_to_db(now);
    let status = enum_to_db(CampaignStatus::Draft);
    let id = with_pool!(db, pool => {
        let mut tx = pool.begin().await?;
        let id: i64 = sqlx::query_scalar(
            "insert into campaigns (name, name_lower, channel, status, schedule, audience, target, \
             conversion_goal, holdout_percent, created_at, updated_at, created_by, updated_by, \
             version) values ($1, $2, $3, $4, $5, $6, $7, $8, $11, $9, $9, $10, $10, 1) \
             returning id",
        )
        .bind(&steps.name)
        .bind(&steps.name_lower)
        .bind(&steps.channel)
        .bind(&status)
        .bind(&steps.schedule)
        .bind(&steps.audience)
        .bind(&steps.target)
        .bind(&steps.conversion_goal)
        .bind(&now)
        .bind(actor)
        .bind(steps.holdout_percent)
        .fetch_one(&mut *tx)
        .await?;
        insert_labels!(tx, id, &draft.labels);
        tx.commit().await?;
        id
    });
    Ok(id)
}

/// Replaces the steps and labels of campaign `id` if it is still at `version`, bumping the
/// version. Returns `false` (and changes nothing) when someone else changed it first.
pub async fn update(
    db: &Db,
    id: i64,
    version: i64,
    draft: &CampaignDraft,
    next_run_at: Option<Timestamp>,
    actor: &str,
    now: Timestamp,
) -> ApiResult<bool> {
    let steps = Steps::of(draft)?;
    let now = ts_to_db(now);
    let next_run_at = next_run_at.map(ts_to_db);
    let updated = with_pool!(db, pool => {
        let mut tx = pool.begin().await?;
        let done = sqlx::query(
            "update campaigns set name = $1, name_lower = $2, channel = $3, schedule = $4, \
             audience = $5, target = $6, conversion_goal = $7, next_run_at = $8, updated_at = $9, \
             updated_by = $10, holdout_percent = $13, version = version + 1 \
             where id = $11 and version = $12",
        )
        .bind(&steps.name)
        .bind(&steps.name_lower)
        .bind(&steps.channel)
        .bind(&steps.schedule)
        .bind(&steps.audience)
        .bind(&steps.target)
        .bind(&steps.conversion_goal)
        .bind(&next_run_at)
        .bind(&now)
        .bind(actor)
        .bind(id)
        .bind(version)
        .bind(steps.holdout_percent)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            // Dropping the transaction rolls it back; nothing was written anyway.
            false
        } else {
            sqlx::query("delete from campaign_labels where campaign_id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?;
            insert_labels!(tx, id, &draft.labels);
            tx.commit().await?;
            true
        }
    });
    Ok(updated)
}

/// Sets the status and run times of campaign `id` if it is still at `version`, bumping the
/// version. Returns `false` when someone else changed it first.
pub async fn set_status(
    db: &Db,
    id: i64,
    version: i64,
    change: StatusChange,
    actor: &str,
    now: Timestamp,
) -> ApiResult<bool> {
    let status = enum_to_db(change.status);
    let published_at = change.published_at.map(ts_to_db);
    let next_run_at = change.next_run_at.map(ts_to_db);
    let now = ts_to_db(now);
    let done = with_pool!(db, pool => {
        sqlx::query(
            "update campaigns set status = $1, published_at = $2, next_run_at = $3, \
             updated_at = $4, updated_by = $5, version = version + 1 \
             where id = $6 and version = $7",
        )
        .bind(&status)
        .bind(&published_at)
        .bind(&next_run_at)
        .bind(&now)
        .bind(actor)
        .bind(id)
        .bind(version)
        .execute(pool)
        .await?
        .rows_affected()
    });
    Ok(done == 1)
}

/// Deletes campaign `id` (its label links cascade) if it is still at `version`. Returns `false`
/// when someone else changed it first.
pub async fn delete(db: &Db, id: i64, version: i64) -> ApiResult<bool> {
    let done = with_pool!(db, pool => {
        sqlx::query("delete from campaigns where id = $1 and version = $2")
            .bind(id)
            .bind(version)
            .execute(pool)
            .await?
            .rows_affected()
    });
    Ok(done == 1)
}

/// The editable columns of a draft, encoded for storage.
struct Steps {
    name: String,
    name_lower: String,
    channel: String,
    schedule: Option<String>,
    audience: Option<String>,
    target: Option<String>,
    conversion_goal: Option<String>,
    /// NULL for none: 0 is stored as no holdout.
    holdout_percent: Option<i64>,
}

impl Steps {
    fn of(draft: &CampaignDraft) -> anyhow::Result<Self> {
        // Stored trimmed: the limits in `shared` apply to the trimmed name, and the list shows it.
        let name = draft.name.trim().to_owned();
        Ok(Self {
            name_lower: name.to_lowercase(),
            name,
            channel: enum_to_db(draft.channel),
            schedule: json_to_db(draft.schedule.as_ref())?,
            audience: json_to_db(draft.audience.as_ref())?,
            target: json_to_db(draft.target.as_ref())?,
            conversion_goal: json_to_db(draft.conversion_goal.as_ref())?,
            holdout_percent: shared::holdout::holdout_percent(draft.holdout_percent).map(i64::from),
        })
    }
}

impl CampaignRow {
    fn into_stored(self, labels: Vec<i64>) -> anyhow::Result<StoredCampaign> {
        let id = self.id;
        let decode = || -> anyhow::Result<StoredCampaign> {
            let campaign = Campaign {
                id,
                name: self.name,
                channel: enum_from_db(&self.channel)?,
                status: enum_from_db(&self.status)?,
                schedule: json_from_db(self.schedule.as_deref())?,
                audience: json_from_db(self.audience.as_deref())?,
                target: json_from_db(self.target.as_deref())?,
                labels,
                conversion_goal: json_from_db(self.conversion_goal.as_deref())?,
                holdout_percent: self
                    .holdout_percent
                    .and_then(|p| u8::try_from(p).ok())
                    .filter(|p| (1..=shared::holdout::MAX_HOLDOUT_PERCENT).contains(p)),
                created_at: ts_from_db(&self.created_at)?,
                updated_at: ts_from_db(&self.updated_at)?,
                created_by: self.created_by,
                updated_by: self.updated_by,
                published_at: self.published_at.as_deref().map(ts_from_db).transpose()?,
                next_run_at: self.next_run_at.as_deref().map(ts_from_db).transpose()?,
                version: self.version,
                last_run: None,
                list_columns: None,
            };
            Ok(StoredCampaign {
                campaign,
                last_run_at: self.last_run_at.as_deref().map(ts_from_db).transpose()?,
            })
        };
        decode().with_context(|| format!("campaign {id} has a column that does not decode"))
    }
}

/// The `like` pattern for "name contains `q`, any case", with `q`'s own wildcards escaped.
fn like_pattern(q: &str) -> String {
    let mut pattern = String::from("%");
    for c in q.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

/// The instant as stored: UTC, RFC 3339, always 6 fractional digits, so text order is time order
/// on both backends. Callers round to microseconds first ([`now`]) so what is returned equals
/// what is read back.
pub(crate) fn ts_to_db(ts: Timestamp) -> String {
    ts.strftime("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

pub(crate) fn ts_from_db(s: &str) -> anyhow::Result<Timestamp> {
    s.parse()
        .with_context(|| format!("{s:?} is not an RFC 3339 timestamp"))
}

/// The current instant at the precision the database keeps.
pub fn now() -> Timestamp {
    // Truncating cannot fail for the current instant; fall back to the full precision anyway.
    let now = Timestamp::now();
    now.round(Unit::Microsecond).unwrap_or(now)
}

/// A unit enum as its snake_case JSON string (`"awaiting_next_run"`), the form the API uses too.
fn enum_to_db<T: Serialize>(value: T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        other => unreachable!("not a unit enum: {other:?}"),
    }
}

fn enum_from_db<T: DeserializeOwned>(s: &str) -> anyhow::Result<T> {
    serde_json::from_value(serde_json::Value::String(s.to_owned()))
        .with_context(|| format!("unknown value {s:?}"))
}

fn json_to_db<T: Serialize>(value: Option<&T>) -> anyhow::Result<Option<String>> {
    value
        .map(serde_json::to_string)
        .transpose()
        .context("encoding a campaign step as JSON")
}

fn json_from_db<T: DeserializeOwned>(text: Option<&str>) -> anyhow::Result<Option<T>> {
    text.map(serde_json::from_str)
        .transpose()
        .context("decoding a campaign step from JSON")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_timestamps_sort_as_text_in_time_order() {
        let a: Timestamp = "2027-03-01T10:00:00Z".parse().unwrap();
        let b: Timestamp = "2027-03-01T10:00:00.5Z".parse().unwrap();
        let c: Timestamp = "2027-03-01T10:00:01Z".parse().unwrap();
        let (a, b, c) = (ts_to_db(a), ts_to_db(b), ts_to_db(c));
        assert_eq!(a, "2027-03-01T10:00:00.000000Z");
        assert!(a < b && b < c, "{a} {b} {c}");
        assert_eq!(
            ts_from_db(&b).unwrap(),
            "2027-03-01T10:00:00.5Z".parse::<Timestamp>().unwrap()
        );
    }

    #[test]
    fn search_wildcards_are_taken_literally() {
        assert_eq!(like_pattern("50%_Off\\"), "%50\\%\\_off\\\\%");
    }

    #[test]
    fn statuses_are_stored_as_their_api_names() {
        assert_eq!(
            enum_to_db(CampaignStatus::AwaitingNextRun),
            "awaiting_next_run"
        );
        assert_eq!(
            enum_from_db::<CampaignStatus>("needs_attention").unwrap(),
            CampaignStatus::NeedsAttention
        );
        assert!(enum_from_db::<CampaignStatus>("nope").is_err());
    }
}
