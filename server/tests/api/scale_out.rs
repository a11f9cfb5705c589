//! Several server processes on one PostgreSQL database, as behind a load balancer: the real
//! `server` binary, started twice with the worker on, sharing `SECRET_KEY` and `PUBLIC_URL`.
//! Runs only when `TEST_POSTGRES_URL` is set (`cargo xtask test` sets it); SQLite is one file
//! for one process.
//!
//! Jobs used: the scheduler's sync jobs (one per recorded slot, of campaigns that run once; the
//! sync itself does not matter here, and the sandbox is made to throttle it so it waits for a
//! retry after the test), and `stats` jobs added straight to the queue: for a campaign that does
//! not exist they finish at once (many quick jobs for the two workers to race for), and for a
//! published campaign they read the Graph API sandbox, which is made slow (transient errors the
//! client retries for ~14 s) so a worker can be killed mid-job.

use std::{
    collections::HashMap,
    fs::File,
    future::Future,
    net::TcpListener,
    path::{Path, PathBuf},
    process::{Child, Command},
    time::{Duration, Instant},
};

use jiff::{SignedDuration, Timestamp, tz::TimeZone};
use reqwest::{
    StatusCode,
    header::{COOKIE, HeaderMap, HeaderValue, ORIGIN},
};
use serde_json::{Value, json};
use sqlx::PgPool;

use crate::{
    helpers::{ADMIN_EMAIL, ADMIN_PASSWORD, TEST_SECRET_KEY},
    test_db::PgDatabase,
};

/// The address users open: the load balancer's, the same for every process.
const PUBLIC_URL: &str = "http://audiences.test";
/// Short, so a killed worker's job is taken over within the test.
const LEASE_SECS: u64 = 2;
const ACCOUNT: &str = "act_100000000000001";
/// Campaigns whose one slot both schedulers race for.
const CAMPAIGNS: usize = 6;

/// One `server` process; killed (if still running) when dropped.
struct Process {
    child: Child,
    base: String,
    log: PathBuf,
}

