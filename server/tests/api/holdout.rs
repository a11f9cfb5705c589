//! The holdout end to end: a campaign with a holdout published over HTTP, synced to the sandbox
//! by the real client, what Facebook holds read back from the sandbox, and the holdout's lift
//! read from the stats endpoint. Run on PostgreSQL with `TEST_POSTGRES_URL`.

use std::collections::BTreeSet;

use jiff::{SignedDuration, Timestamp, ToSpan};
use reqwest::StatusCode;
use serde_json::{Value, json};
use shared::holdout::{HoldoutStats, Verdict, in_holdout, newcombe_difference};

use crate::helpers::{
    TestApp, error_body, held_by_facebook, publish_draft, spawn_app, sync_at, target,
};

async fn upload(app: &TestApp, records: Vec<Value>) {
    for chunk in records.chunks(1000) {
        let res = app.upload(&json!({ "d": chunk })).await;
        assert_eq!(res.status(), StatusCode::OK);
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["status"], "success", "{body}");
    }
}

/// Gold profiles `u{i}` for `i` in `range`.
async fn upload_gold(app: &TestApp, range: std::ops::Range<usize>) {
    let records = range
        .map(|i| {
            json!({"type":"profile","identity":format!("u{i}"),"profileData":{
                "Email": format!("u{i}@example.com"), "Plan": "gold"}})
        })
        .collect();
    upload(app, records).await;
}

/// A campaign draft: gold members, daily from the day after tomorrow (no slot comes due while
/// the test runs its own runs), goal "Charged".
async fn draft(app: &TestApp, holdout: Value) -> Value {
    let start = Timestamp::now()
        .to_zoned(jiff::tz::TimeZone::UTC)
        .date()
        .checked_add(2.days())
        .unwrap();
    json!({"name": "Lift test",
           "schedule": {"time_zone":"UTC","kind":"recurring","repeat":{"every":"days","interval":1},
                        "time":"00:00","start_date": start.to_string(),"end":{"kind":"never"}},
           "audience": {"kind":"group","combine":"all_of","rules":[
               {"kind":"user_property","property":"Plan",
                "condition":{"type":"text","op":"equals","value":"gold"}}]},
           "target": target(app).await,
           "conversion_goal": {"event": "Charged"},
           "holdout_percent": holdout})
}

async fn publish(app: &TestApp, holdout: Value) -> i64 {
    publish_draft(app, &draft(app, holdout).await).await
}

async fn campaign(app: &TestApp, id: i64) -> Value {
    app.get(&format!("/api/campaigns/{id}"))
        .await
        .json()
        .await
        .unwrap()
}

async fn set_holdout(app: &TestApp, id: i64, percent: Value) -> reqwest::Response {
    let mut body = draft(app, percent).await;
    body["version"] = campaign(app, id).await["version"].clone();
    app.http
        .put(app.url(&format!("/api/campaigns/{id}")))
        .json(&body)
        .send()
        .await
        .unwrap()
}

/// `u{i}` for `i` in `range` split by `shared`'s assignment: (sent, held out).
fn split(
    id: i64,
    range: std::ops::Range<usize>,
    percent: u8,
) -> (BTreeSet<String>, BTreeSet<String>) {
    range
        .map(|i| format!("u{i}"))
        .partition(|u| !in_holdout(id, u, percent))
}

