//! One person: the profile page's endpoint (with the campaigns per their last confirmed sync),
//! forgetting a person (their removal from every Facebook audience at once, the audit entry
//! without personal data, a new profile when they are sent again), and ads consent (syncs send
//! only people who consented; a withdrawal leaves at the next run). Synced to the sandbox by
//! the real client and read back from it. Run on PostgreSQL with `TEST_POSTGRES_URL`.

use std::collections::BTreeSet;

use jiff::{SignedDuration, Timestamp};
use reqwest::StatusCode;
use serde_json::{Value, json};
use shared::account::Role;

use crate::helpers::{
    TestApp, UPLOAD_KEY, error_body, held_by_facebook, publish_draft, spawn_app, sync_at, target,
};

async fn upload(app: &TestApp, records: Vec<Value>) {
    for chunk in records.chunks(1000) {
        let res = app.upload(&json!({ "d": chunk })).await;
        assert_eq!(res.status(), StatusCode::OK);
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["status"], "success", "{body}");
    }
}

/// A published campaign of the people whose `Plan` is `plan`, daily from the day after
/// tomorrow (no slot comes due while the test runs its own runs).
async fn publish(app: &TestApp, name: &str, plan: &str, holdout: Value) -> i64 {
    let start = Timestamp::now()
        .to_zoned(jiff::tz::TimeZone::UTC)
        .date()
        .checked_add(jiff::ToSpan::days(2))
        .unwrap();
    let draft = json!({"name": name,
           "schedule": {"time_zone":"UTC","kind":"recurring","repeat":{"every":"days","interval":1},
                        "time":"00:00","start_date": start.to_string(),"end":{"kind":"never"}},
           "audience": {"kind":"user_property","property":"Plan",
                        "condition":{"type":"text","op":"equals","value": plan}},
           "target": target(app).await,
           "holdout_percent": holdout});
    publish_draft(app, &draft).await
}

fn names(range: std::ops::Range<usize>) -> BTreeSet<String> {
    range.map(|i| format!("u{i}")).collect()
}

fn plan_profiles(range: std::ops::Range<usize>, plan: &str) -> Vec<Value> {
    range
        .map(|i| {
            json!({"type":"profile","identity":format!("u{i}"),"profileData":{
                "Email": format!("u{i}@example.com"), "Plan": plan}})
        })
        .collect()
}

