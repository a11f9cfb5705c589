//! The `jobs` table: enqueue, claim with a lease, renew, complete, retry, fail.
//!
//! Claiming is one atomic statement per backend. SQLite takes its write lock for the single
//! `update … returning`, so two processes cannot claim the same row; PostgreSQL picks the row
//! with `for update skip locked`, so concurrent workers skip each other's candidates instead of
//! waiting. A job whose lease has expired (its worker died) is claimable again.

use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use serde::Serialize;

use crate::{
    campaigns::repo::ts_to_db,
    db::{Db, with_pool},
};

/// A claimed job.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Job {
    pub id: i64,
    pub kind: String,
    pub payload: String,
    /// Including this one.
    pub attempts: i64,
    pub max_attempts: i64,
}

/// A job as the API shows it.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct JobView {
    pub id: i64,
    pub kind: String,
    /// The job's input, as JSON text.
    pub payload: String,
    /// `queued`, `running`, `done` or `failed`.
    pub state: String,
    pub attempts: i64,
    pub max_attempts: i64,
    /// Not before this instant (RFC 3339).
    pub run_at: String,
    pub lease_owner: Option<String>,
    pub lease_expires_at: Option<String>,
    pub last_error: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

fn plus(now: Timestamp, d: Duration) -> Timestamp {
    now.checked_add(SignedDuration::try_from(d).unwrap_or(SignedDuration::MAX))
        .unwrap_or(now)
}

/// Adds a job inside the caller's transaction, so it exists exactly when the caller's write does.
macro_rules! enqueue_in {
    ($tx:expr, $kind:expr, $payload:expr, $max_attempts:expr, $now:expr) => {{
        let now = $crate::campaigns::repo::ts_to_db($now);
        sqlx::query_scalar::<_, i64>(
            "insert into jobs (kind, payload, state, attempts, max_attempts, run_at, created_at, \
             updated_at) values ($1, $2, 'queued', 0, $3, $4, $4, $4) returning id",
        )
        .bind($kind)
        .bind($payload)
        .bind($max_attempts)
        .bind(&now)
        .fetch_one(&mut *$tx)
        .await
    }};
}
pub(crate) use enqueue_in;

const CLAIMABLE: &str = "(state = 'queued' and run_at <= $3) \
     or (state = 'running' and lease_expires_at <= $3)";

/// Claims the job that is due first, leasing it to `owner` until `now + lease`.
pub async fn claim(
    db: &Db,
    owner: &str,
    now: Timestamp,
    lease: Duration,
) -> sqlx::Result<Option<Job>> {
    let until = ts_to_db(plus(now, lease));
    let now = ts_to_db(now);
    match db {
        Db::Sqlite(pool) => {
            let sql = format!(
                "update jobs set state = 'running', attempts = attempts + 1, lease_owner = $1, \
                 lease_expires_at = $2, updated_at = $3 \
                 where id = (select id from jobs where {CLAIMABLE} order by run_at, id limit 1) \
                 returning id, kind, payload, attempts, max_attempts"
            );
            sqlx::query_as(&sql)
                .bind(owner)
                .bind(&until)
                .bind(&now)
                .fetch_optional(pool)
                .await
        }
        Db::Postgres(pool) => {
            let sql = format!(
                "update jobs set state = 'running', attempts = attempts + 1, lease_owner = $1, \
                 lease_expires_at = $2, updated_at = $3 \
                 where id = (select id from jobs where {CLAIMABLE} order by run_at, id limit 1 \
                             for update skip locked) \
                 returning id, kind, payload, attempts, max_attempts"
            );
            sqlx::query_as(&sql)
                .bind(owner)
                .bind(&until)
                .bind(&now)
                .fetch_optional(pool)
                .await
        }
    }
}

