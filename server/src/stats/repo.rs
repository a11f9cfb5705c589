//! Stats rows and fetch records: SQL only, portable between SQLite and PostgreSQL.

use anyhow::Context;
use jiff::{Timestamp, civil::Date};
use shared::stats::{AdDay, RangeReach};

use super::Fetched;
use crate::{
    campaigns::repo::{ts_from_db, ts_to_db},
    db::{Db, with_pool},
    error::ApiResult,
};

/// The last fetch of a campaign's stats.
#[derive(Debug, Clone)]
pub struct FetchRecord {
    pub ad_set_id: String,
    pub currency: Option<String>,
    pub time_zone: Option<String>,
    /// The first day of the last complete fetch (the ad set's first day).
    pub since_day: Option<Date>,
    pub until_day: Option<Date>,
    pub last_success_at: Option<Timestamp>,
    pub last_error: Option<String>,
}

#[derive(sqlx::FromRow)]
struct FetchRow {
    ad_set_id: String,
    currency: Option<String>,
    time_zone: Option<String>,
    since_day: Option<String>,
    until_day: Option<String>,
    last_success_at: Option<String>,
    last_error: Option<String>,
}

#[derive(sqlx::FromRow)]
struct StatRow {
    ad_id: String,
    ad_name: String,
    day: String,
    impressions: i64,
    reach: i64,
    clicks: i64,
    spend_minor: i64,
}

#[derive(sqlx::FromRow)]
struct ReachRow {
    ad_id: String,
    since_day: String,
    until_day: String,
    reach: i64,
}

fn day_from_db(s: &str) -> anyhow::Result<Date> {
    s.parse().with_context(|| format!("{s:?} is not a date"))
}

pub async fn fetch_record(db: &Db, campaign_id: i64) -> ApiResult<Option<FetchRecord>> {
    let row: Option<FetchRow> = with_pool!(db, pool => {
        sqlx::query_as(
            "select ad_set_id, currency, time_zone, since_day, until_day, last_success_at, \
             last_error from campaign_stats_fetches where campaign_id = $1",
        )
        .bind(campaign_id)
        .fetch_optional(pool)
        .await?
    });
    let Some(r) = row else { return Ok(None) };
    Ok(Some(FetchRecord {
        ad_set_id: r.ad_set_id,
        currency: r.currency,
        time_zone: r.time_zone,
        since_day: r.since_day.as_deref().map(day_from_db).transpose()?,
        until_day: r.until_day.as_deref().map(day_from_db).transpose()?,
        last_success_at: r.last_success_at.as_deref().map(ts_from_db).transpose()?,
        last_error: r.last_error,
    }))
}

