//! Audience sync end to end: customer data uploaded over HTTP, campaigns published over HTTP, the
//! scheduler and worker driven with `server::jobs::drain` at chosen instants, and the real Graph
//! API client talking to the server's sandbox. What Facebook ends up holding is read back from
//! the sandbox's debug endpoint.

use std::collections::BTreeSet;

use jiff::{SignedDuration, Timestamp};
use reqwest::StatusCode;
use serde_json::{Value, json};
use server::{jobs::drain, sync::CrashPoint};
use shared::error::ErrorCode;

use crate::helpers::{
    ACCOUNT, Options, TestApp, UPLOAD_KEY, error_body, spawn_app_with, target, with_pool,
};

pub(crate) async fn app_with(rows_per_request: usize) -> TestApp {
    spawn_app_with(Options {
        upload_api_key: Some(UPLOAD_KEY.to_owned()),
        rows_per_request: Some(rows_per_request),
        ..Options::default()
    })
    .await
}

/// Profiles `u{i}` for `i` in `range`, with match keys and a `Plan` property.
pub(crate) async fn upload_profiles(app: &TestApp, range: std::ops::Range<usize>, plan: &str) {
    let ids: Vec<usize> = range.collect();
    for chunk in ids.chunks(1000) {
        let records: Vec<Value> = chunk
            .iter()
            .map(|i| {
                json!({"type":"profile","identity":format!("u{i}"),"profileData":{
                    "Email": format!("User{i}@Example.com"),
                    "Phone": format!("+1415555{i:04}"),
                    "Name": format!("Ann{i} Lee"),
                    "City": "Pune", "Country": "IN", "Plan": plan}})
            })
            .collect();
        let res = app.upload(&json!({ "d": records })).await;
        assert_eq!(res.status(), StatusCode::OK);
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["status"], "success", "{body}");
    }
}

pub(crate) fn gold_segment() -> Value {
    json!({"kind":"group","combine":"all_of","rules":[
        {"kind":"user_property","property":"Plan",
         "condition":{"type":"text","op":"equals","value":"gold"}}]})
}

/// A daily schedule whose first run is the day after tomorrow, 00:00 UTC: no slot comes due
/// while a test drains "a few minutes later".
pub(crate) fn daily() -> Value {
    let start = Timestamp::now()
        .to_zoned(jiff::tz::TimeZone::UTC)
        .date()
        .tomorrow()
        .and_then(|d| d.tomorrow())
        .unwrap();
    json!({"time_zone":"UTC","kind":"recurring","repeat":{"every":"days","interval":1},
           "time":"00:00","start_date": start.to_string(),"end":{"kind":"never"}})
}

/// Creates and publishes a campaign; returns its id.
pub(crate) async fn publish(app: &TestApp, schedule: Value) -> i64 {
    let draft = json!({"name":"Gold members","schedule":schedule,"audience":gold_segment(),
                       "target": target(app).await});
    let res = app.post("/api/campaigns", &draft).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let id = res.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let res = app
        .post(&format!("/api/campaigns/{id}/publish"), &json!({}))
        .await;
    assert_eq!(
        res.status(),
        StatusCode::OK,
        "{}",
        res.text().await.unwrap()
    );
    id
}

pub(crate) async fn campaign(app: &TestApp, id: i64) -> Value {
    app.get(&format!("/api/campaigns/{id}"))
        .await
        .json()
        .await
        .unwrap()
}

pub(crate) async fn runs(app: &TestApp, id: i64) -> Vec<Value> {
    let res = app.get(&format!("/api/campaigns/{id}/runs")).await;
    assert_eq!(res.status(), StatusCode::OK);
    res.json().await.unwrap()
}

