//! Campaign stats: the fetch from the Graph API sandbox over HTTP (paging, revisions of earlier
//! days, throttling, asynchronous reports), the stats API and its filters, and share links.

use std::time::Duration;

use jiff::ToSpan;
use reqwest::StatusCode;
use serde_json::{Value, json};
use server::{
    facebook::{
        GraphClient,
        client::RetryPolicy,
        reports::{AdDayInsight, AdInsightsQuery, Level, ReportPolling},
    },
    stats::{FetchOptions, fetch_campaign_stats_with},
};
use shared::stats::{CampaignStats, CreatedShareLink, ShareLink, ShareLinkStatus, StatsRefresh};

use crate::helpers::{Options, TestApp, error_body, spawn_app, spawn_app_with, with_pool};

const US: &str = "act_100000000000001";

fn quick_retry() -> RetryPolicy {
    RetryPolicy {
        max_retries: 0,
        base_delay: Duration::from_millis(10),
        max_wait: Duration::from_secs(1),
        max_slowdown: Duration::from_millis(20),
        rows_per_request: 10_000,
    }
}

/// Small pages, no asynchronous report: every fetch follows several pages.
fn paged(page_size: usize) -> FetchOptions {
    FetchOptions {
        page_size,
        async_above_days: 10_000,
        polling: ReportPolling {
            interval: Duration::from_millis(5),
            max_polls: 10,
        },
        retry: quick_retry(),
    }
}

fn client(app: &TestApp) -> GraphClient {
    GraphClient::new(app.url("/sandbox/graph/v25.0"), "test-token", None).with_policy(quick_retry())
}

