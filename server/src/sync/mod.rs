//! The audience sync run: compute the segment at the run's instant, diff it against the
//! membership Facebook last confirmed, send the difference in recorded batches, attach the
//! audience to the ad set and read back its size.
//!
//! Crash safety comes from the order of writes:
//!
//! 1. **Plan** — the diff's batches (with their members) are written as the plan is made
//!    (`sync_batches`, state `planned`), and count once the plan is saved (the run moves to
//!    `sending`). A crash before that leaves a run still `computing`: its batches are deleted
//!    and the plan is computed again (at the same instant R).
//! 2. **Audience** — the intent to create the campaign's custom audience is recorded before
//!    Facebook is asked to, and the audience is looked up by the key in its description
//!    before any create (and after a create whose answer was lost): never a second one. Should
//!    two exist, one is kept and the empty other deleted (every run looks).
//! 3. **Send** — each batch is marked `sending` before its request and `sent` with Facebook's
//!    answer after. On resume a `sending` batch is ambiguous (did the request arrive?), so the
//!    audience's upload sessions are read back: if the session already counts the batch's rows
//!    it is marked sent, otherwise it is sent again. The same read-back follows a batch whose
//!    answer was lost in flight (timeout, reset, 5xx) or that Facebook calls out of order. No
//!    batch is lost or sent twice. A session
//!    Facebook ended early (90 minutes after its first batch) is continued in a new one. While
//!    one batch travels the next is read and hashed.
//! 4. **Finish** — the membership Facebook now holds (the confirmed one with the batches
//!    applied) becomes the confirmed one in the same transaction that marks the run succeeded
//!    (only the chunks the run changed are rewritten: [`store`]).

pub mod consent;
pub mod erase;
pub mod holdout;
pub mod members;
pub mod repo;
pub mod store;

use std::time::Duration;

use jiff::{Timestamp, tz::TimeZone};
use serde::{Deserialize, Serialize};
use shared::{
    campaign::{Campaign, CampaignStatus, FacebookTarget, StatusEvent},
    error::FieldError,
    schedule::next_run_after,
};

use crate::{
    campaigns::{self, repo::ts_to_db},
    db::{Db, with_pool},
    engine::{self, Member, RunAt},
    error::{ApiError, ApiResult},
    facebook::{
        FacebookError,
        client::{BatchSession, MAX_ROWS_PER_REQUEST, NewCustomAudience, UploadOp},
        hashing::HashedBatch,
    },
    jobs::{JobClock, Outcome, queue, scheduler},
    state::AppState,
};
use members::Entry;
use shared::holdout::in_holdout;

/// The `jobs.kind` of a sync run; its payload is `{"run_id": n}`.
pub const JOB_KIND: &str = "sync_run";

/// Facebook advises against audiences smaller than this; removals that would take an audience
/// below it are held back and reported instead.
pub const MIN_AUDIENCE: usize = 100;

/// Where a test can make a sync stop dead, as if the process had been killed there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CrashPoint {
    /// The plan is being made: its first batch is written, the plan is not saved.
    WhilePlanning,
    /// The plan is saved; nothing sent yet.
    AfterPlan,
    /// Facebook created the campaign's custom audience; its id is not saved.
    AfterCreateAudience,
    /// Batch `seq` is recorded as sending; its request has not gone out.
    BeforeSend { seq: i64 },
    /// Facebook accepted batch `seq`; the answer is not recorded.
    AfterSend { seq: i64 },
    /// Every batch is sent; the run is not finished (attach, size, confirmation).
    BeforeFinish,
}

