//! Running it in production: `GET /metrics` (token, contents after requests, a sync run and an
//! upload), readiness (`GET /api/health/ready`), and `server backup` under writes, restored by
//! starting a server on the copy.

use std::{
    path::Path,
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use jiff::Timestamp;
use reqwest::StatusCode;
use serde_json::{Value, json};
use shared::error::ErrorCode;

use crate::helpers::{
    Options, TestApp, UPLOAD_KEY, error_body, publish_draft, spawn_app, spawn_app_with, target,
    with_pool,
};

const METRICS_TOKEN: &str = "metrics-token-for-tests";

async fn app_with_metrics() -> TestApp {
    spawn_app_with(Options {
        upload_api_key: Some(UPLOAD_KEY.to_owned()),
        env: vec![("METRICS_TOKEN", METRICS_TOKEN.to_owned())],
        ..Options::default()
    })
    .await
}

/// `GET /metrics` with the token: the whole exposition.
async fn scrape(app: &TestApp) -> String {
    let res = app
        .anonymous()
        .get(app.url("/metrics"))
        .bearer_auth(METRICS_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let content_type = res.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(
        content_type.starts_with("application/openmetrics-text"),
        "{content_type}"
    );
    let text = res.text().await.unwrap();
    assert!(text.ends_with("# EOF\n"), "{text}");
    text
}

/// The sum of the samples named `name` that carry every one of `labels`; 0 when there is none.
fn sample(text: &str, name: &str, labels: &[(&str, &str)]) -> f64 {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|line| {
            let (series, value) = line.rsplit_once(' ')?;
            let (n, rest) = series.split_once('{').unwrap_or((series, ""));
            let matches = n == name
                && labels
                    .iter()
                    .all(|(k, v)| rest.contains(&format!("{k}=\"{v}\"")));
            matches.then(|| value.parse::<f64>().ok()).flatten()
        })
        .sum()
}

fn has_series(text: &str, name: &str, labels: &[(&str, &str)]) -> bool {
    text.lines().any(|line| {
        let Some((n, rest)) = line.split_once('{') else {
            return false;
        };
        n == name
            && labels
                .iter()
                .all(|(k, v)| rest.contains(&format!("{k}=\"{v}\"")))
    })
}

#[tokio::test]
async fn metrics_are_off_without_a_token_setting() {
    let app = spawn_app().await;
    let res = app
        .anonymous()
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let body = error_body(res).await;
    assert!(
        body.error.message.contains("METRICS_TOKEN"),
        "{}",
        body.error.message
    );
    // Not even for a signed-in admin: the token is the only key.
    assert_eq!(app.get("/metrics").await.status(), StatusCode::NOT_FOUND);
    app.stop().await;
}

#[tokio::test]
async fn metrics_need_the_token_and_report_requests_uploads_syncs_facebook_and_the_queue() {
    let app = app_with_metrics().await;

    // No token, a wrong one, or a session cookie: 401, with the scheme to use.
    let res = app
        .anonymous()
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        res.headers()["www-authenticate"],
        "Bearer realm=\"metrics\""
    );
    assert_eq!(error_body(res).await.error.code, ErrorCode::Unauthorized);
    let res = app
        .anonymous()
        .get(app.url("/metrics"))
        .bearer_auth("metrics-token-for-test")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(app.get("/metrics").await.status(), StatusCode::UNAUTHORIZED);

    // Counters are per process and the tests share one: everything below is compared with
    // what the first scrape said, and at least what this test did must show.
    let before = scrape(&app).await;

    // Three gold profiles with match keys, and a record that is rejected.
    let mut records: Vec<Value> = (0..3)
        .map(|i| {
            json!({"type":"profile","identity":format!("ops{i}"),"profileData":{
                "Email": format!("ops{i}@example.com"), "Plan": "gold"}})
        })
        .collect();
    records.push(json!({"type":"profile","profileData":{"Plan":"gold"}}));
    let res = app.upload(&json!({ "d": records })).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.json::<Value>().await.unwrap()["status"], "partial");

    let id = publish(&app).await;
    for _ in 0..2 {
        assert_eq!(
            app.get(&format!("/api/campaigns/{id}")).await.status(),
            StatusCode::OK
        );
    }
    let res = app
        .post(
            &format!("/api/campaigns/{id}/runs"),
            &json!({"dry_run": false}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::ACCEPTED);

    // The queued sync job, read from this server's database.
    let queued = scrape(&app).await;
    let sync_queued = [("kind", "sync_run"), ("state", "queued")];
    assert_eq!(sample(&queued, "jobs", &sync_queued), 1.0, "{queued}");
    assert!(has_series(&queued, "jobs_oldest_age_seconds", &sync_queued));

    let drained = server::jobs::drain(&app.server.state, Timestamp::now())
        .await
        .unwrap();
    assert_eq!(drained.jobs, 1);
    let runs: Value = app
        .get(&format!("/api/campaigns/{id}/runs"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(runs[0]["state"], "succeeded", "{runs}");

    let after = scrape(&app).await;
    let grew = |name: &str, labels: &[(&str, &str)]| {
        sample(&after, name, labels) - sample(&before, name, labels)
    };
    // Requests, by route template (never the path with its id) and status.
    let campaign_route = [
        ("method", "GET"),
        ("route", "/api/campaigns/{id}"),
        ("status", "200"),
    ];
    assert!(
        grew("http_request_duration_seconds_count", &campaign_route) >= 2.0,
        "{after}"
    );
    assert!(has_series(
        &after,
        "http_request_duration_seconds_bucket",
        &campaign_route
    ));
    assert!(!after.contains(&format!("route=\"/api/campaigns/{id}\"")));
    // The refused scrapes at the start (before the first counted one).
    assert!(
        sample(
            &after,
            "http_request_duration_seconds_count",
            &[("route", "/metrics"), ("status", "401")]
        ) >= 3.0
    );
    // Ingestion by source and result.
    let api = ("source", "upload_api");
    assert!(grew("ingested_records_total", &[api, ("result", "stored")]) >= 3.0);
    assert!(grew("ingested_records_total", &[api, ("result", "rejected")]) >= 1.0);
    // The sync run, its rows, the job that ran it, and the Graph API calls it made.
    assert!(grew("sync_runs_total", &[("outcome", "succeeded")]) >= 1.0);
    assert!(grew("sync_rows_sent_total", &[]) >= 3.0);
    assert!(
        grew(
            "job_run_duration_seconds_count",
            &[("kind", "sync_run"), ("outcome", "done")]
        ) >= 1.0
    );
    assert!(
        grew(
            "facebook_calls_total",
            &[("method", "POST"), ("outcome", "ok")]
        ) >= 2.0
    );
    // The sandbox sends the usage headers as Facebook does.
    for (header, metric) in [
        ("app", "call_count"),
        ("ad_account", "acc_id_util_pct"),
        ("business_use_case", "call_count"),
    ] {
        assert!(
            has_series(
                &after,
                "facebook_usage_percent",
                &[("header", header), ("metric", metric)]
            ),
            "{header} {metric}:\n{after}"
        );
    }
    // The queue is empty again; the pool is described.
    assert_eq!(sample(&after, "jobs", &sync_queued), 0.0);
    let max = if crate::helpers::is_postgres(&app.server.state.config.database_url) {
        16.0
    } else {
        8.0
    };
    assert_eq!(sample(&after, "db_pool_max_connections", &[]), max);
    let open = sample(&after, "db_pool_connections", &[]);
    assert!(open >= 1.0 && open <= max, "{open}");
    assert!(has_series(
        &after,
        "build_info",
        &[("version", env!("CARGO_PKG_VERSION"))]
    ));
    app.stop().await;
}

/// A published campaign on the sandbox's first ad set, its audience the gold plan.
async fn publish(app: &TestApp) -> i64 {
    let target = target(app).await;
    let start = Timestamp::now()
        .to_zoned(jiff::tz::TimeZone::UTC)
        .date()
        .tomorrow()
        .and_then(|d| d.tomorrow())
        .unwrap();
    let draft = json!({
        "name": "Ops gold",
        "schedule": {"time_zone":"UTC","kind":"recurring","repeat":{"every":"days","interval":1},
                     "time":"00:00","start_date": start.to_string(),"end":{"kind":"never"}},
        "audience": {"kind":"group","combine":"all_of","rules":[
            {"kind":"user_property","property":"Plan",
             "condition":{"type":"text","op":"equals","value":"gold"}}]},
        "target": target,
    });
    publish_draft(app, &draft).await
}

#[tokio::test]
async fn readiness_reports_the_database_and_its_migrations() {
    let app = spawn_app().await;
    let latest = app
        .server
        .state
        .db
        .migrator()
        .iter()
        .map(|m| m.version)
        .max()
        .unwrap();
    let res = app
        .anonymous()
        .get(app.url("/api/health/ready"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let ready: Value = res.json().await.unwrap();
    let kind = if crate::helpers::is_postgres(&app.server.state.config.database_url) {
        "postgres"
    } else {
        "sqlite"
    };
    assert_eq!(
        ready,
        json!({"status": "ready", "database": kind, "migration": latest})
    );

    // The database falls behind this server (restored from an older copy while it ran, say):
    // its newest migration is not recorded (recorded under another number instead, so that it
    // can be put back).
    let set_version = |from: i64, to: i64| {
        let db = app.server.state.db.clone();
        async move {
            with_pool!(&db, pool => sqlx::query("update _sqlx_migrations set version = $1 where version = $2")
                .bind(to)
                .bind(from)
                .execute(pool)
                .await
                .map(drop)
                .unwrap());
        }
    };
    set_version(latest, 900_000).await;
    let res = app
        .anonymous()
        .get(app.url("/api/health/ready"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body = error_body(res).await;
    assert_eq!(body.error.code, ErrorCode::Unavailable);
    assert!(
        body.error
            .message
            .contains(&format!("lacks migration {latest} "))
            && body.error.message.contains("server migrate"),
        "{}",
        body.error.message
    );
    // The container health check (`server healthcheck`) says the same, by its exit status.
    let (ok, output) = healthcheck(&app).await;
    assert!(!ok, "{output}");
    assert!(
        output.contains("503") && output.contains("lacks migration"),
        "{output}"
    );
    // Liveness is unchanged: the process and its database are up.
    let res = app
        .anonymous()
        .get(app.url("/api/health"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);

    // Back in order; then migrated by another build: same version, different SQL.
    set_version(900_000, latest).await;
    let (ok, output) = healthcheck(&app).await;
    assert!(ok, "{output}");
    assert!(output.contains("\"status\":\"ready\""), "{output}");
    assert_eq!(
        app.anonymous()
            .get(app.url("/api/health/ready"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
    with_pool!(&app.server.state.db, pool => sqlx::query("update _sqlx_migrations set checksum = $1 where version = 1")
        .bind(vec![0u8; 48])
        .execute(pool)
        .await
        .map(drop)
        .unwrap());
    let res = app
        .anonymous()
        .get(app.url("/api/health/ready"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body = error_body(res).await;
    assert!(
        body.error.message.contains("different SQL"),
        "{}",
        body.error.message
    );
    app.stop().await;
}

/// `server healthcheck` against `app`, as a container runtime runs it: (exit 0, output).
async fn healthcheck(app: &TestApp) -> (bool, String) {
    let bind = app.server.addr.to_string();
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_server"))
            .arg("healthcheck")
            .env("BIND", bind)
            .output()
            .expect("the server binary runs")
    })
    .await
    .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

/// Profiles per upload of the writer below: each upload is stored whole or not at all.
const BATCH: usize = 50;

/// `server backup FILE` with `DATABASE_URL`, as an operator runs it: (success, output).
fn backup(database_url: &str, file: &Path) -> (bool, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_server"))
        .arg("backup")
        .arg(file)
        .env("DATABASE_URL", database_url)
        .env_remove("SECRET_KEY")
        .env_remove("SECRET_KEY_FILE")
        .output()
        .expect("the server binary runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

async fn count(db: &server::db::Db, sql: &str) -> i64 {
    with_pool!(db, pool => sqlx::query_scalar::<_, i64>(sql).fetch_one(pool).await.unwrap())
}

#[tokio::test]
async fn a_backup_taken_under_writes_starts_a_server_with_a_consistent_copy() {
    let dir = tempfile::tempdir().unwrap();
    let live_url = format!("sqlite://{}", dir.path().join("live/app.db").display());
    let app = spawn_app_with(Options {
        upload_api_key: Some(UPLOAD_KEY.to_owned()),
        database_url: Some(live_url.clone()),
        ..Options::default()
    })
    .await;

    // Before the backup: campaigns, and enough profiles that copying takes a moment.
    for name in ["Spring", "Summer", "Autumn"] {
        let res = app.post("/api/campaigns", &json!({ "name": name })).await;
        assert_eq!(res.status(), StatusCode::CREATED);
    }
    for chunk in 0..20 {
        let records: Vec<Value> = (0..1000)
            .map(|i| {
                json!({"type":"profile","identity":format!("seed{chunk}-{i}"),"profileData":{
                    "Email": format!("seed{chunk}-{i}@example.com"), "City": "Pune",
                    "Plan": "gold", "Score": i}})
            })
            .collect();
        let res = app.upload(&json!({ "d": records })).await;
        assert_eq!(res.status(), StatusCode::OK);
    }

    // A client that keeps uploading batches until told to stop.
    let stored = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let (http, url) = (app.http.clone(), app.url("/api/v1/upload"));
        let (stored, stop) = (stored.clone(), stop.clone());
        tokio::spawn(async move {
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) {
                let records: Vec<Value> = (0..BATCH)
                    .map(|i| {
                        json!({"type":"profile","identity":format!("live{n}-{i}"),
                                    "profileData":{"Plan":"silver"}})
                    })
                    .collect();
                let res = http
                    .post(&url)
                    .header("X-Api-Key", UPLOAD_KEY)
                    .json(&json!({ "d": records }))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(res.status(), StatusCode::OK);
                stored.fetch_add(1, Ordering::SeqCst);
                n += 1;
            }
        })
    };
    while stored.load(Ordering::SeqCst) < 3 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }

    let copy = dir.path().join("backups/app-copy.db");
    let before = stored.load(Ordering::SeqCst);
    let started = Instant::now();
    let (ok, output) = {
        let (url, copy) = (live_url.clone(), copy.clone());
        tokio::task::spawn_blocking(move || backup(&url, &copy))
            .await
            .unwrap()
    };
    let took = started.elapsed();
    let during = stored.load(Ordering::SeqCst);
    assert!(ok, "{output}");
    assert!(output.contains("Backed up"), "{output}");
    assert!(output.contains("secret.key"), "{output}");
    // The writes went on while the backup ran.
    assert!(
        during > before,
        "no upload finished during the {took:?} backup"
    );
    stop.store(true, Ordering::Relaxed);
    writer.await.unwrap();
    let total = stored.load(Ordering::SeqCst);

    // A second backup to the same file is refused, and the copy is left as it was.
    let bytes = std::fs::read(&copy).unwrap();
    let (ok, output) = backup(&live_url, &copy);
    assert!(!ok);
    assert!(output.contains("refusing to overwrite"), "{output}");
    assert_eq!(std::fs::read(&copy).unwrap(), bytes);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&copy).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    app.stop().await;

    // Restore: a server started on the copy.
    let restored = spawn_app_with(Options {
        database_url: Some(format!("sqlite://{}", copy.display())),
        ..Options::default()
    })
    .await;
    let res = restored
        .anonymous()
        .get(restored.url("/api/health/ready"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let campaigns: Value = restored.get("/api/campaigns").await.json().await.unwrap();
    let text = campaigns.to_string();
    for name in ["Spring", "Summer", "Autumn"] {
        assert!(text.contains(name), "{name} missing: {text}");
    }
    let db = &restored.server.state.db;
    assert_eq!(
        count(
            db,
            "select count(*) from profiles where identity like 'seed%'"
        )
        .await,
        20_000
    );
    // Whole uploads only: those done before the backup began, maybe some of those during it,
    // none after it ended.
    let live = count(
        db,
        "select count(*) from profiles where identity like 'live%'",
    )
    .await;
    let live = usize::try_from(live).unwrap();
    assert_eq!(live % BATCH, 0, "a partly stored upload: {live} profiles");
    assert!(
        (before * BATCH..=(during + 1) * BATCH).contains(&live),
        "{live} live profiles; {before} uploads before the backup, {during} by its end, {total} in all"
    );
    let check: String = with_pool!(db, pool => sqlx::query_scalar("pragma integrity_check")
        .fetch_one(pool)
        .await
        .unwrap());
    assert_eq!(check, "ok");
    // And the restored server works: it signs people in and takes writes.
    let res = restored
        .post("/api/campaigns", &json!({ "name": "Winter" }))
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let res = restored
        .anonymous()
        .post(restored.url("/api/login"))
        .json(&json!({"email": crate::helpers::ADMIN_EMAIL, "password": crate::helpers::ADMIN_PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    restored.stop().await;
}
