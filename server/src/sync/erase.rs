//! Removing an erased person from a campaign's Facebook audience at once (a job queued by
//! `customer::erase` for each campaign whose confirmed membership holds them), without waiting
//! for the campaign's next run.
//!
//! The job sends one removal by EXTERN_ID (the identity the person was added under, read from
//! the confirmed membership) in an upload session of its own, then takes the person out of the
//! confirmed membership, so the next run neither adds them again (they no longer exist) nor
//! removes them a second time. A run of the campaign may be under way meanwhile (it may be
//! waiting out a rate limit for an hour): the job does not wait for it. A run planned before
//! the erasure may still hold the person in its plan; when it finishes, [`erased_since`] keeps
//! them out of the membership it confirms, and its additions are read from the profiles as
//! they are (the erased one is gone), so it never adds them back.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::{members, repo, store};
use crate::{
    campaigns::repo::ts_to_db,
    db::{Db, with_pool},
    facebook::client::{BatchSession, UploadOp, new_session_id},
    jobs::{JobClock, Outcome, queue},
    state::AppState,
};

/// The `jobs.kind` of a removal; its payload is [`Payload`] (ids only, no personal data).
pub const JOB_KIND: &str = "erase_member";

/// A removal is retried as a sync is (throttling, outages), up to this many attempts.
pub const MAX_ATTEMPTS: i64 = 12;

#[derive(Debug, Serialize, Deserialize)]
pub struct Payload {
    pub campaign_id: i64,
    pub profile_id: i64,
}

/// Runs the removal job `job`.
pub async fn run_job(state: &AppState, job: &queue::Job, clock: JobClock) -> Outcome {
    let Ok(p) = serde_json::from_str::<Payload>(&job.payload) else {
        tracing::error!(job = job.id, "an erase job without its ids; dropped");
        return Outcome::Done;
    };
    if let Err(err) = state.refresh_facebook().await {
        tracing::warn!(error = %err, "reloading the Facebook settings; using the previous ones");
    }
    match remove(state, &p, clock.now()).await {
        Ok(()) => Outcome::Done,
        Err(err) => {
            tracing::warn!(campaign = p.campaign_id, error = %format!("{err:#}"), "removing an erased person from an audience; will retry");
            Outcome::Retry {
                error: format!("{err:#}"),
                at_least: None,
            }
        }
    }
}

async fn remove(state: &AppState, p: &Payload, now: Timestamp) -> anyhow::Result<()> {
    let db = &state.db;
    // Removing is idempotent on Facebook's side, so a retry after a lost answer is harmless;
    // the confirmed membership is changed only if no run replaced it meanwhile.
    let mut sent = false;
    let chunk = store::chunk_of(p.profile_id);
    for _ in 0..5 {
        let Some(row) = audience_row(db, p.campaign_id).await? else {
            return Ok(());
        };
        let Some(audience_id) = row.audience_id else {
            return Ok(());
        };
        // Only the chunk that would hold the person.
        let Some(blob) = store::chunk(db, p.campaign_id, chunk).await? else {
            return Ok(());
        };
        let mut entries = members::decode(&blob)?;
        let Some(at) = entries.iter().position(|e| e.profile_id == p.profile_id) else {
            return Ok(());
        };
        if !sent {
            let rows = members::remove_rows(&entries[at..=at]);
            let session = BatchSession {
                session_id: new_session_id(),
                batch_seq: 1,
                last_batch: true,
                estimated_total: 1,
            };
            state
                .facebook()
                .send_batch(UploadOp::Remove, &audience_id, &rows, session)
                .await?;
            sent = true;
        }
        entries.remove(at);
        let packed = members::encode(&entries);
        // The audience's `updated_at` is compared and set with the chunk in one transaction:
        // a run that confirmed a membership since wins, and this is tried again on it.
        let updated = with_pool!(db, pool => {
            let mut tx = pool.begin().await?;
            let n = sqlx::query(
                "update sync_audiences set \
                 member_count = case when member_count > 0 then member_count - 1 else 0 end, \
                 updated_at = $1 where campaign_id = $2 and updated_at = $3",
            )
            .bind(ts_to_db(now))
            .bind(p.campaign_id)
            .bind(&row.updated_at)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if n == 1 {
                if packed.is_empty() {
                    sqlx::query("delete from sync_members where campaign_id = $1 and chunk = $2")
                        .bind(p.campaign_id)
                        .bind(chunk)
                        .execute(&mut *tx)
                        .await?;
                } else {
                    sqlx::query(
                        "update sync_members set members = $1 where campaign_id = $2 and chunk = $3",
                    )
                    .bind(&packed)
                    .bind(p.campaign_id)
                    .bind(chunk)
                    .execute(&mut *tx)
                    .await?;
                }
            }
            tx.commit().await?;
            n
        });
        if updated == 1 {
            if let Some(run) = repo::latest_succeeded(db, p.campaign_id).await? {
                repo::add_note(
                    db,
                    run.id,
                    &format!("An erased person was removed from the audience at {now}."),
                )
                .await?;
            }
            return Ok(());
        }
    }
    anyhow::bail!("the campaign's confirmed membership kept changing")
}

struct Row {
    audience_id: Option<String>,
    updated_at: String,
}

async fn audience_row(db: &Db, campaign_id: i64) -> sqlx::Result<Option<Row>> {
    let row: Option<(Option<String>, String)> = with_pool!(db, pool => sqlx::query_as(
        "select audience_id, updated_at from sync_audiences where campaign_id = $1",
    )
    .bind(campaign_id)
    .fetch_optional(pool)
    .await?);
    Ok(row.map(|(audience_id, updated_at)| Row {
        audience_id,
        updated_at,
    }))
}

/// The profiles erased at or after `since` (the run's creation): a run planned before them
/// must not confirm them as members.
pub async fn erased_since(db: &Db, since: &str) -> sqlx::Result<std::collections::HashSet<i64>> {
    let ids: Vec<i64> = with_pool!(db, pool => sqlx::query_scalar(
        "select profile_id from profile_erasures where erased_at >= $1",
    )
    .bind(since)
    .fetch_all(pool)
    .await?);
    Ok(ids.into_iter().collect())
}

/// Removes from the audience the people of `erased` that run `run_id` added (its plan was
/// computed before they were erased, so its additions may hold them, hashed from the keys read
/// with the segment): one removal by EXTERN_ID, in a session of its own, before the run
/// confirms its membership without them. Sending it again after a crash is harmless.
pub async fn remove_added(
    state: &AppState,
    run_id: i64,
    audience_id: &str,
    erased: &std::collections::HashSet<i64>,
) -> anyhow::Result<usize> {
    let mut gone = Vec::new();
    // A batch at a time: a replace's batches are the whole audience.
    for (seq, op) in repo::batch_ops(&state.db, run_id).await? {
        if op == "add" || op == "replace" {
            let blob = repo::batch_blob(&state.db, run_id, seq).await?;
            gone.extend(
                members::decode(&blob)?
                    .into_iter()
                    .filter(|e| erased.contains(&e.profile_id)),
            );
        }
    }
    if gone.is_empty() {
        return Ok(0);
    }
    let rows = members::remove_rows(&gone);
    let session = BatchSession {
        session_id: new_session_id(),
        batch_seq: 1,
        last_batch: true,
        estimated_total: gone.len() as u64,
    };
    state
        .facebook()
        .send_batch(UploadOp::Remove, audience_id, &rows, session)
        .await?;
    Ok(gone.len())
}
