//! The `stats` job: fetches one campaign's stats from Facebook (`crate::stats`), queued by
//! [`schedule`] once per `STATS_REFRESH_SECS` for every published campaign.
//!
//! Each campaign has a `stats_schedules` row whose `next_at` is the instant its next fetch is
//! due. A due row is moved on to `now + period` by a compare-and-set update (`where next_at =
//! <the value read>`) in the transaction that queues the job: of two processes that read the
//! same row, only one update matches, so each period queues one job. The period runs from the
//! fetch that was queued, not from a fixed grid: missed periods (the server was down) collapse
//! into one fetch, and a campaign is never fetched twice within one period by the scheduler.
//!
//! A published campaign is first fetched one period after the scheduler sees it published (a
//! deploy does not fetch every campaign at once), then every period; and as soon as its first
//! audience sync succeeds ([`after_sync`]), which is when its ad set starts showing its audience,
//! so the stats page has figures right after it without "Refresh now". A campaign that is completed or stopped gets one
//! final fetch as soon as the scheduler sees it end, then keeps being refreshed every period for
//! 28 days after its end (Facebook revises the last 28 days), then no more. A campaign that was
//! already over when its schedule row was created (e.g. when this job was deployed) counts its
//! last update as its end, so a long-finished one is fetched once more only.

use jiff::{SignedDuration, Timestamp};
use serde::Deserialize;

use super::{JobClock, Outcome, queue};
use crate::{
    campaigns::repo::{ts_from_db, ts_to_db},
    db::with_pool,
    error::ApiError,
    jobs::queue::enqueue_in,
    state::AppState,
    stats::{self, FetchError, FetchOptions},
};

pub const JOB_KIND: &str = "stats";

/// How long an ended campaign's stats are still refreshed: the days Facebook may still revise.
pub const AFTER_END: SignedDuration = SignedDuration::from_hours(28 * 24);

#[derive(Deserialize)]
struct Payload {
    campaign_id: i64,
}

#[derive(sqlx::FromRow)]
struct Due {
    campaign_id: i64,
    next_at: String,
    ended_at: Option<String>,
}

/// Queues a `stats` job for every published campaign whose stats are due at `now`; returns how
/// many it queued (0 when another process got there first, or when `STATS_REFRESH_SECS` is 0).
pub async fn schedule(state: &AppState, now: Timestamp) -> anyhow::Result<usize> {
    let period = state.config.stats_refresh_secs;
    if period == 0 {
        return Ok(0);
    }
    let period = SignedDuration::from_secs(i64::try_from(period).unwrap_or(i64::MAX));
    let at = ts_to_db(now);
    let first = now.checked_add(period).ok().map(ts_to_db);
    let due: Vec<Due> = with_pool!(&state.db, pool => {
        // Campaigns without a schedule row yet, or seen ending: read first, so the usual tick
        // (every second per process) takes no write lock when there is nothing to record.
        let changed: i64 = sqlx::query_scalar(
            "select count(*) from campaigns c \
             left join stats_schedules s on s.campaign_id = c.id \
             where c.status <> 'draft' and c.target is not null and (s.campaign_id is null \
             or (s.ended_at is null and c.status in ('completed', 'stopped')))",
        )
        .fetch_one(pool)
        .await?;
        if changed > 0 {
            // New published campaigns are due a period from now. Both statements are
            // idempotent, so two processes running them together change nothing twice.
            sqlx::query(
                "insert into stats_schedules (campaign_id, next_at, ended_at) \
                 select id, $1, case when status in ('completed', 'stopped') then updated_at end \
                 from campaigns where status <> 'draft' and target is not null \
                 on conflict (campaign_id) do nothing",
            )
            .bind(&first)
            .execute(pool)
            .await?;
            // A campaign seen ending: its final fetch is due at once.
            sqlx::query(
                "update stats_schedules set ended_at = $1, next_at = $1 where ended_at is null \
                 and campaign_id in \
                 (select id from campaigns where status in ('completed', 'stopped'))",
            )
            .bind(&at)
            .execute(pool)
            .await?;
        }
        sqlx::query_as(
            "select campaign_id, next_at, ended_at from stats_schedules \
             where next_at is not null and next_at <= $1 order by next_at, campaign_id",
        )
        .bind(&at)
        .fetch_all(pool)
        .await?
    });
    let max_attempts = state.config.jobs.max_attempts;
    let mut queued = 0;
    for row in due {
        // Past the revision window of an ended campaign, this fetch is the last one (as it is
        // when the period reaches past the calendar).
        let ended = row.ended_at.as_deref().map(ts_from_db).transpose()?;
        let next = next_due(now, period, ended).map(ts_to_db);
        let payload = serde_json::json!({ "campaign_id": row.campaign_id }).to_string();
        let claimed = with_pool!(&state.db, pool => {
            let mut tx = pool.begin().await?;
            let moved = sqlx::query(
                "update stats_schedules set next_at = $1 where campaign_id = $2 and next_at = $3",
            )
            .bind(&next)
            .bind(row.campaign_id)
            .bind(&row.next_at)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if moved == 1 {
                enqueue_in!(tx, JOB_KIND, &payload, max_attempts, now)?;
                tx.commit().await?;
            }
            moved == 1
        });
        if claimed {
            tracing::debug!(campaign = row.campaign_id, "queued a stats fetch");
            queued += 1;
        }
    }
    Ok(queued)
}

