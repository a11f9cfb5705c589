//! `POST /api/schedules/preview`: the shared schedule math served over HTTP, with the JSON error
//! contract for bad input.

use reqwest::StatusCode;
use serde_json::json;
use shared::{error::ErrorCode, schedule::Preview};

use crate::helpers::{Options, error_body, spawn_app, spawn_app_with};

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
