//! Facebook acted, but its answer never reached us (a timeout, a reset, a proxy): the sandbox
//! applies the request and then cuts the connection (`drop_reply`), or a proxy sends the request
//! a second time (`repeat_request`). The client retries as in production; the sync must read
//! back what Facebook holds instead of acting twice.

use jiff::Timestamp;
use reqwest::StatusCode;
use serde_json::{Value, json};
use server::sync::CrashPoint;

use crate::{
    helpers::{ACCOUNT, Options, TestApp, UPLOAD_KEY, spawn_app_with},
    sync::{
        audiences_of, campaign, daily, drain_at, ids, later, publish, run_now, runs, set_faults,
        stored, upload_profiles,
    },
};

/// A server whose Graph client repeats failed calls by itself, as in production (tests
/// otherwise leave retries to the job queue, which hides what a client retry does).
async fn app_retrying(rows_per_request: usize) -> TestApp {
    spawn_app_with(Options {
        upload_api_key: Some(UPLOAD_KEY.to_owned()),
        rows_per_request: Some(rows_per_request),
        client_retries: Some(2),
        ..Options::default()
    })
    .await
}

/// The sandbox's view of an audience (rows, sessions, upload requests received).
async fn debug_audience(app: &TestApp, audience: &str) -> Value {
    let res = app
        .get(&format!("/sandbox/debug/audiences/{audience}"))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    res.json().await.unwrap()
}

/// The faults as the sandbox holds them now (a one-shot fault that fired is gone).
async fn faults(app: &TestApp) -> Value {
    app.get("/sandbox/debug/faults").await.json().await.unwrap()
}

async fn graph_get(app: &TestApp, path: &str) -> reqwest::Response {
    let sep = if path.contains('?') { '&' } else { '?' };
    app.get(&format!("/sandbox/graph/v25.0/{path}{sep}access_token=t"))
        .await
}

/// The custom audiences in the campaign's ad set's targeting.
async fn attached(app: &TestApp, campaign_id: i64) -> Vec<String> {
    let c = campaign(app, campaign_id).await;
    let ad_set = c["target"]["ad_set_id"].as_str().unwrap();
    let v: Value = graph_get(app, &format!("{ad_set}?fields=targeting"))
        .await
        .json()
        .await
        .unwrap();
    v["targeting"]["custom_audiences"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|a| a["id"].as_str().unwrap().to_owned())
        .collect()
}

async fn jobs(app: &TestApp) -> Value {
    app.get("/api/jobs").await.json().await.unwrap()
}

/// A run that ended in one attempt, with nothing left to say about errors.
fn assert_succeeded_at_once(run: &Value) {
    assert_eq!(run["state"], "succeeded", "{run}");
    assert_eq!(run["error"], Value::Null, "{run}");
}