/// Extends the lease of a job this worker holds. `false`: the lease was lost (it expired and
/// another worker claimed the job), so the caller must stop working on it.
pub async fn renew(
    db: &Db,
    id: i64,
    owner: &str,
    now: Timestamp,
    lease: Duration,
) -> sqlx::Result<bool> {
    let until = ts_to_db(plus(now, lease));
    let n = with_pool!(db, pool => sqlx::query(
        "update jobs set lease_expires_at = $1 where id = $2 and lease_owner = $3 and state = 'running'",
    )
    .bind(&until)
    .bind(id)
    .bind(owner)
    .execute(pool)
    .await?
    .rows_affected());
    Ok(n == 1)
}

/// Marks a job done (kept, so the queue's history is visible).
pub async fn complete(db: &Db, id: i64, owner: &str, now: Timestamp) -> sqlx::Result<()> {
    let now = ts_to_db(now);
    with_pool!(db, pool => sqlx::query(
        "update jobs set state = 'done', lease_owner = null, lease_expires_at = null, \
         last_error = null, updated_at = $1 where id = $2 and lease_owner = $3",
    )
    .bind(&now)
    .bind(id)
    .bind(owner)
    .execute(pool)
    .await
    .map(drop)?);
    Ok(())
}

/// Puts a job back in the queue to run again at `run_at`, or marks it failed when it has used
/// every attempt.
pub async fn retry_or_fail(
    db: &Db,
    job: &Job,
    owner: &str,
    error: &str,
    now: Timestamp,
    run_at: Timestamp,
) -> sqlx::Result<bool> {
    let retry = job.attempts < job.max_attempts;
    let state = if retry { "queued" } else { "failed" };
    let now = ts_to_db(now);
    let run_at = ts_to_db(run_at);
    with_pool!(db, pool => sqlx::query(
        "update jobs set state = $1, run_at = $2, lease_owner = null, lease_expires_at = null, \
         last_error = $3, updated_at = $4 where id = $5 and lease_owner = $6",
    )
    .bind(state)
    .bind(&run_at)
    .bind(error)
    .bind(&now)
    .bind(job.id)
    .bind(owner)
    .execute(pool)
    .await
    .map(drop)?);
    Ok(retry)
}

/// Exponential backoff with jitter: `base × 2^(attempt−1)`, capped at `max`, then scaled by a
/// random factor in [0.75, 1.25) so retries of many jobs do not arrive together. Never shorter
/// than `at_least` (Facebook's own estimate of when access returns).
pub fn backoff(
    attempt: i64,
    base: Duration,
    max: Duration,
    at_least: Option<Duration>,
) -> Duration {
    let exp = u32::try_from(attempt.saturating_sub(1).clamp(0, 20)).unwrap_or(20);
    let raw = base.saturating_mul(1u32 << exp).min(max);
    let jitter = 0.75 + 0.5 * random_unit();
    raw.mul_f64(jitter).max(at_least.unwrap_or_default())
}

/// A number in [0, 1) from the clock and a counter: jitter needs spread, not cryptography.
fn random_unit() -> f64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default(),
    );
    (h.finish() >> 11) as f64 / (1u64 << 53) as f64
}

/// The most recent jobs, newest first.
pub async fn list(db: &Db, limit: i64) -> sqlx::Result<Vec<JobView>> {
    with_pool!(db, pool => sqlx::query_as(
        "select id, kind, payload, state, attempts, max_attempts, run_at, lease_owner, \
         lease_expires_at, last_error, created_at, updated_at from jobs order by id desc limit $1",
    )
    .bind(limit)
    .fetch_all(pool)
    .await)
}

/// Queued or running jobs of one kind, for the metrics.
#[derive(Debug, sqlx::FromRow)]
pub struct Backlog {
    pub kind: String,
    /// `queued` or `running`.
    pub state: String,
    pub jobs: i64,
    /// The oldest due `run_at` (queued) or claim time (`updated_at`, running); `None` when no
    /// queued job is due yet.
    pub oldest: Option<String>,
}