/// Called when a sync run of campaign `campaign_id` succeeded at `now`: after the campaign's
/// first successful sync (dry runs aside), queues a `stats` fetch due at once, unless one is
/// already waiting. The periodic schedule is unchanged. `STATS_REFRESH_SECS=0` turns this off
/// too (only "Refresh now" reads Facebook then). Returns whether it queued one.
pub async fn after_sync(
    state: &AppState,
    campaign_id: i64,
    now: Timestamp,
) -> anyhow::Result<bool> {
    if state.config.stats_refresh_secs == 0 {
        return Ok(false);
    }
    let payload = serde_json::json!({ "campaign_id": campaign_id }).to_string();
    let max_attempts = state.config.jobs.max_attempts;
    let queued = with_pool!(&state.db, pool => {
        let mut tx = pool.begin().await?;
        let (synced, waiting): (i64, i64) = sqlx::query_as(
            "select (select count(*) from sync_runs where campaign_id = $1 \
             and state = 'succeeded' and trigger <> 'dry_run'), \
             (select count(*) from jobs where kind = $2 and payload = $3 \
             and state in ('queued', 'running'))",
        )
        .bind(campaign_id)
        .bind(JOB_KIND)
        .bind(&payload)
        .fetch_one(&mut *tx)
        .await?;
        let queue = synced == 1 && waiting == 0;
        if queue {
            enqueue_in!(tx, JOB_KIND, &payload, max_attempts, now)?;
            tx.commit().await?;
        }
        queue
    });
    if queued {
        tracing::debug!(
            campaign = campaign_id,
            "first sync done; queued a stats fetch"
        );
    }
    Ok(queued)
}

/// When the fetch after one made at `now` is due: a period later, or never once that is past the
/// revision window of a campaign that ended at `ended` (or past the calendar).
fn next_due(now: Timestamp, period: SignedDuration, ended: Option<Timestamp>) -> Option<Timestamp> {
    match (now.checked_add(period).ok(), ended) {
        (Some(next), Some(end)) if end.checked_add(AFTER_END).unwrap_or(end) < next => None,
        (next, _) => next,
    }
}

