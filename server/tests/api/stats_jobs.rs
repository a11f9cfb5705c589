//! The periodic `stats` job: queued by the scheduler once per `STATS_REFRESH_SECS` for each
//! published campaign, run by the worker against the server's Graph API sandbox. The worker is
//! off; `server::jobs::drain` runs the scheduler and the queue at instants the test chooses.

use jiff::{SignedDuration, Timestamp};
use reqwest::StatusCode;
use serde_json::{Value, json};
use server::jobs::{Drained, drain, queue};
use shared::stats::CampaignStats;

use crate::helpers::{Options, TestApp, spawn_app_with, target};

/// Hourly, the default.
const PERIOD: &str = "3600";

async fn app() -> TestApp {
    spawn_app_with(Options {
        env: vec![("STATS_REFRESH_SECS", PERIOD.to_owned())],
        ..Options::default()
    })
    .await
}

/// A draft exporting to the sandbox's ad set; returns its id.
async fn draft(app: &TestApp, name: &str) -> i64 {
    // Daily from the day after tomorrow: no audience sync comes due while a test drains within
    // the next day, so every job drained here is a stats job.
    let start = Timestamp::now()
        .to_zoned(jiff::tz::TimeZone::UTC)
        .date()
        .tomorrow()
        .and_then(|d| d.tomorrow())
        .unwrap();
    let body = json!({
        "name": name,
        "schedule": {"time_zone":"UTC","kind":"recurring","repeat":{"every":"days","interval":1},
                     "time":"00:00","start_date": start.to_string(),"end":{"kind":"never"}},
        "audience": {"kind":"group","combine":"all_of","rules":[
            {"kind":"user_property","property":"Plan",
             "condition":{"type":"text","op":"equals","value":"gold"}}]},
        "target": target(app).await,
    });
    let res = app.post("/api/campaigns", &body).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    res.json::<Value>().await.unwrap()["id"].as_i64().unwrap()
}

async fn act(app: &TestApp, id: i64, action: &str) {
    let res = app
        .post(&format!("/api/campaigns/{id}/{action}"), &json!({}))
        .await;
    assert_eq!(
        res.status(),
        StatusCode::OK,
        "{action}: {}",
        res.text().await.unwrap()
    );
}

async fn published(app: &TestApp, name: &str) -> i64 {
    let id = draft(app, name).await;
    act(app, id, "publish").await;
    id
}

async fn stats(app: &TestApp, id: i64) -> CampaignStats {
    let res = app.get(&format!("/api/campaigns/{id}/stats")).await;
    assert_eq!(res.status(), StatusCode::OK);
    res.json().await.unwrap()
}

async fn drain_at(app: &TestApp, at: Timestamp) -> Drained {
    drain(&app.server.state, at).await.expect("drain")
}

fn after(t0: Timestamp, minutes: i64) -> Timestamp {
    t0 + SignedDuration::from_mins(minutes)
}

/// The `stats` jobs in the queue, oldest first.
async fn stats_jobs(app: &TestApp) -> Vec<queue::JobView> {
    let mut jobs = queue::list(&app.server.state.db, 1000).await.unwrap();
    jobs.retain(|j| j.kind == "stats");
    jobs.reverse();
    jobs
}

#[tokio::test]
async fn a_published_campaign_is_fetched_once_per_period_and_a_draft_never() {
    let app = app().await;
    let draft_id = draft(&app, "Still a draft").await;
    let id = published(&app, "Published").await;
    assert!(stats(&app, id).await.last_updated.is_none());

    // Not at once: until the first period has passed the stats page offers "Refresh now".
    let t0 = Timestamp::now();
    assert_eq!(drain_at(&app, t0).await, Drained::default());
    assert_eq!(drain_at(&app, after(t0, 59)).await, Drained::default());
    let first = drain_at(&app, after(t0, 61)).await;
    assert_eq!(
        (first.stats, first.jobs),
        (1, 1),
        "once the period has passed"
    );
    let s = stats(&app, id).await;
    assert!(s.last_updated.is_some() && s.last_error.is_none());
    assert!(s.totals.impressions > 0, "the sandbox's figures are stored");
    assert_eq!(s.ads.len(), 2);

    // Not again within the period, however often the scheduler looks.
    for minutes in [62, 90, 120] {
        let d = drain_at(&app, after(t0, minutes)).await;
        assert_eq!((d.stats, d.jobs), (0, 0), "{minutes} minutes later");
    }
    let second = drain_at(&app, after(t0, 122)).await;
    assert_eq!(
        (second.stats, second.jobs),
        (1, 1),
        "a period after the first"
    );
    assert!(stats(&app, id).await.last_updated > s.last_updated);

    let jobs = stats_jobs(&app).await;
    assert_eq!(jobs.len(), 2);
    for job in &jobs {
        assert_eq!(job.state, "done");
        let payload: Value = serde_json::from_str(&job.payload).unwrap();
        assert_eq!(payload, json!({"campaign_id": id}));
    }
    let d = stats(&app, draft_id).await;
    assert!(d.last_updated.is_none() && d.totals.impressions == 0);
    app.stop().await;
}