#[derive(Debug, thiserror::Error)]
enum SyncError {
    #[error(transparent)]
    Facebook(#[from] FacebookError),
    #[error("stopped at a crash point (test hook)")]
    Crash,
    #[error("the job's lease was lost to another worker")]
    LostLease,
    /// Facebook ended an upload session (90 minutes after its first batch) before its last
    /// batch: the rest goes in a new session.
    #[error("upload session {session_id} is over")]
    SessionOver { session_id: i64, op: String },
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

impl From<ApiError> for SyncError {
    fn from(e: ApiError) -> Self {
        Self::Other(e.into())
    }
}

impl From<sqlx::Error> for SyncError {
    fn from(e: sqlx::Error) -> Self {
        Self::Other(e.into())
    }
}

type SyncResult<T> = Result<T, SyncError>;

#[derive(Deserialize)]
struct Payload {
    run_id: i64,
}

/// Runs (or resumes) the sync job `job`.
pub async fn run_job(state: &AppState, job: &queue::Job, clock: JobClock) -> Outcome {
    let run_id = match serde_json::from_str::<Payload>(&job.payload) {
        Ok(p) => p.run_id,
        Err(err) => {
            tracing::error!(job = job.id, %err, "a sync job without a run id; dropped");
            return Outcome::Done;
        }
    };
    // An admin may have changed the Facebook connection, possibly in another process.
    if let Err(err) = state.refresh_facebook().await {
        tracing::warn!(error = %err, "reloading the Facebook settings; using the previous ones");
    }
    let last_attempt = job.attempts >= job.max_attempts;
    match run(state, job, run_id, clock).await {
        Ok(outcome) => outcome,
        Err(SyncError::Crash | SyncError::LostLease) => Outcome::Abandoned,
        Err(err @ SyncError::SessionOver { .. }) => Outcome::Retry {
            error: err.to_string(),
            at_least: None,
        },
        Err(SyncError::Facebook(err)) if err.is_retryable() && !last_attempt => {
            let note = format!(
                "{} (attempt {} of {}; it will be retried automatically)",
                err.message, job.attempts, job.max_attempts
            );
            if let Err(db_err) = repo::mark_retrying(&state.db, run_id, &note, err.advice()).await {
                tracing::error!(error = ?db_err, run = run_id, "recording a retry");
            }
            Outcome::Retry {
                error: err.to_string(),
                at_least: err.retry_after,
            }
        }
        Err(SyncError::Facebook(err)) => {
            let message = match &err.user_message {
                Some(user) if *user != err.message => format!("{} {user}", err.message),
                _ => err.message.clone(),
            };
            fail(state, run_id, &message, err.advice(), clock.now()).await
        }
        Err(SyncError::Other(err)) if !last_attempt => {
            tracing::error!(error = ?err, run = run_id, "sync attempt failed; will retry");
            Outcome::Retry {
                error: format!("{err:#}"),
                at_least: None,
            }
        }
        Err(SyncError::Other(err)) => {
            tracing::error!(error = ?err, run = run_id, "sync failed after its last attempt");
            fail(
                state,
                run_id,
                "The sync stopped on an error in this server; the details are in its log.",
                "Run it again from the campaign page; if it keeps failing, report it with the server log.",
                clock.now(),
            )
            .await
        }
    }
}

/// Ends a run as failed: the campaign needs attention, and the run says what to do.
async fn fail(state: &AppState, run_id: i64, error: &str, advice: &str, now: Timestamp) -> Outcome {
    let result = async {
        repo::finish_unsynced(&state.db, run_id, "failed", error, Some(advice), now).await?;
        if let Some(run) = repo::run(&state.db, run_id).await? {
            apply_status(&state.db, run.campaign_id, Ended::Failed, now).await?;
        }
        anyhow::Ok(())
    };
    match result.await {
        Ok(()) => Outcome::Done,
        Err(err) => Outcome::Retry {
            error: format!("recording the failure: {err:#}"),
            at_least: None,
        },
    }
}

async fn run(
    state: &AppState,
    job: &queue::Job,
    run_id: i64,
    clock: JobClock,
) -> SyncResult<Outcome> {
    let db = &state.db;
    let Some(run) = repo::run(db, run_id).await? else {
        return Ok(Outcome::Done);
    };
    if matches!(run.state.as_str(), "succeeded" | "failed" | "skipped") {
        return Ok(Outcome::Done);
    }
    let Some(stored) = campaigns::repo::find(db, run.campaign_id).await? else {
        return Ok(Outcome::Done);
    };
    let campaign = stored.campaign;
    let run_at: Timestamp = run
        .run_at
        .parse()
        .map_err(|e| anyhow::anyhow!("run {run_id} has a bad run_at: {e}"))?;

    if run.state == "queued" {
        // Two runs of one campaign never interleave their batches: the later one waits.
        if let Some(other) = repo::other_active_run(db, campaign.id, run_id).await? {
            return Ok(Outcome::Retry {
                error: format!("waiting for run {other} of this campaign to finish"),
                at_least: Some(Duration::from_secs(5)),
            });
        }
        // A run queued before the user paused or stopped does not start.
        if !campaign.status.may_run() && campaign.status != CampaignStatus::Running {
            let why = format!(
                "Not run: the campaign was {} before this run started.",
                campaign.status.label().to_lowercase()
            );
            repo::finish_unsynced(db, run_id, "skipped", &why, None, clock.now()).await?;
            return Ok(Outcome::Done);
        }
        repo::mark_started(db, run_id, clock.now()).await?;
        apply_status(db, campaign.id, Ended::Started, clock.now()).await?;
    } else if run.state == "retrying" {
        repo::mark_resumed(db, run_id).await?;
    }
    let Some(target) = campaign.target.clone() else {
        let msg = "The campaign has no Facebook ad set to sync to.";
        return Ok(fail(
            state,
            run_id,
            msg,
            "Choose an ad set in the What step.",
            clock.now(),
        )
        .await);
    };

    let mut learned = Vec::new();
    if matches!(run.phase.as_str(), "waiting" | "computing") {
        let batch_rows = state
            .config
            .facebook
            .retry
            .rows_per_request
            .clamp(1, MAX_ROWS_PER_REQUEST);
        let mut writer = BatchWriter::new(state, run_id, batch_rows).await?;
        let mut planned = compute(state, &campaign, run_at, Some(&mut writer)).await?;
        learned = std::mem::take(&mut planned.learned);
        // Before the plan: a run that dies in between computes the same holdout again.
        holdout::save(db, run_id, planned.held_out.as_deref()).await?;
        consent::save_count(db, run_id, planned.consent_held).await?;
        let plan = planned.write_batches(db, campaign.id, &mut writer).await?;
        repo::save_plan(db, run_id, &plan).await?;
        crash_point(state, CrashPoint::AfterPlan)?;
    }

    let audience_id = ensure_audience(state, run_id, &campaign, &target, clock.now()).await?;
    if run.approx_before_lower.is_none() || run.audience_id.is_none() {
        let before = state.facebook().custom_audience(&audience_id).await?;
        repo::set_audience(
            db,
            run_id,
            &audience_id,
            before.approximate_count_lower_bound.unwrap_or(0),
            before.approximate_count_upper_bound.unwrap_or(0),
        )
        .await?;
    }

    send_pending(state, job, run_id, &audience_id, clock).await?;
    // Stored once the last batch is sent: their writes hold SQLite's write lock (0.14 s per
    // 10,000 profiles), and the batches' own writes waited behind them when they ran beside
    // the sending. Not needed by this run (a resumed run does without).
    store_learned(db, &learned).await;
    crash_point(state, CrashPoint::BeforeFinish)?;
    // People erased since the run was created may be in its plan: those it added are removed
    // again now, and none of them is confirmed (the `erase` jobs removed the others).
    let erased = erase::erased_since(db, &run.created_at).await?;
    if !erased.is_empty() {
        let n = erase::remove_added(state, run_id, &audience_id, &erased).await?;
        if n > 0 {
            repo::add_note(
                db,
                run_id,
                &format!(
                    "Removed again {n} erased {} this run had added.",
                    if n == 1 { "person" } else { "people" }
                ),
            )
            .await?;
        }
    }

    repo::set_phase(db, run_id, "attaching").await?;
    state
        .facebook()
        .attach_audience(&target.ad_set_id, &audience_id)
        .await?;
    let after = state.facebook().custom_audience(&audience_id).await?;
    let (invalid_entries, samples) = repo::invalid_totals(db, run_id).await?;
    let run = repo::run(db, run_id).await?.unwrap_or(run);
    let started = run
        .started_at
        .as_deref()
        .and_then(|s| s.parse::<Timestamp>().ok())
        .unwrap_or(run_at);
    let finished = repo::Finished {
        membership: new_membership(db, run_id, &erased).await?,
        campaign_id: campaign.id,
        ad_set_id: &target.ad_set_id,
        invalid_entries,
        invalid_samples: serde_json::to_string(&samples).unwrap_or_else(|_| "[]".into()),
        approx_after: after
            .approximate_count_lower_bound
            .zip(after.approximate_count_upper_bound),
        member_count: run.members.unwrap_or(0) + run.held_removals.unwrap_or(0),
        duration_ms: clock.now().duration_since(started).as_millis() as i64,
    };
    repo::finish(db, run_id, &finished, clock.now()).await?;
    let more_runs = match (&campaign.schedule, campaign.published_at) {
        (Some(schedule), Some(published_at)) => {
            next_run_after(schedule, published_at, Some(run_at)).is_some()
        }
        _ => false,
    };
    apply_status(db, campaign.id, Ended::Succeeded { more_runs }, clock.now()).await?;
    // The audience is on the ad set now: after the first sync its stats are fetched at once.
    if let Err(err) = crate::jobs::stats::after_sync(state, campaign.id, clock.now()).await {
        tracing::warn!(campaign = campaign.id, error = %err, "queueing the first stats fetch");
    }
    Ok(Outcome::Done)
}

fn crash_point(state: &AppState, point: CrashPoint) -> SyncResult<()> {
    if state.jobs.should_crash(point) {
        tracing::warn!(
            ?point,
            "test hook: the sync stops here as if the process died"
        );
        return Err(SyncError::Crash);
    }
    Ok(())
}

/// What marks a campaign's audience on Facebook as ours, in its description: the campaign's id
/// and creation instant, so another installation's campaign with the same id never matches.
fn audience_key(campaign: &Campaign) -> String {
    format!(
        "[sync-key fba-{}-{}]",
        campaign.id,
        campaign.created_at.as_microsecond()
    )
}

/// The campaign's custom audience, created on its first run.
///
/// The intent to create it is recorded first (a `sync_audiences` row without an audience id).
/// Before creating, the ad account's audiences are looked up by the key in their description:
/// a process that died after Facebook created the audience but before its id was saved, or a
/// create whose answer was lost on the way (a timeout, a reset, a 5xx: Facebook may have acted),
/// left one there, and it is adopted instead of creating a second. A create is repeated only
/// after such a lookup found nothing.
async fn ensure_audience(
    state: &AppState,
    run_id: i64,
    campaign: &Campaign,
    target: &FacebookTarget,
    now: Timestamp,
) -> SyncResult<String> {
    let db = &state.db;
    let row = repo::audience(db, campaign.id).await?;
    let key = audience_key(campaign);
    let account = &target.ad_account_id;
    if let Some(id) = row.as_ref().and_then(|r| r.audience_id.clone()) {
        // Duplicates an earlier version left behind (it created a second audience after a
        // lost answer) are cleared up; the sync does not depend on it.
        if let Err(err) = find_keyed(state, run_id, account, &key, Some(&id)).await {
            tracing::warn!(campaign = campaign.id, error = %err, "looking for duplicate audiences; trying again next run");
        }
        return Ok(id);
    }
    if let Some(found) = find_keyed(state, run_id, account, &key, None).await? {
        tracing::info!(campaign = campaign.id, audience = %found, "adopting the campaign's audience found on Facebook");
        repo::save_audience_id(db, campaign.id, account, &found, now).await?;
        return Ok(found);
    }
    if row.is_none() {
        repo::record_audience_intent(db, campaign.id, account, now).await?;
    }
    let new = NewCustomAudience {
        name: format!("{} (campaign {})", campaign.name, campaign.id),
        description: format!(
            "Kept in sync by the Facebook Audiences campaign {}; do not edit by hand. {key}",
            campaign.id
        ),
        customer_file_source: "USER_PROVIDED_ONLY".into(),
    };
    let policy = &state.config.facebook.retry;
    let mut attempt = 0;
    let id = loop {
        match state.facebook().create_custom_audience(account, &new).await {
            Ok(id) => break id,
            Err(err) if err.maybe_applied() => {
                tracing::warn!(campaign = campaign.id, error = %err, "the answer to creating the audience was lost; looking it up before creating again");
                if let Some(found) = find_keyed(state, run_id, account, &key, None).await? {
                    repo::save_audience_id(db, campaign.id, account, &found, now).await?;
                    return Ok(found);
                }
                if attempt >= policy.max_retries {
                    return Err(err.into());
                }
                tokio::time::sleep(backoff(policy, attempt)).await;
                attempt += 1;
            }
            Err(err) => return Err(err.into()),
        }
    };
    crash_point(state, CrashPoint::AfterCreateAudience)?;
    repo::save_audience_id(db, campaign.id, account, &id, now).await?;
    Ok(id)
}

/// The campaign's audience among the ad account's, by the key in its description.
///
/// One campaign has one audience; should Facebook hold several with its key (one was created
/// twice), `saved` (the one the campaign uses) is kept, or else the one people were uploaded
/// to — the oldest if none or several were — and the empty others are deleted. What was found
/// and done goes into the run's notes.
async fn find_keyed(
    state: &AppState,
    run_id: i64,
    account: &str,
    key: &str,
    saved: Option<&str>,
) -> SyncResult<Option<String>> {
    let fb = state.facebook();
    let mut found: Vec<String> = fb
        .custom_audiences(account)
        .await?
        .into_iter()
        .filter(|a| a.description.as_deref().is_some_and(|d| d.contains(key)))
        .map(|a| a.id)
        .collect();
    if let Some(saved) = saved {
        found.retain(|id| id != saved);
        if found.is_empty() {
            return Ok(Some(saved.to_owned()));
        }
    } else if found.len() < 2 {
        return Ok(found.pop());
    }
    // Whether anyone was ever uploaded to each: Facebook's record of its upload sessions.
    let mut seen = Vec::with_capacity(found.len());
    for id in found {
        let received: u64 = fb
            .audience_sessions(&id)
            .await?
            .iter()
            .map(|s| s.num_received)
            .sum();
        seen.push((id, received));
    }
    // Graph ids grow with time: numerically smaller is older.
    seen.sort_by_key(|(id, received)| (*received == 0, id.len(), id.clone()));
    let keep = match saved {
        Some(saved) => saved.to_owned(),
        None => seen.remove(0).0,
    };
    let (mut deleted, mut left) = (Vec::new(), Vec::new());
    for (id, received) in seen {
        if received > 0 {
            left.push(id);
            continue;
        }
        match fb.delete_custom_audience(&id).await {
            Ok(()) => deleted.push(id),
            Err(err) => {
                tracing::warn!(audience = %id, error = %err, "deleting a duplicate audience");
                left.push(id);
            }
        }
    }
    tracing::warn!(run = run_id, %keep, ?deleted, ?left, "several audiences carry this campaign's key");
    let mut note = format!(
        "Facebook held {} audiences made for this campaign (one was created twice); this run uses {keep}.",
        1 + deleted.len() + left.len()
    );
    if !deleted.is_empty() {
        note.push_str(&format!(
            " Deleted the empty duplicate{}: {}.",
            if deleted.len() > 1 { "s" } else { "" },
            deleted.join(", ")
        ));
    }
    if !left.is_empty() {
        note.push_str(&format!(
            " Left in place, as people were uploaded to them or they could not be deleted: {}; delete them in Ads Manager if nothing uses them.",
            left.join(", ")
        ));
    }
    repo::add_note(&state.db, run_id, &note).await?;
    Ok(Some(keep))
}

/// The client's backoff before attempt `attempt + 1` of a write the sync repeats itself.
fn backoff(policy: &crate::facebook::client::RetryPolicy, attempt: u32) -> Duration {
    policy
        .base_delay
        .saturating_mul(1 << attempt.min(10))
        .min(policy.max_wait)
}

/// How many times one run may start a new upload session for expired ones before giving up.
const MAX_SESSION_RESTARTS: usize = 5;

/// Sends every batch not yet confirmed sent. An upload session Facebook ended early (its 90
/// minutes ran out, say while the run waited out a rate limit or lay crashed) is continued in a
/// new session: the rest of an add or remove session, or the whole of a replace session (a
/// replace keeps only what arrived in its one session).
async fn send_pending(
    state: &AppState,
    job: &queue::Job,
    run_id: i64,
    audience_id: &str,
    clock: JobClock,
) -> SyncResult<()> {
    for _ in 0..=MAX_SESSION_RESTARTS {
        match send_batches(state, job, run_id, audience_id, clock).await {
            Err(SyncError::SessionOver { session_id, op }) => {
                let new = crate::facebook::client::new_session_id();
                tracing::warn!(
                    run = run_id,
                    session_id,
                    new,
                    "upload session over before its last batch; continuing in a new one"
                );
                repo::restart_session(&state.db, run_id, session_id, new, op == "replace").await?;
            }
            other => return other,
        }
    }
    Err(anyhow::anyhow!("Facebook kept ending the upload sessions of this run early").into())
}

/// Facebook's answer when a session is over: timed out, or already finished.
fn session_over(err: &FacebookError) -> bool {
    err.code == 2650 && matches!(err.subcode, Some(1_870_158 | 1_870_159))
}

/// A task preparing the next batch, stopped if the run stops first.
struct Prepared(tokio::task::JoinHandle<SyncResult<HashedBatch>>);

impl Drop for Prepared {
    fn drop(&mut self) {
        self.0.abort();
    }
}

async fn send_batches(
    state: &AppState,
    job: &queue::Job,
    run_id: i64,
    audience_id: &str,
    clock: JobClock,
) -> SyncResult<()> {
    let db = &state.db;
    let fb = state.facebook();
    let total = repo::run(db, run_id)
        .await?
        .map_or(0, |r| r.rows_total.max(0) as u64);
    let batches = repo::pending_batches(db, run_id).await?;
    let mut next: Option<Prepared> = None;
    // When this loop last renewed the job's lease (the first batch renews it: planning may
    // have taken a while since the claim).
    let mut renewed: Option<Timestamp> = None;
    for (i, batch) in batches.iter().enumerate() {
        let prepared = next.take();
        if batch.state == "sending" {
            // The answer to this batch was lost (the process died): ask Facebook whether it
            // arrived.
            if let Some(answer) = arrived(state, run_id, audience_id, batch).await? {
                repo::mark_sent(db, run_id, batch.seq, batch.rows, &answer, clock.now()).await?;
                continue;
            }
        } else {
            repo::mark_sending(db, run_id, batch.seq).await?;
        }
        crash_point(state, CrashPoint::BeforeSend { seq: batch.seq })?;
        let rows = match prepared {
            Some(mut task) => (&mut task.0)
                .await
                .map_err(|e| anyhow::anyhow!("preparing batch {}: {e}", batch.seq))??,
            None => prepare(db.clone(), run_id, batch.clone()).await?,
        };
        // The next batch is read and hashed while this one travels.
        if let Some(following) = batches.get(i + 1) {
            next = Some(Prepared(tokio::spawn(prepare(
                db.clone(),
                run_id,
                following.clone(),
            ))));
        }
        let session = BatchSession {
            session_id: batch.session_id,
            batch_seq: batch.batch_seq,
            last_batch: batch.last_batch,
            estimated_total: total,
        };
        let op = match batch.op.as_str() {
            "remove" => UploadOp::Remove,
            "replace" => UploadOp::Replace,
            _ => UploadOp::Add,
        };
        let policy = &state.config.facebook.retry;
        let mut attempt = 0;
        let answer = loop {
            let err = match fb.send_batch(op, audience_id, &rows, session).await {
                Ok(result) => {
                    break repo::Answer {
                        num_received: result.num_received as i64,
                        num_invalid: result.num_invalid_entries as i64,
                        samples: serde_json::to_string(&result.invalid_entry_samples)
                            .unwrap_or_else(|_| "[]".into()),
                    };
                }
                Err(err) => err,
            };
            // No answer, a server error, "out of order" (Facebook already has this batch: a
            // copy sent by someone on the way) or "session over" (the batch may have been
            // its last): whether the batch arrived is for the session Facebook holds to say.
            let ambiguous = err.maybe_applied();
            if !(ambiguous || err.is_out_of_order() || session_over(&err)) {
                return Err(err.into());
            }
            tracing::warn!(run = run_id, seq = batch.seq, error = %err, "a batch's answer is unclear; reading its session back");
            if let Some(answer) = arrived(state, run_id, audience_id, batch).await? {
                break answer;
            }
            if session_over(&err) {
                return Err(SyncError::SessionOver {
                    session_id: batch.session_id,
                    op: batch.op.clone(),
                });
            }
            if !ambiguous || attempt >= policy.max_retries {
                return Err(err.into());
            }
            // It never arrived: sending it again cannot apply it twice.
            tokio::time::sleep(backoff(policy, attempt)).await;
            attempt += 1;
        };
        crash_point(state, CrashPoint::AfterSend { seq: batch.seq })?;
        repo::mark_sent(db, run_id, batch.seq, batch.rows, &answer, clock.now()).await?;
        // Renewed once a quarter of the lease has gone by, not after every batch: a write per
        // batch was a third of the database work of a 10M-member sync (1,000 batches), and the
        // lease still never runs out while the run is alive.
        let lease = state.config.jobs.lease;
        let now = clock.now();
        let quarter = jiff::SignedDuration::try_from(lease / 4).unwrap_or_default();
        if renewed.is_none_or(|at| now.duration_since(at) >= quarter) || i + 1 == batches.len() {
            if !queue::renew(db, job.id, &state.jobs.owner, now, lease).await? {
                return Err(SyncError::LostLease);
            }
            renewed = Some(now);
        }
    }
    Ok(())
}

/// Facebook's answer to `batch` as its upload session shows it, if the batch arrived: the
/// session counts the rows of every batch up to it. For a batch whose own answer was lost.
async fn arrived(
    state: &AppState,
    run_id: i64,
    audience_id: &str,
    batch: &repo::BatchRow,
) -> SyncResult<Option<repo::Answer>> {
    let through =
        repo::session_rows_through(&state.db, run_id, batch.session_id, batch.seq).await?;
    let sessions = state.facebook().audience_sessions(audience_id).await?;
    let Some(s) = sessions
        .iter()
        .find(|s| s.session_id == batch.session_id && s.num_received as i64 >= through)
    else {
        return Ok(None);
    };
    tracing::info!(
        run = run_id,
        seq = batch.seq,
        "Facebook's session shows the batch arrived; not sending it again"
    );
    // The session counts invalid entries for all its batches; the earlier ones' are recorded.
    let before =
        repo::session_invalid_before(&state.db, run_id, batch.session_id, batch.seq).await?;
    Ok(Some(repo::Answer {
        num_received: s.num_received as i64,
        num_invalid: (s.num_invalid_entries as i64 - before).max(0),
        // Facebook's samples came with the lost answer only.
        samples: "[]".into(),
    }))
}

/// A batch's rows, ready to send: removals by EXTERN_ID alone; additions with every key of the
/// profile as the database holds it now, read in one query for the batch (by id range: the
/// batches of a full sync are runs of consecutive members) and hashed off the async threads.
///
/// The EXTERN_ID is the identity the plan recorded, which is what the confirmed membership will
/// name the member by and what a later removal sends. Should the keys have changed since the
/// plan, the newer keys go out and the next run, seeing a fingerprint other than the confirmed
/// one, sends the member again (removed by that identity, added anew); a profile gone since the
/// plan is sent by its EXTERN_ID alone and removed by the next run (or at once, if erased). So
/// every batch sends exactly the rows it planned, which the session read-back counts on.
async fn prepare(db: Db, run_id: i64, batch: repo::BatchRow) -> SyncResult<HashedBatch> {
    let entries = members::decode(&repo::batch_blob(&db, run_id, batch.seq).await?)?;
    if batch.op == "remove" {
        return tokio::task::spawn_blocking(move || members::remove_rows(&entries))
            .await
            .map_err(|e| anyhow::anyhow!("hashing removals: {e}").into());
    }
    let mut ids: Vec<i64> = entries.iter().map(|e| e.profile_id).collect();
    ids.sort_unstable();
    ids.dedup();
    let loaded = engine::members_by_id(&db, ids).await?;
    tokio::task::spawn_blocking(move || members::add_rows_for(&entries, &loaded))
        .await
        .map_err(|e| anyhow::anyhow!("hashing additions: {e}").into())
}

/// The stored match keys of these profiles (in no particular order).
#[cfg(test)]
async fn load_members(db: &Db, ids: &[i64]) -> SyncResult<Vec<Member>> {
    let mut ids = ids.to_vec();
    ids.sort_unstable();
    ids.dedup();
    Ok(engine::members_by_id(db, ids).await?)
}

#[cfg(test)]
pub(crate) async fn load_members_for_test(db: &Db, ids: &[i64]) -> Vec<Member> {
    load_members(db, ids).await.expect("members load")
}

/// How the run's finish changes the confirmed membership, from the recorded batches (a
/// resumed run computes the same): a replace session's members become it; otherwise the
/// removals come out and the additions go in. Erased people are left out either way. Only the
/// churn is held here, never the whole membership.
async fn new_membership(
    db: &Db,
    run_id: i64,
    erased: &std::collections::HashSet<i64>,
) -> SyncResult<store::NewMembership> {
    let ops = repo::batch_ops(db, run_id).await?;
    if ops.iter().any(|(_, op)| op == "replace") {
        return Ok(store::NewMembership::Replace {
            erased: erased.clone(),
        });
    }
    let mut removed = erased.clone();
    let mut added = Vec::new();
    for (seq, op) in ops {
        let blob = repo::batch_blob(db, run_id, seq).await?;
        match op.as_str() {
            "remove" => removed.extend(members::records(&blob)?.iter().map(|r| r.0)),
            "add" => added.extend(members::decode(&blob)?),
            _ => {}
        }
    }
    // Stable: of two additions of one profile the first is kept.
    added.sort_by_key(|e| e.profile_id);
    added.dedup_by_key(|e| e.profile_id);
    added.retain(|e| !erased.contains(&e.profile_id));
    Ok(store::NewMembership::Apply { removed, added })
}

/// How many joined members a dry run names.
const SAMPLE: usize = 20;

/// The diff of one run. It holds the churn (who joined, left or changed), never the whole
/// segment: the members of a replace go to its batches as they are streamed.
struct Planned {
    /// How many people the audience holds once the plan is sent.
    members: usize,
    /// Who joined, ascending by profile id; on a first sync (they all did, and went straight
    /// to the replace batches) only the first [`SAMPLE`].
    joined: Vec<Entry>,
    added: usize,
    left: Vec<Entry>,
    /// Members whose keys changed: removed by their old identity, added with the new keys.
    changed_old: Vec<Entry>,
    changed_new: Vec<Entry>,
    /// Removals held back by the small-audience guard.
    held: Vec<Entry>,
    confirmed: usize,
    /// Nothing confirmed yet: the plan is a replace whose batches were written while the
    /// segment was streamed.
    first: bool,
    /// The members that had no fingerprint stored, to store theirs (real runs only).
    learned: Vec<i64>,
    /// The segment's members in the campaign's holdout, never sent; `None` without a holdout.
    held_out: Option<Vec<Entry>>,
    /// How many of the segment's members consent filtering held back; `None` when it is off.
    consent_held: Option<usize>,
}

/// How a member of the segment compares with the confirmed membership.
enum Diff {
    Joined,
    Unchanged,
    /// Its keys changed; the confirmed entry.
    Changed(Entry),
}

/// Writes the batches of a plan as it is made (see [`repo::insert_batch`]): up to
/// `rows_per_batch` members each, in sessions. A batch is written once the next one has a
/// member or its session ends, so that its `last_batch` is known.
struct BatchWriter<'a> {
    state: &'a AppState,
    db: &'a Db,
    run_id: i64,
    rows_per_batch: usize,
    /// The last seq written.
    seq: i64,
    op: &'static str,
    session_id: i64,
    batch_seq: i64,
    current: Vec<u8>,
    current_rows: i64,
    waiting: Option<repo::NewBatch>,
    rows_total: i64,
}

impl<'a> BatchWriter<'a> {
    /// A writer for run `run_id`'s plan; what an interrupted plan wrote is deleted.
    async fn new(state: &'a AppState, run_id: i64, rows_per_batch: usize) -> SyncResult<Self> {
        let db = &state.db;
        repo::clear_batches(db, run_id).await?;
        Ok(Self {
            state,
            db,
            run_id,
            rows_per_batch,
            seq: 0,
            op: "add",
            session_id: 0,
            batch_seq: 0,
            current: Vec::new(),
            current_rows: 0,
            waiting: None,
            rows_total: 0,
        })
    }