#[tokio::test]
async fn holdout_members_are_never_sent_and_stay_held_out_across_runs() {
    let app = spawn_app().await;
    upload_gold(&app, 0..300).await;
    let id = publish(&app, json!(20)).await;
    assert_eq!(campaign(&app, id).await["holdout_percent"], 20);
    let t0 = Timestamp::now() + SignedDuration::from_mins(1);
    let mins = |m: i64| t0 + SignedDuration::from_mins(m);

    // A dry run already says how many would be held out.
    let (sent, held) = split(id, 0..300, 20);
    assert!((30..=90).contains(&held.len()), "{} held out", held.len());
    let res = app
        .post(
            &format!("/api/campaigns/{id}/runs"),
            &json!({"dry_run": true}),
        )
        .await;
    let dry: Value = res.json().await.unwrap();
    assert_eq!(dry["held_out"], held.len(), "{dry}");
    assert_eq!(dry["members"], sent.len(), "{dry}");

    let run = sync_at(&app, id, t0).await;
    assert_eq!(run["held_out"], held.len(), "{run}");
    assert_eq!(run["members"], sent.len());
    let audience = run["audience_id"].as_str().unwrap().to_owned();
    assert_eq!(held_by_facebook(&app, &audience).await, sent);

    // A second run with 40 newcomers: the same people stay held out, newcomers are split by
    // the same rule, nobody is removed.
    upload_gold(&app, 300..340).await;
    let run = sync_at(&app, id, mins(10)).await;
    let (sent2, held2) = split(id, 0..340, 20);
    assert!(held.is_subset(&held2));
    assert_eq!(held_by_facebook(&app, &audience).await, sent2);
    assert_eq!(
        (run["removed"].as_i64(), run["held_out"].as_u64()),
        (Some(0), Some(held2.len() as u64))
    );

    // Raising the holdout on the live campaign: the newly held-out audience members are
    // removed at the next run, and nobody held out before is sent.
    let res = set_holdout(&app, id, json!(30)).await;
    assert_eq!(
        res.status(),
        StatusCode::OK,
        "{}",
        res.text().await.unwrap()
    );
    let run = sync_at(&app, id, mins(20)).await;
    let (sent3, held3) = split(id, 0..340, 30);
    assert!(held2.is_subset(&held3));
    assert_eq!(held_by_facebook(&app, &audience).await, sent3);
    assert_eq!(
        run["removed"].as_u64(),
        Some((held3.len() - held2.len()) as u64),
        "{run}"
    );

    // Turning it off sends everyone at the next run.
    let res = set_holdout(&app, id, Value::Null).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(campaign(&app, id).await["holdout_percent"], Value::Null);
    let run = sync_at(&app, id, mins(30)).await;
    assert_eq!(run["held_out"], Value::Null);
    assert_eq!(
        held_by_facebook(&app, &audience).await,
        split(id, 0..340, 0).0
    );
    app.stop().await;
}

#[tokio::test]
async fn a_holdout_out_of_bounds_is_refused_on_its_field() {
    let app = spawn_app().await;
    for bad in [json!(60), json!(12.5), json!(-5)] {
        let res = app
            .post("/api/campaigns", &draft(&app, bad.clone()).await)
            .await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
        let body = error_body(res).await;
        let paths: Vec<&str> = body.error.fields.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(paths, ["holdout_percent"], "{bad}");
    }
    // 0 is "no holdout".
    let res = app
        .post("/api/campaigns", &draft(&app, json!(0)).await)
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_eq!(
        res.json::<Value>().await.unwrap()["holdout_percent"],
        Value::Null
    );
    app.stop().await;
}

fn charged(identity: &str, at: Timestamp) -> Value {
    json!({"type":"event","identity":identity,"evtName":"Charged","ts":at.as_second(),"evtData":{}})
}

async fn holdout_stats(app: &TestApp, id: i64, query: &str) -> HoldoutStats {
    let res = app
        .get(&format!("/api/campaigns/{id}/stats/holdout{query}"))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    res.json().await.unwrap()
}

