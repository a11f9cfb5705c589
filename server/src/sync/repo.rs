//! SQL of the sync: runs, their batches, and each campaign's audience and confirmed membership.
//! Every query is portable between SQLite and PostgreSQL ([`with_pool`]).

use jiff::Timestamp;

use super::{
    members,
    store::{self, ChunkBuilder, NewMembership},
};
use crate::{
    campaigns::repo::ts_to_db,
    db::{Db, with_pool},
};

/// A run as stored (everything but the planned membership blob); the API shape is
/// [`shared::sync::RunRow`], so the browser reads the same definition.
pub use shared::sync::RunRow;

const RUN_COLUMNS: &str = "id, campaign_id, slot, trigger, run_at, late, missed_slots, state, \
     phase, mode, rows_total, rows_done, members, added, removed, held_removals, held_out, consent_held, invalid_entries, \
     invalid_samples, sample, approx_before_lower, approx_before_upper, approx_after_lower, \
     approx_after_upper, audience_id, error, advice, notes, started_at, finished_at, duration_ms, \
     created_at";

pub async fn run(db: &Db, id: i64) -> sqlx::Result<Option<RunRow>> {
    let sql = format!("select {RUN_COLUMNS} from sync_runs where id = $1");
    let row: Option<RunRow> =
        with_pool!(db, pool => sqlx::query_as(&sql).bind(id).fetch_optional(pool).await?);
    Ok(row)
}

/// A campaign's runs, newest first.
pub async fn runs_of(db: &Db, campaign_id: i64, limit: i64) -> sqlx::Result<Vec<RunRow>> {
    let sql = format!(
        "select {RUN_COLUMNS} from sync_runs where campaign_id = $1 order by id desc limit $2"
    );
    let rows: Vec<RunRow> = with_pool!(db, pool => {
        sqlx::query_as(&sql).bind(campaign_id).bind(limit).fetch_all(pool).await?
    });
    Ok(rows)
}

/// Whether the campaign has a run that is queued or under way.
pub async fn has_active_run(db: &Db, campaign_id: i64) -> sqlx::Result<bool> {
    let n: i64 = with_pool!(db, pool => sqlx::query_scalar(
        "select count(*) from sync_runs where campaign_id = $1 \
         and state in ('queued', 'running', 'retrying')",
    )
    .bind(campaign_id)
    .fetch_one(pool)
    .await?);
    Ok(n > 0)
}

/// A run waits for a retry: what happened and what it means.
pub async fn mark_retrying(db: &Db, id: i64, error: &str, advice: &str) -> sqlx::Result<()> {
    with_pool!(db, pool => sqlx::query(
        "update sync_runs set state = 'retrying', error = $1, advice = $2 where id = $3",
    )
    .bind(error)
    .bind(advice)
    .bind(id)
    .execute(pool)
    .await
    .map(drop)?);
    Ok(())
}

/// A retried run is under way again: the error that made it wait is history, and the run
/// history shows the run as it is now.
pub async fn mark_resumed(db: &Db, id: i64) -> sqlx::Result<()> {
    with_pool!(db, pool => sqlx::query(
        "update sync_runs set state = 'running', error = null, advice = null \
         where id = $1 and state = 'retrying'",
    )
    .bind(id)
    .execute(pool)
    .await
    .map(drop)?);
    Ok(())
}

/// Another run of the same campaign that has started and not finished.
pub async fn other_active_run(db: &Db, campaign_id: i64, run_id: i64) -> sqlx::Result<Option<i64>> {
    with_pool!(db, pool => sqlx::query_scalar(
        "select id from sync_runs where campaign_id = $1 and id <> $2 \
         and state in ('running', 'retrying') order by id limit 1",
    )
    .bind(campaign_id)
    .bind(run_id)
    .fetch_optional(pool)
    .await)
}

/// Adds a line to the run's notes (see [`RunRow::notes`]).
pub async fn add_note(db: &Db, id: i64, note: &str) -> sqlx::Result<()> {
    with_pool!(db, pool => sqlx::query(
        "update sync_runs set notes = coalesce(notes || $1, '') || $2 where id = $3",
    )
    .bind("\n")
    .bind(note)
    .bind(id)
    .execute(pool)
    .await
    .map(drop)?);
    Ok(())
}