    /// Starts an upload session of `op`.
    fn start(&mut self, op: &'static str) {
        self.op = op;
        self.session_id = crate::facebook::client::new_session_id();
        self.batch_seq = 0;
    }

    async fn push(&mut self, e: &Entry) -> SyncResult<()> {
        members::encode_into(&mut self.current, e);
        self.current_rows += 1;
        if self.current_rows as usize >= self.rows_per_batch {
            self.cut().await?;
        }
        Ok(())
    }

    /// Closes the batch being filled; the one waiting was not its session's last.
    async fn cut(&mut self) -> SyncResult<()> {
        if self.current_rows == 0 {
            return Ok(());
        }
        self.write_waiting(false).await?;
        self.batch_seq += 1;
        self.waiting = Some(repo::NewBatch {
            op: self.op,
            session_id: self.session_id,
            batch_seq: self.batch_seq,
            last_batch: false,
            rows: self.current_rows,
            members: std::mem::take(&mut self.current),
        });
        self.current_rows = 0;
        Ok(())
    }

    async fn write_waiting(&mut self, last: bool) -> SyncResult<()> {
        if let Some(mut batch) = self.waiting.take() {
            batch.last_batch = last;
            self.seq += 1;
            self.rows_total += batch.rows;
            repo::insert_batch(self.db, self.run_id, self.seq, &batch).await?;
            if self.seq == 1 {
                crash_point(self.state, CrashPoint::WhilePlanning)?;
            }
        }
        Ok(())
    }

