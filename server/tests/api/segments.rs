//! `POST /api/segments/estimate`: the reach of a segment over data uploaded through the API.

use reqwest::StatusCode;
use serde_json::{Value, json};
use shared::{audience_data::Estimate, error::ErrorCode};

use crate::helpers::{TestApp, error_body, spawn_app};

/// Six users in Mumbai, Pune and Delhi; "Product Viewed" and "Charged" in March 2027 (UTC).
async fn seed(app: &TestApp) {
    let day = |d: i64| 1_803_859_200 + d * 86_400; // 2027-03-01T00:00:00Z + d days
    let mut d = vec![];
    for (i, city) in ["Mumbai", "Mumbai", "Pune", "Pune", "Delhi", "Delhi"]
        .iter()
        .enumerate()
    {
        d.push(json!({"type":"profile","identity":format!("u{i}"),
            "profileData":{"City":city,"Email":format!("u{i}@example.com")}}));
    }
    // u0, u2, u4 viewed 3 times in the last 30 days; u1 only twice.
    for u in [0, 2, 4] {
        for k in 0..3 {
            d.push(json!({"type":"event","identity":format!("u{u}"),"ts":day(10 + k),"evtName":"Product Viewed"}));
        }
    }
    for k in 0..2 {
        d.push(json!({"type":"event","identity":"u1","ts":day(10 + k),"evtName":"Product Viewed"}));
    }
    // u2 bought in the last 7 days.
    d.push(json!({"type":"event","identity":"u2","ts":day(18),"evtName":"Charged","evtData":{"Amount":10}}));
    let res = app.upload(&json!({ "d": d })).await;
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["status"], "success", "{body}");
}

#[tokio::test]
async fn the_reference_segment_finds_viewers_in_mumbai_or_pune_who_did_not_buy() {
    let app = spawn_app().await;
    seed(&app).await;
    let res = app
        .post(
            "/api/segments/estimate",
            &json!({"time_zone":"Asia/Kolkata","at":"2027-03-20T06:00:00Z","segment":
            {"kind":"group","combine":"all_of","rules":[
              {"kind":"user_property","property":"City",
               "condition":{"type":"text","op":"in_list","values":["Mumbai","Pune"]}},
              {"kind":"event","did":true,"event":"Product Viewed","window":{"kind":"last_days","days":30},
               "aggregate":{"of":"count","op":"at_least","value":3}},
              {"kind":"event","did":false,"event":"Charged","window":{"kind":"last_days","days":7}}]}}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let estimate: Estimate = res.json().await.unwrap();
    assert_eq!(estimate.reach, 1);
    assert_eq!(estimate.total_profiles, 6);
    assert_eq!(estimate.sample.len(), 1);
    assert_eq!(estimate.sample[0].identity, "u0");
    assert_eq!(estimate.sample[0].email.as_deref(), Some("u0@example.com"));
    app.stop().await;
}

#[tokio::test]
async fn did_not_counts_users_who_never_did_anything() {
    let app = spawn_app().await;
    seed(&app).await;
    let res = app
        .post(
            "/api/segments/estimate",
            &json!({"at":"2027-03-20T06:00:00Z","segment":
              {"kind":"event","did":false,"event":"Product Viewed","window":{"kind":"ever"}}}),
        )
        .await;
    let estimate: Estimate = res.json().await.unwrap();
    let ids: Vec<&str> = estimate
        .sample
        .iter()
        .map(|s| s.identity.as_str())
        .collect();
    assert_eq!(ids, ["u3", "u5"]);
    app.stop().await;
}

#[tokio::test]
async fn an_invalid_segment_or_time_zone_is_a_422_naming_each_field() {
    let app = spawn_app().await;
    let res = app
        .post(
            "/api/segments/estimate",
            &json!({"time_zone":"Mars/Base","segment":{"kind":"group","combine":"all_of","rules":[
                {"kind":"event","did":true,"event":"X","window":{"kind":"last_days","days":0}}]}}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = error_body(res).await;
    assert_eq!(body.error.code, ErrorCode::ValidationFailed);
    let paths: Vec<&str> = body.error.fields.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(paths, ["segment.rules[0].window.days", "time_zone"]);
    app.stop().await;
}

#[tokio::test]
async fn an_empty_database_estimates_zero() {
    let app = spawn_app().await;
    let res = app
        .post(
            "/api/segments/estimate",
            &json!({"segment":{"kind":"user_property","property":"City",
                "condition":{"type":"text","op":"exists"}}}),
        )
        .await;
    let estimate: Estimate = res.json().await.unwrap();
    assert_eq!((estimate.reach, estimate.total_profiles), (0, 0));
    assert!(estimate.sample.is_empty());
    app.stop().await;
}