/// The queue's depth and age by kind and state, at `now` (the claim index serves it).
pub async fn backlog(db: &Db, now: Timestamp) -> sqlx::Result<Vec<Backlog>> {
    with_pool!(db, pool => sqlx::query_as(
        "select kind, state, count(*) as jobs, \
         min(case when state = 'running' then updated_at when run_at <= $1 then run_at end) \
         as oldest from jobs where state in ('queued', 'running') group by kind, state \
         order by kind, state",
    )
    .bind(ts_to_db(now))
    .fetch_all(pool)
    .await)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A migrated SQLite database in a temporary folder.
    async fn sqlite() -> (tempfile::TempDir, Db) {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::connect(&format!("sqlite://{}/q.db", dir.path().display()))
            .await
            .unwrap();
        db.migrate().await.unwrap();
        (dir, db)
    }

    /// Queues one job due at the returned instant.
    async fn one_job(db: &Db, max_attempts: i64) -> Timestamp {
        let t0: Timestamp = "2027-01-01T00:00:00Z".parse().unwrap();
        with_pool!(db, pool => {
            let mut tx = pool.begin().await.unwrap();
            enqueue_in!(tx, "test", "{}", max_attempts, t0).unwrap();
            tx.commit().await.unwrap();
        });
        t0
    }

    fn at(t0: Timestamp, secs: i64) -> Timestamp {
        t0 + SignedDuration::from_secs(secs)
    }

    #[tokio::test]
    async fn a_leased_job_is_claimed_once_until_its_lease_expires() {
        let (_dir, db) = sqlite().await;
        leased_job_is_claimed_once_until_its_lease_expires(&db).await;
    }

    #[tokio::test]
    async fn on_postgres_a_leased_job_is_claimed_once_until_its_lease_expires() {
        let test = "on_postgres_a_leased_job_is_claimed_once_until_its_lease_expires";
        if let Some(scratch) = crate::db::scratch::ScratchDb::create(test).await {
            leased_job_is_claimed_once_until_its_lease_expires(&scratch.db).await;
            scratch.db.close().await;
        }
    }

    async fn leased_job_is_claimed_once_until_its_lease_expires(db: &Db) {
        let t0 = one_job(db, 5).await;
        let lease = Duration::from_secs(60);
        let job = claim(db, "a", at(t0, 1), lease).await.unwrap().unwrap();
        assert_eq!(job.attempts, 1);
        // Worker B finds nothing while A's lease holds…
        assert!(claim(db, "b", at(t0, 30), lease).await.unwrap().is_none());
        assert!(renew(db, job.id, "a", at(t0, 30), lease).await.unwrap());
        assert!(claim(db, "b", at(t0, 80), lease).await.unwrap().is_none());
        // …and takes the job over once A (dead) stops renewing it.
        let again = claim(db, "b", at(t0, 91), lease).await.unwrap().unwrap();
        assert_eq!((again.id, again.attempts), (job.id, 2));
        // A, back from the dead, has lost it: it cannot renew or complete it.
        assert!(!renew(db, job.id, "a", at(t0, 92), lease).await.unwrap());
        complete(db, job.id, "a", at(t0, 92)).await.unwrap();
        assert_eq!(list(db, 10).await.unwrap()[0].state, "running");
        complete(db, job.id, "b", at(t0, 93)).await.unwrap();
        let view = &list(db, 10).await.unwrap()[0];
        assert_eq!(
            (view.state.as_str(), view.lease_owner.as_deref()),
            ("done", None)
        );
        assert!(
            claim(db, "c", at(t0, 10_000), lease)
                .await
                .unwrap()
                .is_none()
        );
    }

    #[tokio::test]
    async fn a_failing_job_waits_for_its_backoff_then_fails_after_its_last_attempt() {
        let (_dir, db) = sqlite().await;
        failing_job_waits_for_its_backoff_then_fails_after_its_last_attempt(&db).await;
    }

    #[tokio::test]
    async fn on_postgres_a_failing_job_waits_for_its_backoff_then_fails_after_its_last_attempt() {
        let test =
            "on_postgres_a_failing_job_waits_for_its_backoff_then_fails_after_its_last_attempt";
        if let Some(scratch) = crate::db::scratch::ScratchDb::create(test).await {
            failing_job_waits_for_its_backoff_then_fails_after_its_last_attempt(&scratch.db).await;
            scratch.db.close().await;
        }
    }

    async fn failing_job_waits_for_its_backoff_then_fails_after_its_last_attempt(db: &Db) {
        let t0 = one_job(db, 2).await;
        let lease = Duration::from_secs(60);
        let job = claim(db, "a", t0, lease).await.unwrap().unwrap();
        let retried = retry_or_fail(db, &job, "a", "boom", t0, at(t0, 100))
            .await
            .unwrap();
        assert!(retried);
        assert!(claim(db, "a", at(t0, 99), lease).await.unwrap().is_none());
        let job = claim(db, "a", at(t0, 100), lease).await.unwrap().unwrap();
        assert_eq!(job.attempts, 2);
        let retried = retry_or_fail(db, &job, "a", "boom again", at(t0, 100), at(t0, 200))
            .await
            .unwrap();
        assert!(!retried);
        let view = &list(db, 10).await.unwrap()[0];
        assert_eq!(view.state, "failed");
        assert_eq!(view.last_error.as_deref(), Some("boom again"));
        assert!(
            claim(db, "a", at(t0, 10_000), lease)
                .await
                .unwrap()
                .is_none()
        );
    }

    /// Many workers claiming at once from one PostgreSQL queue: `for update skip locked` hands
    /// each job to exactly one of them, and none waits for another's candidate.
    #[tokio::test]
    async fn on_postgres_concurrent_workers_claim_each_job_once() {
        let Some(scratch) = crate::db::scratch::ScratchDb::create(
            "on_postgres_concurrent_workers_claim_each_job_once",
        )
        .await
        else {
            return;
        };
        let db = scratch.db.clone();
        let t0: Timestamp = "2027-01-01T00:00:00Z".parse().unwrap();
        let Db::Postgres(pool) = &db else {
            unreachable!()
        };
        let mut tx = pool.begin().await.unwrap();
        for _ in 0..200 {
            enqueue_in!(tx, "test", "{}", 5, t0).unwrap();
        }
        tx.commit().await.unwrap();
        let lease = Duration::from_secs(60);
        let workers = (0..8).map(|w| {
            let db = db.clone();
            tokio::spawn(async move {
                let owner = format!("w{w}");
                let mut claimed = Vec::new();
                while let Some(job) = claim(&db, &owner, at(t0, 1), lease).await.unwrap() {
                    claimed.push(job.id);
                    complete(&db, job.id, &owner, at(t0, 2)).await.unwrap();
                }
                claimed
            })
        });
        let mut all = Vec::new();
        for worker in workers.collect::<Vec<_>>() {
            all.extend(worker.await.unwrap());
        }
        all.sort_unstable();
        let total = all.len();
        all.dedup();
        assert_eq!((total, all.len()), (200, 200));
        let jobs = list(&db, 1000).await.unwrap();
        assert!(jobs.iter().all(|j| j.state == "done" && j.attempts == 1));
        db.close().await;
    }

    #[test]
    fn backoff_grows_exponentially_with_bounded_jitter_and_honours_facebooks_wait() {
        let base = Duration::from_secs(10);
        let max = Duration::from_secs(3600);
        for attempt in 1..=5 {
            let d = backoff(attempt, base, max, None);
            let nominal = base * 2u32.pow(attempt as u32 - 1);
            assert!(
                d >= nominal.mul_f64(0.75) && d < nominal.mul_f64(1.25),
                "{d:?}"
            );
        }
        assert!(backoff(30, base, max, None) < max.mul_f64(1.25));
        let wait = Duration::from_secs(900);
        assert!(backoff(1, base, max, Some(wait)) >= wait);
    }
}
