//! Campaign stats from Facebook: [`fetch_campaign_stats`] reads the insights of the campaign's ad
//! set (one row per ad per day, in the ad account's time zone) and stores them; [`read_stats`]
//! answers the stats page from what is stored; [`share`] holds the public read-only links.
//!
//! Reach is people, not impressions, so it never adds up: the fetch also asks Facebook for the
//! reach of whole ranges (`time_ranges` with `time_increment=all_days`, per ad set and per ad)
//! and for the ad set's reach per day (`level=adset`), and the stats page shows those figures
//! rather than sums (see `docs/domain.md`, "Campaign stats").
//!
//! The fetch is a plain async function: "Refresh now" awaits it, and the durable `stats` job
//! (`crate::jobs::stats`) runs it once per `STATS_REFRESH_SECS` for every published campaign.

pub mod conversions;
pub mod holdout;
pub mod repo;
pub mod share;

use std::time::Duration;

use jiff::{Timestamp, ToSpan, civil::Date, tz::TimeZone};
use shared::{
    campaign::Campaign,
    stats::{
        AdDay, CampaignStats, ConversionStats, RangeReach, ReachFigures, StatsQuery, StatsRefresh,
        parse_money, summarize,
    },
};

use crate::{
    campaigns,
    db::Db,
    error::{ApiError, ApiResult},
    facebook::{
        ErrorKind, FacebookError, GraphClient,
        client::RetryPolicy,
        reports::{AdInsightsQuery, Level, ReportPolling},
    },
    state::AppState,
};

/// Facebook keeps insights for 37 months; older days cannot be asked for.
const RETENTION_MONTHS: i32 = 37;
/// Facebook revises the figures of the last 28 days, so every re-fetch reads them again.
const REVISION_DAYS: i32 = 28;

/// How a fetch talks to Facebook. The defaults suit production; tests shrink the pages and the
/// waits to exercise paging and asynchronous reports quickly.
#[derive(Debug, Clone)]
pub struct FetchOptions {
    /// Rows per insights page.
    pub page_size: usize,
    /// Ranges longer than this many days are read through an asynchronous report run (Graph
    /// times out or refuses large synchronous insights queries).
    pub async_above_days: i32,
    pub polling: ReportPolling,
    pub retry: RetryPolicy,
}

impl Default for FetchOptions {
    fn default() -> Self {
        Self {
            page_size: 500,
            async_above_days: 90,
            polling: ReportPolling::default(),
            retry: RetryPolicy::default(),
        }
    }
}

/// Fetches the stats of campaign `campaign_id` from Facebook with the default options.
pub async fn fetch_campaign_stats(state: &AppState, campaign_id: i64) -> ApiResult<StatsRefresh> {
    fetch_campaign_stats_with(state, campaign_id, &FetchOptions::default()).await
}

/// Reads the insights of the campaign's ad set at ad level, one row per ad per day, over the
/// campaign's lifetime (from the ad set's start, at most 37 months back, to today in the ad
/// account's time zone) and replaces the stored rows of the days read. After a first complete
/// fetch only the last 28 days (and any days missed since the last fetch) are read again.
///
/// A failed fetch keeps the rows already stored and records why it failed.
pub async fn fetch_campaign_stats_with(
    state: &AppState,
    campaign_id: i64,
    options: &FetchOptions,
) -> ApiResult<StatsRefresh> {
    fetch_and_store(state, campaign_id, options)
        .await
        .map_err(|err| match err {
            FetchError::Facebook(err) => to_api(&err, describe(&err)),
            FetchError::Api(err) => err,
        })
}

/// Why a fetch failed. Facebook's error is kept whole so the `stats` job can wait as long as
/// Facebook asks before trying again.
#[derive(Debug)]
pub enum FetchError {
    /// Facebook refused or failed; the failure is already recorded on the campaign.
    Facebook(FacebookError),
    /// No such campaign, no ad set to read, no token, or the database failed.
    Api(ApiError),
}

impl From<ApiError> for FetchError {
    fn from(err: ApiError) -> Self {
        Self::Api(err)
    }
}