/// The first seeded ad set of the US account (two ads), and a campaign exporting to it.
async fn campaign_with_ad_set(app: &TestApp, name: &str) -> (i64, String) {
    let campaigns: Value = app
        .get(&format!("/api/facebook/ad-accounts/{US}/campaigns"))
        .await
        .json()
        .await
        .unwrap();
    let fb_campaign = campaigns[0]["id"].as_str().unwrap().to_owned();
    let sets: Value = app
        .get(&format!("/api/facebook/campaigns/{fb_campaign}/adsets"))
        .await
        .json()
        .await
        .unwrap();
    let ad_set = sets[0]["id"].as_str().unwrap().to_owned();
    let res = app
        .post(
            "/api/campaigns",
            &json!({
                "name": name,
                "target": {"ad_account_id": US, "campaign_id": fb_campaign, "ad_set_id": ad_set}
            }),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let created: Value = res.json().await.unwrap();
    (created["id"].as_i64().unwrap(), ad_set)
}

async fn stats(app: &TestApp, id: i64, query: &str) -> CampaignStats {
    let res = app.get(&format!("/api/campaigns/{id}/stats{query}")).await;
    assert_eq!(res.status(), StatusCode::OK, "{query}");
    res.json().await.unwrap()
}

async fn set_faults(app: &TestApp, faults: Value) {
    let res = app.post("/sandbox/debug/faults", &faults).await;
    assert_eq!(res.status(), StatusCode::OK);
}

/// What the sandbox reports for the range, summed: (rows, impressions, clicks, spend in cents).
async fn sandbox_totals(
    app: &TestApp,
    ad_set: &str,
    done: &StatsRefresh,
) -> (usize, u64, u64, i64) {
    let rows = client(app)
        .ad_insights(
            ad_set,
            &AdInsightsQuery {
                since: done.since,
                until: done.until,
                page_size: 5000,
            },
        )
        .await
        .unwrap();
    let spend = rows
        .iter()
        .map(|r| shared::stats::parse_money(&r.spend, "USD").unwrap())
        .sum();
    (
        rows.len(),
        rows.iter().map(|r| r.impressions).sum(),
        rows.iter().map(|r| r.clicks).sum(),
        spend,
    )
}

#[tokio::test]
async fn the_fetch_follows_every_page_and_stores_one_row_per_ad_per_day() {
    let app = spawn_app().await;
    let (id, ad_set) = campaign_with_ad_set(&app, "Paged").await;

    let done = fetch_campaign_stats_with(&app.server.state, id, &paged(7))
        .await
        .unwrap();
    assert_eq!(
        done.since.to_string(),
        "2026-09-01",
        "from the ad set's start, in LA time"
    );
    let days = (done.until - done.since).get_days() as u64 + 1;
    assert_eq!(
        done.rows,
        2 * days,
        "2 ads x every day, far more than one page of 7"
    );

    let (rows, impressions, clicks, spend) = sandbox_totals(&app, &ad_set, &done).await;
    assert_eq!(rows as u64, done.rows);
    let s = stats(&app, id, "").await;
    assert_eq!(
        (s.totals.impressions, s.totals.clicks, s.totals.spend_minor),
        (impressions, clicks, spend),
        "exactly the sandbox's figures, spend to the cent"
    );
    assert_eq!(s.currency.as_deref(), Some("USD"));
    assert_eq!(s.time_zone.as_deref(), Some("America/Los_Angeles"));
    assert_eq!(s.daily.len() as u64, days);
    assert_eq!(s.ads.len(), 2);
    assert!(
        s.ads
            .iter()
            .all(|a| a.selected && a.ad_name.contains("ad "))
    );
    assert_eq!(
        (s.first_day, s.last_day),
        (Some(done.since), Some(done.until))
    );
    assert!(s.last_updated.is_some() && s.last_error.is_none());
    // Derived metrics are computed from the exact sums.
    let cpc = (spend * 2 + clicks as i64) / (2 * clicks as i64);
    assert_eq!(s.totals.cpc_minor, Some(cpc));
    app.stop().await;
}

#[tokio::test]
async fn a_refetch_applies_facebooks_revisions_of_earlier_days() {
    let app = spawn_app().await;
    let (id, _) = campaign_with_ad_set(&app, "Revised").await;
    let first = fetch_campaign_stats_with(&app.server.state, id, &paged(50))
        .await
        .unwrap();
    let before = stats(&app, id, "").await;
    let ad = before.ads[0].ad_id.clone();
    let day = first.until - 3.days();
    let query = format!("?from={day}&to={day}&ads={ad}");
    let day_before = stats(&app, id, &query).await.totals;
    assert!(day_before.impressions > 0);

    // Facebook revises that day down to half.
    let res = app
        .post(
            "/sandbox/debug/insights/revisions",
            &json!({"ad_id": ad, "date": day.to_string(), "percent": 50}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let second = fetch_campaign_stats_with(&app.server.state, id, &paged(50))
        .await
        .unwrap();
    assert!(
        second.since > first.since,
        "only the days Facebook may still revise"
    );
    assert!(second.rows < first.rows);

    let day_after = stats(&app, id, &query).await.totals;
    assert_eq!(day_after.impressions, day_before.impressions / 2);
    assert_eq!(day_after.spend_minor, day_before.spend_minor / 2);
    let after = stats(&app, id, "").await;
    assert_eq!(after.first_day, before.first_day, "older days are kept");
    assert_eq!(
        after.totals.impressions,
        before.totals.impressions - (day_before.impressions - day_after.impressions)
    );

    // Stats stored before reach was fetched (an upgraded server) are read again in full once.
    with_pool!(&app.server.state.db, pool => {
        sqlx::query("delete from campaign_stats_reach").execute(pool).await.unwrap();
        sqlx::query("update campaign_stats set reach = 0").execute(pool).await.unwrap();
    });
    assert_eq!(stats(&app, id, "").await.totals.reach, None);
    let third = fetch_campaign_stats_with(&app.server.state, id, &paged(50))
        .await
        .unwrap();
    assert_eq!((third.since, third.rows), (first.since, first.rows));
    let healed = stats(&app, id, "").await;
    assert!(healed.totals.reach.is_some());
    assert!(
        healed
            .daily
            .iter()
            .all(|d| d.metrics.reach.is_some_and(|r| r > 0))
    );
    app.stop().await;
}

#[tokio::test]
async fn a_throttled_fetch_keeps_the_stored_stats_and_says_so() {
    let app = spawn_app().await;
    let (id, _) = campaign_with_ad_set(&app, "Throttled").await;
    let res = app
        .post(&format!("/api/campaigns/{id}/stats/refresh"), &json!({}))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let before = stats(&app, id, "").await;

    // The custom-audience quota is used up; Facebook asks to wait 5 minutes.
    set_faults(
        &app,
        json!({"rate_limit_after": 1, "rate_limit_code": 80004, "regain_access_minutes": 5}),
    )
    .await;
    let res = app
        .post(&format!("/api/campaigns/{id}/stats/refresh"), &json!({}))
        .await;
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body = error_body(res).await;
    assert!(
        body.error.message.contains("5 minutes"),
        "{}",
        body.error.message
    );
    let during = stats(&app, id, "").await;
    assert_eq!(during.totals, before.totals, "nothing half-written");
    assert_eq!(during.last_updated, before.last_updated);
    assert!(
        during
            .last_error
            .as_deref()
            .unwrap_or_default()
            .contains("too many calls")
    );

    set_faults(&app, json!({})).await;
    let res = app
        .post(&format!("/api/campaigns/{id}/stats/refresh"), &json!({}))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let after = stats(&app, id, "").await;
    assert!(after.last_error.is_none());
    assert!(after.last_updated > before.last_updated);
    app.stop().await;
}

#[tokio::test]
async fn long_ranges_are_read_through_an_asynchronous_report_run() {
    let app = spawn_app().await;
    let (id, ad_set) = campaign_with_ad_set(&app, "Async").await;

    // The sandbox's report run: queued, polled to completion, then paged like insights.
    let fb = "/sandbox/graph/v25.0";
    let range = r#"{"since":"2026-10-01","until":"2026-10-10"}"#;
    let started: Value = app
        .http
        .post(app.url(&format!("{fb}/{ad_set}/insights")))
        .form(&[
            ("access_token", "t"),
            ("level", "ad"),
            ("time_increment", "1"),
            ("fields", "ad_id,impressions,spend"),
            ("time_range", range),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let run = started["report_run_id"].as_str().unwrap().to_owned();
    let early = app
        .get(&format!("{fb}/{run}/insights?access_token=t"))
        .await;
    assert_eq!(early.status(), StatusCode::BAD_REQUEST, "not complete yet");
    let mut status = Value::Null;
    for _ in 0..5 {
        status = app
            .get(&format!("{fb}/{run}?access_token=t"))
            .await
            .json()
            .await
            .unwrap();
        if status["async_status"] == "Job Completed" {
            break;
        }
    }
    assert_eq!(status["async_percent_completion"], 100, "{status}");
    let page: Value = app
        .get(&format!("{fb}/{run}/insights?access_token=t&limit=5"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(page["data"].as_array().unwrap().len(), 5);
    assert!(page["paging"]["next"].is_string());

    // The fetch uses it for long ranges and stores the same figures as a synchronous read.
    let options = FetchOptions {
        async_above_days: 0,
        ..paged(40)
    };
    let done = fetch_campaign_stats_with(&app.server.state, id, &options)
        .await
        .unwrap();
    let (rows, impressions, _, spend) = sandbox_totals(&app, &ad_set, &done).await;
    assert_eq!(done.rows, rows as u64);
    let s = stats(&app, id, "").await;
    assert_eq!(
        (s.totals.impressions, s.totals.spend_minor),
        (impressions, spend)
    );
    app.stop().await;
}

#[tokio::test]
async fn the_stats_api_filters_by_range_and_ads_and_exports_csv() {
    let app = spawn_app().await;
    let (id, ad_set) = campaign_with_ad_set(&app, "Filtered").await;
    let empty = stats(&app, id, "").await;
    assert_eq!(empty.totals.impressions, 0);
    assert!(empty.last_updated.is_none() && empty.sync.last_sync_at.is_none());
    fetch_campaign_stats_with(&app.server.state, id, &paged(500))
        .await
        .unwrap();

    let all = stats(&app, id, "").await;
    let ad = &all.ads[1];
    let one = stats(&app, id, &format!("?ads={}", ad.ad_id)).await;
    assert_eq!(one.totals, ad.metrics, "one ad's totals are that ad's row");

    // Reach is Facebook's count over the range, not the sum of the days; frequency follows.
    let (first, last) = (all.first_day.unwrap(), all.last_day.unwrap());
    let fb = client(&app);
    let set_reach = fb
        .range_reach(&ad_set, Level::AdSet, &[(first, last)])
        .await
        .unwrap()[0]
        .reach;
    assert_eq!(all.totals.reach, Some(set_reach));
    let daily_sum: u64 = all.daily.iter().map(|d| d.metrics.reach.unwrap()).sum();
    assert!(
        set_reach < daily_sum,
        "{set_reach} people, {daily_sum} by day"
    );
    let frequency = all.totals.frequency.unwrap();
    assert!(
        (frequency - all.totals.impressions as f64 / set_reach as f64).abs() < 1e-9,
        "frequency = impressions ÷ reach"
    );
    let per_ad = fb
        .range_reach(&ad_set, Level::Ad, &[(first, last)])
        .await
        .unwrap();
    let ad_reach = per_ad
        .iter()
        .find(|r| r.ad_id.as_deref() == Some(ad.ad_id.as_str()))
        .unwrap()
        .reach;
    assert_eq!(
        (ad.metrics.reach, one.totals.reach),
        (Some(ad_reach), Some(ad_reach))
    );
    // The presets' ranges are fetched too; a custom range Facebook was not asked for has no
    // reach rather than a wrong sum.
    let week = stats(&app, id, &format!("?from={}&to={last}", last - 6.days())).await;
    assert!(week.totals.reach.is_some_and(|r| r > 0 && r < set_reach));
    let custom = stats(&app, id, "?from=2026-10-01&to=2026-10-07").await;
    assert_eq!((custom.totals.reach, custom.totals.frequency), (None, None));
    assert!(
        custom.daily.iter().all(|d| d.metrics.reach.is_some()),
        "the days have theirs"
    );
    assert_eq!(
        one.ads.iter().filter(|a| a.selected).count(),
        1,
        "every ad is still listed, one selected"
    );

    let week = stats(&app, id, "?from=2026-10-01&to=2026-10-07").await;
    assert_eq!(week.daily.len(), 7);
    assert_eq!(week.daily[0].day.to_string(), "2026-10-01");
    let week_sum: u64 = week.daily.iter().map(|d| d.metrics.impressions).sum();
    assert_eq!(week.totals.impressions, week_sum);

    let res = app
        .get(&format!(
            "/api/campaigns/{id}/stats?from=01/10/2026&to=2026-09-01&ads=x"
        ))
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let paths: Vec<String> = error_body(res)
        .await
        .error
        .fields
        .into_iter()
        .map(|f| f.path)
        .collect();
    assert_eq!(paths, ["from", "ads"]);
    let res = app
        .get(&format!(
            "/api/campaigns/{id}/stats?from=2026-10-02&to=2026-10-01"
        ))
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        app.get("/api/campaigns/999/stats").await.status(),
        StatusCode::NOT_FOUND
    );

    let res = app
        .get(&format!(
            "/api/campaigns/{id}/stats.csv?from=2026-10-01&to=2026-10-07&ads={}",
            ad.ad_id
        ))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let csv = res.text().await.unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines[0],
        "date,ad_id,ad_name,impressions,reach,frequency,clicks,spend,currency"
    );
    assert_eq!(lines.len(), 1 + 7, "one row per day for the one ad");
    assert!(lines[1].starts_with(&format!("2026-10-01,{},", ad.ad_id)));
    assert!(lines[1].ends_with(",USD"));
    // Each row's reach is the ad's that day, and its frequency impressions ÷ reach.
    let day_one = stats(
        &app,
        id,
        &format!("?from=2026-10-01&to=2026-10-01&ads={}", ad.ad_id),
    )
    .await
    .daily[0]
        .metrics;
    let cells: Vec<&str> = lines[1].split(',').collect();
    assert_eq!(cells[3], day_one.impressions.to_string());
    assert_eq!(cells[4], day_one.reach.unwrap().to_string());
    assert_eq!(
        cells[5],
        shared::stats::format_hundredths(day_one.frequency).unwrap()
    );

    // Without an ad set there is nothing to fetch.
    let res = app
        .post("/api/campaigns", &json!({"name": "No target"}))
        .await;
    let bare: Value = res.json().await.unwrap();
    let res = app
        .post(
            &format!("/api/campaigns/{}/stats/refresh", bare["id"]),
            &json!({}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    app.stop().await;
}

#[tokio::test]
async fn share_links_show_one_campaigns_stats_until_revoked_or_expired() {
    let app = spawn_app().await;
    let (id, _) = campaign_with_ad_set(&app, "Shared campaign").await;
    let (other, _) = campaign_with_ad_set(&app, "Secret other campaign").await;
    fetch_campaign_stats_with(&app.server.state, id, &paged(500))
        .await
        .unwrap();

    let res = app
        .post(&format!("/api/campaigns/{id}/share-links"), &json!({}))
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let created: CreatedShareLink = res.json().await.unwrap();
    assert_eq!(created.token.len(), 64, "256 bits, hex");
    assert!(created.token.bytes().all(|b| b.is_ascii_hexdigit()));
    assert_eq!(created.path, format!("/share/{}", created.token));
    assert_eq!(created.link.status, ShareLinkStatus::Active);

    let listed = app
        .get(&format!("/api/campaigns/{id}/share-links"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        !listed.contains(&created.token),
        "the token is shown once, never listed"
    );
    let listed: Vec<ShareLink> = serde_json::from_str(&listed).unwrap();
    assert_eq!(listed, vec![created.link.clone()]);
    let other_links: Vec<ShareLink> = app
        .get(&format!("/api/campaigns/{other}/share-links"))
        .await
        .json()
        .await
        .unwrap();
    assert!(other_links.is_empty());

    // The public endpoint: this campaign's stats, and nothing else.
    let public_url = format!("/api/share/{}/stats", created.token);
    let res = app.get(&public_url).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["x-robots-tag"], "noindex, nofollow");
    let text = res.text().await.unwrap();
    let shared_stats: CampaignStats = serde_json::from_str(&text).unwrap();
    assert_eq!(shared_stats, stats(&app, id, "").await);
    for secret in [
        created.token.as_str(),
        "Secret other",
        "ad_account",
        "target",
        "access_token",
        "sandbox-token",
    ] {
        assert!(!text.contains(secret), "{secret} leaked: {text}");
    }
    let filtered = app
        .get(&format!("{public_url}?from=2026-10-01&to=2026-10-03"))
        .await
        .json::<CampaignStats>()
        .await
        .unwrap();
    assert_eq!(filtered.daily.len(), 3);
    let page = app.get(&format!("/share/{}", created.token)).await;
    assert_eq!(page.headers()["x-robots-tag"], "noindex, nofollow");

    // Revoked: 404, like a token that never existed.
    let res = app
        .http
        .delete(app.url(&format!(
            "/api/campaigns/{id}/share-links/{}",
            created.link.id
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let revoked: ShareLink = res.json().await.unwrap();
    assert_eq!(revoked.status, ShareLinkStatus::Revoked);
    assert_eq!(app.get(&public_url).await.status(), StatusCode::NOT_FOUND);
    let made_up = format!("/api/share/{}/stats", "ab".repeat(32));
    assert_eq!(app.get(&made_up).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        app.get("/api/share/short/stats").await.status(),
        StatusCode::NOT_FOUND
    );
    let res = app
        .http
        .delete(app.url(&format!(
            "/api/campaigns/{other}/share-links/{}",
            created.link.id
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        StatusCode::NOT_FOUND,
        "a link belongs to its campaign"
    );

    // Expired: 404 once the expiry passes; an expiry in the past is refused.
    let soon = jiff::Timestamp::now() + jiff::SignedDuration::from_millis(1500);
    let res = app
        .post(
            &format!("/api/campaigns/{id}/share-links"),
            &json!({"expires_at": soon}),
        )
        .await;
    let expiring: CreatedShareLink = res.json().await.unwrap();
    let url = format!("/api/share/{}/stats", expiring.token);
    assert_eq!(app.get(&url).await.status(), StatusCode::OK);
    tokio::time::sleep(Duration::from_millis(1700)).await;
    let res = app.get(&url).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert!(error_body(res).await.error.message.contains("expired"));
    let res = app
        .post(
            &format!("/api/campaigns/{id}/share-links"),
            &json!({"expires_at": "2020-01-01T00:00:00Z"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    app.stop().await;
}

/// One `Charged`-like event of `identity` at `ts` (epoch seconds).
fn event(identity: &str, name: &str, ts: jiff::Timestamp) -> Value {
    json!({"type":"event","identity":identity,"evtName":name,"ts":ts.as_second(),"evtData":{}})
}

async fn upload(app: &TestApp, records: Vec<Value>) {
    let res = app.upload(&json!({ "d": records })).await;
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["status"], "success", "{body}");
}

/// Makes campaign `id` (exporting to the sandbox's ad set) sync the "gold" plan's members daily
/// from the day after tomorrow (so nothing comes due unasked), with `goal` as its conversion
/// goal, and publishes it.
async fn publish_gold_campaign_with(app: &TestApp, id: i64, goal: Option<&str>) {
    let stored: Value = app
        .get(&format!("/api/campaigns/{id}"))
        .await
        .json()
        .await
        .unwrap();
    let start = jiff::Timestamp::now()
        .to_zoned(jiff::tz::TimeZone::UTC)
        .date()
        .checked_add(2.days())
        .unwrap();
    let draft = json!({
        "name": stored["name"],
        "version": stored["version"],
        "target": stored["target"],
        "schedule": {"time_zone":"UTC","kind":"recurring",
            "repeat":{"every":"days","interval":1},"time":"00:00",
            "start_date": start.to_string(),"end":{"kind":"never"}},
        "audience": {"kind":"group","combine":"all_of","rules":[
            {"kind":"user_property","property":"Plan",
             "condition":{"type":"text","op":"equals","value":"gold"}}]},
        "conversion_goal": goal.map(|event| json!({"event": event})),
    });
    let res = app
        .http
        .put(app.url(&format!("/api/campaigns/{id}")))
        .json(&draft)
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        StatusCode::OK,
        "{}",
        res.text().await.unwrap()
    );
    let res = app
        .post(&format!("/api/campaigns/{id}/publish"), &json!({}))
        .await;
    assert_eq!(
        res.status(),
        StatusCode::OK,
        "{}",
        res.text().await.unwrap()
    );
}

async fn publish_gold_campaign(app: &TestApp, id: i64) {
    publish_gold_campaign_with(app, id, None).await;
}

async fn run_sync_at(app: &TestApp, id: i64, at: jiff::Timestamp) {
    let res = app
        .post(
            &format!("/api/campaigns/{id}/runs"),
            &json!({"dry_run": false}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    server::jobs::drain(&app.server.state, at).await.unwrap();
    let runs: Value = app
        .get(&format!("/api/campaigns/{id}/runs"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(runs[0]["state"], "succeeded", "{runs}");
}

#[tokio::test]
async fn conversions_count_the_goal_event_of_members_while_they_are_in_the_audience() {
    let app = spawn_app().await;
    // 105 gold members (Facebook's small-audience guard holds removals below 100), one silver.
    let mut profiles: Vec<Value> = (0..105)
        .map(|i| {
            json!({"type":"profile","identity":format!("u{i}"),"profileData":{
                "Email": format!("u{i}@example.com"), "Plan": "gold"}})
        })
        .collect();
    profiles.push(
        json!({"type":"profile","identity":"outsider","profileData":{
        "Email":"outsider@example.com","Plan":"silver"}}),
    );
    upload(&app, profiles).await;

    let (id, _) = campaign_with_ad_set(&app, "Converting").await;
    publish_gold_campaign_with(&app, id, Some("Charged")).await;

    // Members join when Facebook accepts the first sync, at t0 (the worker's clock; a minute
    // ahead, so the run just asked for is due).
    let t0 = jiff::Timestamp::now() + jiff::SignedDuration::from_mins(1);
    let mins = |m: i64| t0 + jiff::SignedDuration::from_mins(m);
    upload(&app, vec![event("u1", "Charged", mins(-60))]).await;
    run_sync_at(&app, id, t0).await;
    // u3 leaves the segment; the second sync removes it at t0 + 20 min.
    upload(
        &app,
        vec![json!({"type":"profile","identity":"u3","profileData":{"Plan":"silver"}})],
    )
    .await;
    run_sync_at(&app, id, mins(20)).await;

    upload(
        &app,
        vec![
            // Counted: members, after joining.
            event("u1", "Charged", mins(5)),
            event("u1", "Charged", mins(6)),
            event("u2", "Charged", mins(30)),
            // Counted: u3 converted while still a member.
            event("u3", "Charged", mins(10)),
            // Not counted: after u3 left, before anyone joined, not a member, not the goal.
            event("u3", "Charged", mins(40)),
            event("outsider", "Charged", mins(5)),
            event("u4", "Viewed", mins(5)),
        ],
    )
    .await;

    let res = app
        .post(&format!("/api/campaigns/{id}/stats/refresh"), &json!({}))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let s = stats(&app, id, "").await;
    let c = s.conversions.clone().expect("the campaign has a goal");
    assert_eq!(c.event, "Charged");
    assert_eq!(c.conversions, 4, "{c:?}");
    assert_eq!(c.daily.iter().map(|d| d.conversions).sum::<u64>(), 4);
    assert!(s.totals.spend_minor > 0);
    assert_eq!(
        c.cost_per_conversion_minor,
        shared::stats::cost_per_conversion(s.totals.spend_minor, 4)
    );
    // Exactly spend ÷ 4, to the cent.
    let spend = s.totals.spend_minor;
    let cost = c.cost_per_conversion_minor.unwrap();
    assert!((cost * 4 - spend).abs() <= 2, "{cost} × 4 vs {spend}");

    // The days are the ad account's (America/Los_Angeles); a range without those days has
    // no conversions and no cost per conversion.
    let tz = jiff::tz::TimeZone::get("America/Los_Angeles").unwrap();
    let day = mins(30).to_zoned(tz).date();
    let before = day.checked_sub(10.days()).unwrap();
    let s = stats(&app, id, &format!("?from={before}&to={before}")).await;
    let c = s.conversions.unwrap();
    assert_eq!((c.conversions, c.cost_per_conversion_minor), (0, None));

    // The public share page shows the same figures (counts only, no profile data).
    let res = app
        .post(&format!("/api/campaigns/{id}/share-links"), &json!({}))
        .await;
    let created: CreatedShareLink = res.json().await.unwrap();
    let shared: Value = app
        .get(&format!("/api/share/{}/stats", created.token))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(shared["conversions"]["conversions"], 4, "{shared}");
    assert!(
        !shared.to_string().contains("u1"),
        "no identities in public stats"
    );

    // Without a goal there are no conversion figures.
    let (other, _) = campaign_with_ad_set(&app, "No goal").await;
    assert!(stats(&app, other, "").await.conversions.is_none());
    app.stop().await;
}

/// Every row is plausible: people reached, seen more than once, clicked at 0.5–2 %, paid for.
fn assert_plausible(rows: &[AdDayInsight]) {
    assert!(!rows.is_empty());
    for r in rows {
        let ctr = r.clicks as f64 * 100.0 / r.impressions as f64;
        assert!(r.clicks > 0, "{r:?}");
        assert!((0.5..=2.0).contains(&ctr), "CTR {ctr:.2} % in {r:?}");
        assert!(r.reach > 0 && r.reach <= r.impressions, "{r:?}");
        assert!(
            shared::stats::parse_money(&r.spend, "USD").unwrap() > 0,
            "{r:?}"
        );
        assert_eq!(r.account_currency.as_deref(), Some("USD"));
    }
}

#[tokio::test]
async fn the_sandboxs_insights_are_plausible_deterministic_and_count_reach_as_people() {
    let app = spawn_app().await;
    let (_, ad_set) = campaign_with_ad_set(&app, "Plausible").await;
    let fb = client(&app);
    let (since, until): (jiff::civil::Date, jiff::civil::Date) =
        ("2026-10-01".parse().unwrap(), "2026-10-30".parse().unwrap());
    let query = AdInsightsQuery {
        since,
        until,
        page_size: 5000,
    };
    let rows = fb.ad_insights(&ad_set, &query).await.unwrap();
    assert_eq!(rows.len(), 2 * 30);
    assert_plausible(&rows);
    assert_eq!(
        fb.ad_insights(&ad_set, &query).await.unwrap(),
        rows,
        "the same figures on every read"
    );

    // The ad set's daily reach: people who saw either ad, fewer than the two ads' together.
    let set_days = fb.ad_set_daily_reach(&ad_set, &query, None).await.unwrap();
    assert_eq!(set_days.len(), 30);
    for day in &set_days {
        let ads: Vec<u64> = rows
            .iter()
            .filter(|r| r.date_start == day.date_start)
            .map(|r| r.reach)
            .collect();
        let (sum, max) = (ads.iter().sum::<u64>(), *ads.iter().max().unwrap());
        assert!(day.reach <= sum && day.reach >= max, "{day:?} vs {ads:?}");
    }
    // Over the month: at most the days' sum, at least the largest day, at most the audience
    // (the ad set targets no custom audience: its 20,000 people).
    let month = fb
        .range_reach(&ad_set, Level::AdSet, &[(since, until), (until, until)])
        .await
        .unwrap();
    assert_eq!(month.len(), 2, "one row per range");
    let sum: u64 = set_days.iter().map(|d| d.reach).sum();
    let max = set_days.iter().map(|d| d.reach).max().unwrap();
    assert!(
        month[0].reach < sum && month[0].reach >= max && month[0].reach <= 20_000,
        "{month:?}"
    );
    assert_eq!(
        month[1].reach, set_days[29].reach,
        "one day's range is that day"
    );
    for ad in fb
        .range_reach(&ad_set, Level::Ad, &[(since, until)])
        .await
        .unwrap()
    {
        let days: Vec<u64> = rows
            .iter()
            .filter(|r| Some(&r.ad_id) == ad.ad_id.as_ref())
            .map(|r| r.reach)
            .collect();
        assert_eq!(days.len(), 30);
        assert!(ad.reach <= days.iter().sum() && ad.reach >= *days.iter().max().unwrap());
        assert!(
            ad.reach <= month[0].reach,
            "an ad reaches no more than its ad set"
        );
    }
    app.stop().await;
}

#[tokio::test]
async fn the_first_sync_fetches_the_stats_and_the_default_range_starts_there() {
    // The periodic fetch is on, as in production: it is what the first sync's fetch goes with.
    let app = spawn_app_with(Options {
        env: vec![("STATS_REFRESH_SECS", "3600".to_owned())],
        upload_api_key: Some(crate::helpers::UPLOAD_KEY.to_owned()),
        ..Options::default()
    })
    .await;
    // 105 members: a small custom audience, as campaigns often start.
    let profiles: Vec<Value> = (0..105)
        .map(|i| {
            json!({"type":"profile","identity":format!("u{i}"),"profileData":{
                "Email": format!("u{i}@example.com"), "Plan": "gold"}})
        })
        .collect();
    upload(&app, profiles).await;
    let (id, ad_set) = campaign_with_ad_set(&app, "First sync").await;
    publish_gold_campaign(&app, id).await;
    let fb = client(&app);
    let month = AdInsightsQuery {
        since: "2026-10-01".parse().unwrap(),
        until: "2026-10-30".parse().unwrap(),
        page_size: 5000,
    };
    let before = fb.ad_insights(&ad_set, &month).await.unwrap();

    let t0 = jiff::Timestamp::now() + jiff::SignedDuration::from_mins(1);
    run_sync_at(&app, id, t0).await;
    // No "Refresh now": the sync's end queued the fetch, and the same drain ran it.
    let s = stats(&app, id, "").await;
    assert!(s.last_updated.is_some(), "fetched after the first sync");
    assert!(
        s.totals.impressions > 0 && s.totals.clicks > 0,
        "{:?}",
        s.totals
    );
    let ctr = s.totals.ctr.unwrap();
    assert!((0.5..=2.0).contains(&ctr), "CTR {ctr}");
    assert!(
        s.totals.reach.is_some_and(|r| r > 0 && r <= 1_000),
        "{:?}",
        s.totals
    );
    assert!(s.totals.frequency.is_some_and(|f| f > 1.0));

    // The default range starts on the day of the first sync (the ad account's day).
    let la = jiff::tz::TimeZone::get("America/Los_Angeles").unwrap();
    let sync_day = t0.to_zoned(la).date();
    assert_eq!(s.first_sync_day, Some(sync_day));
    assert_eq!(s.query.from, Some(sync_day));
    assert_eq!(s.daily.first().map(|d| d.day), Some(sync_day));
    // The ad set's whole history is one parameter away.
    let lifetime = stats(&app, id, "?range=lifetime").await;
    assert_eq!(lifetime.daily[0].day.to_string(), "2026-09-01");
    assert!(lifetime.totals.impressions > s.totals.impressions);
    assert!(lifetime.totals.reach.is_some());
    let res = app
        .get(&format!(
            "/api/campaigns/{id}/stats?range=lifetime&from=2026-10-01"
        ))
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_body(res).await.error.fields[0].path, "range");
    // The CSV's default is the page's.
    let csv = app
        .get(&format!("/api/campaigns/{id}/stats.csv"))
        .await
        .text()
        .await
        .unwrap();
    let rows: Vec<&str> = csv.lines().skip(1).collect();
    assert_eq!(rows.len(), 2, "two ads, one day: {csv}");
    assert!(
        rows.iter().all(|r| r.starts_with(&sync_day.to_string())),
        "{csv}"
    );

    // The audience now attached is small: fewer impressions than its 20,000 people before, still
    // clicked at 0.5–2 % on every row.
    let after = fb.ad_insights(&ad_set, &month).await.unwrap();
    assert_plausible(&after);
    let total = |rows: &[AdDayInsight]| rows.iter().map(|r| r.impressions).sum::<u64>();
    assert!(
        total(&after) < total(&before) / 2,
        "{} vs {}",
        total(&after),
        total(&before)
    );

    // Later syncs leave the fetch to the schedule.
    run_sync_at(&app, id, t0 + jiff::SignedDuration::from_mins(20)).await;
    let jobs = server::jobs::queue::list(&app.server.state.db, 1000)
        .await
        .unwrap();
    assert_eq!(jobs.iter().filter(|j| j.kind == "stats").count(), 1);
    app.stop().await;
}