    /// Ends the session: its last batch is written as such (none if it had no member).
    async fn end(&mut self) -> SyncResult<()> {
        self.cut().await?;
        self.write_waiting(true).await
    }
}

/// Computes the segment at `run_at` and diffs it against the confirmed membership; a real run
/// passes `writer`, which gets the batches of a first sync as the segment is streamed.
///
/// The segment's members (their stored fingerprints and identities, in id-ordered chunks) are
/// merged with the confirmed membership (read a chunk at a time, `sync::store`). A member whose
/// stored fingerprint is the confirmed one is unchanged and keeps its confirmed entry; one with
/// another stored fingerprint joined or changed, and that fingerprint and identity are its new
/// entry (a stored fingerprint is never stale: a trigger clears it when a key changes). The
/// keys of the members without a stored fingerprint are read, a chunk at a time, to compute
/// it. No key is kept for sending: a batch reads its members' keys when it is sent (see
/// [`prepare`]). Memory: a few chunks, the churn, the holdout, the consenting ids (when
/// consent filtering is on) — not the segment.
async fn compute(
    state: &AppState,
    campaign: &Campaign,
    run_at: Timestamp,
    mut writer: Option<&mut BatchWriter<'_>>,
) -> SyncResult<Planned> {
    let db = &state.db;
    let segment = campaign
        .audience
        .as_ref()
        .ok_or_else(|| anyhow::anyhow!("campaign {} has no audience", campaign.id))?;
    let tz = campaign
        .schedule
        .as_ref()
        .and_then(|s| TimeZone::get(&s.time_zone).ok())
        .unwrap_or(TimeZone::UTC);
    let first = repo::audience(db, campaign.id)
        .await?
        .and_then(|a| a.audience_id)
        .is_none()
        || !store::has_members(db, campaign.id).await?;
    let mut plan = Planned {
        members: 0,
        joined: Vec::new(),
        added: 0,
        left: Vec::new(),
        changed_old: Vec::new(),
        changed_new: Vec::new(),
        held: Vec::new(),
        confirmed: 0,
        first,
        learned: Vec::new(),
        held_out: None,
        consent_held: None,
    };
    // Consent first: the holdout is drawn among the people who may be sent at all, so the
    // audience and the holdout are alike but for the ads.
    let consenting = match consent::property(db).await? {
        Some(property) => Some(consent::consenting(db, &property).await?),
        None => None,
    };
    let mut consent_held = 0;
    // Audience members who withdrew their ads consent: removed whatever the small-audience
    // guard says.
    let mut withdrawn = Vec::new();
    let mut held_out = Vec::new();
    if first && let Some(w) = writer.as_deref_mut() {
        w.start("replace");
    }
    let at = RunAt {
        run_at,
        time_zone: &tz,
    };
    let query = engine::compile(db, segment, &at).await?;
    let mut confirmed = store::Cursor::new(db, campaign.id);
    let mut chunks = query.fingerprint_chunks(db).await?;
    while let Some(chunk) = chunks.next().await? {
        let unknown: Vec<i64> = chunk
            .iter()
            .filter(|r| r.1.is_none())
            .map(|r| r.0)
            .collect();
        let computed: Vec<Entry> = if unknown.is_empty() {
            Vec::new()
        } else {
            let loaded = engine::members_by_id(db, unknown).await?;
            if writer.is_some() {
                plan.learned.extend(loaded.iter().map(|m| m.id));
            }
            loaded.iter().map(members::entry_of).collect()
        };
        let mut computed = computed.into_iter().peekable();
        for (id, stored, identity) in chunk.iter() {
            // The confirmed entry is unpacked only when the plan keeps it.
            let old = confirmed.take(id, &mut plan.left).await?;
            let new = match stored {
                Some(fp) if old == Some(fp as u64) => None,
                Some(fp) => Some(Entry {
                    profile_id: id,
                    fingerprint: fp as u64,
                    identity: identity.to_owned(),
                }),
                None => match computed.next_if(|e| e.profile_id == id) {
                    Some(e) => Some(e),
                    // Deleted since its fingerprint was read: no longer a member.
                    None => {
                        if old.is_some() {
                            plan.left.push(confirmed.taken()?);
                        }
                        continue;
                    }
                },
            };
            // `entry`: the member's new entry; `None` when unchanged (the confirmed one).
            let (entry, diff) = match (new, old) {
                (None, Some(_)) => (None, Diff::Unchanged),
                (Some(e), Some(fp)) if e.fingerprint == fp => (None, Diff::Unchanged),
                (Some(e), Some(_)) => (Some(e), Diff::Changed(confirmed.taken()?)),
                (Some(e), None) => (Some(e), Diff::Joined),
                (None, None) => continue,
            };
            if let Some(consenting) = &consenting
                && !consenting.contains(&id)
            {
                consent_held += 1;
                match diff {
                    Diff::Unchanged => withdrawn.push(confirmed.taken()?),
                    Diff::Changed(o) => withdrawn.push(o),
                    Diff::Joined => {}
                }
                continue;
            }
            // The holdout is taken out before the small-audience guard: the guard is about the
            // audience Facebook holds, which the holdout never joins. A confirmed member now in
            // the holdout is removed. (The identity is part of the fingerprint: an unchanged
            // member's is the confirmed one.)
            if let Some(percent) = campaign.holdout_percent
                && in_holdout(campaign.id, identity, percent)
            {
                let entry = match entry {
                    Some(e) => e,
                    None => confirmed.taken()?,
                };
                match diff {
                    Diff::Unchanged => plan.left.push(entry.clone()),
                    Diff::Changed(o) => plan.left.push(o),
                    Diff::Joined => {}
                }
                held_out.push(entry);
                continue;
            }
            plan.members += 1;
            if first && let Some(w) = writer.as_deref_mut() {
                match &entry {
                    Some(e) => w.push(e).await?,
                    None => w.push(&confirmed.taken()?).await?,
                }
            }
            match (diff, entry) {
                (Diff::Joined, Some(e)) => {
                    plan.added += 1;
                    if !first || plan.joined.len() < SAMPLE {
                        plan.joined.push(e);
                    }
                }
                (Diff::Changed(o), Some(e)) => {
                    plan.changed_old.push(o);
                    plan.changed_new.push(e);
                }
                _ => {}
            }
        }
    }
    confirmed.rest(&mut plan.left).await?;
    plan.confirmed = confirmed.count;
    if !plan.left.is_empty() && plan.members < MIN_AUDIENCE {
        plan.held = std::mem::take(&mut plan.left);
        // Someone the raised holdout should remove but the guard keeps on Facebook is still
        // in the audience: not in the holdout, or the groups would overlap.
        let kept: std::collections::HashSet<i64> = plan.held.iter().map(|e| e.profile_id).collect();
        held_out.retain(|e| !kept.contains(&e.profile_id));
    }
    if !withdrawn.is_empty() {
        plan.left.append(&mut withdrawn);
        plan.left.sort_by_key(|e| e.profile_id);
    }
    plan.held_out = campaign.holdout_percent.map(|_| held_out);
    plan.consent_held = consenting.map(|_| consent_held);
    Ok(plan)
}

/// Stores the fingerprints of `learned`; it only saves work next time, so a failure leaves
/// them to be computed again.
async fn store_learned(db: &Db, learned: &[i64]) {
    if learned.is_empty() {
        return;
    }
    let fingerprint = |m: &Member| members::fingerprint(m) as i64;
    if let Err(err) = engine::store_fingerprints(db, learned, fingerprint).await {
        tracing::warn!(error = %err, "storing match-key fingerprints; they are computed again next run");
    }
}

impl Planned {
    /// A full replace for a new audience, or when most of the audience changes; otherwise
    /// remove and add sessions.
    fn replace(&self) -> bool {
        let churn = self.joined.len() + self.left.len() + self.changed_new.len();
        self.members > 0 && self.held.is_empty() && (self.first || churn * 2 > self.confirmed)
    }