/// [`fetch_campaign_stats_with`] with Facebook's error kept whole.
pub async fn fetch_and_store(
    state: &AppState,
    campaign_id: i64,
    options: &FetchOptions,
) -> Result<StatsRefresh, FetchError> {
    let campaign = campaigns::get(&state.db, campaign_id).await?;
    let Some(target) = campaign
        .target
        .clone()
        .filter(|t| !t.ad_set_id.is_empty() && !t.ad_account_id.is_empty())
    else {
        return Err(ApiError::Conflict(
            "This campaign has no Facebook ad set yet; choose one in the What step first.".into(),
        )
        .into());
    };
    // Another process may have changed the connection on the Settings page since this one last
    // looked (one primary-key read when nothing changed).
    state.refresh_facebook().await?;
    let client = graph_client(state)?.with_policy(options.retry.clone());
    let attempt_at = campaigns::now();
    let mut previous = repo::fetch_record(&state.db, campaign_id).await?;
    // Stats stored before reach was fetched (migration 0011) have none: read them all once more
    // rather than only the last 28 days.
    if previous.is_some() && !repo::has_reach(&state.db, campaign_id).await? {
        previous = None;
    }
    let first_sync = repo::first_sync_at(&state.db, campaign_id).await?;
    let result = fetch(
        &client,
        &campaign,
        &target.ad_account_id,
        &target.ad_set_id,
        previous.as_ref(),
        first_sync,
        options,
    )
    .await;
    match result {
        Ok(fetched) => {
            let rows = fetched.rows.len() as u64;
            repo::store(
                &state.db,
                campaign_id,
                &target.ad_set_id,
                &fetched,
                attempt_at,
            )
            .await?;
            Ok(StatsRefresh {
                rows,
                since: fetched.since,
                until: fetched.until,
                last_updated: attempt_at,
            })
        }
        Err(err) => {
            repo::record_failure(
                &state.db,
                campaign_id,
                &target.ad_set_id,
                &describe(&err),
                attempt_at,
            )
            .await?;
            Err(FetchError::Facebook(err))
        }
    }
}

/// What one fetch read.
pub struct Fetched {
    pub currency: String,
    pub time_zone: String,
    pub since: Date,
    pub until: Date,
    pub rows: Vec<AdDay>,
    /// The reach of the ad set on each fetched day, and of the ad set and of each ad over the
    /// stats page's preset ranges (each replaces the stored ranges: they move with today).
    pub reach: Vec<RangeReach>,
    /// Whether the rows replace every stored row (the ad set changed, or nothing was stored).
    pub complete: bool,
}

/// The ranges whose reach a fetch asks for: those of the stats page's presets (since the first
/// sync, last 7 and 30 days, lifetime), as the page resolves them: ending today and starting no
/// earlier than the ad set's first day.
fn preset_ranges(first: Date, today: Date, first_sync: Option<Date>) -> Vec<(Date, Date)> {
    let mut ranges = vec![(first, today)];
    let starts = [first_sync, Some(today - 6.days()), Some(today - 29.days())];
    for start in starts.into_iter().flatten() {
        let range = (start.max(first), today);
        if range.0 <= range.1 && !ranges.contains(&range) {
            ranges.push(range);
        }
    }
    ranges
}

