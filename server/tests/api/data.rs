//! `GET /api/data`: the Data page's figures after uploads and imports, as a marketer reads them.

use reqwest::StatusCode;
use serde_json::{Value, json};
use shared::account::Role;

use crate::helpers::spawn_app;

fn now() -> i64 {
    jiff::Timestamp::now().as_second()
}

#[tokio::test]
async fn the_overview_counts_profiles_events_keys_sources_and_keeps_refused_records() {
    let app = spawn_app().await;
    let today = now();
    let two_days_ago = today - 2 * 86_400;
    let res = app
        .upload(&json!({"d":[
            {"type":"profile","identity":"u1","profileData":{"Email":"a@x.com","City":"Pune","Age":30}},
            {"type":"profile","identity":"u2","profileData":{"Phone":"+14155551234","City":"Pune"}},
            {"type":"profile","identity":"u3","profileData":{"City":"Delhi"}},
            {"type":"profile","identity":"u4","profileData":{"Email":"not-an-email"}},
            {"type":"event","identity":"u1","ts":today,"evtName":"Viewed","evtData":{}},
            {"type":"event","identity":"u2","ts":today - 1,"evtName":"Viewed","evtData":{}},
            {"type":"event","identity":"u1","ts":two_days_ago,"evtName":"Viewed","evtData":{}},
            // 40 days ago: counted, but outside the 30-day chart.
            {"type":"event","identity":"u1","ts":today - 40 * 86_400,"evtName":"Charged","evtData":{"Amount":5}},
            {"type":"event","identity":"u1","evtName":""}
        ]}))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    // The browser's import is its own source.
    let res = app
        .post(
            "/api/profiles/import",
            &json!({"d":[{"type":"profile","identity":"","profileData":{}}]}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);

    // Viewers may read it.
    let viewer = app.client_as(Role::Viewer).await;
    let res = viewer.get(app.url("/api/data")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let data: Value = res.json().await.unwrap();

    // u1, u2, u3 and u1's events' profile; u4 was refused.
    assert_eq!(data["profiles"], 3, "{data}");
    assert_eq!(data["events"], 4);
    assert_eq!(
        data["profiles_with_match_key"], 3,
        "city counts as a key: {data}"
    );
    let key = |k: &str| {
        data["match_keys"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["key"] == k)
            .unwrap()["profiles"]
            .clone()
    };
    assert_eq!(key("email"), 1);
    assert_eq!(key("phone"), 1);
    assert_eq!(key("city"), 3);
    assert_eq!(key("madid"), 0);

    let sources = data["sources"].as_array().unwrap();
    let upload = sources
        .iter()
        .find(|s| s["source"] == "upload_api")
        .unwrap();
    assert_eq!(upload["stored"], 7);
    assert_eq!(upload["refused"], 2);
    let import = sources.iter().find(|s| s["source"] == "import").unwrap();
    assert_eq!(
        (import["stored"].clone(), import["refused"].clone()),
        (json!(0), json!(1))
    );

    let events = data["events_by_name"].as_array().unwrap();
    assert_eq!(events[0]["name"], "Viewed");
    assert_eq!(events[0]["count"], 3);
    let daily = events[0]["daily"].as_array().unwrap();
    assert_eq!(daily.len(), 30);
    let today_count = daily[29]["count"].as_u64().unwrap();
    let two_days = daily[27]["count"].as_u64().unwrap();
    // `today - 1` may fall on yesterday just after midnight UTC.
    assert_eq!(today_count + daily[28]["count"].as_u64().unwrap(), 2);
    assert_eq!(two_days, 1);
    let charged = events.iter().find(|e| e["name"] == "Charged").unwrap();
    assert_eq!(charged["count"], 1);
    let charged_days: u64 = charged["daily"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["count"].as_u64().unwrap())
        .sum();
    assert_eq!(charged_days, 0);

    let props = data["profile_properties"].as_array().unwrap();
    assert_eq!(props[0]["name"], "City");
    assert_eq!(props[0]["profiles"], 3);
    assert_eq!(props[0]["type"], "text");
    assert_eq!(props[0]["top_values"][0], json!({"value":"Pune","count":2}));
    let age = props.iter().find(|p| p["name"] == "Age").unwrap();
    assert_eq!(
        (age["profiles"].clone(), age["type"].clone()),
        (json!(1), json!("number"))
    );

    // Refused records, latest first, with the reason and the record as sent.
    assert_eq!(data["rejected_kept"], 3);
    let rejected = data["rejected"].as_array().unwrap();
    assert_eq!(rejected[0]["source"], "import");
    assert_eq!(rejected[0]["code"], 523);
    let email = rejected
        .iter()
        .find(|r| r["code"] == 515)
        .expect("the bad e-mail");
    assert_eq!(email["source"], "upload_api");
    assert!(
        email["error"].as_str().unwrap().contains("e-mail"),
        "{email}"
    );
    assert!(email["record"].as_str().unwrap().contains("not-an-email"));
    app.stop().await;
}

#[tokio::test]
async fn only_the_latest_thousand_refused_records_are_kept() {
    let app = spawn_app().await;
    for batch in 0..2 {
        let d: Vec<Value> = (0..600)
            .map(|i| json!({"type":"profile","identity":format!("b{batch}-{i}"),"profileData":{"Email":"bad"}}))
            .collect();
        let res = app.upload(&json!({ "d": d })).await;
        assert_eq!(res.status(), StatusCode::OK);
    }
    let data: Value = app.get("/api/data").await.json().await.unwrap();
    assert_eq!(data["rejected_kept"], 1000);
    assert_eq!(data["rejected"].as_array().unwrap().len(), 100);
    assert!(
        data["rejected"][0]["record"]
            .as_str()
            .unwrap()
            .contains("b1-599"),
        "latest first: {}",
        data["rejected"][0]
    );
    assert_eq!(data["sources"][0]["refused"], 1200);
    app.stop().await;
}

/// Uploads arriving together are written in one transaction (group commit) with their counts
/// and refused records: none is lost or counted twice, whichever group each lands in.
#[tokio::test]
async fn concurrent_uploads_are_each_counted_once_with_their_refused_records() {
    let app = spawn_app().await;
    let ts = now();
    let uploads = (0..8).map(|u| {
        let d: Vec<Value> = (0..50)
            .map(|i| {
                if i % 10 == 0 {
                    json!({"type":"profile","identity":format!("c{u}-{i}"),"profileData":{"Email":"bad"}})
                } else {
                    json!({"type":"event","identity":format!("c{u}-{i}"),"ts":ts,"evtName":"Viewed","evtData":{"u":u}})
                }
            })
            .collect();
        let app = &app;
        async move { app.upload(&json!({ "d": d })).await }
    });
    for res in futures_util::future::join_all(uploads).await {
        assert_eq!(res.status(), StatusCode::OK);
        let answer: Value = res.json().await.unwrap();
        assert_eq!(answer["processed"], 45, "{answer}");
    }
    // Resent: the events are not stored twice, the requests are counted again.
    let d: Vec<Value> = (1..50)
        .filter(|i| i % 10 != 0)
        .map(|i| json!({"type":"event","identity":format!("c0-{i}"),"ts":ts,"evtName":"Viewed","evtData":{"u":0}}))
        .collect();
    let res = app.upload(&json!({ "d": d })).await;
    assert_eq!(res.status(), StatusCode::OK);

    let data: Value = app.get("/api/data").await.json().await.unwrap();
    assert_eq!(data["events"], 8 * 45, "{data}");
    let upload = &data["sources"][0];
    assert_eq!(upload["source"], "upload_api");
    assert_eq!(upload["stored"], 8 * 45 + 45);
    assert_eq!(upload["refused"], 8 * 5);
    assert_eq!(data["rejected_kept"], 8 * 5);
    app.stop().await;
}