#[tokio::test]
async fn the_stats_compare_audience_and_holdout_conversions_per_thousand() {
    let app = spawn_app().await;
    upload_gold(&app, 0..300).await;
    let id = publish(&app, json!(20)).await;
    let t0 = Timestamp::now() + SignedDuration::from_mins(1);
    let mins = |m: i64| t0 + SignedDuration::from_mins(m);
    // Before any run: nothing to compare.
    let s = holdout_stats(&app, id, "").await;
    assert_eq!(
        (s.percent, s.from, s.verdict),
        (Some(20), None, Verdict::TooSmall)
    );
    sync_at(&app, id, t0).await;
    let (sent, held) = split(id, 0..300, 20);
    let sent: Vec<String> = sent.into_iter().collect();
    let held: Vec<String> = held.into_iter().collect();

    // Every other audience member converts (twice for some), and 5 held-out people; one
    // held-out conversion before the run (not yet in the holdout) does not count.
    let mut events: Vec<Value> = sent
        .iter()
        .step_by(2)
        .map(|u| charged(u, mins(5)))
        .collect();
    events.push(charged(&sent[0], mins(6)));
    events.extend(held.iter().take(5).map(|u| charged(u, mins(7))));
    events.push(charged(&held[6], mins(-30)));
    upload(&app, events).await;
    let audience_converted = sent.len().div_ceil(2) as u64;

    let s = holdout_stats(&app, id, "").await;
    assert_eq!(s.event.as_deref(), Some("Charged"));
    assert_eq!(s.audience.people, sent.len() as u64);
    assert_eq!(s.holdout.people, held.len() as u64);
    assert_eq!(s.audience.converted, audience_converted);
    assert_eq!(s.audience.conversions, audience_converted + 1);
    assert_eq!((s.holdout.converted, s.holdout.conversions), (5, 5));
    // Five conversions in the holdout: too small to conclude, whatever the rates say.
    assert_eq!(s.verdict, Verdict::TooSmall, "{s:?}");
    assert!(s.conclusion().starts_with("Too few people to conclude"));

    // Seven more held-out people convert: 12 of the holdout against half the audience.
    upload(
        &app,
        held.iter()
            .skip(5)
            .take(7)
            .map(|u| charged(u, mins(8)))
            .collect(),
    )
    .await;
    let s = holdout_stats(&app, id, "").await;
    assert_eq!(s.holdout.converted, 12);
    let per_thousand = |x: u64, n: usize| x as f64 * 1000.0 / n as f64;
    assert!(
        (s.audience.per_thousand().unwrap() - per_thousand(audience_converted, sent.len())).abs()
            < 1e-9
    );
    assert!((s.holdout.per_thousand().unwrap() - per_thousand(12, held.len())).abs() < 1e-9);
    let (d, low, high) =
        newcombe_difference(audience_converted, sent.len() as u64, 12, held.len() as u64).unwrap();
    let lift = s.lift.unwrap();
    assert!((lift.difference_per_thousand - d * 1000.0).abs() < 1e-9);
    assert!((lift.low_per_thousand - low * 1000.0).abs() < 1e-9);
    assert!((lift.high_per_thousand - high * 1000.0).abs() < 1e-9);
    // About 500 against about 200 per 1,000: a clear lift.
    assert!(low > 0.0, "{lift:?}");
    assert_eq!(s.verdict, Verdict::Lift);

    // A range of days before the holdout existed compares nothing.
    let day = t0.to_zoned(jiff::tz::TimeZone::UTC).date();
    let before = day.checked_sub(3.days()).unwrap();
    let s = holdout_stats(&app, id, &format!("?from={before}&to={before}")).await;
    assert_eq!((s.audience.people, s.holdout.people), (0, 0));
    assert_eq!(s.verdict, Verdict::TooSmall);
    // A malformed day names the parameter.
    let res = app
        .get(&format!("/api/campaigns/{id}/stats/holdout?from=yesterday"))
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_body(res).await.error.fields[0].path, "from");

    // A campaign without a holdout has nothing to compare.
    let other = publish(&app, Value::Null).await;
    let s = holdout_stats(&app, other, "").await;
    assert_eq!((s.percent, s.from, s.lift), (None, None, None));
    app.stop().await;
}

#[tokio::test]
async fn people_the_small_audience_guard_keeps_on_facebook_are_not_counted_as_held_out() {
    let app = spawn_app().await;
    upload_gold(&app, 0..110).await;
    let id = publish(&app, Value::Null).await;
    let t0 = Timestamp::now() + SignedDuration::from_mins(1);
    let run = sync_at(&app, id, t0).await;
    let audience = run["audience_id"].as_str().unwrap().to_owned();
    // A 20 % holdout would leave fewer than 100 people: their removals are held, so they stay
    // in the audience and out of the holdout group.
    let res = set_holdout(&app, id, json!(20)).await;
    assert_eq!(res.status(), StatusCode::OK);
    let run = sync_at(&app, id, t0 + SignedDuration::from_mins(10)).await;
    let (sent, held) = split(id, 0..110, 20);
    assert!(sent.len() < 100, "{}", sent.len());
    assert_eq!(
        run["held_removals"].as_u64(),
        Some(held.len() as u64),
        "{run}"
    );
    assert_eq!(run["held_out"], 0, "{run}");
    assert_eq!(held_by_facebook(&app, &audience).await.len(), 110);
    app.stop().await;
}