async fn fetch(
    client: &GraphClient,
    campaign: &Campaign,
    account_id: &str,
    ad_set_id: &str,
    previous: Option<&repo::FetchRecord>,
    first_sync: Option<Timestamp>,
    options: &FetchOptions,
) -> Result<Fetched, FacebookError> {
    let account = client.ad_account(account_id).await?;
    let tz = TimeZone::get(&account.timezone_name).unwrap_or(TimeZone::UTC);
    let today = Timestamp::now().to_zoned(tz.clone()).date();
    let start = match client.ad_set_start_time(ad_set_id).await? {
        Some(raw) => parse_graph_time(&raw).map(|ts| ts.to_zoned(tz.clone()).date()),
        None => None,
    };
    let start = start.unwrap_or_else(|| {
        campaign
            .published_at
            .unwrap_or(campaign.created_at)
            .to_zoned(tz.clone())
            .date()
    });
    let oldest = today
        .checked_sub(RETENTION_MONTHS.months())
        .unwrap_or(today);
    let lifetime_since = start.max(oldest);
    // Same ad set and a previous success: read the days Facebook may still revise, and any
    // days after the last fetch.
    let resume = previous.filter(|p| p.ad_set_id == ad_set_id && p.last_success_at.is_some());
    let complete = resume.is_none();
    let since = match resume.and_then(|p| p.until_day) {
        Some(until) => lifetime_since.max(until.min(today - (REVISION_DAYS - 1).days())),
        None => lifetime_since,
    };
    let until = today;
    let mut fetched = Fetched {
        currency: account.currency.clone(),
        time_zone: account.timezone_name.clone(),
        since,
        until,
        rows: Vec::new(),
        reach: Vec::new(),
        complete,
    };
    if since > until {
        return Ok(fetched);
    }
    let query = AdInsightsQuery {
        since,
        until,
        page_size: options.page_size,
    };
    let long = (until - since).get_days() > options.async_above_days;
    // The ads' days and the ad set's daily reach are two reports (asynchronous ones for long
    // ranges, each polled): read them together rather than one wait after the other.
    let ads = async {
        if long {
            client
                .ad_insights_async(ad_set_id, &query, options.polling)
                .await
        } else {
            client.ad_insights(ad_set_id, &query).await
        }
    };
    let set_days = client.ad_set_daily_reach(ad_set_id, &query, long.then_some(options.polling));
    let (raw, set_days) = tokio::try_join!(ads, set_days)?;
    let day_of = |raw: &str| -> Result<Date, FacebookError> {
        raw.parse()
            .map_err(|_| FacebookError::invalid(format!("insights row with a bad date {raw:?}")))
    };
    for r in set_days {
        let day = day_of(&r.date_start)?;
        fetched.reach.push(RangeReach {
            ad_id: None,
            since: day,
            until: day,
            reach: r.reach,
        });
    }
    let ranges = preset_ranges(
        lifetime_since,
        today,
        first_sync.map(|t| t.to_zoned(tz.clone()).date()),
    );
    for level in [Level::AdSet, Level::Ad] {
        for r in client.range_reach(ad_set_id, level, &ranges).await? {
            fetched.reach.push(RangeReach {
                ad_id: match level {
                    Level::Ad => r.ad_id,
                    Level::AdSet => None,
                },
                since: day_of(&r.date_start)?,
                until: day_of(&r.date_stop)?,
                reach: r.reach,
            });
        }
    }
    for r in raw {
        let currency = r.account_currency.as_deref().unwrap_or(&account.currency);
        let day: Date = r.date_start.parse().map_err(|_| {
            FacebookError::invalid(format!("insights row with a bad date {:?}", r.date_start))
        })?;
        let spend_minor = parse_money(&r.spend, currency).ok_or_else(|| {
            FacebookError::invalid(format!("insights row with a bad spend {:?}", r.spend))
        })?;
        fetched.rows.push(AdDay {
            ad_name: r.ad_name.unwrap_or_else(|| format!("Ad {}", r.ad_id)),
            ad_id: r.ad_id,
            day,
            impressions: r.impressions,
            reach: r.reach,
            clicks: r.clicks,
            spend_minor,
        });
    }
    Ok(fetched)
}

/// Graph's times look like `2026-09-01T10:00:00+0000` (no colon in the offset).
fn parse_graph_time(raw: &str) -> Option<Timestamp> {
    raw.parse().ok().or_else(|| {
        jiff::fmt::strtime::parse("%Y-%m-%dT%H:%M:%S%z", raw)
            .ok()?
            .to_timestamp()
            .ok()
    })
}

/// The stats page's data for campaign `campaign_id` under `query`, from what is stored, with
/// the conversion goal's figures ([`conversions`]) when the campaign has one.
pub async fn read_stats(db: &Db, campaign_id: i64, query: StatsQuery) -> ApiResult<CampaignStats> {
    let campaign = campaigns::get(db, campaign_id).await?;
    let record = repo::fetch_record(db, campaign_id).await?;
    let (first_day, last_day) = repo::day_extent(db, campaign_id).await?;
    let first_sync_day = first_sync_day(db, campaign_id, record.as_ref(), &campaign).await?;
    let query = resolve(query, first_sync_day);
    let rows = repo::rows(db, campaign_id, query.from, query.to).await?;
    let reach = ReachFigures {
        extent: record.as_ref().and_then(|r| r.since_day.zip(r.until_day)),
        ranges: repo::reach(db, campaign_id, query.from, query.to).await?,
    };
    let (totals, daily, ads) = summarize(&rows, &query, &reach);
    let conversions = match &campaign.conversion_goal {
        Some(goal) => {
            // Days are the ad account's, as the insights' are; before the first fetch the
            // schedule's zone is the best guess.
            let zone = record
                .as_ref()
                .and_then(|r| r.time_zone.clone())
                .or_else(|| campaign.schedule.as_ref().map(|s| s.time_zone.clone()));
            let tz = zone
                .and_then(|z| TimeZone::get(&z).ok())
                .unwrap_or(TimeZone::UTC);
            let daily = conversions::per_day(db, campaign_id, &goal.event, &tz, &query).await?;
            Some(ConversionStats::new(
                goal.event.clone(),
                daily,
                totals.spend_minor,
            ))
        }
        None => None,
    };
    Ok(CampaignStats {
        conversions,
        campaign_name: campaign.name,
        currency: record.as_ref().and_then(|r| r.currency.clone()),
        time_zone: record.as_ref().and_then(|r| r.time_zone.clone()),
        query,
        first_day,
        last_day,
        first_sync_day,
        totals,
        daily,
        ads,
        sync: shared::sync::sync_figures(
            crate::sync::repo::latest_succeeded(db, campaign_id)
                .await?
                .as_ref(),
        ),
        last_updated: record.as_ref().and_then(|r| r.last_success_at),
        last_error: record.and_then(|r| r.last_error),
    })
}