/// Replaces the stored rows of the fetched days (all rows when the fetch was complete) and
/// records the success, in one transaction: readers see the old figures or the new ones.
pub async fn store(
    db: &Db,
    campaign_id: i64,
    ad_set_id: &str,
    fetched: &Fetched,
    at: Timestamp,
) -> ApiResult<()> {
    let at = ts_to_db(at);
    let since = fetched.since.to_string();
    let until = fetched.until.to_string();
    with_pool!(db, pool => {
        let mut tx = pool.begin().await?;
        // Days Facebook no longer reports (an ad deleted, a day revised to nothing) disappear too.
        sqlx::query(
            "delete from campaign_stats where campaign_id = $1 \
             and ($2 or (day >= $3 and day <= $4))",
        )
        .bind(campaign_id)
        .bind(fetched.complete)
        .bind(&since)
        .bind(&until)
        .execute(&mut *tx)
        .await?;
        for r in &fetched.rows {
            sqlx::query(
                "insert into campaign_stats (campaign_id, ad_id, day, ad_name, impressions, clicks, \
                 spend_minor, currency, fetched_at, reach) \
                 values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
                 on conflict (campaign_id, ad_id, day) do update set ad_name = excluded.ad_name, \
                 impressions = excluded.impressions, clicks = excluded.clicks, \
                 reach = excluded.reach, \
                 spend_minor = excluded.spend_minor, currency = excluded.currency, \
                 fetched_at = excluded.fetched_at",
            )
            .bind(campaign_id)
            .bind(&r.ad_id)
            .bind(r.day.to_string())
            .bind(&r.ad_name)
            .bind(i64::try_from(r.impressions).unwrap_or(i64::MAX))
            .bind(i64::try_from(r.clicks).unwrap_or(i64::MAX))
            .bind(r.spend_minor)
            .bind(&fetched.currency)
            .bind(&at)
            .bind(i64::try_from(r.reach).unwrap_or(i64::MAX))
            .execute(&mut *tx)
            .await?;
        }
        // The ranges move with today, so the previous ones go; the ad set's days are replaced
        // like the ads' rows.
        sqlx::query(
            "delete from campaign_stats_reach where campaign_id = $1 \
             and ($2 or since_day <> until_day or (since_day >= $3 and since_day <= $4))",
        )
        .bind(campaign_id)
        .bind(fetched.complete)
        .bind(&since)
        .bind(&until)
        .execute(&mut *tx)
        .await?;
        for r in &fetched.reach {
            sqlx::query(
                "insert into campaign_stats_reach (campaign_id, ad_id, since_day, until_day, \
                 reach, fetched_at) values ($1, $2, $3, $4, $5, $6) \
                 on conflict (campaign_id, ad_id, since_day, until_day) do update set \
                 reach = excluded.reach, fetched_at = excluded.fetched_at",
            )
            .bind(campaign_id)
            .bind(r.ad_id.as_deref().unwrap_or_default())
            .bind(r.since.to_string())
            .bind(r.until.to_string())
            .bind(i64::try_from(r.reach).unwrap_or(i64::MAX))
            .bind(&at)
            .execute(&mut *tx)
            .await?;
        }
        // A partial fetch keeps the first day of the complete one.
        sqlx::query(
            "insert into campaign_stats_fetches (campaign_id, ad_set_id, currency, time_zone, \
             since_day, until_day, last_success_at, last_attempt_at, last_error) \
             values ($1, $2, $3, $4, $5, $6, $7, $7, null) \
             on conflict (campaign_id) do update set ad_set_id = excluded.ad_set_id, \
             currency = excluded.currency, time_zone = excluded.time_zone, \
             since_day = case when $8 then excluded.since_day else campaign_stats_fetches.since_day end, \
             until_day = excluded.until_day, last_success_at = excluded.last_success_at, \
             last_attempt_at = excluded.last_attempt_at, last_error = null",
        )
        .bind(campaign_id)
        .bind(ad_set_id)
        .bind(&fetched.currency)
        .bind(&fetched.time_zone)
        .bind(&since)
        .bind(&until)
        .bind(&at)
        .bind(fetched.complete)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
    });
    Ok(())
}

/// Records a failed fetch; the rows and the last success stay as they were.
pub async fn record_failure(
    db: &Db,
    campaign_id: i64,
    ad_set_id: &str,
    message: &str,
    at: Timestamp,
) -> ApiResult<()> {
    let at = ts_to_db(at);
    with_pool!(db, pool => {
        sqlx::query(
            "insert into campaign_stats_fetches (campaign_id, ad_set_id, last_attempt_at, last_error) \
             values ($1, $2, $3, $4) \
             on conflict (campaign_id) do update set last_attempt_at = excluded.last_attempt_at, \
             last_error = excluded.last_error",
        )
        .bind(campaign_id)
        .bind(ad_set_id)
        .bind(&at)
        .bind(message)
        .execute(pool)
        .await?;
    });
    Ok(())
}