pub(crate) async fn run_now(app: &TestApp, id: i64) -> Value {
    let res = app
        .post(
            &format!("/api/campaigns/{id}/runs"),
            &json!({"dry_run": false}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    res.json().await.unwrap()
}

pub(crate) async fn drain_at(app: &TestApp, at: Timestamp) -> server::jobs::Drained {
    drain(&app.server.state, at).await.expect("drain")
}

pub(crate) fn later(minutes: i64) -> Timestamp {
    Timestamp::now() + SignedDuration::from_mins(minutes)
}

pub(crate) async fn set_faults(app: &TestApp, faults: Value) {
    let res = app.post("/sandbox/debug/faults", &faults).await;
    assert_eq!(res.status(), StatusCode::OK);
}

/// What the sandbox stores for an audience.
pub(crate) struct Stored {
    /// EXTERN_ID of every stored row (a duplicate would make `rows` longer than this set).
    pub(crate) ids: BTreeSet<String>,
    pub(crate) rows: Vec<Value>,
    /// Rows Facebook received per session: a batch sent twice would show here.
    pub(crate) received: u64,
}

pub(crate) async fn stored(app: &TestApp, audience: &str) -> Stored {
    let v: Value = app
        .get(&format!("/sandbox/debug/audiences/{audience}"))
        .await
        .json()
        .await
        .unwrap();
    let rows = v["rows"].as_array().unwrap().clone();
    Stored {
        ids: rows
            .iter()
            .map(|r| r["EXTERN_ID"].as_str().unwrap().to_owned())
            .collect(),
        received: v["sessions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["num_received"].as_u64().unwrap())
            .sum(),
        rows,
    }
}

pub(crate) fn ids(range: std::ops::Range<usize>) -> BTreeSet<String> {
    range.map(|i| format!("u{i}")).collect()
}

#[tokio::test]
async fn a_now_campaign_syncs_its_segment_once_and_completes() {
    let app = app_with(10_000).await;
    upload_profiles(&app, 0..30, "gold").await;
    upload_profiles(&app, 30..40, "silver").await;
    let id = publish(&app, json!({"time_zone":"UTC","kind":"now"})).await;

    let first = drain_at(&app, Timestamp::now()).await;
    assert_eq!((first.scheduled, first.jobs), (1, 1));
    // Draining again schedules nothing: the slot has its run.
    assert_eq!(
        drain_at(&app, later(5)).await,
        server::jobs::Drained::default()
    );

    let history = runs(&app, id).await;
    assert_eq!(history.len(), 1);
    let run = &history[0];
    assert_eq!(run["state"], "succeeded", "{run}");
    assert_eq!(run["trigger"], "schedule");
    assert_eq!(run["slot"], 1);
    assert_eq!(run["late"], false);
    assert_eq!(run["mode"], "replace");
    assert_eq!(
        (run["members"].as_i64(), run["added"].as_i64()),
        (Some(30), Some(30))
    );
    assert_eq!(run["removed"], 0);
    assert_eq!(run["rows_done"], run["rows_total"]);
    assert_eq!(run["approx_before_upper"], 0);
    assert!(run["approx_after_lower"].as_i64().unwrap() > 0, "{run}");
    assert_eq!(campaign(&app, id).await["status"], "completed");

    let audience = run["audience_id"].as_str().unwrap();
    let s = stored(&app, audience).await;
    assert_eq!(s.ids, ids(0..30));
    assert_eq!(s.rows.len(), 30);
    let u7 = s.rows.iter().find(|r| r["EXTERN_ID"] == "u7").unwrap();
    assert_eq!(
        u7["EMAIL"],
        server::facebook::hashing::sha256_hex("user7@example.com")
    );
    assert_eq!(
        u7["PHONE"],
        server::facebook::hashing::sha256_hex("14155550007")
    );
    // The audience is attached to the ad set, the rest of its targeting kept.
    let ad_set: Value = app
        .get(&format!(
            "/sandbox/graph/v25.0/{}?fields=targeting&access_token=t",
            target(&app).await["ad_set_id"].as_str().unwrap()
        ))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        ad_set["targeting"]["custom_audiences"],
        json!([{ "id": audience }])
    );
    assert!(ad_set["targeting"]["geo_locations"].is_object());
    let jobs: Value = app.get("/api/jobs").await.json().await.unwrap();
    assert_eq!(jobs[0]["state"], "done");
    assert_eq!(jobs[0]["kind"], "sync_run");
    app.stop().await;
}

#[tokio::test]
async fn nothing_runs_before_publishing_and_a_draft_cannot_run_now() {
    let app = app_with(10_000).await;
    upload_profiles(&app, 0..5, "gold").await;
    let draft = json!({"name":"Draft","schedule":{"time_zone":"UTC","kind":"now"},
                       "audience":gold_segment(),"target": target(&app).await});
    let id = app
        .post("/api/campaigns", &draft)
        .await
        .json::<Value>()
        .await
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    assert_eq!(
        drain_at(&app, later(60 * 24)).await,
        server::jobs::Drained::default()
    );
    let res = app
        .post(&format!("/api/campaigns/{id}/runs"), &json!({}))
        .await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert!(
        error_body(res)
            .await
            .error
            .message
            .contains("Publish it first")
    );
    assert!(runs(&app, id).await.is_empty());
    let res = app
        .post(
            &format!("/api/campaigns/{id}/runs"),
            &json!({"dry_run": "yes"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = error_body(res).await;
    assert_eq!(body.error.fields[0].path, "dry_run");
    let res = app.get("/api/campaigns/999/runs").await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    app.stop().await;
}

#[tokio::test]
async fn incremental_runs_send_only_the_difference_and_a_large_churn_replaces() {
    let app = app_with(40).await;
    upload_profiles(&app, 0..150, "gold").await;
    let id = publish(&app, daily()).await;
    run_now(&app, id).await;
    assert_eq!(drain_at(&app, Timestamp::now()).await.jobs, 1);
    let first = &runs(&app, id).await[0];
    assert_eq!(first["state"], "succeeded", "{first}");
    assert_eq!(first["trigger"], "manual");
    assert_eq!(first["mode"], "replace");
    let audience = first["audience_id"].as_str().unwrap().to_owned();
    assert_eq!(stored(&app, &audience).await.ids, ids(0..150));

    // Ten leave, twenty join, one changes her e-mail.
    upload_profiles(&app, 0..10, "silver").await;
    upload_profiles(&app, 150..170, "gold").await;
    let res = app
        .upload(&json!({"d":[{"type":"profile","identity":"u42",
                               "profileData":{"Email":"new42@example.com"}}]}))
        .await;
    assert_eq!(res.status(), StatusCode::OK);

    // A dry run reports the difference and sends nothing.
    let res = app
        .post(
            &format!("/api/campaigns/{id}/runs"),
            &json!({"dry_run": true}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let dry: Value = res.json().await.unwrap();
    assert_eq!(
        (dry["added"].as_i64(), dry["removed"].as_i64()),
        (Some(20), Some(10))
    );
    let sample: Value = serde_json::from_str(dry["sample"].as_str().unwrap()).unwrap();
    assert!(sample["remove"].as_array().unwrap().contains(&json!("u3")));
    assert!(sample["add"].as_array().unwrap().contains(&json!("u155")));
    assert_eq!(stored(&app, &audience).await.ids, ids(0..150));

    run_now(&app, id).await;
    drain_at(&app, Timestamp::now()).await;
    let second = &runs(&app, id).await[0];
    assert_eq!(second["state"], "succeeded", "{second}");
    assert_eq!(second["mode"], "incremental");
    assert_eq!(
        (second["added"].as_i64(), second["removed"].as_i64()),
        (Some(20), Some(10))
    );
    // Only the difference went out: 10 removals + 20 additions + u42 removed and re-added.
    assert_eq!(second["rows_total"], 32);
    let s = stored(&app, &audience).await;
    assert_eq!(s.ids, ids(10..170));
    assert_eq!(s.rows.len(), 160);
    let u42 = s.rows.iter().find(|r| r["EXTERN_ID"] == "u42").unwrap();
    assert_eq!(
        u42["EMAIL"],
        server::facebook::hashing::sha256_hex("new42@example.com")
    );

    // Most of the audience changes: one usersreplace instead of add and remove sessions.
    upload_profiles(&app, 10..120, "silver").await;
    upload_profiles(&app, 200..300, "gold").await;
    run_now(&app, id).await;
    drain_at(&app, Timestamp::now()).await;
    let third = &runs(&app, id).await[0];
    assert_eq!(third["state"], "succeeded", "{third}");
    assert_eq!(third["mode"], "replace");
    let s = stored(&app, &audience).await;
    let mut expected = ids(120..170);
    expected.extend(ids(200..300));
    assert_eq!(s.ids, expected);
    assert_eq!(s.rows.len(), 150);
    app.stop().await;
}

/// How many profiles have a stored match-key fingerprint.
async fn stored_fingerprints(app: &TestApp) -> i64 {
    with_pool!(&app.server.state.db, pool => {
        sqlx::query_scalar("select count(*) from profiles where key_fingerprint is not null")
            .fetch_one(pool)
            .await
            .unwrap()
    })
}

/// Runs `sql` on the app's database, as a hand-written change (or an older release) would.
async fn execute(app: &TestApp, sql: &str) {
    with_pool!(&app.server.state.db, pool => {
        sqlx::query(sql).execute(pool).await.unwrap();
    });
}

/// Runs the campaign now; returns the run.
async fn run_and_wait(app: &TestApp, id: i64) -> Value {
    run_now(app, id).await;
    drain_at(app, Timestamp::now()).await;
    let run = runs(app, id).await[0].clone();
    assert_eq!(run["state"], "succeeded", "{run}");
    run
}

#[tokio::test]
async fn a_changed_key_is_noticed_whatever_wrote_it_even_with_fingerprints_stored() {
    let app = app_with(40).await;
    upload_profiles(&app, 0..150, "gold").await;
    let id = publish(&app, daily()).await;
    let first = run_and_wait(&app, id).await;
    let audience = first["audience_id"].as_str().unwrap().to_owned();
    // The first run stored every member's fingerprint: later runs read those, not the keys.
    assert_eq!(stored_fingerprints(&app).await, 150);
    let nothing = run_and_wait(&app, id).await;
    assert_eq!(nothing["mode"], "incremental");
    assert_eq!(nothing["rows_total"], 0, "{nothing}");

    // One key changed by an upload, one by SQL outside the server, one set back to what it was.
    let res = app
        .upload(&json!({"d":[{"type":"profile","identity":"u7",
                               "profileData":{"Email":"seven@example.com"}}]}))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    execute(
        &app,
        "update profiles set city = 'mumbai' where identity = 'u8'",
    )
    .await;
    upload_profiles(&app, 9..10, "gold").await;
    let run = run_and_wait(&app, id).await;
    assert_eq!(run["mode"], "incremental");
    // u7 and u8 removed and re-added with their new keys; u9 unchanged.
    assert_eq!(run["rows_total"], 4, "{run}");
    let s = stored(&app, &audience).await;
    assert_eq!(s.ids, ids(0..150));
    let row = |who: &str| {
        s.rows
            .iter()
            .find(|r| r["EXTERN_ID"] == who)
            .unwrap()
            .clone()
    };
    assert_eq!(
        row("u7")["EMAIL"],
        server::facebook::hashing::sha256_hex("seven@example.com")
    );
    assert_eq!(
        row("u8")["CT"],
        server::facebook::hashing::sha256_hex("mumbai")
    );
    assert_eq!(stored_fingerprints(&app).await, 150);
    app.stop().await;
}

#[tokio::test]
async fn an_upgraded_database_without_fingerprints_still_syncs_only_the_difference() {
    let app = app_with(40).await;
    upload_profiles(&app, 0..150, "gold").await;
    let id = publish(&app, daily()).await;
    let first = run_and_wait(&app, id).await;
    let audience = first["audience_id"].as_str().unwrap().to_owned();
    // As a database synced by the release before fingerprints were stored: none, and a key
    // changed since its last run.
    execute(&app, "update profiles set key_fingerprint = null").await;
    execute(
        &app,
        "update profiles set phone = '+14150000000' where identity = 'u3'",
    )
    .await;
    assert_eq!(stored_fingerprints(&app).await, 0);
    let run = run_and_wait(&app, id).await;
    assert_eq!(run["mode"], "incremental");
    assert_eq!(run["rows_total"], 2, "only u3, out and in again: {run}");
    let s = stored(&app, &audience).await;
    assert_eq!(s.ids, ids(0..150));
    let u3 = s.rows.iter().find(|r| r["EXTERN_ID"] == "u3").unwrap();
    assert_eq!(
        u3["PHONE"],
        server::facebook::hashing::sha256_hex("14150000000")
    );
    // The run filled them in: the next one reads fingerprints alone.
    assert_eq!(stored_fingerprints(&app).await, 150);
    let nothing = run_and_wait(&app, id).await;
    assert_eq!(nothing["rows_total"], 0, "{nothing}");
    app.stop().await;
}

/// The campaign's stored membership as (chunk, packed members), in chunk order.
async fn membership_chunks(app: &TestApp, id: i64) -> Vec<(i64, Vec<u8>)> {
    with_pool!(&app.server.state.db, pool => {
        sqlx::query_as(
            "select chunk, members from sync_members where campaign_id = $1 order by chunk",
        )
        .bind(id)
        .fetch_all(pool)
        .await
        .unwrap()
    })
}

async fn profile_id(app: &TestApp, identity: &str) -> i64 {
    with_pool!(&app.server.state.db, pool => {
        sqlx::query_scalar("select id from profiles where identity = $1")
            .bind(identity)
            .fetch_one(pool)
            .await
            .unwrap()
    })
}

#[tokio::test]
async fn a_membership_across_chunks_keeps_exactly_the_audience_through_changes_crashes_and_the_old_format()
 {
    use server::sync::store::chunk_of;
    let app = app_with(2000).await;
    upload_profiles(&app, 0..9000, "gold").await;
    let id = publish(&app, daily()).await;
    let first = run_and_wait(&app, id).await;
    assert_eq!(first["mode"], "replace");
    let audience = first["audience_id"].as_str().unwrap().to_owned();
    // 9,000 profiles span three chunks of 4,096 ids.
    let (c_low, c_mid, c_high) = (
        chunk_of(profile_id(&app, "u2").await),
        chunk_of(profile_id(&app, "u5000").await),
        chunk_of(profile_id(&app, "u8500").await),
    );
    assert!(c_low < c_mid && c_mid < c_high, "{c_low} {c_mid} {c_high}");
    let before = membership_chunks(&app, id).await;
    assert_eq!(before.len(), 3);

    // Five leave (the lowest chunk), ten join and one changes (the highest); the middle chunk
    // is untouched. The run stops dead once everything is sent and resumes: its finish
    // computes the membership from the recorded batches.
    upload_profiles(&app, 0..5, "silver").await;
    upload_profiles(&app, 9000..9010, "gold").await;
    execute(
        &app,
        "update profiles set email = 'changed@example.com' where identity = 'u8500'",
    )
    .await;
    run_now(&app, id).await;
    *app.server.state.jobs.crash_at.lock().unwrap() = Some(CrashPoint::BeforeFinish);
    drain_at(&app, Timestamp::now()).await;
    assert_eq!(runs(&app, id).await[0]["state"], "running");
    drain_at(&app, later(10)).await;
    let second = &runs(&app, id).await[0];
    assert_eq!(second["state"], "succeeded", "{second}");
    assert_eq!(second["mode"], "incremental");
    assert_eq!(
        (second["added"].as_i64(), second["removed"].as_i64()),
        (Some(10), Some(5))
    );
    assert_eq!(second["rows_total"], 17, "{second}");
    let s = stored(&app, &audience).await;
    assert_eq!(s.ids, ids(5..9010));
    assert_eq!(s.rows.len(), 9005);
    let after = membership_chunks(&app, id).await;
    let chunk = |list: &[(i64, Vec<u8>)], c: i64| list.iter().find(|x| x.0 == c).cloned();
    assert_eq!(chunk(&after, c_mid), chunk(&before, c_mid), "not rewritten");
    assert_ne!(chunk(&after, c_low), chunk(&before, c_low));
    assert_ne!(chunk(&after, c_high), chunk(&before, c_high));
    // What was stored is exactly what Facebook holds: the next run has nothing to send.
    let nothing = run_and_wait(&app, id).await;
    assert_eq!(nothing["rows_total"], 0, "{nothing}");

    // A database an earlier version wrote: the membership as one blob (the chunks joined).
    let blob: Vec<u8> = after.iter().flat_map(|c| c.1.clone()).collect();
    with_pool!(&app.server.state.db, pool => {
        sqlx::query("update sync_audiences set members = $1 where campaign_id = $2")
            .bind(&blob)
            .bind(id)
            .execute(pool)
            .await
            .unwrap();
        sqlx::query("delete from sync_members where campaign_id = $1")
            .bind(id)
            .execute(pool)
            .await
            .unwrap();
    });
    app.server.state.db.migrate().await.unwrap();
    assert_eq!(membership_chunks(&app, id).await, after);
    upload_profiles(&app, 0..1, "gold").await;
    let back = run_and_wait(&app, id).await;
    assert_eq!(
        (
            back["added"].as_i64(),
            back["removed"].as_i64(),
            back["rows_total"].as_i64()
        ),
        (Some(1), Some(0), Some(1)),
        "{back}"
    );
    let mut expected = ids(0..1);
    expected.extend(ids(5..9010));
    assert_eq!(stored(&app, &audience).await.ids, expected);
    app.stop().await;
}

#[tokio::test]
async fn removals_that_would_leave_fewer_than_100_people_are_held() {
    let app = app_with(10_000).await;
    upload_profiles(&app, 0..110, "gold").await;
    let id = publish(&app, daily()).await;
    run_now(&app, id).await;
    drain_at(&app, Timestamp::now()).await;
    let audience = runs(&app, id).await[0]["audience_id"]
        .as_str()
        .unwrap()
        .to_owned();
    upload_profiles(&app, 0..20, "silver").await;
    upload_profiles(&app, 110..112, "gold").await;
    run_now(&app, id).await;
    drain_at(&app, Timestamp::now()).await;
    let run = &runs(&app, id).await[0];
    assert_eq!(run["state"], "succeeded", "{run}");
    assert_eq!(run["held_removals"], 20);
    assert_eq!(run["removed"], 0);
    assert_eq!(run["added"], 2);
    let s = stored(&app, &audience).await;
    assert_eq!(s.ids, ids(0..112));
    app.stop().await;
}

#[tokio::test]
async fn the_scheduler_records_each_slot_once_and_a_missed_slot_runs_late() {
    let app = app_with(10_000).await;
    upload_profiles(&app, 0..3, "gold").await;
    let id = publish(&app, daily()).await;
    let first: Timestamp = campaign(&app, id).await["next_run_at"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(
        drain_at(&app, first - SignedDuration::from_secs(1))
            .await
            .scheduled,
        0
    );
    assert_eq!(
        drain_at(&app, first + SignedDuration::from_secs(1))
            .await
            .scheduled,
        1
    );
    assert_eq!(
        drain_at(&app, first + SignedDuration::from_secs(2))
            .await
            .scheduled,
        0
    );
    let c = campaign(&app, id).await;
    assert_eq!(c["status"], "awaiting_next_run");
    // The server was down for three days: the slots of days 2, 3 and 4 run once, late.
    let down = first + SignedDuration::from_hours(3 * 24 + 5);
    assert_eq!(drain_at(&app, down).await.scheduled, 1);
    let history = runs(&app, id).await;
    assert_eq!(history.len(), 2);
    assert_eq!(history[0]["slot"], 4);
    assert_eq!(history[0]["late"], true);
    assert_eq!(history[0]["missed_slots"], 2);
    assert_eq!(history[0]["state"], "succeeded", "{}", history[0]);
    assert_eq!(history[1]["slot"], 1);
    assert_eq!(history[1]["late"], false);
    let next: Timestamp = campaign(&app, id).await["next_run_at"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(next, first + SignedDuration::from_hours(4 * 24));
    app.stop().await;
}

/// A run that meets `faults` on its first attempt, retried later with the faults gone.
async fn recovers_from(faults: Value, expect_in_error: &str) {
    let app = app_with(5).await;
    upload_profiles(&app, 0..20, "gold").await;
    let id = publish(&app, daily()).await;
    run_now(&app, id).await;
    set_faults(&app, faults).await;
    drain_at(&app, Timestamp::now()).await;
    let run = &runs(&app, id).await[0];
    assert_eq!(run["state"], "retrying", "{run}");
    assert!(
        run["error"].as_str().unwrap().contains(expect_in_error),
        "{run}"
    );
    assert!(
        run["advice"].as_str().unwrap().contains("automatically"),
        "{run}"
    );
    let jobs: Value = app.get("/api/jobs").await.json().await.unwrap();
    assert_eq!(jobs[0]["state"], "queued");
    assert_eq!(jobs[0]["attempts"], 1);
    // Not before its backoff…
    assert_eq!(drain_at(&app, Timestamp::now()).await.jobs, 0);
    set_faults(&app, json!({})).await;
    // …then it resumes where it stopped.
    assert_eq!(drain_at(&app, later(60)).await.jobs, 1);
    let run = &runs(&app, id).await[0];
    assert_eq!(run["state"], "succeeded", "{run}");
    let s = stored(&app, run["audience_id"].as_str().unwrap()).await;
    assert_eq!(s.ids, ids(0..20));
    assert_eq!(s.received, 20, "a batch was sent twice");
    let jobs: Value = app.get("/api/jobs").await.json().await.unwrap();
    assert_eq!(jobs[0]["state"], "done");
    assert_eq!(jobs[0]["attempts"], 2);
    assert_eq!(campaign(&app, id).await["status"], "awaiting_next_run");
    app.stop().await;
}

#[tokio::test]
async fn a_rate_limit_is_waited_out_and_the_run_resumes() {
    // Audience lookup, create, size read, then the first batch is throttled.
    recovers_from(
        json!({"rate_limit_after": 3, "regain_access_minutes": 0}),
        "too many calls",
    )
    .await;
}

#[tokio::test]
async fn a_transient_error_is_retried() {
    recovers_from(json!({"transient_next": 1}), "unexpected error").await;
}

#[tokio::test]
async fn an_html_500_page_is_retried() {
    recovers_from(json!({"html_500_next": 1}), "HTTP 500").await;
}

#[tokio::test]
async fn an_expired_token_puts_the_campaign_in_needs_attention_with_what_to_do() {
    let app = app_with(10_000).await;
    upload_profiles(&app, 0..5, "gold").await;
    let id = publish(&app, daily()).await;
    run_now(&app, id).await;
    set_faults(&app, json!({"expired_token": true})).await;
    drain_at(&app, Timestamp::now()).await;
    let run = &runs(&app, id).await[0];
    assert_eq!(run["state"], "failed", "{run}");
    assert!(
        run["error"]
            .as_str()
            .unwrap()
            .contains("Session has expired"),
        "{run}"
    );
    assert!(
        run["advice"].as_str().unwrap().contains("reconnect"),
        "{run}"
    );
    assert_eq!(campaign(&app, id).await["status"], "needs_attention");
    // Not retried: a person must act.
    assert_eq!(drain_at(&app, later(600)).await.jobs, 0);
    let res = app
        .post(&format!("/api/campaigns/{id}/runs"), &json!({}))
        .await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert_eq!(error_body(res).await.error.code, ErrorCode::Conflict);
    app.stop().await;
}

/// A first sync of 20 people in batches of 5 stopped dead at `point`, then resumed by another
/// drain once its lease has run out.
async fn crash_and_resume(point: CrashPoint) {
    let app = app_with(5).await;
    upload_profiles(&app, 0..20, "gold").await;
    let id = publish(&app, daily()).await;
    run_now(&app, id).await;
    *app.server.state.jobs.crash_at.lock().unwrap() = Some(point);
    drain_at(&app, Timestamp::now()).await;
    let run = &runs(&app, id).await[0];
    assert_eq!(run["state"], "running", "{point:?}: {run}");
    // Still leased to the dead worker.
    assert_eq!(drain_at(&app, Timestamp::now()).await.jobs, 0);
    assert_eq!(drain_at(&app, later(10)).await.jobs, 1, "{point:?}");
    let run = &runs(&app, id).await[0];
    assert_eq!(run["state"], "succeeded", "{point:?}: {run}");
    assert_eq!(run["rows_done"], 20, "{point:?}");
    let s = stored(&app, run["audience_id"].as_str().unwrap()).await;
    assert_eq!(s.ids, ids(0..20), "{point:?}");
    assert_eq!(s.rows.len(), 20, "{point:?}");
    assert_eq!(s.received, 20, "{point:?}: a batch was lost or sent twice");

    // The next run starts from what Facebook confirmed: one change, one row each way.
    upload_profiles(&app, 20..21, "gold").await;
    run_now(&app, id).await;
    drain_at(&app, later(20)).await;
    let run = &runs(&app, id).await[0];
    assert_eq!(
        (run["added"].as_i64(), run["removed"].as_i64()),
        (Some(1), Some(0))
    );
    assert_eq!(
        stored(&app, run["audience_id"].as_str().unwrap()).await.ids,
        ids(0..21)
    );
    app.stop().await;
}

#[tokio::test]
async fn a_crash_while_the_plan_is_written_plans_again_from_the_start() {
    crash_and_resume(CrashPoint::WhilePlanning).await;
}

#[tokio::test]
async fn a_crash_after_planning_resumes() {
    crash_and_resume(CrashPoint::AfterPlan).await;
}

#[tokio::test]
async fn a_crash_before_a_batch_is_sent_sends_it_once() {
    crash_and_resume(CrashPoint::BeforeSend { seq: 2 }).await;
}

#[tokio::test]
async fn a_crash_after_a_batch_was_accepted_does_not_send_it_again() {
    crash_and_resume(CrashPoint::AfterSend { seq: 2 }).await;
}

#[tokio::test]
async fn a_crash_after_the_last_batch_finishes_without_resending() {
    crash_and_resume(CrashPoint::AfterSend { seq: 4 }).await;
    crash_and_resume(CrashPoint::BeforeFinish).await;
}

#[tokio::test]
async fn two_workers_on_one_database_run_each_slot_once() {
    let a = app_with(5).await;
    let db = a.server.state.config.database_url.clone();
    let b = spawn_app_with(Options {
        upload_api_key: Some(UPLOAD_KEY.to_owned()),
        rows_per_request: Some(5),
        database_url: Some(db),
        // Both talk to the same Facebook: server A's sandbox.
        graph_url: Some(a.url("/sandbox/graph/v25.0")),
        ..Options::default()
    })
    .await;
    upload_profiles(&a, 0..40, "gold").await;
    let id = publish(&a, json!({"time_zone":"UTC","kind":"now"})).await;
    let now = Timestamp::now();
    let (da, db) = tokio::join!(drain_at(&a, now), drain_at(&b, now));
    assert_eq!(da.scheduled + db.scheduled, 1);
    assert_eq!(da.jobs + db.jobs, 1);
    let history = runs(&a, id).await;
    assert_eq!(history.len(), 1);
    assert_eq!(history[0]["state"], "succeeded", "{}", history[0]);
    let s = stored(&a, history[0]["audience_id"].as_str().unwrap()).await;
    assert_eq!(s.ids, ids(0..40));
    assert_eq!(s.received, 40);
    b.stop().await;
    a.stop().await;
}

#[tokio::test]
async fn the_background_worker_runs_a_published_now_campaign_by_itself() {
    let app = spawn_app_with(Options {
        upload_api_key: Some(UPLOAD_KEY.to_owned()),
        worker: true,
        ..Options::default()
    })
    .await;
    upload_profiles(&app, 0..3, "gold").await;
    let id = publish(&app, json!({"time_zone":"UTC","kind":"now"})).await;
    // Wait for the worker (it ticks every second); no test drains the queue here.
    for _ in 0..600 {
        if campaign(&app, id).await["status"] == "completed" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(campaign(&app, id).await["status"], "completed");
    let run = &runs(&app, id).await[0];
    assert_eq!(run["state"], "succeeded", "{run}");
    assert_eq!(run["members"], 3, "{run}");
    // Shutdown stops the worker too.
    app.stop().await;
}

#[tokio::test]
async fn the_list_and_the_stats_page_report_the_latest_run() {
    let app = app_with(10_000).await;
    upload_profiles(&app, 0..30, "gold").await;
    let id = publish(&app, json!({"time_zone":"UTC","kind":"now"})).await;

    // Before any run the list has no sync figures and the stats page none either.
    let list: Value = app.get("/api/campaigns").await.json().await.unwrap();
    let row = list
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id)
        .unwrap();
    assert!(row.get("last_run").is_none(), "{row}");
    // The list's texts come computed: the schedule, the first run (due now, in the schedule's
    // zone) and no sync yet.
    let columns = &row["list_columns"];
    assert_eq!(columns["schedule"], "Once, as soon as published", "{row}");
    assert!(
        columns["next_run"].as_str().unwrap().ends_with(" UTC"),
        "{row}"
    );
    // …and its instant, in RFC 3339, for the browser to show in the viewer's time zone.
    let next_run_at = columns["next_run_at"].as_str().unwrap();
    assert!(next_run_at.parse::<Timestamp>().is_ok(), "{row}");
    assert_eq!(columns["last_sync"], "—");
    let stats: Value = app
        .get(&format!("/api/campaigns/{id}/stats"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(stats["sync"]["audience_size_now"], Value::Null, "{stats}");
    assert_eq!(stats["sync"]["last_sync_at"], Value::Null);

    drain_at(&app, Timestamp::now()).await;

    let list: Value = app.get("/api/campaigns").await.json().await.unwrap();
    let row = list
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id)
        .unwrap();
    let last = &row["last_run"];
    assert_eq!(last["state"], "succeeded", "{row}");
    assert_eq!(last["audience_size"], 30);
    assert_eq!(
        (last["added"].as_i64(), last["removed"].as_i64()),
        (Some(30), Some(0))
    );
    assert!(last["finished_at"].is_string());
    let columns = &row["list_columns"];
    assert!(
        columns["last_sync"]
            .as_str()
            .unwrap()
            .starts_with("Succeeded "),
        "{row}"
    );
    assert!(
        columns["last_sync"]
            .as_str()
            .unwrap()
            .ends_with(" · +30 / −0")
    );
    // Its only run is done: no date is shown any more.
    assert!(
        ["—", "No more runs"].contains(&columns["next_run"].as_str().unwrap()),
        "{row}"
    );
    assert!(columns.get("next_run_at").is_none(), "{row}");
    // The single campaign read stays as it was: the run summary and texts are the list's.
    let single = campaign(&app, id).await;
    assert!(single.get("last_run").is_none());
    assert!(single.get("list_columns").is_none());

    let stats: Value = app
        .get(&format!("/api/campaigns/{id}/stats"))
        .await
        .json()
        .await
        .unwrap();
    let sync = &stats["sync"];
    assert_eq!(sync["audience_size_before"], 0, "{stats}");
    assert_eq!(sync["audience_size_now"], 30);
    assert_eq!(sync["users_added"], 30);
    assert_eq!(sync["users_removed"], 0);
    assert_eq!(sync["users_invalid"], 0);
    assert!(sync["last_sync_at"].is_string());

    // A dry run is history, not a sync: the list and stats keep the real run's figures.
    let res = app
        .post(
            &format!("/api/campaigns/{id}/runs"),
            &json!({"dry_run": true}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let list: Value = app.get("/api/campaigns").await.json().await.unwrap();
    let row = list
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id)
        .unwrap();
    assert_eq!(row["last_run"]["audience_size"], 30, "{row}");
    app.stop().await;
}

/// The ad account's audiences whose description names campaign `id`, as Graph lists them.
pub(crate) async fn audiences_of(app: &TestApp, id: i64) -> Vec<Value> {
    let list: Value = app
        .get(&format!(
            "/sandbox/graph/v25.0/{ACCOUNT}/customaudiences?access_token=t&fields=id,description&limit=500"
        ))
        .await
        .json()
        .await
        .unwrap();
    list["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| {
            a["description"]
                .as_str()
                .unwrap_or_default()
                .contains(&format!("campaign {id};"))
        })
        .cloned()
        .collect()
}

#[tokio::test]
async fn a_crash_after_facebook_created_the_audience_does_not_create_a_second_one() {
    let app = app_with(5).await;
    upload_profiles(&app, 0..20, "gold").await;
    let id = publish(&app, daily()).await;
    run_now(&app, id).await;
    *app.server.state.jobs.crash_at.lock().unwrap() = Some(CrashPoint::AfterCreateAudience);
    drain_at(&app, Timestamp::now()).await;
    assert_eq!(runs(&app, id).await[0]["audience_id"], Value::Null);
    assert_eq!(audiences_of(&app, id).await.len(), 1);

    assert_eq!(drain_at(&app, later(10)).await.jobs, 1);
    let run = &runs(&app, id).await[0];
    assert_eq!(run["state"], "succeeded", "{run}");
    let ours = audiences_of(&app, id).await;
    assert_eq!(ours.len(), 1, "a second audience was created: {ours:?}");
    assert_eq!(ours[0]["id"], run["audience_id"]);
    assert_eq!(
        stored(&app, run["audience_id"].as_str().unwrap()).await.ids,
        ids(0..20)
    );
    app.stop().await;
}

async fn advance_sandbox_clock(app: &TestApp, minutes: i64) {
    let res = app
        .post(
            "/sandbox/debug/clock",
            &json!({ "advance_seconds": minutes * 60 }),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
}

#[tokio::test]
async fn an_upload_session_that_expires_mid_run_continues_in_a_new_session() {
    // A first sync replaces in one session of 4 batches; the process dies before the third and
    // comes back after Facebook's 90 minutes: the audience then holds the first two batches only.
    let app = app_with(5).await;
    upload_profiles(&app, 0..20, "gold").await;
    let id = publish(&app, daily()).await;
    run_now(&app, id).await;
    *app.server.state.jobs.crash_at.lock().unwrap() = Some(CrashPoint::BeforeSend { seq: 3 });
    drain_at(&app, Timestamp::now()).await;
    advance_sandbox_clock(&app, 91).await;
    assert_eq!(drain_at(&app, later(10)).await.jobs, 1);
    let run = &runs(&app, id).await[0];
    assert_eq!(run["state"], "succeeded", "{run}");
    assert_eq!(run["rows_done"], 20);
    let audience = run["audience_id"].as_str().unwrap().to_owned();
    let s = stored(&app, &audience).await;
    // The whole replace was sent again in a new session: everyone is there, once.
    assert_eq!(s.ids, ids(0..20));
    assert_eq!(s.rows.len(), 20);

    // An add session (2 batches) that expires after its first batch: the rest goes in a new one.
    upload_profiles(&app, 20..30, "gold").await;
    run_now(&app, id).await;
    *app.server.state.jobs.crash_at.lock().unwrap() = Some(CrashPoint::BeforeSend { seq: 2 });
    drain_at(&app, later(20)).await;
    advance_sandbox_clock(&app, 91).await;
    assert_eq!(drain_at(&app, later(40)).await.jobs, 1);
    let run = &runs(&app, id).await[0];
    assert_eq!(run["state"], "succeeded", "{run}");
    assert_eq!(run["mode"], "incremental", "{run}");
    assert_eq!(run["added"], 10);
    let s = stored(&app, &audience).await;
    assert_eq!(s.ids, ids(0..30));
    assert_eq!(s.rows.len(), 30);
    app.stop().await;
}