/// The per-day, per-ad rows as CSV, over the same range as the page.
pub async fn stats_csv(db: &Db, campaign_id: i64, query: &StatsQuery) -> ApiResult<String> {
    let campaign = campaigns::get(db, campaign_id).await?;
    let record = repo::fetch_record(db, campaign_id).await?;
    let first_sync_day = first_sync_day(db, campaign_id, record.as_ref(), &campaign).await?;
    let query = resolve(query.clone(), first_sync_day);
    let currency = record.and_then(|r| r.currency).unwrap_or_default();
    let rows = repo::rows(db, campaign_id, query.from, query.to).await?;
    Ok(shared::stats::to_csv(&rows, &query, &currency))
}

/// The day of the campaign's first successful sync in the ad account's time zone (the
/// schedule's before the first fetch names it).
async fn first_sync_day(
    db: &Db,
    campaign_id: i64,
    record: Option<&repo::FetchRecord>,
    campaign: &Campaign,
) -> ApiResult<Option<Date>> {
    let Some(at) = repo::first_sync_at(db, campaign_id).await? else {
        return Ok(None);
    };
    let zone = record
        .and_then(|r| r.time_zone.clone())
        .or_else(|| campaign.schedule.as_ref().map(|s| s.time_zone.clone()));
    let tz = zone
        .and_then(|z| TimeZone::get(&z).ok())
        .unwrap_or(TimeZone::UTC);
    Ok(Some(at.to_zoned(tz).date()))
}

/// The query with its default start filled in: without `from` (and not asked for the lifetime),
/// the range starts on the day of the campaign's first sync; the ad set's earlier days are the
/// lifetime's, one click away.
fn resolve(mut query: StatsQuery, first_sync_day: Option<Date>) -> StatsQuery {
    if query.from.is_none() && !query.lifetime {
        query.from = first_sync_day.filter(|d| query.to.is_none_or(|t| *d <= t));
    }
    query
}

/// The Graph API client for the configured Facebook backend.
fn graph_client(state: &AppState) -> ApiResult<GraphClient> {
    // The connection saved on the Settings page, else the environment's.
    let fb = &state.facebook_settings().apply_to(&state.config.facebook);
    let addr = fb.server_addr.ok_or_else(|| {
        ApiError::Unavailable("The server's own address is not known yet.".into())
    })?;
    let token = fb.access_token.clone().ok_or_else(|| {
        ApiError::BadRequest(
            "No Facebook access token is configured (FACEBOOK_ACCESS_TOKEN).".into(),
        )
    })?;
    Ok(GraphClient::new(
        fb.graph_base(addr),
        token,
        fb.app_secret.as_deref(),
    ))
}

/// A sentence for the stats page and the log.
fn describe(err: &FacebookError) -> String {
    let wait = err
        .retry_after
        .map(|d| format!(" Facebook asks to wait {} before calling again.", human(d)))
        .unwrap_or_default();
    format!("Facebook: {} {}{wait}", err.message, err.advice())
}

fn human(d: Duration) -> String {
    let secs = d.as_secs();
    if secs >= 120 {
        format!("{} minutes", secs.div_ceil(60))
    } else {
        format!("{secs} seconds")
    }
}

fn to_api(err: &FacebookError, message: String) -> ApiError {
    match err.kind {
        ErrorKind::Retryable | ErrorKind::Unexpected => ApiError::Unavailable(message),
        ErrorKind::NeedsReauth | ErrorKind::Permission | ErrorKind::Invalid => {
            ApiError::BadRequest(message)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn graph_times_without_an_offset_colon_parse() {
        let ts = parse_graph_time("2026-09-01T10:00:00+0000").unwrap();
        assert_eq!(ts.to_string(), "2026-09-01T10:00:00Z");
    }
}