/// Moves a run to another phase (what the progress display says it is doing).
pub async fn set_phase(db: &Db, id: i64, phase: &str) -> sqlx::Result<()> {
    with_pool!(db, pool => sqlx::query("update sync_runs set phase = $1 where id = $2")
        .bind(phase)
        .bind(id)
        .execute(pool)
    .await
    .map(drop)?);
    Ok(())
}

pub async fn mark_started(db: &Db, id: i64, now: Timestamp) -> sqlx::Result<()> {
    with_pool!(db, pool => sqlx::query(
        "update sync_runs set state = 'running', phase = 'computing', \
         started_at = coalesce(started_at, $1) where id = $2",
    )
    .bind(ts_to_db(now))
    .bind(id)
    .execute(pool)
    .await
    .map(drop)?);
    Ok(())
}

/// Ends a run that did not sync: failed (with what to do) or skipped.
pub async fn finish_unsynced(
    db: &Db,
    id: i64,
    state: &str,
    error: &str,
    advice: Option<&str>,
    now: Timestamp,
) -> sqlx::Result<()> {
    with_pool!(db, pool => sqlx::query(
        "update sync_runs set state = $1, phase = 'done', error = $2, advice = $3, \
         finished_at = $4, target_members = null where id = $5",
    )
    .bind(state)
    .bind(error)
    .bind(advice)
    .bind(ts_to_db(now))
    .bind(id)
    .execute(pool)
    .await
    .map(drop)?);
    crate::metrics::sync_run_ended(state);
    Ok(())
}

/// The audience a run syncs into, and its approximate size before anything is sent.
pub async fn set_audience(
    db: &Db,
    id: i64,
    audience_id: &str,
    lower: i64,
    upper: i64,
) -> sqlx::Result<()> {
    with_pool!(db, pool => sqlx::query(
        "update sync_runs set audience_id = $1, approx_before_lower = $2,          approx_before_upper = $3 where id = $4",
    )
    .bind(audience_id)
    .bind(lower)
    .bind(upper)
    .bind(id)
    .execute(pool)
    .await
    .map(drop)?);
    Ok(())
}

/// A campaign's audience on Facebook and how many people it was confirmed to hold (the
/// membership itself is in chunks: `sync::store`).
#[derive(Debug, Clone, Default, sqlx::FromRow)]
pub struct AudienceRow {
    pub audience_id: Option<String>,
    pub member_count: i64,
}

pub async fn audience(db: &Db, campaign_id: i64) -> sqlx::Result<Option<AudienceRow>> {
    with_pool!(db, pool => sqlx::query_as(
        "select audience_id, member_count from sync_audiences where campaign_id = $1",
    )
    .bind(campaign_id)
    .fetch_optional(pool)
    .await)
}

/// Remembers the audience created for a campaign (before anything is sent to it).
pub async fn save_audience_id(
    db: &Db,
    campaign_id: i64,
    ad_account_id: &str,
    audience_id: &str,
    now: Timestamp,
) -> sqlx::Result<()> {
    with_pool!(db, pool => sqlx::query(
        "insert into sync_audiences (campaign_id, audience_id, ad_account_id, member_count, \
         updated_at) values ($1, $2, $3, 0, $4) \
         on conflict (campaign_id) do update set audience_id = excluded.audience_id, \
         ad_account_id = excluded.ad_account_id, updated_at = excluded.updated_at",
    )
    .bind(campaign_id)
    .bind(audience_id)
    .bind(ad_account_id)
    .bind(ts_to_db(now))
    .execute(pool)
    .await
    .map(drop)?);
    Ok(())
}

/// A batch of a run.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct BatchRow {
    pub seq: i64,
    pub op: String,
    pub session_id: i64,
    pub batch_seq: i64,
    pub last_batch: bool,
    pub rows: i64,
    pub state: String,
}

/// A batch to record before anything is sent.
pub struct NewBatch {
    pub op: &'static str,
    pub session_id: i64,
    pub batch_seq: i64,
    pub last_batch: bool,
    pub rows: i64,
    pub members: Vec<u8>,
}

/// What the plan of a run decided; its batches are written before it ([`insert_batch`]).
pub struct Plan {
    pub mode: &'static str,
    pub members: i64,
    pub added: i64,
    pub removed: i64,
    pub held_removals: i64,
    pub rows_total: i64,
}

