//! Background work: a durable job queue in the database ([`queue`]), the scheduler that turns
//! published campaigns' schedules into runs ([`scheduler`]), the periodic stats fetch
//! ([`stats`]), and the worker loop that ties them together.
//!
//! The worker is a tokio task started by `server::start` (unless `WORKER=off`) and stopped on
//! shutdown. Tests leave it off and call [`drain`] with an explicit clock instead, so every step
//! happens when the test says.

pub mod queue;
pub mod scheduler;
pub mod stats;

use std::{
    sync::Mutex,
    time::{Duration, Instant},
};

use anyhow::Context;
use jiff::{SignedDuration, Timestamp};
use tokio::{sync::watch, task::JoinHandle};

use crate::{state::AppState, sync};

/// `WORKER`, `WORKER_POLL_MS`, `JOB_LEASE_SECS`, `JOB_RETRY_BASE_SECS`, `JOB_MAX_ATTEMPTS`.
#[derive(Debug, Clone)]
pub struct JobsConfig {
    /// Run the scheduler and the worker in the background (`WORKER=on`, the default).
    pub worker: bool,
    /// How often the worker looks for due slots and jobs.
    pub poll: Duration,
    /// How long a claimed job is reserved for its worker; renewed after every batch. A worker
    /// that dies leaves its job to another worker once this has passed.
    pub lease: Duration,
    /// First retry delay; doubles each attempt (with jitter), capped at `retry_max`.
    pub retry_base: Duration,
    pub retry_max: Duration,
    pub max_attempts: i64,
}

impl Default for JobsConfig {
    fn default() -> Self {
        Self {
            worker: true,
            poll: Duration::from_secs(1),
            lease: Duration::from_secs(120),
            retry_base: Duration::from_secs(30),
            retry_max: Duration::from_secs(3600),
            max_attempts: 8,
        }
    }
}

impl JobsConfig {
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> anyhow::Result<Self> {
        let mut c = Self::default();
        if let Some(v) = get("WORKER") {
            c.worker = match v.trim() {
                "on" | "1" | "true" => true,
                "off" | "0" | "false" => false,
                other => anyhow::bail!("WORKER={other:?} is not `on` or `off`"),
            };
        }
        let number = |key: &str| -> anyhow::Result<Option<u64>> {
            get(key)
                .map(|v| {
                    v.trim()
                        .parse::<u64>()
                        .with_context(|| format!("{key}={v:?} is not a whole number"))
                })
                .transpose()
        };
        if let Some(ms) = number("WORKER_POLL_MS")? {
            c.poll = Duration::from_millis(ms.max(10));
        }
        if let Some(s) = number("JOB_LEASE_SECS")? {
            c.lease = Duration::from_secs(s.max(1));
        }
        if let Some(s) = number("JOB_RETRY_BASE_SECS")? {
            c.retry_base = Duration::from_secs(s.max(1));
        }
        if let Some(n) = number("JOB_MAX_ATTEMPTS")? {
            c.max_attempts = i64::try_from(n.max(1)).unwrap_or(i64::MAX);
        }
        Ok(c)
    }
}

/// Per-process job state kept in [`AppState`].
pub struct Runtime {
    /// This process's name on the leases it takes.
    pub owner: String,
    /// Test hook: make the next sync stop dead at this point, as if the process were killed.
    pub crash_at: Mutex<Option<sync::CrashPoint>>,
}

impl Runtime {
    pub fn new() -> Self {
        Self {
            owner: format!(
                "worker-{}-{:x}",
                std::process::id(),
                crate::facebook::client::new_session_id()
            ),
            crash_at: Mutex::new(None),
        }
    }

    /// Takes the crash point if it is `point` (the hook fires once).
    pub fn should_crash(&self, point: sync::CrashPoint) -> bool {
        let mut guard = self.crash_at.lock().unwrap_or_else(|p| p.into_inner());
        if *guard == Some(point) {
            *guard = None;
            true
        } else {
            false
        }
    }
}

impl Default for Runtime {
    fn default() -> Self {
        Self::new()
    }
}

/// What running a job came to.
#[derive(Debug)]
pub enum Outcome {
    Done,
    /// Try again later, not before `at_least` when Facebook says how long to wait.
    Retry {
        error: String,
        at_least: Option<Duration>,
    },
    /// The worker stopped dead (crash test hook, or the lease was lost): leave the row alone.
    Abandoned,
}

/// The clock of one job run: starts at the instant the job was claimed for and moves with real
/// time, so a test that drains "an hour later" stays an hour later throughout.
#[derive(Debug, Clone, Copy)]
pub struct JobClock {
    claimed_at: Timestamp,
    started: Instant,
}