/// Stored rows of the campaign, optionally within `[from, to]`.
pub async fn rows(
    db: &Db,
    campaign_id: i64,
    from: Option<Date>,
    to: Option<Date>,
) -> ApiResult<Vec<AdDay>> {
    let from = from.map(|d| d.to_string());
    let to = to.map(|d| d.to_string());
    let rows: Vec<StatRow> = with_pool!(db, pool => {
        sqlx::query_as(
            "select ad_id, ad_name, day, impressions, reach, clicks, spend_minor from campaign_stats \
             where campaign_id = $1 and ($2 is null or day >= $2) and ($3 is null or day <= $3) \
             order by day, ad_id",
        )
        .bind(campaign_id)
        .bind(&from)
        .bind(&to)
        .fetch_all(pool)
        .await?
    });
    rows.into_iter()
        .map(|r| {
            Ok(AdDay {
                day: day_from_db(&r.day)?,
                ad_id: r.ad_id,
                ad_name: r.ad_name,
                impressions: u64::try_from(r.impressions).unwrap_or_default(),
                reach: u64::try_from(r.reach).unwrap_or_default(),
                clicks: u64::try_from(r.clicks).unwrap_or_default(),
                spend_minor: r.spend_minor,
            })
        })
        .collect()
}

/// The first and last day with stats.
pub async fn day_extent(db: &Db, campaign_id: i64) -> ApiResult<(Option<Date>, Option<Date>)> {
    let (first, last): (Option<String>, Option<String>) = with_pool!(db, pool => {
        sqlx::query_as("select min(day), max(day) from campaign_stats where campaign_id = $1")
            .bind(campaign_id)
            .fetch_one(pool)
            .await?
    });
    Ok((
        first.as_deref().map(day_from_db).transpose()?,
        last.as_deref().map(day_from_db).transpose()?,
    ))
}

/// The stored reach figures that can answer a query over `[from, to]`: the ad set's days within
/// it, and every range (of the ad set or of an ad).
pub async fn reach(
    db: &Db,
    campaign_id: i64,
    from: Option<Date>,
    to: Option<Date>,
) -> ApiResult<Vec<RangeReach>> {
    let from = from.map(|d| d.to_string());
    let to = to.map(|d| d.to_string());
    let rows: Vec<ReachRow> = with_pool!(db, pool => {
        sqlx::query_as(
            "select ad_id, since_day, until_day, reach from campaign_stats_reach \
             where campaign_id = $1 and (since_day <> until_day or \
             (($2 is null or since_day >= $2) and ($3 is null or since_day <= $3))) \
             order by since_day, until_day, ad_id",
        )
        .bind(campaign_id)
        .bind(&from)
        .bind(&to)
        .fetch_all(pool)
        .await?
    });
    rows.into_iter()
        .map(|r| {
            Ok(RangeReach {
                ad_id: Some(r.ad_id).filter(|a| !a.is_empty()),
                since: day_from_db(&r.since_day)?,
                until: day_from_db(&r.until_day)?,
                reach: u64::try_from(r.reach).unwrap_or_default(),
            })
        })
        .collect()
}

/// When the campaign's first successful audience sync finished (dry runs aside).
pub async fn first_sync_at(db: &Db, campaign_id: i64) -> ApiResult<Option<Timestamp>> {
    let first: Option<String> = with_pool!(db, pool => {
        sqlx::query_scalar(
            "select min(finished_at) from sync_runs where campaign_id = $1 \
             and state = 'succeeded' and trigger <> 'dry_run'",
        )
        .bind(campaign_id)
        .fetch_one(pool)
        .await?
    });
    Ok(first.as_deref().map(ts_from_db).transpose()?)
}

/// Whether any reach figure is stored for the campaign.
pub async fn has_reach(db: &Db, campaign_id: i64) -> ApiResult<bool> {
    // count(*) is a bigint on both backends (a bare `1` would be a PostgreSQL int4).
    let found: i64 = with_pool!(db, pool => {
        sqlx::query_scalar("select count(*) from campaign_stats_reach where campaign_id = $1")
            .bind(campaign_id)
            .fetch_one(pool)
            .await?
    });
    Ok(found > 0)
}