#[tokio::test]
async fn the_profile_shows_properties_masked_keys_events_segments_and_confirmed_campaigns() {
    let app = spawn_app().await;
    let now = Timestamp::now().as_second();
    // 120 gold members: over the small-audience guard, so a removal is not held back.
    let mut records = plan_profiles(0..120, "gold");
    records.push(json!({"type":"profile","identity":"u0","profileData":{
        "City":"Pune","Phone":"+14155551234","Age":31,"VIP":true}}));
    // 25 events, one a minute: the newest is "Event 24".
    for i in 0..25 {
        records.push(
            json!({"type":"event","identity":"u0","ts": now - 3600 + i * 60,
            "evtName": format!("Event {i}"), "evtData": {"Amount": i}}),
        );
    }
    upload(&app, records).await;
    let res = app
        .post(
            "/api/segments",
            &json!({"name": "Pune", "definition": {"kind":"user_property",
            "property":"City","condition":{"type":"text","op":"equals","value":"Pune"}}}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let res = app
        .post(
            "/api/segments",
            &json!({"name": "Delhi", "definition": {"kind":"user_property",
            "property":"City","condition":{"type":"text","op":"equals","value":"Delhi"}}}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let id = publish(&app, "Gold members", "gold", Value::Null).await;
    let t0 = Timestamp::now() + SignedDuration::from_mins(1);
    sync_at(&app, id, t0).await;

    let viewer = app.client_as(Role::Viewer).await;
    let res = viewer
        .get(app.url("/api/profiles/u0"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let p: Value = res.json().await.unwrap();
    let prop = |key: &str| {
        p["properties"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["key"] == key)
            .cloned()
            .unwrap_or(Value::Null)
    };
    assert_eq!(
        (prop("City")["kind"].clone(), prop("City")["value"].clone()),
        (json!("text"), json!("Pune"))
    );
    assert_eq!(prop("Age")["kind"], "number");
    assert_eq!(prop("VIP")["value"], "true");
    assert_eq!(
        prop("Email")["value"],
        "u•••@example.com",
        "contact values are masked"
    );
    let keys: Vec<(String, String)> = p["match_keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| {
            (
                k["key"].as_str().unwrap().into(),
                k["masked"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert!(
        keys.contains(&("EMAIL".into(), "u•••@example.com".into())),
        "{keys:?}"
    );
    assert!(
        keys.contains(&("PHONE".into(), "+1•••••••234".into())),
        "{keys:?}"
    );
    assert!(keys.contains(&("CT".into(), "p•••".into())), "{keys:?}");
    assert!(
        !p.to_string().contains("u0@example.com"),
        "no contact key in clear: {p}"
    );
    // Newest first, 20 a page.
    assert_eq!(p["events"]["total"], 25);
    assert_eq!(p["events"]["events"].as_array().unwrap().len(), 20);
    assert_eq!(p["events"]["events"][0]["name"], "Event 24");
    assert_eq!(
        p["events"]["events"][0]["properties"][0],
        json!({"key":"Amount","kind":"number","value":"24"})
    );
    assert_eq!(p["events"]["next_offset"], 20);
    let page: Value = viewer
        .get(app.url("/api/profiles/u0/events?offset=20"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let rest: Vec<&str> = page["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        rest,
        ["Event 4", "Event 3", "Event 2", "Event 1", "Event 0"]
    );
    assert!(page.get("next_offset").is_none());
    // In "Pune" now, not "Delhi"; in the campaign's audience per its confirmed sync.
    let segs: Vec<&str> = p["segments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(segs, ["Pune"]);
    assert_eq!(p["campaigns"].as_array().unwrap().len(), 1, "{p}");
    assert_eq!(p["campaigns"][0]["id"], id);
    assert_eq!(p["campaigns"][0]["name"], "Gold members");
    assert!(p["campaigns"][0]["confirmed_at"].is_string());

    // Moving to Delhi and off the gold plan: the segments follow now; the campaign still lists
    // the person until a sync confirms them gone.
    upload(
        &app,
        vec![
            json!({"type":"profile","identity":"u0","profileData":{"City":"Delhi","Plan":"free"}}),
        ],
    )
    .await;
    let p: Value = app.get("/api/profiles/u0").await.json().await.unwrap();
    let segs: Vec<&str> = p["segments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(segs, ["Delhi"]);
    assert_eq!(p["campaigns"][0]["id"], id);
    sync_at(&app, id, t0 + SignedDuration::from_mins(5)).await;
    let p: Value = app.get("/api/profiles/u0").await.json().await.unwrap();
    assert_eq!(p["campaigns"], json!([]));

    let res = app.get("/api/profiles/nobody").await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let res = app.get("/api/profiles/u0/events?offset=x").await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    app.stop().await;
}

#[tokio::test]
async fn an_erased_person_leaves_every_audience_at_once_and_comes_back_as_someone_new() {
    let app = spawn_app().await;
    let now = Timestamp::now().as_second();
    let mut records = plan_profiles(0..120, "gold");
    records.push(json!({"type":"profile","identity":"u5","profileData":{"City":"Pune","Phone":"+14155550005"}}));
    for i in 0..3 {
        records.push(json!({"type":"event","identity":"u5","ts": now - 600 + i,"evtName":"Charged","evtData":{}}));
    }
    records.push(
        json!({"type":"event","identity":"u6","ts": now - 100,"evtName":"Charged","evtData":{}}),
    );
    upload(&app, records).await;
    // A refused record naming u5 (personal data kept for diagnosis) goes with the person.
    let res = app
        .upload(&json!({"d":[{"type":"profile","identity":"u5","profileData":{"Email":"not-an-email"}}]}))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let one = publish(&app, "One", "gold", Value::Null).await;
    let two = publish(&app, "Two", "gold", Value::Null).await;
    let t0 = Timestamp::now() + SignedDuration::from_mins(1);
    let audience_one = sync_at(&app, one, t0).await["audience_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let audience_two = sync_at(&app, two, t0).await["audience_id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(held_by_facebook(&app, &audience_one).await.contains("u5"));

    // Admins only.
    let marketer = app.client_as(Role::Marketer).await;
    let res = marketer
        .delete(app.url("/api/profiles/u5"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);

    let res = app
        .http
        .delete(app.url("/api/profiles/u5"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let erased: Value = res.json().await.unwrap();
    assert_eq!(
        erased,
        json!({"properties": 4, "events": 3, "match_keys": 3, "audiences": 2})
    );
    assert_eq!(
        app.get("/api/profiles/u5").await.status(),
        StatusCode::NOT_FOUND
    );

    // The removals run at once (the worker's next tick), not at the next scheduled run.
    server::jobs::drain(&app.server.state, t0 + SignedDuration::from_secs(1))
        .await
        .unwrap();
    let mut expected = names(0..120);
    expected.remove("u5");
    assert_eq!(held_by_facebook(&app, &audience_one).await, expected);
    assert_eq!(held_by_facebook(&app, &audience_two).await, expected);

    // The aggregates agree with what is left.
    let data: Value = app.get("/api/data").await.json().await.unwrap();
    assert_eq!(data["profiles"], 119);
    assert_eq!(data["events"], 1, "{data}");
    let charged = data["events_by_name"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == "Charged")
        .unwrap()
        .clone();
    assert_eq!(charged["count"], 1, "{charged}");
    assert!(
        !data["rejected"].to_string().contains("u5"),
        "{}",
        data["rejected"]
    );

    // The audit log says a profile was erased, and nothing about who.
    let log: Value = app.get("/api/audit").await.json().await.unwrap();
    let entry = log
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "erased")
        .unwrap()
        .clone();
    assert_eq!(entry["entity_type"], "profile");
    let text = entry.to_string();
    for pii in ["u5", "u5@example.com", "5550005", "Pune", "pune"] {
        assert!(!text.contains(pii), "{pii} in {text}");
    }
    assert!(text.contains("2 Facebook audiences"), "{text}");

    // The next run neither removes them again nor adds them back.
    let run = sync_at(&app, one, t0 + SignedDuration::from_mins(5)).await;
    assert_eq!(
        (run["added"].as_i64(), run["removed"].as_i64()),
        (Some(0), Some(0)),
        "{run}"
    );
    assert_eq!(run["members"], 119);

    // Sent again: a new profile, without the old one's events or properties.
    upload(
        &app,
        vec![json!({"type":"profile","identity":"u5","profileData":{"Plan":"gold"}})],
    )
    .await;
    let p: Value = app.get("/api/profiles/u5").await.json().await.unwrap();
    assert_eq!(p["events"]["total"], 0);
    let keys: Vec<&str> = p["properties"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["key"].as_str().unwrap())
        .collect();
    assert_eq!(keys, ["Plan"]);
    assert_eq!(p["campaigns"], json!([]));
    let run = sync_at(&app, one, t0 + SignedDuration::from_mins(10)).await;
    assert_eq!(run["added"], 1);
    assert!(held_by_facebook(&app, &audience_one).await.contains("u5"));

    // The upload API's deletion, in CleverTap's shape: one or many identities; unknown ones
    // are no error.
    let res = app
        .http
        .post(app.url("/api/v1/delete/profiles"))
        .header("X-Api-Key", UPLOAD_KEY)
        .json(&json!({"identity": ["u7", "nobody", 8]}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        res.json::<Value>().await.unwrap(),
        json!({"status":"success","record_count":1})
    );
    let res = app
        .http
        .post(app.url("/api/v1/delete/profiles"))
        .header("X-Api-Key", UPLOAD_KEY)
        .json(&json!({"identity": ["u8", {"x": 1}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_body(res).await.error.fields[0].path, "identity[1]");
    let res = app
        .anonymous()
        .post(app.url("/api/v1/delete/profiles"))
        .json(&json!({"identity": "u8"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    server::jobs::drain(&app.server.state, t0 + SignedDuration::from_mins(11))
        .await
        .unwrap();
    assert!(!held_by_facebook(&app, &audience_one).await.contains("u7"));
    app.stop().await;
}

#[tokio::test]
async fn consent_filtering_holds_back_the_unconsenting_and_a_withdrawal_leaves_at_the_next_run() {
    let app = spawn_app().await;
    // 40 on the gold plan: u0–u29 consent, u30–u34 refuse, u35–u39 never said.
    let mut records = plan_profiles(0..40, "gold");
    for i in 0..35 {
        records.push(json!({"type":"profile","identity":format!("u{i}"),"profileData":{"ads_consent": i < 30}}));
    }
    upload(&app, records).await;

    // Admins set it; the name is checked, and a property that is not boolean is refused.
    let marketer = app.client_as(Role::Marketer).await;
    let res = marketer
        .put(app.url("/api/settings/consent"))
        .json(&json!({"property":"ads_consent"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let put = |body: Value| {
        app.http
            .put(app.url("/api/settings/consent"))
            .json(&body)
            .send()
    };
    let res = put(json!({"property": "Plan"})).await.unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let err = error_body(res).await;
    assert_eq!(err.error.fields[0].path, "property");
    let res = put(json!({"property": "x".repeat(121)})).await.unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let res = put(json!({"property": " ads_consent "})).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        res.json::<Value>().await.unwrap(),
        json!({"property":"ads_consent","consenting":30,"profiles":40})
    );
    let viewer = app.client_as(Role::Viewer).await;
    let seen: Value = viewer
        .get(app.url("/api/settings/consent"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(seen["property"], "ads_consent");

    // With a 20 % holdout as well: the holdout is drawn among those who consented.
    let id = publish(&app, "Consent", "gold", json!(20)).await;
    let t0 = Timestamp::now() + SignedDuration::from_mins(1);
    let dry: Value = app
        .post(
            &format!("/api/campaigns/{id}/runs"),
            &json!({"dry_run": true}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(dry["consent_held"], 10, "{dry}");
    let run = sync_at(&app, id, t0).await;
    assert_eq!(run["consent_held"], 10, "{run}");
    let consenting = names(0..30);
    let (sent, held): (BTreeSet<String>, BTreeSet<String>) = consenting
        .iter()
        .cloned()
        .partition(|u| !shared::holdout::in_holdout(id, u, 20));
    assert_eq!(run["held_out"], held.len(), "{run}");
    let audience = run["audience_id"].as_str().unwrap().to_owned();
    assert_eq!(held_by_facebook(&app, &audience).await, sent);

    // One who was sent withdraws, and another leaves the segment: the audience is under 100,
    // so the small-audience guard holds the second removal back, never the withdrawal.
    let mut sent_list = sent.iter();
    let (leaver, other) = (
        sent_list.next().unwrap().clone(),
        sent_list.next().unwrap().clone(),
    );
    upload(
        &app,
        vec![
            json!({"type":"profile","identity":leaver,"profileData":{"ads_consent": false}}),
            json!({"type":"profile","identity":other,"profileData":{"Plan": "free"}}),
        ],
    )
    .await;
    let run = sync_at(&app, id, t0 + SignedDuration::from_mins(5)).await;
    assert_eq!(
        (run["removed"].as_i64(), run["held_removals"].as_i64()),
        (Some(1), Some(1)),
        "{run}"
    );
    assert_eq!(run["consent_held"], 11);
    let mut now_sent = sent.clone();
    now_sent.remove(&leaver);
    assert_eq!(held_by_facebook(&app, &audience).await, now_sent);
    // The stats page's sync panel says so.
    let stats: Value = app
        .get(&format!("/api/campaigns/{id}/stats"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(stats["sync"]["consent_held"], 11, "{}", stats["sync"]);

    // Turned off: the next run sends everyone in the segment (but the holdout).
    let res = put(json!({"property": ""})).await.unwrap();
    assert_eq!(res.json::<Value>().await.unwrap()["property"], Value::Null);
    let run = sync_at(&app, id, t0 + SignedDuration::from_mins(10)).await;
    assert_eq!(run["consent_held"], Value::Null);
    let everyone: BTreeSet<String> = names(0..40)
        .into_iter()
        .filter(|u| !shared::holdout::in_holdout(id, u, 20))
        .collect();
    assert_eq!(held_by_facebook(&app, &audience).await, everyone);
    let log: Value = app.get("/api/audit").await.json().await.unwrap();
    assert!(
        log.to_string().contains("ads consent: ads_consent"),
        "{log}"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_run_planned_before_an_erasure_neither_leaves_nor_confirms_the_erased_person() {
    let app = spawn_app().await;
    upload(&app, plan_profiles(0..120, "gold")).await;
    let id = publish(&app, "Planned", "gold", Value::Null).await;
    let res = app
        .post(
            &format!("/api/campaigns/{id}/runs"),
            &json!({"dry_run": false}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    // The plan (everyone, u5 included) is saved, then the worker dies.
    *app.server.state.jobs.crash_at.lock().unwrap() = Some(server::sync::CrashPoint::AfterPlan);
    let t0 = Timestamp::now();
    server::jobs::drain(&app.server.state, t0).await.unwrap();

    let res = app
        .http
        .delete(app.url("/api/profiles/u5"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    // Nobody is confirmed yet: no audience to remove them from.
    assert_eq!(res.json::<Value>().await.unwrap()["audiences"], 0);

    // Resumed once the dead worker's lease is over.
    server::jobs::drain(&app.server.state, t0 + SignedDuration::from_mins(10))
        .await
        .unwrap();
    let runs: Value = app
        .get(&format!("/api/campaigns/{id}/runs"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(runs[0]["state"], "succeeded", "{runs}");
    let audience = runs[0]["audience_id"].as_str().unwrap().to_owned();
    let mut expected = names(0..120);
    expected.remove("u5");
    assert_eq!(held_by_facebook(&app, &audience).await, expected);

    // Not confirmed either: the next run has nothing to do.
    let run = sync_at(&app, id, t0 + SignedDuration::from_mins(20)).await;
    assert_eq!(
        (run["added"].as_i64(), run["removed"].as_i64()),
        (Some(0), Some(0)),
        "{run}"
    );
    assert_eq!(run["members"], 119);
    app.stop().await;
}