#[tokio::test]
async fn two_servers_on_one_database_fetch_each_period_once() {
    let a = app().await;
    let b = spawn_app_with(Options {
        env: vec![("STATS_REFRESH_SECS", PERIOD.to_owned())],
        database_url: Some(a.server.state.config.database_url.clone()),
        // Both talk to the same Facebook: server A's sandbox.
        graph_url: Some(a.url("/sandbox/graph/v25.0")),
        ..Options::default()
    })
    .await;
    let id = published(&a, "Shared").await;

    let t0 = Timestamp::now();
    for (minutes, expected) in [(0, 0), (61, 1), (90, 0), (122, 1), (150, 0), (183, 1)] {
        let at = after(t0, minutes);
        let (da, db) = tokio::join!(drain_at(&a, at), drain_at(&b, at));
        assert_eq!(da.stats + db.stats, expected, "queued at +{minutes} min");
        assert_eq!(da.jobs + db.jobs, expected, "ran at +{minutes} min");
    }
    let jobs = stats_jobs(&a).await;
    assert_eq!(jobs.len(), 3);
    assert!(jobs.iter().all(|j| j.state == "done" && j.attempts == 1));
    assert!(stats(&b, id).await.last_updated.is_some());
    b.stop().await;
    a.stop().await;
}

#[tokio::test]
async fn a_throttled_fetch_waits_for_facebook_and_keeps_the_stored_stats() {
    let app = app().await;
    let id = published(&app, "Throttled").await;
    let t0 = Timestamp::now();
    drain_at(&app, t0).await;
    assert_eq!(drain_at(&app, after(t0, 61)).await.jobs, 1);
    let before = stats(&app, id).await;
    assert!(before.last_updated.is_some());

    // Facebook's quota is used up; it asks to wait 5 minutes.
    let res = app
        .post(
            "/sandbox/debug/faults",
            &json!({"rate_limit_after": 1, "rate_limit_code": 80004, "regain_access_minutes": 5}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let t1 = after(t0, 122);
    assert_eq!(drain_at(&app, t1).await.jobs, 1);
    let during = stats(&app, id).await;
    assert_eq!(during.totals, before.totals, "nothing half-written");
    assert_eq!(during.last_updated, before.last_updated);
    assert!(
        during
            .last_error
            .as_deref()
            .unwrap_or_default()
            .contains("too many calls")
    );
    let job = stats_jobs(&app).await.pop().unwrap();
    assert_eq!(job.state, "queued", "delayed, not failed");
    assert_eq!(job.attempts, 1);
    let run_at: Timestamp = job.run_at.parse().unwrap();
    assert!(
        run_at >= after(t1, 5),
        "not before Facebook's estimate: {run_at}"
    );
    assert_eq!(
        drain_at(&app, after(t1, 4)).await.jobs,
        0,
        "still waiting for Facebook"
    );

    let res = app.post("/sandbox/debug/faults", &json!({})).await;
    assert_eq!(res.status(), StatusCode::OK);
    let d = drain_at(&app, after(t1, 7)).await;
    assert_eq!((d.stats, d.jobs), (0, 1), "the same job, retried");
    let now = stats(&app, id).await;
    assert!(now.last_error.is_none());
    assert!(now.last_updated > before.last_updated);
    let job = stats_jobs(&app).await.pop().unwrap();
    assert_eq!((job.state.as_str(), job.attempts), ("done", 2));
    app.stop().await;
}

#[tokio::test]
async fn a_stopped_campaign_gets_a_final_fetch_then_refreshes_for_28_days_only() {
    let app = app().await;
    let id = published(&app, "Stopped").await;
    let t0 = Timestamp::now();
    assert_eq!(drain_at(&app, t0).await.stats, 0);
    assert_eq!(drain_at(&app, after(t0, 61)).await.stats, 1);
    act(&app, id, "stop").await;

    // The final fetch comes at once, not a period later.
    assert_eq!(drain_at(&app, after(t0, 62)).await.stats, 1);
    assert_eq!(drain_at(&app, after(t0, 63)).await.stats, 0);
    // Facebook still revises the last 28 days: still refreshed every period.
    assert_eq!(drain_at(&app, after(t0, 123)).await.stats, 1);
    let day = 24 * 60;
    assert_eq!(drain_at(&app, after(t0, 27 * day)).await.stats, 1);
    // The first fetch past the window is the last one.
    assert_eq!(drain_at(&app, after(t0, 29 * day)).await.stats, 1);
    assert_eq!(drain_at(&app, after(t0, 30 * day)).await.stats, 0);
    assert_eq!(drain_at(&app, after(t0, 60 * day)).await.stats, 0);
    assert!(stats_jobs(&app).await.iter().all(|j| j.state == "done"));
    app.stop().await;
}

#[tokio::test]
async fn refresh_now_counts_as_the_periods_fetch_and_pushes_the_next_one_back() {
    let app = app().await;
    let id = published(&app, "Refreshed by hand").await;
    // The scheduler saw the campaign half an hour ago: its first fetch is due in 30 minutes.
    let t0 = Timestamp::now();
    assert_eq!(drain_at(&app, after(t0, -30)).await, Drained::default());

    let res = app
        .post(&format!("/api/campaigns/{id}/stats/refresh"), &json!({}))
        .await;
    assert_eq!(
        res.status(),
        StatusCode::OK,
        "{}",
        res.text().await.unwrap()
    );
    let refreshed = stats(&app, id).await.last_updated;
    assert!(refreshed.is_some());

    // The fetch that was due 30 minutes from now is now due a period after the refresh.
    for minutes in [31, 45, 59] {
        let d = drain_at(&app, after(t0, minutes)).await;
        assert_eq!(
            (d.stats, d.jobs),
            (0, 0),
            "{minutes} minutes after the refresh"
        );
    }
    let d = drain_at(&app, after(t0, 61)).await;
    assert_eq!((d.stats, d.jobs), (1, 1), "a period after the refresh");
    assert!(stats(&app, id).await.last_updated > refreshed);

    app.stop().await;
}