/// Deletes what an interrupted plan of the run wrote: planning starts again.
pub async fn clear_batches(db: &Db, run_id: i64) -> sqlx::Result<()> {
    with_pool!(db, pool => sqlx::query("delete from sync_batches where run_id = $1")
        .bind(run_id)
        .execute(pool)
        .await
        .map(drop))
}

/// Writes batch `seq` of a plan being made. The batches count only once the plan is saved
/// ([`save_plan`] moves the run to `sending`): a plan interrupted before that is made again
/// from the start ([`clear_batches`]), so they are written as the plan streams the segment,
/// not held in memory for one transaction (260 MB of batches for a 10M-member replace).
pub async fn insert_batch(db: &Db, run_id: i64, seq: i64, b: &NewBatch) -> sqlx::Result<()> {
    with_pool!(db, pool => sqlx::query(
        "insert into sync_batches (run_id, seq, op, session_id, batch_seq, last_batch, \
         rows, members, state) values ($1, $2, $3, $4, $5, $6, $7, $8, 'planned')",
    )
    .bind(run_id)
    .bind(seq)
    .bind(b.op)
    .bind(b.session_id)
    .bind(b.batch_seq)
    .bind(b.last_batch)
    .bind(b.rows)
    .bind(&b.members)
    .execute(pool)
    .await
    .map(drop))
}

/// Saves the plan whose batches are written: from now on the run sends them, and a resumed
/// run does not plan again.
pub async fn save_plan(db: &Db, run_id: i64, plan: &Plan) -> sqlx::Result<()> {
    with_pool!(db, pool => sqlx::query(
        "update sync_runs set phase = 'sending', mode = $1, members = $2, added = $3, \
         removed = $4, held_removals = $5, rows_total = $6, rows_done = 0, \
         target_members = null where id = $7",
    )
    .bind(plan.mode)
    .bind(plan.members)
    .bind(plan.added)
    .bind(plan.removed)
    .bind(plan.held_removals)
    .bind(plan.rows_total)
    .bind(run_id)
    .execute(pool)
    .await
    .map(drop))
}

/// The batches not yet confirmed sent, in order.
pub async fn pending_batches(db: &Db, run_id: i64) -> sqlx::Result<Vec<BatchRow>> {
    with_pool!(db, pool => sqlx::query_as(
        "select seq, op, session_id, batch_seq, last_batch, rows, state \
         from sync_batches where run_id = $1 and state <> 'sent' order by seq",
    )
    .bind(run_id)
    .fetch_all(pool)
    .await)
}

/// Rows of the session's batches up to and including `seq`: what Facebook must have received
/// if batch `seq` arrived.
pub async fn session_rows_through(
    db: &Db,
    run_id: i64,
    session_id: i64,
    seq: i64,
) -> sqlx::Result<i64> {
    with_pool!(db, pool => sqlx::query_scalar(
        "select cast(coalesce(sum(rows), 0) as bigint) from sync_batches \
         where run_id = $1 and session_id = $2 and seq <= $3",
    )
    .bind(run_id)
    .bind(session_id)
    .bind(seq)
    .fetch_one(pool)
    .await)
}

/// Invalid entries Facebook reported for the session's batches sent before `seq` (its
/// `/sessions` count is for the whole session).
pub async fn session_invalid_before(
    db: &Db,
    run_id: i64,
    session_id: i64,
    seq: i64,
) -> sqlx::Result<i64> {
    with_pool!(db, pool => sqlx::query_scalar(
        "select cast(coalesce(sum(num_invalid), 0) as bigint) from sync_batches \
         where run_id = $1 and session_id = $2 and seq < $3 and state = 'sent'",
    )
    .bind(run_id)
    .bind(session_id)
    .bind(seq)
    .fetch_one(pool)
    .await)
}

/// Records that a batch is about to be sent.
pub async fn mark_sending(db: &Db, run_id: i64, seq: i64) -> sqlx::Result<()> {
    with_pool!(db, pool => sqlx::query(
        "update sync_batches set state = 'sending' where run_id = $1 and seq = $2",
    )
    .bind(run_id)
    .bind(seq)
    .execute(pool)
    .await
    .map(drop)?);
    Ok(())
}

/// Facebook's answer to one batch, as recorded.
pub struct Answer {
    pub num_received: i64,
    pub num_invalid: i64,
    /// JSON array of strings.
    pub samples: String,
}