impl Process {
    /// Starts the built binary on `database_url` with the worker on; does not wait for it.
    fn start(name: &str, database_url: &str, dir: &Path) -> Self {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let log = dir.join(format!("{name}.log"));
        let out = File::create(&log).expect("log file");
        let mut command = Command::new(env!("CARGO_BIN_EXE_server"));
        // Nothing from the test's own environment configures these servers.
        for (key, _) in std::env::vars() {
            if key.starts_with("FACEBOOK_") || key.starts_with("JOB_") || key.starts_with("SECRET_")
            {
                command.env_remove(key);
            }
        }
        let child = command
            .current_dir(dir)
            .env("BIND", format!("127.0.0.1:{port}"))
            .env("DATABASE_URL", database_url)
            // Small pools, as many processes sharing one server's connections would use.
            .env("DATABASE_MAX_CONNECTIONS", "5")
            .env("SECRET_KEY", TEST_SECRET_KEY)
            .env("PUBLIC_URL", PUBLIC_URL)
            // Faults are injected through the sandbox's debug endpoints (as the signed-in admin).
            .env("SANDBOX_DEBUG", "on")
            .env("ADMIN_EMAIL", ADMIN_EMAIL)
            .env("ADMIN_PASSWORD", ADMIN_PASSWORD)
            .env("WORKER", "on")
            .env("WORKER_POLL_MS", "100")
            .env("JOB_LEASE_SECS", LEASE_SECS.to_string())
            // A failed attempt is retried an hour later: never within the test.
            .env("JOB_RETRY_BASE_SECS", "3600")
            .env("JOB_MAX_ATTEMPTS", "100")
            .env("STATS_REFRESH_SECS", "0")
            .env("LOG_FORMAT", "json")
            .env("RUST_LOG", "info,server::jobs=debug,sqlx=warn")
            .stdout(out.try_clone().expect("log file"))
            .stderr(out)
            .spawn()
            .expect("the server binary starts");
        Self {
            child,
            base: format!("http://127.0.0.1:{port}"),
            log,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    async fn wait_until_up(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(status) = self.child.try_wait().expect("process status") {
                panic!("the server exited ({status}):\n{}", self.log_text());
            }
            if let Ok(res) = reqwest::get(self.url("/api/health")).await
                && res.status() == StatusCode::OK
            {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "the server did not come up:\n{}",
                self.log_text()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Ids of the jobs this process finished running (its `job ran` log lines).
    fn jobs_ran(&self) -> Vec<i64> {
        self.log_text()
            .lines()
            .filter_map(|line| serde_json::from_str::<Value>(line).ok())
            .filter(|v| v["fields"]["message"] == "job ran")
            .filter_map(|v| v["fields"]["job"].as_i64())
            .collect()
    }

    /// SIGKILL: no shutdown, no lease given back, as when a machine dies.
    fn kill(&mut self) {
        self.child.kill().expect("kill");
        self.child.wait().expect("reaped");
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A client as a browser behind the load balancer sends: its `Origin`, and the session cookie.
fn browser(token: Option<&str>) -> reqwest::Client {
    let mut headers = HeaderMap::new();
    headers.insert(ORIGIN, HeaderValue::from_static(PUBLIC_URL));
    if let Some(token) = token {
        let cookie = format!("{}={token}", server::auth::session::COOKIE);
        headers.insert(COOKIE, HeaderValue::from_str(&cookie).unwrap());
    }
    reqwest::Client::builder()
        .default_headers(headers)
        .build()
        .unwrap()
}

/// Signs in through `process`; returns the session token its cookie carries.
async fn sign_in(process: &Process) -> String {
    let res = browser(None)
        .post(process.url("/api/login"))
        .json(&json!({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let cookie = res.headers()["set-cookie"].to_str().unwrap();
    let prefix = format!("{}=", server::auth::session::COOKIE);
    cookie
        .strip_prefix(&prefix)
        .and_then(|v| v.split(';').next())
        .expect("a session cookie")
        .to_owned()
}

/// Both processes, started together on one fresh database (so they also race to migrate it and
/// to create the `ADMIN_EMAIL` admin), once both answer.
async fn two_processes(dir: &Path) -> Option<(PgDatabase, PgPool, Process, Process)> {
    let Some(db) = PgDatabase::create().await else {
        eprintln!("skipped: TEST_POSTGRES_URL is not set (several processes need PostgreSQL)");
        return None;
    };
    let mut a = Process::start("a", &db.url, dir);
    let mut b = Process::start("b", &db.url, dir);
    a.wait_until_up().await;
    b.wait_until_up().await;
    let pool = PgPool::connect(&db.url).await.expect("the test database");
    Some((db, pool, a, b))
}

/// The first ad set of the first campaign of the sandbox's US account, as a campaign target.
async fn target(http: &reqwest::Client, process: &Process) -> Value {
    let get = |path: String| {
        let http = http.clone();
        let url = process.url(&path);
        async move {
            let res = http.get(url).send().await.unwrap();
            assert_eq!(res.status(), StatusCode::OK);
            res.json::<Value>().await.unwrap()
        }
    };
    let campaigns = get(format!("/api/facebook/ad-accounts/{ACCOUNT}/campaigns")).await;
    let campaign = campaigns[0]["id"].as_str().unwrap().to_owned();
    let ad_sets = get(format!("/api/facebook/campaigns/{campaign}/adsets")).await;
    json!({"ad_account_id": ACCOUNT, "campaign_id": campaign,
           "ad_set_id": ad_sets[0]["id"].as_str().unwrap()})
}

/// Creates a campaign through `create_on` and publishes it through `publish_on`; returns its id.
async fn published(
    http: &reqwest::Client,
    create_on: &Process,
    publish_on: &Process,
    schedule: Value,
    target: &Value,
) -> i64 {
    let body = json!({
        "name": "Shared",
        "schedule": schedule,
        "audience": {"kind":"group","combine":"all_of","rules":[
            {"kind":"user_property","property":"Plan",
             "condition":{"type":"text","op":"equals","value":"gold"}}]},
        "target": target,
    });
    let res = http
        .post(create_on.url("/api/campaigns"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let id = res.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let res = http
        .post(publish_on.url(&format!("/api/campaigns/{id}/publish")))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        StatusCode::OK,
        "{}",
        res.text().await.unwrap()
    );
    id
}

async fn set_faults(http: &reqwest::Client, process: &Process, faults: Value) {
    let res = http
        .post(process.url("/sandbox/debug/faults"))
        .json(&faults)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
}

/// Adds `stats` jobs for `campaign_id` straight to the queue, due now; returns their ids.
async fn queue_stats_jobs(pool: &PgPool, campaign_id: i64, n: usize) -> Vec<i64> {
    // As the server stores instants: UTC, RFC 3339, six fractional digits.
    let now = Timestamp::now()
        .strftime("%Y-%m-%dT%H:%M:%S%.6fZ")
        .to_string();
    let payload = json!({ "campaign_id": campaign_id }).to_string();
    sqlx::query_scalar(
        "insert into jobs (kind, payload, state, attempts, max_attempts, run_at, created_at, \
         updated_at) select 'stats', $1, 'queued', 0, 100, $2, $2, $2 \
         from generate_series(1, $3) returning id",
    )
    .bind(&payload)
    .bind(&now)
    .bind(i32::try_from(n).unwrap())
    .fetch_all(pool)
    .await
    .unwrap()
}

#[derive(Debug, sqlx::FromRow)]
struct JobRow {
    id: i64,
    state: String,
    attempts: i64,
    lease_owner: Option<String>,
}

async fn job_rows(pool: &PgPool, ids: &[i64]) -> Vec<JobRow> {
    sqlx::query_as(
        "select id, state, attempts, lease_owner from jobs where id = any($1) order by id",
    )
    .bind(ids)
    .fetch_all(pool)
    .await
    .unwrap()
}

/// The scheduled runs of `campaign_id`: (slot, slots it stood in for), oldest first.
async fn slot_runs(pool: &PgPool, campaign_id: i64) -> Vec<(Option<i64>, i64)> {
    sqlx::query_as("select slot, missed_slots from sync_runs where campaign_id = $1 order by id")
        .bind(campaign_id)
        .fetch_all(pool)
        .await
        .unwrap()
}

/// Waits (up to a minute) until `done` says so.
async fn eventually<F: Future<Output = bool>>(what: &str, mut done: impl FnMut() -> F) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !done().await {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn two_processes_share_sessions_run_each_slot_once_and_each_job_on_one_worker() {
    let dir = tempfile::tempdir().unwrap();
    let Some((_db, pool, a, b)) = two_processes(dir.path()).await else {
        return;
    };
    // Both started on an empty database, and exactly one admin was created.
    let users: i64 = sqlx::query_scalar("select count(*) from users")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(users, 1);

    // A session started through one process works through the other, for reads and writes,
    // and signing out through one ends it everywhere.
    let token = sign_in(&a).await;
    let http = browser(Some(&token));
    let me: Value = http
        .get(b.url("/api/me"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["email"], ADMIN_EMAIL, "{me}");
    let res = http
        .post(b.url("/api/labels"))
        .json(&json!({"name": "Made on B"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let labels: Value = http
        .get(a.url("/api/labels"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(labels.to_string().contains("Made on B"), "{labels}");
    let res = http.post(b.url("/api/logout")).send().await.unwrap();
    assert!(res.status().is_success(), "{}", res.status());
    let res = http.get(a.url("/api/me")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let http = browser(Some(&sign_in(&b).await));

    // Campaigns that run once, all at the same instant, for both schedulers to race for. (One
    // campaign with several slots would not do: a campaign gets its next run once its current
    // one has ended, and here syncs do not end.)
    let target = target(&http, &a).await;
    let at = (Timestamp::now() + SignedDuration::from_secs(5))
        .to_zoned(TimeZone::UTC)
        .datetime()
        .round(jiff::Unit::Second)
        .unwrap()
        .to_string();
    let mut campaigns = Vec::new();
    for i in 0..CAMPAIGNS {
        // Created and published through either process.
        let (create_on, publish_on) = if i % 2 == 0 { (&a, &b) } else { (&b, &a) };
        let schedule = json!({"time_zone": "UTC", "kind": "once", "at": at});
        campaigns.push(published(&http, create_on, publish_on, schedule, &target).await);
    }
    // Facebook throttles for an hour: each sync attempt ends at its first Graph call and waits
    // for a retry after the test (the sync may also still be unavailable on PostgreSQL).
    for p in [&a, &b] {
        set_faults(
            &http,
            p,
            json!({"rate_limit_after": 0, "rate_limit_code": 80003, "regain_access_minutes": 60}),
        )
        .await;
    }
    // Meanwhile, many quick jobs (stats of a campaign that does not exist) for both workers.
    let quick = queue_stats_jobs(&pool, 999_999, 300).await;

    let pool = &pool;
    let campaign_ids = &campaigns;
    eventually("every campaign's slot is recorded", || async move {
        let mut recorded = 0;
        for id in campaign_ids {
            recorded += usize::from(!slot_runs(pool, *id).await.is_empty());
        }
        recorded == CAMPAIGNS
    })
    .await;
    let quick_ids = &quick;
    eventually("the quick jobs are done", || async move {
        job_rows(pool, quick_ids)
            .await
            .iter()
            .all(|j| j.state == "done")
    })
    .await;

    // Each slot was recorded once, as slot 1 of its campaign, and queued one sync job.
    for id in &campaigns {
        assert_eq!(
            slot_runs(pool, *id).await,
            vec![(Some(1), 0)],
            "campaign {id}"
        );
    }
    let sync_jobs: i64 = sqlx::query_scalar("select count(*) from jobs where kind = $1")
        .bind(server::sync::JOB_KIND)
        .fetch_one(pool)
        .await
        .unwrap();
    assert_eq!(sync_jobs, i64::try_from(CAMPAIGNS).unwrap());

    // Each quick job was claimed once (a second claim would count a second attempt) and ran to
    // its end on exactly one of the two workers, which both took part.
    let claimed_twice: Vec<i64> = job_rows(pool, &quick)
        .await
        .iter()
        .filter(|j| j.attempts != 1)
        .map(|j| j.id)
        .collect();
    assert!(
        claimed_twice.is_empty(),
        "claimed more than once: {claimed_twice:?}"
    );
    let (ran_a, ran_b) = (a.jobs_ran(), b.jobs_ran());
    let mut times_ran: HashMap<i64, usize> = HashMap::new();
    for job in ran_a.iter().chain(&ran_b) {
        *times_ran.entry(*job).or_default() += 1;
    }
    for job in &quick {
        assert_eq!(times_ran.get(job), Some(&1), "job {job}");
    }
    let on = |ran: &[i64]| quick.iter().filter(|j| ran.contains(j)).count();
    assert!(
        on(&ran_a) > 0 && on(&ran_b) > 0,
        "both workers should have run some of the jobs: A {}, B {}",
        on(&ran_a),
        on(&ran_b)
    );
}

#[tokio::test]
async fn a_killed_workers_job_is_taken_over_by_the_other_once_its_lease_expires() {
    let dir = tempfile::tempdir().unwrap();
    let Some((_db, pool, mut a, mut b)) = two_processes(dir.path()).await else {
        return;
    };
    let http = browser(Some(&sign_in(&a).await));
    // Scheduled for next year: no sync job comes due during the test.
    let next_year = Timestamp::now().to_zoned(TimeZone::UTC).year() + 1;
    let target = target(&http, &a).await;
    let id = published(
        &http,
        &a,
        &b,
        json!({"time_zone": "UTC", "kind": "once", "at": format!("{next_year}-06-01T09:00:00")}),
        &target,
    )
    .await;
    // Facebook is slow to answer: the first calls fail and the client retries them for about
    // 14 s (2 + 4 + 8), renewing the job's lease meanwhile.
    for p in [&a, &b] {
        set_faults(&http, p, json!({"transient_next": 3})).await;
    }
    let job = queue_stats_jobs(&pool, id, 1).await[0];

    let deadline = Instant::now() + Duration::from_secs(60);
    let owner = loop {
        let row = &job_rows(&pool, &[job]).await[0];
        if row.state == "running" {
            break row.lease_owner.clone().expect("a running job has an owner");
        }
        assert!(Instant::now() < deadline, "no worker took the job: {row:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let (dead, survivor) = if owner.starts_with(&format!("worker-{}-", a.pid())) {
        (&mut a, &mut b)
    } else {
        assert!(
            owner.starts_with(&format!("worker-{}-", b.pid())),
            "{owner}"
        );
        (&mut b, &mut a)
    };
    dead.kill();
    set_faults(&http, survivor, json!({})).await;

    let pool = &pool;
    eventually("the other worker finishes the job", || async move {
        job_rows(pool, &[job]).await[0].state == "done"
    })
    .await;
    let row = &job_rows(pool, &[job]).await[0];
    // Claimed twice: by the dead worker, then by the survivor once the lease had run out.
    assert_eq!(
        (row.attempts, row.lease_owner.as_deref()),
        (2, None),
        "{row:?}"
    );
    assert_eq!(survivor.jobs_ran(), vec![job]);
    let stats: Value = http
        .get(survivor.url(&format!("/api/campaigns/{id}/stats")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(stats["last_updated"].is_string(), "{stats}");
}
