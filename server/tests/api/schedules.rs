//! `POST /api/schedules/preview`: the shared schedule math served over HTTP, with the JSON error
//! contract for bad input.

use reqwest::StatusCode;
use serde_json::json;
use shared::{
    campaign::{Campaign, CampaignStatus},
    error::ErrorCode,
    schedule::Preview,
};

use crate::helpers::{Options, error_body, spawn_app, spawn_app_with, with_pool};

#[tokio::test]
async fn monthly_on_the_7th_created_on_the_10th_first_runs_next_month() {
    let app = spawn_app().await;
    let res = app
        .http
        .post(app.url("/api/schedules/preview"))
        .json(&json!({
            "schedule": {
                "time_zone": "Asia/Kolkata",
                "kind": "recurring",
                "repeat": {"every": "months", "interval": 1, "days": [7]},
                "time": "09:00",
                "start_date": "2027-03-01",
                "end": {"kind": "never"}
            },
            "count": 3,
            "now": "2027-03-10T06:00:00Z"
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let preview: Preview = res.json().await.unwrap();
    let local: Vec<String> = preview.runs.iter().map(|r| r.local.to_string()).collect();
    assert_eq!(
        local,
        [
            "2027-04-07T09:00:00",
            "2027-05-07T09:00:00",
            "2027-06-07T09:00:00"
        ]
    );
    // 09:00 in Kolkata (UTC+05:30) is 03:30 UTC.
    assert_eq!(preview.runs[0].utc.to_string(), "2027-04-07T03:30:00Z");
    assert!(
        preview.explanation.contains("7 April 2027"),
        "{}",
        preview.explanation
    );
    app.stop().await;
}

#[tokio::test]
async fn an_invalid_schedule_lists_every_problem_with_its_path() {
    let app = spawn_app().await;
    let res = app
        .http
        .post(app.url("/api/schedules/preview"))
        .json(&json!({
            "schedule": {
                "time_zone": "Mars/Olympus_Mons",
                "kind": "recurring",
                "repeat": {"every": "days", "interval": 0},
                "time": "09:00",
                "start_date": "2027-03-10",
                "end": {"kind": "on_date", "date": "2027-03-01"}
            },
            "now": "2027-03-01T00:00:00Z"
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = error_body(res).await;
    assert_eq!(body.error.code, ErrorCode::ValidationFailed);
    let paths: Vec<&str> = body.error.fields.iter().map(|f| f.path.as_str()).collect();
    for expected in [
        "schedule.time_zone",
        "schedule.repeat.interval",
        "schedule.end.date",
    ] {
        assert!(
            paths.contains(&expected),
            "{expected} missing from {paths:?}"
        );
    }
    app.stop().await;
}

#[tokio::test]
async fn a_time_in_the_past_is_refused() {
    let app = spawn_app().await;
    let res = app
        .http
        .post(app.url("/api/schedules/preview"))
        .json(&json!({
            "schedule": {"time_zone": "UTC", "kind": "once", "at": "2020-01-01T10:00:00"}
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = error_body(res).await;
    assert_eq!(body.error.fields[0].path, "schedule.at");
    app.stop().await;
}

#[tokio::test]
async fn malformed_json_gets_the_json_error_body() {
    let app = spawn_app().await;
    let post = |body: &'static str| {
        app.http
            .post(app.url("/api/schedules/preview"))
            .header("content-type", "application/json")
            .body(body)
            .send()
    };

    let res = post("{\"schedule\": ").await.unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let body = error_body(res).await;
    assert_eq!(body.error.code, ErrorCode::BadRequest);
    assert!(
        body.error.message.contains("not valid JSON"),
        "{}",
        body.error.message
    );

    let res = post("{\"count\": 3}").await.unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let body = error_body(res).await;
    assert!(
        body.error.message.contains("schedule"),
        "names the missing field: {}",
        body.error.message
    );

    let res = app
        .http
        .post(app.url("/api/schedules/preview"))
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        StatusCode::BAD_REQUEST,
        "no JSON content type"
    );
    error_body(res).await;
    app.stop().await;
}

#[tokio::test]
async fn an_oversized_body_is_refused_with_413() {
    let app = spawn_app_with(Options {
        site_dir: None,
        body_limit_bytes: Some(1024),
        ..Options::default()
    })
    .await;
    let padding = "x".repeat(4096);
    let res = app
        .http
        .post(app.url("/api/schedules/preview"))
        .json(&json!({"schedule": {"time_zone": padding, "kind": "now"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(error_body(res).await.error.code, ErrorCode::PayloadTooLarge);
    app.stop().await;
}

#[tokio::test]
async fn the_preview_endpoint_is_in_the_openapi_document() {
    let app = spawn_app().await;
    let doc: serde_json::Value = app.get("/api/openapi.json").await.json().await.unwrap();
    let op = &doc["paths"]["/schedules/preview"]["post"];
    assert!(op.is_object());
    assert!(doc["components"]["schemas"]["Schedule"].is_object());
    assert!(doc["components"]["schemas"]["PreviewRequest"].is_object());
    app.stop().await;
}

/// A campaign with every step filled in and this schedule.
fn draft_with(schedule: &serde_json::Value) -> serde_json::Value {
    json!({
        "name": "Clock change",
        "schedule": schedule,
        "audience": {"kind": "group", "combine": "all_of", "rules": [
            {"kind": "user_property", "property": "Plan",
             "condition": {"type": "text", "op": "equals", "value": "gold"}}
        ]},
        "target": {
            "ad_account_id": "act_1234567890",
            "campaign_id": "23851234567890",
            "ad_set_id": "23851234567891"
        }
    })
}

async fn post(
    app: &crate::helpers::TestApp,
    path: &str,
    body: &serde_json::Value,
) -> reqwest::Response {
    app.http
        .post(app.url(path))
        .json(body)
        .send()
        .await
        .unwrap()
}

/// `POST /api/campaigns/{id}/publish` (no body).
async fn publish(app: &crate::helpers::TestApp, id: i64) -> reqwest::Response {
    app.http
        .post(app.url(&format!("/api/campaigns/{id}/publish")))
        .send()
        .await
        .unwrap()
}

/// docs/domain.md, "End date": the slot's date counts. Nuuk's clocks go from 23:00 to 00:00 on
/// the last Saturday of March, so a Saturday 23:30 slot on the end date runs at 00:30 on Sunday,
/// and a schedule whose only slot is such a one can be published.
#[tokio::test]
async fn an_end_date_keeps_the_run_a_clock_change_moves_past_midnight() {
    let app = spawn_app().await;
    let res = post(
        &app,
        "/api/schedules/preview",
        &json!({
            "schedule": {
                "time_zone": "America/Nuuk", "kind": "recurring",
                "repeat": {"every": "weeks", "interval": 1, "weekdays": ["saturday"]},
                "time": "23:30", "start_date": "2027-03-20",
                "end": {"kind": "on_date", "date": "2027-03-27"}
            },
            "count": 10,
            "now": "2027-01-01T00:00:00Z"
        }),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    let preview: Preview = res.json().await.unwrap();
    let runs: Vec<(u32, String, String)> = preview
        .runs
        .iter()
        .map(|r| (r.number, r.local.to_string(), r.utc.to_string()))
        .collect();
    assert_eq!(
        runs,
        [
            (
                1,
                "2027-03-20T23:30:00".into(),
                "2027-03-21T01:30:00Z".into()
            ),
            (
                2,
                "2027-03-28T00:30:00".into(),
                "2027-03-28T01:30:00Z".into()
            ),
        ]
    );

    // Start = end = Saturday 29 March 2031, 23:30: publishable, and the next run is on the 30th.
    let schedule = json!({
        "time_zone": "America/Nuuk", "kind": "recurring",
        "repeat": {"every": "days", "interval": 1},
        "time": "23:30", "start_date": "2031-03-29",
        "end": {"kind": "on_date", "date": "2031-03-29"}
    });
    let res = post(&app, "/api/campaigns", &draft_with(&schedule)).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let draft: Campaign = res.json().await.unwrap();
    let res = publish(&app, draft.id).await;
    assert_eq!(res.status(), StatusCode::OK);
    let published: Campaign = res.json().await.unwrap();
    assert_eq!(published.status, CampaignStatus::Scheduled);
    assert_eq!(
        published.next_run_at.map(|t| t.to_string()).as_deref(),
        Some("2031-03-30T01:30:00Z")
    );
    let res = post(
        &app,
        "/api/schedules/preview",
        &json!({"schedule": schedule}),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    let preview: Preview = res.json().await.unwrap();
    assert!(
        preview
            .explanation
            .contains("the first run is 29 March 2031 because it is the start date (23:30 does not exist that day because the clocks go forward, so it runs at 00:30 on 30 March 2031)"),
        "{}",
        preview.explanation
    );
    app.stop().await;
}

/// docs/domain.md: zone names are exact, as `GET /api/timezones` lists them, because the browser
/// loads a zone by the name as spelled. A mis-cased name is refused on its field, with the
/// right spelling, by preview, by saving and by publishing (a draft saved before the rule).
#[tokio::test]
async fn zone_names_are_exact_in_preview_save_and_publish() {
    let app = spawn_app().await;
    let schedule =
        |zone: &str| json!({"time_zone": zone, "kind": "once", "at": "2099-03-07T09:30:00"});
    let expected = "Time zone names are case-sensitive: write \u{201c}Europe/Berlin\u{201d}, not \u{201c}europe/berlin\u{201d}.";

    let res = post(
        &app,
        "/api/schedules/preview",
        &json!({"schedule": schedule("europe/berlin")}),
    )
    .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = error_body(res).await;
    assert_eq!(body.error.code, ErrorCode::ValidationFailed);
    let fields: Vec<(&str, &str)> = body
        .error
        .fields
        .iter()
        .map(|f| (f.path.as_str(), f.message.as_str()))
        .collect();
    assert_eq!(fields, [("schedule.time_zone", expected)]);
    // The exact name is fine, and it is the one the zone endpoint serves.
    let res = post(
        &app,
        "/api/schedules/preview",
        &json!({"schedule": schedule("Europe/Berlin")}),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        app.get("/api/timezones/europe%2Fberlin").await.status(),
        StatusCode::NOT_FOUND
    );

    let res = post(
        &app,
        "/api/campaigns",
        &draft_with(&schedule("europe/berlin")),
    )
    .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = error_body(res).await;
    assert_eq!(body.error.fields[0].path, "schedule.time_zone");

    // A draft stored with the mis-cased name before names were checked cannot be published.
    let res = post(
        &app,
        "/api/campaigns",
        &draft_with(&schedule("Europe/Berlin")),
    )
    .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let draft: Campaign = res.json().await.unwrap();
    with_pool!(&app.server.state.db, pool => {
        sqlx::query("update campaigns set schedule = replace(schedule, 'Europe/Berlin', 'europe/berlin') where id = $1")
            .bind(draft.id)
            .execute(pool)
            .await
            .unwrap();
    });
    let res = publish(&app, draft.id).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = error_body(res).await;
    let fields: Vec<(&str, &str)> = body
        .error
        .fields
        .iter()
        .map(|f| (f.path.as_str(), f.message.as_str()))
        .collect();
    assert_eq!(fields, [("schedule.time_zone", expected)]);
    app.stop().await;
}