impl JobClock {
    pub fn new(claimed_at: Timestamp) -> Self {
        Self {
            claimed_at,
            started: Instant::now(),
        }
    }

    pub fn now(&self) -> Timestamp {
        let elapsed = SignedDuration::try_from(self.started.elapsed()).unwrap_or_default();
        self.claimed_at
            .checked_add(elapsed)
            .unwrap_or(self.claimed_at)
    }
}

/// What one pass of [`drain`] did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Drained {
    /// Runs the scheduler recorded.
    pub scheduled: usize,
    /// Stats fetches queued (`STATS_REFRESH_SECS`).
    pub stats: usize,
    /// Jobs claimed and run.
    pub jobs: usize,
}

/// Records due slots and queues due stats fetches, then runs every job due at `now` until none
/// is left (jobs retried for later stay queued). The worker loop calls it on every tick; tests
/// call it directly.
pub async fn drain(state: &AppState, now: Timestamp) -> anyhow::Result<Drained> {
    let mut done = Drained {
        scheduled: scheduler::tick(state, now).await?,
        stats: stats::schedule(state, now).await?,
        ..Drained::default()
    };
    let started = Instant::now();
    loop {
        let clock_now = now
            .checked_add(SignedDuration::try_from(started.elapsed()).unwrap_or_default())
            .unwrap_or(now);
        let Some(job) = queue::claim(
            &state.db,
            &state.jobs.owner,
            clock_now,
            state.config.jobs.lease,
        )
        .await?
        else {
            return Ok(done);
        };
        done.jobs += 1;
        run_claimed(state, &job, JobClock::new(clock_now)).await?;
    }
}

async fn run_claimed(state: &AppState, job: &queue::Job, clock: JobClock) -> anyhow::Result<()> {
    let owner = &state.jobs.owner;
    let started = Instant::now();
    let outcome = match job.kind.as_str() {
        sync::JOB_KIND => sync::run_job(state, job, clock).await,
        stats::JOB_KIND => stats::run_job(state, job, clock).await,
        sync::erase::JOB_KIND => sync::erase::run_job(state, job, clock).await,
        other => Outcome::Retry {
            error: format!("this server does not know jobs of kind {other:?}"),
            at_least: None,
        },
    };
    tracing::debug!(job = job.id, kind = %job.kind, ?outcome, "job ran");
    crate::metrics::job_ran(job, &outcome, started.elapsed());
    match outcome {
        Outcome::Done => queue::complete(&state.db, job.id, owner, clock.now()).await?,
        Outcome::Retry { error, at_least } => {
            let cfg = &state.config.jobs;
            let delay = queue::backoff(job.attempts, cfg.retry_base, cfg.retry_max, at_least);
            let now = clock.now();
            let run_at = now
                .checked_add(SignedDuration::try_from(delay).unwrap_or(SignedDuration::MAX))
                .unwrap_or(now);
            let retried = queue::retry_or_fail(&state.db, job, owner, &error, now, run_at).await?;
            if !retried {
                tracing::warn!(job = job.id, %error, "job failed after its last attempt");
            }
        }
        Outcome::Abandoned => {}
    }
    Ok(())
}

/// The background worker: a tick every `poll` until `stop` changes.
pub fn spawn_worker(state: AppState, mut stop: watch::Receiver<bool>) -> JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            // Stopping mid-job drops the job as a crash would: its lease runs out and a worker
            // resumes it from its last recorded batch.
            tokio::select! {
                result = drain(&state, crate::campaigns::now()) => {
                    if let Err(err) = result {
                        tracing::error!(error = ?err, "background jobs: tick failed");
                    }
                }
                _ = stop.changed() => return,
            }
            tokio::select! {
                () = tokio::time::sleep(state.config.jobs.poll) => {}
                _ = stop.changed() => return,
            }
            if *stop.borrow() {
                return;
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_worker_is_on_by_default_and_bad_values_name_their_variable() {
        let c = JobsConfig::from_lookup(|_| None).unwrap();
        assert!(c.worker);
        let off = JobsConfig::from_lookup(|k| match k {
            "WORKER" => Some("off".into()),
            "JOB_LEASE_SECS" => Some("5".into()),
            _ => None,
        })
        .unwrap();
        assert!(!off.worker);
        assert_eq!(off.lease, Duration::from_secs(5));
        let err = JobsConfig::from_lookup(|k| (k == "WORKER").then(|| "maybe".into()));
        assert!(err.unwrap_err().to_string().contains("WORKER"));
        let err = JobsConfig::from_lookup(|k| (k == "JOB_MAX_ATTEMPTS").then(|| "many".into()));
        assert!(err.unwrap_err().to_string().contains("JOB_MAX_ATTEMPTS"));
    }
}
