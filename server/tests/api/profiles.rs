//! Finding a person and asking "why is this person in (or not in) my audience?".

use reqwest::StatusCode;
use serde_json::{Value, json};
use shared::account::Role;

use crate::helpers::{TestApp, error_body, spawn_app};

async fn get_json(app: &TestApp, path: &str) -> (StatusCode, Value) {
    let res = app.get(path).await;
    let status = res.status();
    (status, res.json().await.unwrap_or(Value::Null))
}

fn identities(found: &Value) -> Vec<&str> {
    found
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["identity"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn people_are_found_by_identity_email_or_phone_with_masked_contact_keys() {
    let app = spawn_app().await;
    let res = app
        .upload(&json!({"d":[
            {"type":"profile","identity":"u1","profileData":{"Email":"Jane.Doe@Example.com","Phone":"+14155551234"}},
            {"type":"profile","identity":"u2","profileData":{"Email":"other@example.com"}}
        ]}))
        .await;
    assert_eq!(res.status(), StatusCode::OK);

    let viewer = app.client_as(Role::Viewer).await;
    let res = viewer
        .get(app.url("/api/profiles?q=%20jane.doe@EXAMPLE.com%20"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let found: Value = res.json().await.unwrap();
    assert_eq!(identities(&found), ["u1"]);
    assert_eq!(found[0]["email"], "j•••@example.com");
    assert_eq!(found[0]["phone"], "+1•••••••234");

    let (_, found) = get_json(&app, "/api/profiles?q=%2B1%20(415)%20555-1234").await;
    assert_eq!(identities(&found), ["u1"]);
    let (_, found) = get_json(&app, "/api/profiles?q=u2").await;
    assert_eq!(identities(&found), ["u2"]);
    let (_, found) = get_json(&app, "/api/profiles?q=nobody@example.com").await;
    assert_eq!(identities(&found), Vec::<&str>::new());

    let res = app.get("/api/profiles?q=%20").await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_body(res).await.error.fields[0].path, "q");
    app.stop().await;
}

#[tokio::test]
async fn the_explanation_gives_each_rules_verdict_and_the_figure_behind_it() {
    let app = spawn_app().await;
    let now = jiff::Timestamp::now().as_second();
    let day = 86_400;
    let res = app
        .upload(&json!({"d":[
            {"type":"profile","identity":"pune-fan","profileData":{"City":"Pune"}},
            {"type":"profile","identity":"delhi-fan","profileData":{"City":"Delhi"}},
            {"type":"event","identity":"pune-fan","ts":now - day,"evtName":"Product Viewed","evtData":{}},
            {"type":"event","identity":"pune-fan","ts":now - 2 * day,"evtName":"Product Viewed","evtData":{}},
            {"type":"event","identity":"pune-fan","ts":now - 3 * day,"evtName":"Product Viewed","evtData":{}},
            {"type":"event","identity":"pune-fan","ts":now - 4 * day,"evtName":"Product Viewed","evtData":{}},
            {"type":"event","identity":"delhi-fan","ts":now - day,"evtName":"Product Viewed","evtData":{}}
        ]}))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let res = app
        .post(
            "/api/segments",
            &json!({"name": "Pune", "definition": {"kind":"user_property","property":"City",
                "condition":{"type":"text","op":"equals","value":"Pune"}}}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let saved: Value = res.json().await.unwrap();
    let saved_id = saved["id"].as_i64().unwrap();
    let res = app
        .post(
            "/api/campaigns",
            &json!({"name": "Viewers in Pune", "audience": {"kind":"group","combine":"all_of","rules":[
                {"kind":"event","did":true,"event":"Product Viewed","window":{"kind":"last_days","days":30},
                 "aggregate":{"of":"count","op":"at_least","value":3.0}},
                {"kind":"saved_segment","segment_id":saved_id,"mode":"include"}
            ]}}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let campaign: Value = res.json().await.unwrap();
    let id = campaign["id"].as_i64().unwrap();

    let (status, why) = get_json(
        &app,
        &format!("/api/profiles/pune-fan/explain?campaign={id}"),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{why}");
    assert_eq!(why["member"], true);
    assert_eq!(why["subject"], "campaign “Viewers in Pune”");
    let rules = &why["explanation"]["children"];
    assert_eq!(
        rules[0]["text"],
        "did Product Viewed in the last 30 days with a count of at least 3 — 4 times"
    );
    assert_eq!(rules[1]["text"], "in saved segment “Pune” — a member");
    assert_eq!(
        rules[1]["children"][0]["text"],
        "City is “Pune” — is “Pune”"
    );

    let (_, why) = get_json(
        &app,
        &format!("/api/profiles/delhi-fan/explain?campaign={id}"),
    )
    .await;
    assert_eq!(why["member"], false);
    let rules = &why["explanation"]["children"];
    assert_eq!(rules[0]["matched"], false);
    assert!(
        rules[0]["text"].as_str().unwrap().ends_with("— once"),
        "{why}"
    );
    assert_eq!(
        rules[1]["children"][0]["text"],
        "City is “Pune” — is “Delhi”"
    );

    // At an earlier instant (a past run), the events after it do not count.
    let before = jiff::Timestamp::from_second(now - 2 * day - 3600).unwrap();
    let (_, why) = get_json(
        &app,
        &format!("/api/profiles/pune-fan/explain?campaign={id}&at={before}"),
    )
    .await;
    assert_eq!(why["member"], false, "{why}");
    assert!(
        why["explanation"]["children"][0]["text"]
            .as_str()
            .unwrap()
            .ends_with("— 2 times")
    );

    // A saved segment on its own.
    let (_, why) = get_json(
        &app,
        &format!("/api/profiles/delhi-fan/explain?segment={saved_id}"),
    )
    .await;
    assert_eq!(why["member"], false);
    assert_eq!(why["subject"], "saved segment “Pune”");

    // Clear errors for what cannot be explained.
    let res = app
        .get(&format!("/api/profiles/nobody/explain?campaign={id}"))
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let res = app.get("/api/profiles/pune-fan/explain?campaign=999").await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let res = app.get("/api/profiles/pune-fan/explain").await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_body(res).await.error.fields[0].path, "campaign");
    let res = app
        .get(&format!(
            "/api/profiles/pune-fan/explain?campaign={id}&at=yesterday"
        ))
        .await;
    assert_eq!(error_body(res).await.error.fields[0].path, "at");
    app.stop().await;
}

#[tokio::test]
async fn the_explanation_shows_instants_on_the_viewers_clock() {
    let app = spawn_app().await;
    let viewed = jiff::Timestamp::now().as_second() / 60 * 60 - 86_400;
    let res = app
        .upload(&json!({"d":[
            {"type":"event","identity":"fan","ts":viewed,"evtName":"Product Viewed","evtData":{}}
        ]}))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let res = app
        .post(
            "/api/segments",
            &json!({"name": "Viewed lately", "definition": {"kind":"event","did":true,
                "event":"Product Viewed","occurrence":"last_time",
                "window":{"kind":"last_days","days":30}}}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let saved: Value = res.json().await.unwrap();
    let id = saved["id"].as_i64().unwrap();
    // The wall clock as jiff's own formatter reads it in each zone.
    let clock = |zone: &str| {
        jiff::Timestamp::from_second(viewed)
            .unwrap()
            .in_tz(zone)
            .unwrap()
            .strftime("%a %-d %b %Y, %H:%M")
            .to_string()
    };
    for (tz, name) in [("Asia/Kolkata", "IST"), ("America/New_York", "E")] {
        let (status, why) = get_json(
            &app,
            &format!("/api/profiles/fan/explain?segment={id}&tz={tz}"),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{why}");
        let text = why["explanation"]["text"].as_str().unwrap();
        let expected = format!("— last time {} {name}", clock(tz));
        assert!(text.contains(&expected), "{text} should contain {expected}");
    }
    // Without a zone, UTC, named.
    let (_, why) = get_json(&app, &format!("/api/profiles/fan/explain?segment={id}")).await;
    let text = why["explanation"]["text"].as_str().unwrap();
    assert!(text.ends_with(&format!("{} UTC", clock("UTC"))), "{text}");
    // A zone that does not exist is an error naming the field, not a text in UTC.
    let res = app
        .get(&format!(
            "/api/profiles/fan/explain?segment={id}&tz=Mars/Olympus"
        ))
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_body(res).await.error.fields[0].path, "tz");
    app.stop().await;
}