    /// Writes the plan's batches (those of a first sync are written already) and says what
    /// the plan is.
    async fn write_batches(
        self,
        db: &Db,
        campaign_id: i64,
        w: &mut BatchWriter<'_>,
    ) -> SyncResult<repo::Plan> {
        let replace = self.replace();
        if self.first {
            w.end().await?;
        } else if replace {
            // Most of the audience changed: the segment's members are the confirmed ones read
            // again, less those that left or changed, with those that joined or changed.
            w.start("replace");
            let removed: std::collections::HashSet<i64> = self
                .left
                .iter()
                .chain(&self.changed_old)
                .map(|e| e.profile_id)
                .collect();
            let mut adds: Vec<&Entry> = self.joined.iter().chain(&self.changed_new).collect();
            adds.sort_by_key(|e| e.profile_id);
            let mut adds = adds.into_iter().peekable();
            let mut after = None;
            while let Some((chunk, entries)) = store::next_chunk(db, campaign_id, after).await? {
                after = Some(chunk);
                for o in entries {
                    let mut replaced = false;
                    while let Some(a) = adds.next_if(|a| a.profile_id <= o.profile_id) {
                        replaced |= a.profile_id == o.profile_id;
                        w.push(a).await?;
                    }
                    if !replaced && !removed.contains(&o.profile_id) {
                        w.push(&o).await?;
                    }
                }
            }
            for a in adds {
                w.push(a).await?;
            }
            w.end().await?;
        } else {
            w.start("remove");
            for e in self.left.iter().chain(&self.changed_old) {
                w.push(e).await?;
            }
            w.end().await?;
            w.start("add");
            for e in self.joined.iter().chain(&self.changed_new) {
                w.push(e).await?;
            }
            w.end().await?;
        }
        Ok(repo::Plan {
            mode: if replace { "replace" } else { "incremental" },
            members: self.members as i64,
            added: self.added as i64,
            removed: self.left.len() as i64,
            held_removals: self.held.len() as i64,
            rows_total: w.rows_total,
        })
    }
}

/// How a run ended, for the campaign's status.
#[derive(Debug, Clone, Copy)]
enum Ended {
    Started,
    Succeeded { more_runs: bool },
    Failed,
}

/// Applies a run event to the campaign's status with `shared`'s rules (read, check, write if
/// unchanged; retried when a user changed the campaign meanwhile). An event the status does
/// not allow (the user stopped the campaign) changes nothing.
async fn apply_status(
    db: &Db,
    campaign_id: i64,
    ended: Ended,
    now: Timestamp,
) -> anyhow::Result<()> {
    for _ in 0..5 {
        let Some(stored) = campaigns::repo::find(db, campaign_id).await? else {
            return Ok(());
        };
        let c = stored.campaign;
        let mut status = c.status;
        let event = match ended {
            Ended::Started => StatusEvent::RunStarted,
            Ended::Succeeded { more_runs } => StatusEvent::RunSucceeded { more_runs },
            Ended::Failed => StatusEvent::RunFailed,
        };
        // A resumed run whose start was never recorded (the process died) starts now.
        if !matches!(ended, Ended::Started)
            && status.may_run()
            && let Ok(running) = status.apply(StatusEvent::RunStarted)
        {
            status = running;
        }
        let Ok(next) = status.apply(event) else {
            return Ok(());
        };
        let next_run_at = if next.is_final() { None } else { c.next_run_at };
        let last_run_at = matches!(ended, Ended::Started).then(|| ts_to_db(now));
        let done = with_pool!(db, pool => sqlx::query(
            "update campaigns set status = $1, next_run_at = $2, \
             last_run_at = coalesce($3, last_run_at), updated_at = $4, updated_by = 'scheduler', \
             version = version + 1 where id = $5 and version = $6",
        )
        .bind(status_to_db(next))
        .bind(next_run_at.map(ts_to_db))
        .bind(last_run_at)
        .bind(ts_to_db(now))
        .bind(campaign_id)
        .bind(c.version)
        .execute(pool)
        .await?
        .rows_affected());
        if done == 1 {
            return Ok(());
        }
    }
    anyhow::bail!("campaign {campaign_id} kept changing; its status was not updated")
}

fn status_to_db(status: CampaignStatus) -> String {
    serde_json::to_value(status)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// `POST /api/campaigns/{id}/runs` without `dry_run`: queues a run at `now`.
pub async fn run_now(
    state: &AppState,
    campaign_id: i64,
    now: Timestamp,
) -> ApiResult<repo::RunRow> {
    let campaign = campaigns::get(&state.db, campaign_id).await?;
    if !campaign.status.may_run() {
        let hint = match campaign.status {
            CampaignStatus::Draft => " Publish it first.",
            CampaignStatus::Paused | CampaignStatus::NeedsAttention => " Resume it first.",
            _ => "",
        };
        return Err(ApiError::Conflict(format!(
            "A campaign that is {} cannot run now.{hint}",
            campaign.status.label().to_lowercase()
        )));
    }
    if repo::has_active_run(&state.db, campaign_id).await? {
        return Err(ApiError::Conflict(
            "A run of this campaign is already queued or in progress; wait for it to finish."
                .into(),
        ));
    }
    let new = scheduler::NewRun {
        campaign_id,
        slot: None,
        trigger: "manual",
        run_at: now,
        late: false,
        missed_slots: 0,
    };
    let id = scheduler::insert_run(state, &new, now, None)
        .await?
        .ok_or_else(|| anyhow::anyhow!("a run without a slot was not inserted"))?;
    Ok(repo::run(&state.db, id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("run {id} vanished"))?)
}

/// Who a dry run would add and remove.
#[derive(Debug, Serialize)]
struct DrySample<'a> {
    add: Vec<&'a str>,
    remove: Vec<&'a str>,
    held: Vec<&'a str>,
}

/// `POST /api/campaigns/{id}/runs` with `dry_run`: the counts and a sample of who would be added
/// and removed now, recorded in the history; nothing is sent to Facebook.
pub async fn dry_run(
    state: &AppState,
    campaign_id: i64,
    now: Timestamp,
) -> ApiResult<repo::RunRow> {
    let campaign = campaigns::get(&state.db, campaign_id).await?;
    if campaign.audience.is_none() {
        return Err(ApiError::Validation(vec![FieldError::new(
            "audience",
            "Choose who is in the audience before a dry run.",
        )]));
    }
    let started = std::time::Instant::now();
    let planned = compute(state, &campaign, now, None)
        .await
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("{e}")))?;
    let names = |list: &[Entry]| -> Vec<String> {
        list.iter()
            .take(SAMPLE)
            .map(|e| e.identity.clone())
            .collect()
    };
    let (add, remove, held) = (
        names(&planned.joined),
        names(&planned.left),
        names(&planned.held),
    );
    let sample = DrySample {
        add: add.iter().map(String::as_str).collect(),
        remove: remove.iter().map(String::as_str).collect(),
        held: held.iter().map(String::as_str).collect(),
    };
    let sample = serde_json::to_string(&sample).map_err(anyhow::Error::from)?;
    let counts = (
        planned.members as i64,
        planned.added as i64,
        planned.left.len() as i64,
        planned.held.len() as i64,
    );
    let ms = started.elapsed().as_millis() as i64;
    let id = repo::insert_dry_run(&state.db, campaign_id, now, counts, &sample, ms, now).await?;
    if let Some(held_out) = &planned.held_out {
        holdout::save_count(&state.db, id, held_out.len()).await?;
    }
    consent::save_count(&state.db, id, planned.consent_held).await?;
    Ok(repo::run(&state.db, id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("run {id} vanished"))?)
}
