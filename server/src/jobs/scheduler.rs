//! The scheduler: turns each published campaign's schedule into runs.
//!
//! The schedule math is `shared::schedule` (run numbers, instants); this module only decides
//! which slots are due. A campaign's `next_run_at` (kept by `crate::campaigns` on publish, edit
//! and resume) is the first slot not yet recorded. When it has passed, the latest due slot is
//! recorded as a run and a sync job is queued in the same transaction; the unique
//! `(campaign_id, slot)` index makes a second process's identical attempt a no-op, so each slot
//! runs once. Slots missed while the server was down collapse into one run, marked late.

use jiff::{SignedDuration, Timestamp};
use shared::schedule::{next_run_after, upcoming_runs};

use crate::{
    campaigns::repo::{self, ts_to_db},
    db::{Db, with_pool},
    jobs::queue::enqueue_in,
    state::AppState,
    sync,
};

/// A run recorded more than this after its slot is marked late.
pub const LATE_AFTER: SignedDuration = SignedDuration::from_mins(2);

/// Most slots looked at for one campaign in one tick (a long outage of an hourly schedule).
const MAX_DUE: usize = 10_000;

/// Records the due slot of every campaign whose next run has come; returns how many runs it
/// recorded (0 when another process got there first).
pub async fn tick(state: &AppState, now: Timestamp) -> anyhow::Result<usize> {
    let due: Vec<i64> = with_pool!(&state.db, pool => sqlx::query_scalar(
        "select id from campaigns where status in ('scheduled', 'awaiting_next_run') \
         and next_run_at is not null and next_run_at <= $1 order by next_run_at",
    )
    .bind(ts_to_db(now))
    .fetch_all(pool)
    .await?);
    let mut recorded = 0;
    for id in due {
        if schedule_one(state, id, now).await? {
            recorded += 1;
        }
    }
    Ok(recorded)
}

async fn schedule_one(state: &AppState, id: i64, now: Timestamp) -> anyhow::Result<bool> {
    let Some(stored) = repo::find(&state.db, id).await? else {
        return Ok(false);
    };
    let c = &stored.campaign;
    let (Some(schedule), Some(published_at), Some(next)) =
        (&c.schedule, c.published_at, c.next_run_at)
    else {
        return Ok(false);
    };
    if !c.status.may_run() || next > now {
        return Ok(false);
    }
    // Every slot from the recorded next run up to now; runs keep their numbers from `shared`.
    let just_before = next - SignedDuration::from_nanos(1);
    let due: Vec<_> = upcoming_runs(schedule, published_at, Some(just_before), MAX_DUE)
        .into_iter()
        .take_while(|run| run.utc <= now)
        .collect();
    let following = next_run_after(schedule, published_at, Some(now)).map(|r| r.utc);
    let Some(slot) = due.last() else {
        // The schedule was edited under us: only move the pointer on.
        set_next_run(&state.db, id, next, following).await?;
        return Ok(false);
    };
    let missed = due.len() as i64 - 1;
    let late = now.duration_since(slot.utc) > LATE_AFTER;
    let run = NewRun {
        campaign_id: id,
        slot: Some(i64::from(slot.number)),
        trigger: "schedule",
        run_at: slot.utc,
        late,
        missed_slots: missed,
    };
    let inserted = insert_run(state, &run, now, Some((next, following))).await?;
    if inserted.is_some() {
        tracing::info!(
            campaign = id,
            slot = slot.number,
            late,
            missed,
            "scheduled a run"
        );
    }
    Ok(inserted.is_some())
}

/// A run to record.
pub struct NewRun {
    pub campaign_id: i64,
    pub slot: Option<i64>,
    pub trigger: &'static str,
    pub run_at: Timestamp,
    pub late: bool,
    pub missed_slots: i64,
}

/// Records a run and queues its sync job in one transaction; with `advance`, also moves the
/// campaign's `next_run_at` from `.0` to `.1`. `None` when the slot was already recorded.
pub async fn insert_run(
    state: &AppState,
    run: &NewRun,
    now: Timestamp,
    advance: Option<(Timestamp, Option<Timestamp>)>,
) -> anyhow::Result<Option<i64>> {
    let created = ts_to_db(now);
    let run_at = ts_to_db(run.run_at);
    let max_attempts = state.config.jobs.max_attempts;
    let id = with_pool!(&state.db, pool => {
        let mut tx = pool.begin().await?;
        let id: Option<i64> = sqlx::query_scalar(
            "insert into sync_runs (campaign_id, slot, trigger, run_at, late, missed_slots, state, \
             phase, created_at) values ($1, $2, $3, $4, $5, $6, 'queued', 'waiting', $7) \
             on conflict (campaign_id, slot) do nothing returning id",
        )
        .bind(run.campaign_id)
        .bind(run.slot)
        .bind(run.trigger)
        .bind(&run_at)
        .bind(run.late)
        .bind(run.missed_slots)
        .bind(&created)
        .fetch_optional(&mut *tx)
        .await?;
        if let Some(id) = id {
            let payload = serde_json::json!({ "run_id": id }).to_string();
            enqueue_in!(tx, sync::JOB_KIND, &payload, max_attempts, now)?;
            if let Some((from, to)) = advance {
                sqlx::query(
                    "update campaigns set next_run_at = $1, version = version + 1 \
                     where id = $2 and next_run_at = $3",
                )
                .bind(to.map(ts_to_db))
                .bind(run.campaign_id)
                .bind(ts_to_db(from))
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
        }
        id
    });
    Ok(id)
}

async fn set_next_run(
    db: &Db,
    id: i64,
    from: Timestamp,
    to: Option<Timestamp>,
) -> anyhow::Result<()> {
    with_pool!(db, pool => sqlx::query(
        "update campaigns set next_run_at = $1, version = version + 1 \
         where id = $2 and next_run_at = $3",
    )
    .bind(to.map(ts_to_db))
    .bind(id)
    .bind(ts_to_db(from))
    .execute(pool)
    .await
    .map(drop)?);
    Ok(())
}