/// A fetch made outside the schedule ("Refresh now") at `now` counts as the period's fetch: the
/// campaign's next scheduled fetch moves to one period after it. Never brought forward, and a
/// campaign with no fetch due (none scheduled yet, or past its revision window) is left alone.
/// The update is a compare-and-set on the `next_at` read, like [`schedule`]'s: if the scheduler
/// claimed the row meanwhile, its (queued) fetch stands and nothing is moved.
pub async fn fetched_manually(
    state: &AppState,
    campaign_id: i64,
    now: Timestamp,
) -> anyhow::Result<()> {
    let period = state.config.stats_refresh_secs;
    if period == 0 {
        return Ok(());
    }
    let period = SignedDuration::from_secs(i64::try_from(period).unwrap_or(i64::MAX));
    let row: Option<(Option<String>, Option<String>)> = with_pool!(&state.db, pool => {
        sqlx::query_as("select next_at, ended_at from stats_schedules where campaign_id = $1")
            .bind(campaign_id)
            .fetch_optional(pool)
            .await?
    });
    let Some((Some(current), ended)) = row else {
        return Ok(());
    };
    let ended = ended.as_deref().map(ts_from_db).transpose()?;
    let next = next_due(now, period, ended).map(ts_to_db);
    if next.as_deref().is_some_and(|n| n <= current.as_str()) {
        return Ok(());
    }
    let moved = with_pool!(&state.db, pool => {
        sqlx::query("update stats_schedules set next_at = $1 where campaign_id = $2 and next_at = $3")
            .bind(&next)
            .bind(campaign_id)
            .bind(&current)
            .execute(pool)
            .await?
            .rows_affected()
    });
    if moved == 1 {
        tracing::debug!(campaign = campaign_id, next_at = ?next, "refreshed by hand; next stats fetch moved");
    }
    Ok(())
}

/// Runs the `stats` job `job`. The lease is renewed while Facebook is read (an asynchronous
/// report can take minutes), so no other worker starts the same fetch meanwhile.
pub async fn run_job(state: &AppState, job: &queue::Job, clock: JobClock) -> Outcome {
    let campaign_id = match serde_json::from_str::<Payload>(&job.payload) {
        Ok(p) => p.campaign_id,
        Err(err) => {
            tracing::error!(job = job.id, %err, "a stats job without a campaign id; dropped");
            return Outcome::Done;
        }
    };
    let options = FetchOptions {
        retry: state.config.facebook.retry.clone(),
        ..FetchOptions::default()
    };
    let fetch = stats::fetch_and_store(state, campaign_id, &options);
    tokio::pin!(fetch);
    let lease = state.config.jobs.lease;
    let mut renewals = tokio::time::interval(lease / 3);
    // The first tick is immediate; the job was just claimed.
    renewals.tick().await;
    let result = loop {
        tokio::select! {
            result = &mut fetch => break result,
            _ = renewals.tick() => {
                match queue::renew(&state.db, job.id, &state.jobs.owner, clock.now(), lease).await {
                    Ok(true) => {}
                    Ok(false) => return Outcome::Abandoned,
                    Err(err) => tracing::warn!(job = job.id, error = %err, "renewing a stats lease"),
                }
            }
        }
    };
    match result {
        Ok(done) => {
            tracing::info!(campaign = campaign_id, rows = done.rows, "stats fetched");
            Outcome::Done
        }
        // Throttling and outages: the queue tries again later, never before Facebook's own
        // estimate of when access returns. The stored stats stay as they were.
        Err(FetchError::Facebook(err)) if err.is_retryable() => Outcome::Retry {
            error: err.to_string(),
            at_least: err.retry_after,
        },
        // An expired token or a removed ad set does not mend by retrying; the failure is on the
        // stats page, and the next period tries again.
        Err(FetchError::Facebook(err)) => {
            tracing::warn!(campaign = campaign_id, error = %err, "stats fetch refused");
            Outcome::Done
        }
        // The campaign was deleted, has no ad set, or no token is configured: retrying cannot
        // help; the next period looks again.
        Err(FetchError::Api(
            err @ (ApiError::NotFound(_) | ApiError::Conflict(_) | ApiError::BadRequest(_)),
        )) => {
            tracing::debug!(campaign = campaign_id, error = %err, "no stats to fetch");
            Outcome::Done
        }
        Err(FetchError::Api(err)) => Outcome::Retry {
            error: err.to_string(),
            at_least: None,
        },
    }
}