/// Records Facebook's answer to a batch and moves the run's progress on, in one transaction.
pub async fn mark_sent(
    db: &Db,
    run_id: i64,
    seq: i64,
    rows: i64,
    answer: &Answer,
    now: Timestamp,
) -> sqlx::Result<()> {
    with_pool!(db, pool => {
        let mut tx = pool.begin().await?;
        sqlx::query(
            "update sync_batches set state = 'sent', num_received = $1, num_invalid = $2, \
             samples = $3, sent_at = $4 where run_id = $5 and seq = $6",
        )
        .bind(answer.num_received)
        .bind(answer.num_invalid)
        .bind(&answer.samples)
        .bind(ts_to_db(now))
        .bind(run_id)
        .bind(seq)
        .execute(&mut *tx)
        .await?;
        sqlx::query("update sync_runs set rows_done = rows_done + $1 where id = $2")
            .bind(rows)
            .bind(run_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
    });
    crate::metrics::sync_rows_sent(rows);
    Ok(())
}

/// Facebook's invalid-entry counts and samples over the run's batches.
pub async fn invalid_totals(db: &Db, run_id: i64) -> sqlx::Result<(i64, Vec<String>)> {
    let rows: Vec<(Option<i64>, Option<String>)> = with_pool!(db, pool => sqlx::query_as(
        "select num_invalid, samples from sync_batches where run_id = $1 order by seq",
    )
    .bind(run_id)
    .fetch_all(pool)
    .await?);
    let mut total = 0;
    let mut samples = Vec::new();
    for (n, s) in rows {
        total += n.unwrap_or(0);
        if let Some(s) = s
            && let Ok(list) = serde_json::from_str::<Vec<String>>(&s)
        {
            let room = 100usize.saturating_sub(samples.len());
            samples.extend(list.into_iter().take(room));
        }
    }
    Ok((total, samples))
}

/// The seq and op of every batch of a run, in order.
pub async fn batch_ops(db: &Db, run_id: i64) -> sqlx::Result<Vec<(i64, String)>> {
    with_pool!(db, pool => sqlx::query_as(
        "select seq, op from sync_batches where run_id = $1 order by seq",
    )
    .bind(run_id)
    .fetch_all(pool)
    .await)
}

/// The members of batch `seq` of a run, packed.
pub async fn batch_blob(db: &Db, run_id: i64, seq: i64) -> sqlx::Result<Vec<u8>> {
    with_pool!(db, pool => sqlx::query_scalar(
        "select members from sync_batches where run_id = $1 and seq = $2",
    )
    .bind(run_id)
    .bind(seq)
    .fetch_one(pool)
    .await)
}

/// The op and members of every batch of a run, in order.
pub async fn batch_members(db: &Db, run_id: i64) -> sqlx::Result<Vec<(String, Vec<u8>)>> {
    with_pool!(db, pool => sqlx::query_as(
        "select op, members from sync_batches where run_id = $1 order by seq",
    )
    .bind(run_id)
    .fetch_all(pool)
    .await)
}

/// Records that the campaign's audience is about to be created on Facebook (a row without an
/// audience id), so an attempt after a crash knows to look for it before creating another.
pub async fn record_audience_intent(
    db: &Db,
    campaign_id: i64,
    ad_account_id: &str,
    now: Timestamp,
) -> sqlx::Result<()> {
    with_pool!(db, pool => sqlx::query(
        "insert into sync_audiences (campaign_id, audience_id, ad_account_id, member_count, \
         updated_at) values ($1, null, $2, 0, $3) on conflict (campaign_id) do nothing",
    )
    .bind(campaign_id)
    .bind(ad_account_id)
    .bind(ts_to_db(now))
    .execute(pool)
    .await
    .map(drop)?);
    Ok(())
}

/// Moves the unsent batches of upload session `old` to the new session `new`, numbered from 1
/// (`whole`: every batch of the session, sent or not, to be sent again — a replace).
pub async fn restart_session(
    db: &Db,
    run_id: i64,
    old: i64,
    new: i64,
    whole: bool,
) -> sqlx::Result<()> {
    with_pool!(db, pool => {
        let mut tx = pool.begin().await?;
        let state_filter = if whole { "" } else { " and state <> 'sent'" };
        let seqs: Vec<(i64, i64, String)> = sqlx::query_as(&format!(
            "select seq, rows, state from sync_batches where run_id = $1 and session_id = $2{state_filter} \
             order by seq"
        ))
        .bind(run_id)
        .bind(old)
        .fetch_all(&mut *tx)
        .await?;
        let mut undone = 0_i64;
        for (n, (seq, rows, state)) in (1_i64..).zip(&seqs) {
            if state == "sent" {
                undone += rows;
            }
            sqlx::query(
                "update sync_batches set session_id = $1, batch_seq = $2, state = 'planned', \
                 num_received = null, num_invalid = null, samples = null, sent_at = null \
                 where run_id = $3 and seq = $4",
            )
            .bind(new)
            .bind(n)
            .bind(run_id)
            .bind(seq)
            .execute(&mut *tx)
            .await?;
        }
        sqlx::query("update sync_runs set rows_done = rows_done - $1 where id = $2")
            .bind(undone)
            .bind(run_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
    });
    Ok(())
}

/// What a finished run reports.
pub struct Finished<'a> {
    /// How the membership Facebook now holds follows from the confirmed one (see
    /// `sync::store`).
    pub membership: NewMembership,
    pub campaign_id: i64,
    pub ad_set_id: &'a str,
    pub invalid_entries: i64,
    pub invalid_samples: String,
    pub approx_after: Option<(i64, i64)>,
    pub member_count: i64,
    pub duration_ms: i64,
}

/// The run succeeded: its target membership becomes the confirmed one, in one transaction with
/// the run's final numbers, so a crash leaves either the old state (and the run resumable) or
/// the new one. Only the membership's chunks the run changes are written: for a replace, the
/// whole membership from the run's batches, one batch and one chunk in memory at a time. The
/// batches keep their member lists: the stats' conversions replay them to know when each
/// member joined and left (`stats::conversions`).
pub async fn finish(db: &Db, run_id: i64, f: &Finished<'_>, now: Timestamp) -> anyhow::Result<()> {
    let now = ts_to_db(now);
    let (lower, upper) = f.approx_after.unzip();
    let campaign_id = f.campaign_id;
    with_pool!(db, pool => {
        let mut tx = pool.begin().await?;
        // A write first: SQLite takes its write lock here, before the reads below.
        sqlx::query(
            "update sync_runs set state = 'succeeded', phase = 'done', error = null, advice = null, \
             invalid_entries = $1, invalid_samples = $2, approx_after_lower = $3, \
             approx_after_upper = $4, finished_at = $5, duration_ms = $6, target_members = null \
             where id = $7",
        )
        .bind(f.invalid_entries)
        .bind(&f.invalid_samples)
        .bind(lower)
        .bind(upper)
        .bind(&now)
        .bind(f.duration_ms)
        .bind(run_id)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "update sync_audiences set members = null, \
             member_count = $1, attached_ad_set = $2, updated_at = $3 where campaign_id = $4",
        )
        .bind(f.member_count)
        .bind(f.ad_set_id)
        .bind(&now)
        .bind(campaign_id)
        .execute(&mut *tx)
        .await?;
        match &f.membership {
            NewMembership::Replace { erased } => {
                sqlx::query("delete from sync_members where campaign_id = $1")
                    .bind(campaign_id)
                    .execute(&mut *tx)
                    .await?;
                let seqs: Vec<i64> = sqlx::query_scalar(
                    "select seq from sync_batches where run_id = $1 and op = 'replace' order by seq",
                )
                .bind(run_id)
                .fetch_all(&mut *tx)
                .await?;
                let mut builder = ChunkBuilder::default();
                let mut full = Vec::new();
                for seq in seqs {
                    let blob: Vec<u8> = sqlx::query_scalar(
                        "select members from sync_batches where run_id = $1 and seq = $2",
                    )
                    .bind(run_id)
                    .bind(seq)
                    .fetch_one(&mut *tx)
                    .await?;
                    for (id, record) in members::records(&blob)? {
                        if !erased.contains(&id) {
                            full.extend(builder.push(id, record)?);
                        }
                    }
                    for (chunk, packed) in full.drain(..) {
                        store::put_chunk!(tx, campaign_id, chunk, packed)?;
                    }
                }
                if let Some((chunk, packed)) = builder.finish() {
                    store::put_chunk!(tx, campaign_id, chunk, packed)?;
                }
            }
            NewMembership::Apply { removed, added } => {
                let touched: std::collections::BTreeSet<i64> = removed
                    .iter()
                    .copied()
                    .chain(added.iter().map(|e| e.profile_id))
                    .map(store::chunk_of)
                    .collect();
                for chunk in touched {
                    let from = added.partition_point(|e| store::chunk_of(e.profile_id) < chunk);
                    let to = added.partition_point(|e| store::chunk_of(e.profile_id) <= chunk);
                    let old: Option<Vec<u8>> = sqlx::query_scalar(
                        "select members from sync_members where campaign_id = $1 and chunk = $2",
                    )
                    .bind(campaign_id)
                    .bind(chunk)
                    .fetch_optional(&mut *tx)
                    .await?;
                    let new = store::apply(old.as_deref().unwrap_or(&[]), removed, &added[from..to])?;
                    if old.as_ref() == Some(&new) {
                        continue;
                    }
                    if new.is_empty() {
                        sqlx::query("delete from sync_members where campaign_id = $1 and chunk = $2")
                            .bind(campaign_id)
                            .bind(chunk)
                            .execute(&mut *tx)
                            .await?;
                    } else {
                        store::put_chunk!(tx, campaign_id, chunk, new)?;
                    }
                }
            }
        }
        tx.commit().await?;
    });
    crate::metrics::sync_run_ended("succeeded");
    Ok(())
}

