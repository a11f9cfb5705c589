//! `POST /api/v1/upload`: CleverTap-shaped uploads over HTTP, as a customer's backend sends them.

use reqwest::StatusCode;
use serde_json::{Value, json};
use shared::error::ErrorCode;

use crate::helpers::{Options, UPLOAD_KEY, error_body, spawn_app, spawn_app_with};

async fn catalog(app: &crate::helpers::TestApp) -> Value {
    app.get("/api/catalog").await.json().await.unwrap()
}

#[tokio::test]
async fn good_records_are_stored_and_bad_ones_are_listed_with_their_codes() {
    let app = spawn_app().await;
    let res = app
        .upload(&json!({"d":[
            {"type":"profile","identity":"u-42","ts":1712345678,
             "profileData":{"Name":"Jack","Email":"jack@x.com","Phone":"+14155551234","Gender":"M","City":"Pune"}},
            {"type":"event","identity":"u-42","ts":1712345679,"evtName":"Charged","evtData":{"Amount":300}},
            {"type":"event","identity":"u-42","ts":1712345679},
            {"type":"profile","identity":"u-43","profileData":{"Email":"not-an-email"}},
            {"type":"event","evtName":"Charged"},
            {"type":"event","identity":"u-44","ts":1712345678000_i64,"evtName":"Charged"},
            {"type":"visit","identity":"u-45"}
        ]}))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["status"], "partial");
    assert_eq!(body["processed"], 2);
    let failed: Vec<(u64, u64)> = body["unprocessed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| (u["index"].as_u64().unwrap(), u["code"].as_u64().unwrap()))
        .collect();
    assert_eq!(failed, [(2, 509), (3, 515), (4, 523), (5, 525), (6, 524)]);
    let first = &body["unprocessed"][0];
    assert_eq!(first["status"], "fail");
    assert!(
        first["error"].as_str().unwrap().contains("evtName"),
        "{first}"
    );
    assert!(
        first["record"].as_str().unwrap().contains("u-42"),
        "{first}"
    );

    let catalog = catalog(&app).await;
    assert_eq!(catalog["events"][0]["name"], "Charged");
    assert_eq!(catalog["events"][0]["count"], 1);
    assert_eq!(
        catalog["events"][0]["properties"][0],
        json!({"name":"Amount","type":"number"})
    );
    let city = catalog["profile_properties"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "City")
        .unwrap();
    assert_eq!(city["top_values"], json!([{"value":"Pune","count":1}]));
    app.stop().await;
}

#[tokio::test]
async fn resending_the_same_batch_stores_no_event_twice() {
    let app = spawn_app().await;
    let batch: Vec<Value> = (0..500)
        .map(|i| {
            json!({"type":"event","identity":format!("u{}", i % 50),"ts":1712345678 + i,
                        "evtName":"Product Viewed","evtData":{"Item":i}})
        })
        .collect();
    let batch = json!({ "d": batch });
    for _ in 0..2 {
        let body: Value = app.upload(&batch).await.json().await.unwrap();
        assert_eq!(body["processed"], 500);
        assert_eq!(body["status"], "success");
    }
    assert_eq!(catalog(&app).await["events"][0]["count"], 500);
    app.stop().await;
}

#[tokio::test]
async fn a_property_keeps_the_type_it_was_first_seen_with() {
    let app = spawn_app().await;
    app.upload(&json!({"d":[{"type":"profile","identity":"a","profileData":{"Age":30}}]}))
        .await;
    let body: Value = app
        .upload(&json!({"d":[{"type":"profile","identity":"b","profileData":{"Age":"thirty"}}]}))
        .await
        .json()
        .await
        .unwrap();
    // The value is kept (never lost), but the catalog still offers a number.
    assert_eq!(body["processed"], 1);
    let catalog = catalog(&app).await;
    assert_eq!(
        catalog["profile_properties"][0],
        json!({"name":"Age","type":"number"})
    );
    app.stop().await;
}

#[tokio::test]
async fn uploads_need_the_api_key() {
    let app = spawn_app().await;
    let body = json!({"d":[]});
    let res = app.post("/api/v1/upload", &body).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert!(error_body(res).await.error.message.contains("X-Api-Key"));
    let res = app
        .http
        .post(app.url("/api/v1/upload"))
        .header("X-Api-Key", format!("{UPLOAD_KEY}x"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    app.stop().await;
}

#[tokio::test]
async fn without_a_configured_key_uploads_are_refused_with_how_to_fix_it() {
    let app = spawn_app_with(Options::default()).await;
    let res = app
        .http
        .post(app.url("/api/v1/upload"))
        .header("X-Api-Key", "anything")
        .json(&json!({"d":[]}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let body = error_body(res).await;
    assert_eq!(body.error.code, ErrorCode::Unauthorized);
    assert!(
        body.error.message.contains("UPLOAD_API_KEY"),
        "{}",
        body.error.message
    );
    app.stop().await;
}

#[tokio::test]
async fn a_batch_over_1000_records_or_without_d_is_refused() {
    let app = spawn_app().await;
    let many: Vec<Value> = (0..1001)
        .map(|i| json!({"type":"event","identity":"u","ts":i,"evtName":"X"}))
        .collect();
    let res = app.upload(&json!({ "d": many })).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert!(error_body(res).await.error.message.contains("1000"));
    let res = app.upload(&json!({"data": []})).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert!(error_body(res).await.error.message.contains("`d`"));
    app.stop().await;
}

#[tokio::test]
async fn a_failed_record_is_echoed_exactly_as_sent() {
    let app = spawn_app().await;
    let record = r#"{"type": "event", "identity": "u-1", "ts": 5, "evtName": "",  "evtData": {"b": 1, "a": 2}}"#;
    let res = app
        .http
        .post(app.url("/api/v1/upload"))
        .header("X-Api-Key", UPLOAD_KEY)
        .header("Content-Type", "application/json")
        .body(format!(
            r#"{{"d":[ {record} ,{{"type":"event","identity":"u-2","evtName":"Ok"}}]}}"#
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["status"], "partial", "{body}");
    assert_eq!(body["processed"], 1);
    assert_eq!(body["unprocessed"][0]["code"], 509);
    // Spacing and key order as the client wrote them, so it can find the record in its logs.
    assert_eq!(body["unprocessed"][0]["record"], record);
    app.stop().await;
}

#[tokio::test]
async fn concurrent_uploads_are_each_answered_and_stored_once() {
    let app = spawn_app().await;
    // Three batches, each sent twice at the same time: uploads that arrive while another is
    // written are written together, and a resend in the same group still counts once.
    let batches: Vec<Value> = (0..3)
        .map(|b| {
            let events: Vec<Value> = (0..100)
                .map(|i| {
                    json!({"type":"event","identity":format!("u{}", i % 7),"ts":1712345678 + b * 1000 + i,
                           "evtName":"Searched","evtData":{"Batch":b}})
                })
                .collect();
            json!({ "d": events })
        })
        .collect();
    let (a, b, c) = (&batches[0], &batches[1], &batches[2]);
    let answers = tokio::join!(
        app.upload(a),
        app.upload(b),
        app.upload(c),
        app.upload(a),
        app.upload(b),
        app.upload(c)
    );
    let answers = [
        answers.0, answers.1, answers.2, answers.3, answers.4, answers.5,
    ];
    for res in answers {
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["status"], "success", "{body}");
        assert_eq!(body["processed"], 100);
    }
    let catalog = catalog(&app).await;
    assert_eq!(catalog["events"][0]["name"], "Searched");
    assert_eq!(catalog["events"][0]["count"], 300);
    app.stop().await;
}