#[tokio::test]
async fn a_lost_answer_to_an_upload_batch_is_read_back_and_the_batch_not_sent_again() {
    // A first sync replaces in one session of 4 batches of 5; Facebook applies batch 2 but its
    // answer is lost.
    let app = app_retrying(5).await;
    upload_profiles(&app, 0..20, "gold").await;
    let id = publish(&app, daily()).await;
    run_now(&app, id).await;
    set_faults(
        &app,
        json!({"drop_reply": {"kind": "users_batch", "nth": 2}}),
    )
    .await;
    assert_eq!(drain_at(&app, Timestamp::now()).await.jobs, 1);
    assert_eq!(
        faults(&app).await["drop_reply"],
        Value::Null,
        "the fault fired"
    );

    let run = &runs(&app, id).await[0];
    assert_succeeded_at_once(run);
    assert_eq!(run["mode"], "replace");
    assert_eq!(run["rows_done"], 20);
    assert_eq!(
        jobs(&app).await[0]["attempts"],
        1,
        "no retry of the job was needed"
    );
    assert_eq!(campaign(&app, id).await["status"], "awaiting_next_run");
    let audience = run["audience_id"].as_str().unwrap().to_owned();
    let v = debug_audience(&app, &audience).await;
    // Exactly the segment, each batch applied once, the replace session closed.
    assert_eq!(stored(&app, &audience).await.ids, ids(0..20));
    assert_eq!(v["count"], 20, "{v}");
    assert_eq!(v["upload_requests"], 4, "a batch was sent twice: {v}");
    assert_eq!(v["replace_in_progress"], false, "{v}");
    let sessions = v["sessions"].as_array().unwrap();
    assert_eq!(sessions.len(), 1, "{v}");
    assert_eq!(sessions[0]["finished"], true, "{v}");
    assert_eq!(sessions[0]["last_batch_seq"], 4, "{v}");
    assert_eq!(sessions[0]["num_received"], 20, "{v}");
    assert_eq!(attached(&app, id).await, vec![audience.clone()]);

    // An incremental run: 7 join, in an add session of two batches; the answer to the first
    // is lost.
    upload_profiles(&app, 20..27, "gold").await;
    run_now(&app, id).await;
    set_faults(
        &app,
        json!({"drop_reply": {"kind": "users_batch", "nth": 1}}),
    )
    .await;
    assert_eq!(drain_at(&app, later(5)).await.jobs, 1);
    assert_eq!(
        faults(&app).await["drop_reply"],
        Value::Null,
        "the fault fired"
    );
    let run = &runs(&app, id).await[0];
    assert_succeeded_at_once(run);
    assert_eq!(run["mode"], "incremental", "{run}");
    assert_eq!(run["added"], 7, "{run}");
    let v = debug_audience(&app, &audience).await;
    assert_eq!(stored(&app, &audience).await.ids, ids(0..27));
    assert_eq!(v["upload_requests"], 4 + 2, "a batch was sent twice: {v}");
    let received: u64 = v["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["num_received"].as_u64().unwrap())
        .sum();
    assert_eq!(received, 20 + 7, "{v}");
    app.stop().await;
}

#[tokio::test]
async fn a_batch_facebook_calls_out_of_order_because_it_already_has_it_is_not_a_failure() {
    // A proxy lost the answer to batch 2 and sent the batch again by itself: Facebook applied
    // the first copy and answers the second `(#100) session.batch_seq 2 out of order`.
    let app = app_retrying(5).await;
    upload_profiles(&app, 0..20, "gold").await;
    let id = publish(&app, daily()).await;
    run_now(&app, id).await;
    set_faults(
        &app,
        json!({"repeat_request": {"kind": "users_batch", "nth": 2}}),
    )
    .await;
    assert_eq!(drain_at(&app, Timestamp::now()).await.jobs, 1);
    assert_eq!(
        faults(&app).await["repeat_request"],
        Value::Null,
        "the fault fired"
    );
    let run = &runs(&app, id).await[0];
    assert_succeeded_at_once(run);
    let audience = run["audience_id"].as_str().unwrap().to_owned();
    let v = debug_audience(&app, &audience).await;
    assert_eq!(stored(&app, &audience).await.ids, ids(0..20));
    // Four batches from us, and the proxy's copy (refused).
    assert_eq!(v["upload_requests"], 5, "{v}");
    assert_eq!(v["sessions"].as_array().unwrap().len(), 1, "{v}");
    assert_eq!(v["sessions"][0]["num_received"], 20, "{v}");
    assert_eq!(v["replace_in_progress"], false, "{v}");

    // The same on the last batch of a session: Facebook answers the copy "session already
    // finished", which must not start the session over.
    upload_profiles(&app, 20..27, "gold").await;
    run_now(&app, id).await;
    set_faults(
        &app,
        json!({"repeat_request": {"kind": "users_batch", "nth": 2}}),
    )
    .await;
    assert_eq!(drain_at(&app, later(5)).await.jobs, 1);
    assert_eq!(
        faults(&app).await["repeat_request"],
        Value::Null,
        "the fault fired"
    );
    let run = &runs(&app, id).await[0];
    assert_succeeded_at_once(run);
    assert_eq!(run["added"], 7, "{run}");
    let v = debug_audience(&app, &audience).await;
    assert_eq!(stored(&app, &audience).await.ids, ids(0..27));
    assert_eq!(
        v["sessions"].as_array().unwrap().len(),
        2,
        "no new session: {v}"
    );
    assert_eq!(v["upload_requests"], 5 + 2 + 1, "{v}");
    app.stop().await;
}

#[tokio::test]
async fn a_batch_refused_with_a_server_error_is_sent_again_once_the_session_shows_it_missing() {
    // Every fifth Graph call answers code 2 with HTTP 500, before Facebook does anything: the
    // sync cannot know that, reads the session back, finds the batch missing and sends it.
    let app = app_retrying(5).await;
    upload_profiles(&app, 0..20, "gold").await;
    let id = publish(&app, daily()).await;
    run_now(&app, id).await;
    set_faults(&app, json!({"transient_every": 5})).await;
    assert_eq!(drain_at(&app, Timestamp::now()).await.jobs, 1);
    let run = &runs(&app, id).await[0];
    assert_succeeded_at_once(run);
    assert_eq!(jobs(&app).await[0]["attempts"], 1);
    let audience = run["audience_id"].as_str().unwrap().to_owned();
    let v = debug_audience(&app, &audience).await;
    assert_eq!(stored(&app, &audience).await.ids, ids(0..20));
    assert_eq!(v["sessions"].as_array().unwrap().len(), 1, "{v}");
    assert_eq!(v["sessions"][0]["num_received"], 20, "{v}");
    assert_eq!(v["upload_requests"], 4, "{v}");
    app.stop().await;
}

#[tokio::test]
async fn a_lost_answer_to_creating_the_audience_does_not_create_a_second_one() {
    let app = app_retrying(5).await;
    upload_profiles(&app, 0..20, "gold").await;
    let id = publish(&app, daily()).await;
    run_now(&app, id).await;
    set_faults(
        &app,
        json!({"drop_reply": {"kind": "create_audience", "nth": 1}}),
    )
    .await;
    assert_eq!(drain_at(&app, Timestamp::now()).await.jobs, 1);
    assert_eq!(
        faults(&app).await["drop_reply"],
        Value::Null,
        "the fault fired"
    );
    let run = &runs(&app, id).await[0];
    assert_succeeded_at_once(run);
    let ours = audiences_of(&app, id).await;
    assert_eq!(ours.len(), 1, "a second audience was created: {ours:?}");
    assert_eq!(ours[0]["id"], run["audience_id"]);
    let audience = run["audience_id"].as_str().unwrap().to_owned();
    assert_eq!(stored(&app, &audience).await.ids, ids(0..20));
    assert_eq!(attached(&app, id).await, vec![audience]);
    assert_eq!(run["notes"], Value::Null, "nothing to report: {run}");
    app.stop().await;
}

/// `[sync-key …]`: what marks a campaign's audience as its own (see `sync::audience_key`).
async fn sync_key(app: &TestApp, id: i64) -> String {
    let created: Timestamp = campaign(app, id).await["created_at"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    format!("[sync-key fba-{id}-{}]", created.as_microsecond())
}

/// Creates an audience with the campaign's key through Graph, as a lost create would have left.
async fn seed_audience(app: &TestApp, id: i64, key: &str) -> String {
    let res = app
        .post(
            &format!("/sandbox/graph/v25.0/{ACCOUNT}/customaudiences"),
            &json!({"access_token": "t", "name": "Gold members", "subtype": "CUSTOM",
                    "customer_file_source": "USER_PROVIDED_ONLY",
                    "description": format!("Kept in sync by the Facebook Audiences campaign {id}; {key}")}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    res.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn of_two_audiences_with_the_campaigns_key_one_is_used_and_the_empty_other_deleted() {
    let app = app_retrying(5).await;
    upload_profiles(&app, 0..20, "gold").await;
    let id = publish(&app, daily()).await;
    let key = sync_key(&app, id).await;
    // An empty one (a create whose answer was lost), then one people were uploaded to.
    let empty = seed_audience(&app, id, &key).await;
    let used = seed_audience(&app, id, &key).await;
    let res = app
        .post(
            &format!("/sandbox/graph/v25.0/{used}/users"),
            &json!({"access_token": "t",
                    "payload": {"schema": ["EXTERN_ID"], "data": [["u0"], ["stale"]]}}),
        )
        .await;
    assert_eq!(
        res.status(),
        StatusCode::OK,
        "{}",
        res.text().await.unwrap()
    );
    assert_eq!(audiences_of(&app, id).await.len(), 2);

    run_now(&app, id).await;
    assert_eq!(drain_at(&app, Timestamp::now()).await.jobs, 1);
    let run = &runs(&app, id).await[0];
    assert_succeeded_at_once(run);
    assert_eq!(run["audience_id"], used.as_str(), "{run}");
    let ours = audiences_of(&app, id).await;
    assert_eq!(ours.len(), 1, "{ours:?}");
    assert_eq!(ours[0]["id"], used.as_str());
    assert_eq!(
        graph_get(&app, &empty).await.status(),
        StatusCode::BAD_REQUEST,
        "the empty duplicate is gone from Facebook"
    );
    // The first sync replaced whatever the kept audience held.
    assert_eq!(stored(&app, &used).await.ids, ids(0..20));
    assert_eq!(attached(&app, id).await, vec![used.clone()]);
    let notes = run["notes"].as_str().unwrap_or_default();
    assert!(
        notes.contains(&format!("uses {used}")) && notes.contains(&format!("duplicate: {empty}")),
        "{run}"
    );
    app.stop().await;
}

#[tokio::test]
async fn an_empty_duplicate_left_behind_earlier_is_deleted_by_the_next_run() {
    // The campaign syncs into its audience; an empty one with its key turns up beside it (what
    // an earlier version left after a lost answer to the create).
    let app = app_retrying(5).await;
    upload_profiles(&app, 0..20, "gold").await;
    let id = publish(&app, daily()).await;
    run_now(&app, id).await;
    drain_at(&app, Timestamp::now()).await;
    let first = &runs(&app, id).await[0];
    assert_succeeded_at_once(first);
    let audience = first["audience_id"].as_str().unwrap().to_owned();
    let leftover = seed_audience(&app, id, &sync_key(&app, id).await).await;

    upload_profiles(&app, 20..22, "gold").await;
    run_now(&app, id).await;
    assert_eq!(drain_at(&app, later(5)).await.jobs, 1);
    let run = &runs(&app, id).await[0];
    assert_succeeded_at_once(run);
    assert_eq!(
        run["audience_id"],
        audience.as_str(),
        "the campaign keeps its audience"
    );
    let ours = audiences_of(&app, id).await;
    assert_eq!(ours.len(), 1, "{ours:?}");
    assert_eq!(ours[0]["id"], audience.as_str());
    assert_eq!(stored(&app, &audience).await.ids, ids(0..22));
    let notes = run["notes"].as_str().unwrap_or_default();
    assert!(notes.contains(&format!("duplicate: {leftover}")), "{run}");
    app.stop().await;
}

#[tokio::test]
async fn a_retried_run_shows_what_it_is_doing_now_not_the_error_it_waited_on() {
    let app = spawn_app_with(Options {
        upload_api_key: Some(UPLOAD_KEY.to_owned()),
        rows_per_request: Some(5),
        ..Options::default()
    })
    .await;
    upload_profiles(&app, 0..20, "gold").await;
    let id = publish(&app, daily()).await;
    run_now(&app, id).await;
    set_faults(&app, json!({"transient_next": 1})).await;
    drain_at(&app, Timestamp::now()).await;
    let run = &runs(&app, id).await[0];
    assert_eq!(run["state"], "retrying", "{run}");
    assert!(
        run["error"].as_str().unwrap().contains("unexpected error"),
        "{run}"
    );

    // The retry gets under way and stops before finishing (as if the process died there).
    set_faults(&app, json!({})).await;
    *app.server.state.jobs.crash_at.lock().unwrap() = Some(CrashPoint::BeforeFinish);
    assert_eq!(drain_at(&app, later(60)).await.jobs, 1);
    let run = &runs(&app, id).await[0];
    assert_eq!(run["state"], "running", "{run}");
    assert_eq!(run["rows_done"], 20, "{run}");
    assert_eq!(
        run["error"],
        Value::Null,
        "an old error shown on a running run: {run}"
    );
    assert_eq!(run["advice"], Value::Null, "{run}");

    assert_eq!(drain_at(&app, later(80)).await.jobs, 1);
    assert_succeeded_at_once(&runs(&app, id).await[0]);
    app.stop().await;
}