/// Records a dry run: counts and a sample, nothing sent.
pub async fn insert_dry_run(
    db: &Db,
    campaign_id: i64,
    run_at: Timestamp,
    counts: (i64, i64, i64, i64),
    sample: &str,
    duration_ms: i64,
    now: Timestamp,
) -> sqlx::Result<i64> {
    let now = ts_to_db(now);
    let (members, added, removed, held) = counts;
    with_pool!(db, pool => sqlx::query_scalar(
        "insert into sync_runs (campaign_id, trigger, run_at, state, phase, members, added, \
         removed, held_removals, sample, started_at, finished_at, duration_ms, created_at) \
         values ($1, 'dry_run', $2, 'succeeded', 'done', $3, $4, $5, $6, $7, $8, $8, $9, $8) \
         returning id",
    )
    .bind(campaign_id)
    .bind(ts_to_db(run_at))
    .bind(members)
    .bind(added)
    .bind(removed)
    .bind(held)
    .bind(sample)
    .bind(&now)
    .bind(duration_ms)
    .fetch_one(pool)
    .await)
}

/// The latest run (dry runs aside) of each of `campaign_ids`, with the audience size of the
/// latest succeeded one: one query for the whole campaign list.
pub async fn last_runs(
    db: &Db,
    campaign_ids: &[i64],
) -> sqlx::Result<std::collections::HashMap<i64, shared::sync::LastRun>> {
    if campaign_ids.is_empty() {
        return Ok(Default::default());
    }
    type Row = (
        i64,
        String,
        Option<String>,
        Option<i64>,
        Option<i64>,
        Option<i64>,
    );
    let rows: Vec<Row> = with_pool!(db, pool => {
        let mut query = sqlx::QueryBuilder::new(
            "select r.campaign_id, r.state, r.finished_at, r.added, r.removed, \
             (select s.members from sync_runs s where s.campaign_id = r.campaign_id \
              and s.trigger <> 'dry_run' and s.state = 'succeeded' order by s.id desc limit 1) \
             from sync_runs r where r.id in (select max(m.id) from sync_runs m \
             where m.trigger <> 'dry_run' and m.campaign_id in (",
        );
        let mut list = query.separated(", ");
        for id in campaign_ids {
            list.push_bind(*id);
        }
        query.push(") group by m.campaign_id)");
        query.build_query_as().fetch_all(pool).await?
    });
    Ok(rows
        .into_iter()
        .map(|(campaign_id, state, finished_at, added, removed, size)| {
            let last = shared::sync::LastRun {
                state,
                finished_at,
                audience_size: size,
                added,
                removed,
            };
            (campaign_id, last)
        })
        .collect())
}

