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

// On SQLite the writer stages uploaded events and merges them into the event tables in large
// sorted batches (docs/scaling.md, "The write path"); every reader merges what is staged first.
// These hold on PostgreSQL too, which writes the tables directly.

/// The reach of "did `event` at least `times` times in the 30 days before 2027-03-20".
async fn did_at_least(app: &crate::helpers::TestApp, event: &str, times: u64) -> u64 {
    let res = app
        .post(
            "/api/segments/estimate",
            &json!({"time_zone":"UTC","at":"2027-03-20T00:00:00Z","segment":
                {"kind":"event","did":true,"event":event,"window":{"kind":"last_days","days":30},
                 "aggregate":{"of":"count","op":"at_least","value":times}}}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.unwrap();
    body["reach"].as_u64().unwrap()
}

/// `n` "Product Viewed" events of `identity` in early March 2027, the `k`-th at `first + k`.
fn views(identity: &str, first: i64, n: i64) -> Value {
    let d: Vec<Value> = (0..n)
        .map(|k| {
            json!({"type":"event","identity":identity,"ts":1_803_859_200 + (first + k) * 3600,
                   "evtName":"Product Viewed","evtData":{"Item":first + k}})
        })
        .collect();
    json!({ "d": d })
}

async fn stored(app: &crate::helpers::TestApp, batch: &Value) {
    let body: Value = app.upload(batch).await.json().await.unwrap();
    assert_eq!(body["status"], "success", "{body}");
}

#[tokio::test]
async fn every_reader_sees_an_upload_as_soon_as_it_is_answered() {
    let app = spawn_app().await;
    // Each reader in turn is the first to read after an upload.
    stored(&app, &views("u0", 0, 5)).await;
    let person: Value = app.get("/api/profiles/u0").await.json().await.unwrap();
    assert_eq!(person["events"]["total"], 5);
    stored(&app, &views("u0", 5, 5)).await;
    assert_eq!(did_at_least(&app, "Product Viewed", 10).await, 1);
    stored(&app, &views("u0", 10, 5)).await;
    assert_eq!(catalog(&app).await["events"][0]["count"], 15);
    stored(&app, &views("u0", 15, 5)).await;
    let page: Value = app
        .get("/api/profiles/u0/events?offset=0")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(page["events"].as_array().unwrap().len(), 20);
    assert_eq!(page["events"][0]["properties"][0]["value"], "19");
    app.stop().await;
}

#[tokio::test]
async fn a_batch_resent_before_or_after_its_events_are_merged_counts_once() {
    let app = spawn_app().await;
    let mut d = Vec::new();
    for u in 0..5 {
        d.extend(
            views(&format!("u{u}"), u * 100, 10)["d"]
                .as_array()
                .unwrap()
                .clone(),
        );
    }
    let batch = json!({ "d": d });
    // Twice before anyone reads (both staged), then again after a read merged them.
    stored(&app, &batch).await;
    stored(&app, &batch).await;
    assert_eq!(catalog(&app).await["events"][0]["count"], 50);
    stored(&app, &batch).await;
    assert_eq!(catalog(&app).await["events"][0]["count"], 50);
    assert_eq!(did_at_least(&app, "Product Viewed", 10).await, 5);
    assert_eq!(did_at_least(&app, "Product Viewed", 11).await, 0);
    let overview: Value = app.get("/api/data").await.json().await.unwrap();
    assert_eq!(overview["events"], 50, "{overview}");
    assert_eq!(overview["events_by_name"][0]["count"], 50, "{overview}");
    app.stop().await;
}

#[tokio::test]
async fn erasing_a_profile_also_erases_its_events_not_merged_yet() {
    let app = spawn_app().await;
    stored(&app, &views("u1", 0, 3)).await;
    stored(&app, &views("u2", 0, 2)).await;
    let res = app
        .http
        .delete(app.url("/api/profiles/u1"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let erased: Value = res.json().await.unwrap();
    assert_eq!(erased["events"], 3);
    assert_eq!(catalog(&app).await["events"][0]["count"], 2);
    assert_eq!(did_at_least(&app, "Product Viewed", 1).await, 1);
    // Uploaded again, the person comes back as someone new with only the new events.
    stored(&app, &views("u1", 50, 1)).await;
    let person: Value = app.get("/api/profiles/u1").await.json().await.unwrap();
    assert_eq!(person["events"]["total"], 1);
    app.stop().await;
}