/// The latest succeeded run (dry runs aside) of a campaign: the stats page's sync figures.
pub async fn latest_succeeded(db: &Db, campaign_id: i64) -> sqlx::Result<Option<RunRow>> {
    let sql = format!(
        "select {RUN_COLUMNS} from sync_runs where campaign_id = $1 and state = 'succeeded' \
         and trigger <> 'dry_run' order by id desc limit 1"
    );
    let row: Option<RunRow> = with_pool!(db, pool => {
        sqlx::query_as(&sql).bind(campaign_id).fetch_optional(pool).await?
    });
    Ok(row)
}

#[cfg(test)]
mod tests {
    //! The sync's SQL on both backends: SQLite always, PostgreSQL when `TEST_POSTGRES_URL` names
    //! an admin URL (a throwaway database is created and dropped).

    use super::*;

    async fn exercise(db: &Db) {
        db.migrate().await.unwrap();
        let now = Timestamp::now();
        let at = ts_to_db(now);
        let campaign_id: i64 = with_pool!(db, pool => sqlx::query_scalar(
            "insert into campaigns (name, name_lower, channel, status, created_at, updated_at, \
             created_by, updated_by, version) values ('c', 'c', 'facebook', 'scheduled', $1, $1, \
             'me', 'me', 1) returning id",
        )
        .bind(&at)
        .fetch_one(pool)
        .await
        .unwrap());
        let profile_id: i64 = with_pool!(db, pool => sqlx::query_scalar(
            "insert into profiles (identity, email, created_at, updated_at) \
             values ('u1', 'a@b.co', 0, 0) returning id",
        )
        .fetch_one(pool)
        .await
        .unwrap());
        let run_id: i64 = with_pool!(db, pool => sqlx::query_scalar(
            "insert into sync_runs (campaign_id, trigger, run_at, state, phase, created_at) \
             values ($1, 'manual', $2, 'running', 'computing', $2) returning id",
        )
        .bind(campaign_id)
        .bind(&at)
        .fetch_one(pool)
        .await
        .unwrap());

        // Notes add up, one per line; a resumed run no longer shows the error it waited on.
        add_note(db, run_id, "first").await.unwrap();
        add_note(db, run_id, "second").await.unwrap();
        mark_retrying(db, run_id, "throttled", "wait")
            .await
            .unwrap();
        mark_resumed(db, run_id).await.unwrap();
        let r = run(db, run_id).await.unwrap().unwrap();
        assert_eq!(r.notes.as_deref(), Some("first\nsecond"));
        assert_eq!(
            (r.state.as_str(), r.error, r.advice),
            ("running", None, None)
        );

        // The intent first, then the id; a second intent changes nothing.
        record_audience_intent(db, campaign_id, "act_1", now)
            .await
            .unwrap();
        record_audience_intent(db, campaign_id, "act_1", now)
            .await
            .unwrap();
        let row = audience(db, campaign_id).await.unwrap().unwrap();
        assert_eq!(row.audience_id, None);
        save_audience_id(db, campaign_id, "act_1", "ca1", now)
            .await
            .unwrap();

        let batch = |seq: i64, last: bool| NewBatch {
            op: "add",
            session_id: 7,
            batch_seq: seq,
            last_batch: last,
            rows: 2,
            members: vec![seq as u8; 4],
        };
        let plan = Plan {
            mode: "incremental",
            members: 6,
            added: 6,
            removed: 0,
            held_removals: 0,
            rows_total: 6,
        };
        // An interrupted plan's batches are cleared before it is made again.
        insert_batch(db, run_id, 1, &batch(9, false)).await.unwrap();
        clear_batches(db, run_id).await.unwrap();
        for (seq, b) in [
            (1, batch(1, false)),
            (2, batch(2, false)),
            (3, batch(3, true)),
        ] {
            insert_batch(db, run_id, seq, &b).await.unwrap();
        }
        save_plan(db, run_id, &plan).await.unwrap();
        let answer = Answer {
            num_received: 2,
            num_invalid: 1,
            samples: "[]".into(),
        };
        mark_sending(db, run_id, 1).await.unwrap();
        mark_sent(db, run_id, 1, 2, &answer, now).await.unwrap();
        mark_sending(db, run_id, 2).await.unwrap();
        assert_eq!(session_rows_through(db, run_id, 7, 2).await.unwrap(), 4);
        assert_eq!(session_invalid_before(db, run_id, 7, 2).await.unwrap(), 1);
        assert_eq!(session_invalid_before(db, run_id, 7, 1).await.unwrap(), 0);

        // The session expired: the unsent batches move to session 8, numbered from 1.
        restart_session(db, run_id, 7, 8, false).await.unwrap();
        let pending = pending_batches(db, run_id).await.unwrap();
        let moved: Vec<(i64, i64, i64, &str)> = pending
            .iter()
            .map(|b| (b.seq, b.session_id, b.batch_seq, b.state.as_str()))
            .collect();
        assert_eq!(moved, vec![(2, 8, 1, "planned"), (3, 8, 2, "planned")]);
        assert_eq!(run(db, run_id).await.unwrap().unwrap().rows_done, 2);
        // A replace session is sent again whole: what was sent no longer counts.
        restart_session(db, run_id, 8, 9, true).await.unwrap();
        restart_session(db, run_id, 7, 10, true).await.unwrap();
        assert_eq!(run(db, run_id).await.unwrap().unwrap().rows_done, 0);
        assert_eq!(pending_batches(db, run_id).await.unwrap().len(), 3);

        let blobs = batch_members(db, run_id).await.unwrap();
        assert_eq!(blobs.len(), 3);
        assert_eq!(blobs[1], ("add".to_owned(), vec![2u8; 4]));
        assert_eq!(batch_blob(db, run_id, 2).await.unwrap(), vec![2u8; 4]);

        // A confirmed membership across chunks; the run removes one member and adds two.
        let entry = |id: i64| members::Entry {
            profile_id: id,
            fingerprint: 1,
            identity: format!("u{id}"),
        };
        let first = store::CHUNK_IDS;
        for (chunk, ids) in [(0, vec![1, 2]), (1, vec![first]), (3, vec![3 * first + 1])] {
            let packed = members::encode(&ids.into_iter().map(entry).collect::<Vec<_>>());
            with_pool!(db, pool => {
                sqlx::query(
                    "insert into sync_members (campaign_id, chunk, members) values ($1, $2, $3)",
                )
                .bind(campaign_id)
                .bind(chunk)
                .bind(packed)
                .execute(pool)
                .await
                .unwrap();
            });
        }
        let finished = Finished {
            membership: NewMembership::Apply {
                removed: [first].into(),
                added: vec![entry(3), entry(2 * first)],
            },
            campaign_id,
            ad_set_id: "as1",
            invalid_entries: 0,
            invalid_samples: "[]".into(),
            approx_after: Some((5, 7)),
            member_count: 6,
            duration_ms: 1,
        };
        finish(db, run_id, &finished, now).await.unwrap();
        let row = audience(db, campaign_id).await.unwrap().unwrap();
        assert_eq!(row.member_count, 6);
        let mut chunks = Vec::new();
        let mut after = None;
        while let Some((chunk, entries)) = store::next_chunk(db, campaign_id, after).await.unwrap()
        {
            after = Some(chunk);
            chunks.push((
                chunk,
                entries.iter().map(|e| e.profile_id).collect::<Vec<_>>(),
            ));
        }
        // Chunk 1 emptied and is gone, chunk 2 is new, chunk 3 untouched.
        assert_eq!(
            chunks,
            [
                (0, vec![1, 2, 3]),
                (2, vec![2 * first]),
                (3, vec![3 * first + 1])
            ]
        );
        // Kept for the conversions' membership replay.
        assert_eq!(batch_members(db, run_id).await.unwrap(), blobs);
        assert_eq!(run(db, run_id).await.unwrap().unwrap().state, "succeeded");

        let members = crate::sync::load_members_for_test(db, &[profile_id]).await;
        assert_eq!(members.len(), 1);
        assert_eq!(members[0].email.as_deref(), Some("a@b.co"));
    }

    #[tokio::test]
    async fn the_sync_sql_runs_on_sqlite() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::connect(&format!("sqlite://{}/t.db", dir.path().display()))
            .await
            .unwrap();
        exercise(&db).await;
    }

    #[tokio::test]
    async fn the_sync_sql_runs_on_postgres() {
        // A scratch database dropped `with (force)`: a plain drop raced the pool's closing
        // connections and failed now and then.
        let Some(scratch) =
            crate::db::scratch::ScratchDb::create("the_sync_sql_runs_on_postgres").await
        else {
            return;
        };
        exercise(&scratch.db).await;
    }
}
