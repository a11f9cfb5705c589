//! The real Graph API client against the server's Graph API sandbox, over HTTP.

use std::{collections::BTreeSet, time::Duration};

use reqwest::StatusCode;
use serde_json::{Value, json};
use server::facebook::{
    ErrorKind, FacebookClient, GraphClient,
    client::{InsightsQuery, NewCustomAudience, RetryPolicy, UploadOp},
    hashing::{MatchKey, hash_rows, sha256_hex},
};

use crate::helpers::{TestApp, spawn_app};

const US: &str = "act_100000000000001";
const IN: &str = "act_100000000000002";

fn quick() -> RetryPolicy {
    RetryPolicy {
        max_retries: 0,
        base_delay: Duration::from_millis(10),
        max_wait: Duration::from_secs(1),
        max_slowdown: Duration::from_millis(20),
        rows_per_request: 10_000,
    }
}

fn client(app: &TestApp) -> GraphClient {
    GraphClient::new(app.url("/sandbox/graph/v25.0"), "test-token", None).with_policy(quick())
}

fn client_rows(app: &TestApp, rows_per_request: usize) -> GraphClient {
    GraphClient::new(app.url("/sandbox/graph/v25.0"), "test-token", None).with_policy(RetryPolicy {
        rows_per_request,
        ..quick()
    })
}

async fn set_faults(app: &TestApp, faults: Value) {
    let res = app
        .http
        .post(app.url("/sandbox/debug/faults"))
        .json(&faults)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
}

async fn stored_emails(app: &TestApp, audience: &str) -> BTreeSet<String> {
    let v: Value = app
        .get(&format!("/sandbox/debug/audiences/{audience}"))
        .await
        .json()
        .await
        .unwrap();
    v["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["EMAIL"].as_str().unwrap_or_default().to_owned())
        .collect()
}

fn emails(range: std::ops::Range<usize>) -> Vec<[String; 2]> {
    range
        .map(|i| {
            [
                format!(" User{i}@Example.com"),
                format!("+1 555 000 {i:04}"),
            ]
        })
        .collect()
}

fn hashed_emails(range: std::ops::Range<usize>) -> BTreeSet<String> {
    range
        .map(|i| sha256_hex(&format!("user{i}@example.com")))
        .collect()
}

async fn new_audience(fb: &GraphClient, account: &str) -> String {
    fb.create_custom_audience(
        account,
        &NewCustomAudience {
            name: "Test audience".into(),
            description: "from tests".into(),
            customer_file_source: "USER_PROVIDED_ONLY".into(),
        },
    )
    .await
    .expect("audience created")
}

/// A raw Graph call (form body), for checks the typed client never makes.
async fn raw_post(app: &TestApp, path: &str, form: &[(&str, String)]) -> (StatusCode, Value) {
    let mut all = vec![("access_token", "test-token".to_owned())];
    all.extend(form.iter().cloned());
    let res = app
        .http
        .post(app.url(&format!("/sandbox/graph/v25.0/{path}")))
        .form(&all)
        .send()
        .await
        .unwrap();
    (res.status(), res.json().await.unwrap())
}

#[tokio::test]
async fn lists_accounts_campaigns_ad_sets_and_ads_across_pages() {
    let app = spawn_app().await;
    let fb = client(&app);
    let accounts = fb.ad_accounts().await.unwrap();
    assert_eq!(accounts.len(), 2);
    assert_eq!(accounts[0].id, US);
    assert_eq!(accounts[0].currency, "USD");
    assert_eq!(accounts[1].currency, "INR");
    assert_eq!(accounts[1].timezone_name, "Asia/Kolkata");
    assert!(accounts.iter().all(|a| a.account_status == 1));

    let campaigns = fb.campaigns_paged(US, 2).await.unwrap();
    assert_eq!(campaigns.len(), 3, "3 campaigns over 2 pages");
    let all_sets = fb.ad_sets_paged(US, 4).await.unwrap();
    assert_eq!(all_sets.len(), 6);
    let sets = fb.ad_sets(&campaigns[0].id).await.unwrap();
    assert_eq!(sets.len(), 2);
    assert!(sets[0].targeting.as_ref().unwrap()["geo_locations"]["countries"] == json!(["US"]));
    let ads = fb.ads(&sets[0].id).await.unwrap();
    assert_eq!(ads.len(), 2);
    assert_eq!(ads[0].adset_id.as_deref(), Some(sets[0].id.as_str()));

    // The raw paging shape: cursors on every page, `next` only while more remain.
    let first: Value = app
        .get(&format!(
            "/sandbox/graph/v25.0/{US}/campaigns?access_token=t&limit=2&fields=name"
        ))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(first["data"].as_array().unwrap().len(), 2);
    assert!(first["paging"]["cursors"]["before"].is_string());
    assert!(first["paging"]["cursors"]["after"].is_string());
    let next = first["paging"]["next"].as_str().unwrap();
    let second: Value = app
        .http
        .get(next)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(second["data"].as_array().unwrap().len(), 1);
    assert!(second["data"][0]["name"].is_string());
    assert!(second["paging"]["cursors"]["after"].is_string());
    assert!(second["paging"].get("next").is_none());
    app.stop().await;
}

#[tokio::test]
async fn audience_add_remove_and_replace_store_exactly_the_expected_rows() {
    let app = spawn_app().await;
    let fb = client_rows(&app, 10);
    let ca = new_audience(&fb, US).await;
    let schema = [MatchKey::Email, MatchKey::Phone];

    // 25 rows in one session of 3 batches (10 + 10 + 5).
    let batch = hash_rows(&schema, &emails(0..25));
    let added = fb
        .upload_users(UploadOp::Add, &ca, &batch, 4242)
        .await
        .unwrap();
    assert_eq!(added.batches, 3);
    assert_eq!(
        added.num_received, 25,
        "num_received is cumulative per session"
    );
    assert_eq!(added.num_invalid_entries, 0);
    assert_eq!(stored_emails(&app, &ca).await, hashed_emails(0..25));

    // Remove 5 of them (POST with method=DELETE).
    let removal = hash_rows(&schema, &emails(20..25));
    let removed = fb
        .upload_users(UploadOp::Remove, &ca, &removal, 4243)
        .await
        .unwrap();
    assert_eq!(removed.num_received, 5);
    assert_eq!(stored_emails(&app, &ca).await, hashed_emails(0..20));

    // Replace everything with rows 100..112 (2 batches).
    let replacement = hash_rows(&schema, &emails(100..112));
    let replaced = fb
        .upload_users(UploadOp::Replace, &ca, &replacement, 4244)
        .await
        .unwrap();
    assert_eq!(replaced.batches, 2);
    assert_eq!(stored_emails(&app, &ca).await, hashed_emails(100..112));

    let audience = fb.custom_audience(&ca).await.unwrap();
    assert_eq!(audience.operation_status.unwrap().code, 200);
    assert!(audience.approximate_count_lower_bound.unwrap() <= 12);
    assert!(audience.approximate_count_upper_bound.unwrap() >= 12);
    assert_eq!(
        audience.delivery_status.unwrap().code,
        300,
        "under 100 people"
    );

    fb.delete_custom_audience(&ca).await.unwrap();
    let gone = fb.custom_audience(&ca).await.unwrap_err();
    assert_eq!(
        (gone.kind, gone.code, gone.subcode),
        (ErrorKind::Invalid, 100, Some(33))
    );
    app.stop().await;
}

#[tokio::test]
async fn rows_empty_after_normalisation_are_not_sent() {
    let app = spawn_app().await;
    let fb = client(&app);
    let ca = new_audience(&fb, US).await;
    let rows = vec![
        ["a@example.com".to_owned(), String::new()],
        ["nonsense".to_owned(), "+".to_owned()],
    ];
    let batch = hash_rows(&[MatchKey::Email, MatchKey::Phone], &rows);
    let summary = fb
        .upload_users(UploadOp::Add, &ca, &batch, 1)
        .await
        .unwrap();
    assert_eq!(summary.rows_skipped_locally, 1);
    assert_eq!(summary.num_received, 1);
    app.stop().await;
}

#[tokio::test]
async fn badly_hashed_entries_are_counted_not_stored() {
    let app = spawn_app().await;
    let fb = client(&app);
    let ca = new_audience(&fb, US).await;
    let good = sha256_hex("ok@example.com");
    let payload = json!({
        "schema": ["EMAIL", "EXTERN_ID"],
        "data": [
            [good, "u-1"],
            ["mary@example.com", "u-2"],
            [good.to_ascii_uppercase(), "u-3"],
            ["", "u-4"],
        ],
    });
    let (status, body) = raw_post(
        &app,
        &format!("{ca}/users"),
        &[("payload", payload.to_string())],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["num_received"], 4);
    assert_eq!(body["num_invalid_entries"], 2);
    assert_eq!(body["invalid_entry_samples"].as_object().unwrap().len(), 2);
    let stored: Value = app
        .get(&format!("/sandbox/debug/audiences/{ca}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(stored["count"], 2, "{stored}");

    // Row width must equal schema width; unknown schema keys are refused.
    let bad_width = json!({ "schema": ["EMAIL", "PHONE"], "data": [[good]] });
    let (status, body) = raw_post(
        &app,
        &format!("{ca}/users"),
        &[("payload", bad_width.to_string())],
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"]["code"], 100);
    let bad_key = json!({ "schema": ["EMAIL", "SHOE_SIZE"], "data": [[good, "42"]] });
    let (_, body) = raw_post(
        &app,
        &format!("{ca}/users"),
        &[("payload", bad_key.to_string())],
    )
    .await;
    assert_eq!(body["error"]["code"], 100);
    assert_eq!(body["error"]["type"], "OAuthException");
    assert!(body["error"]["fbtrace_id"].is_string());

    // One data source per audience: a single-key upload after multi-key ones is refused.
    let single = json!({ "schema": "EMAIL_SHA256", "data": [good] });
    let (_, body) = raw_post(
        &app,
        &format!("{ca}/users"),
        &[("payload", single.to_string())],
    )
    .await;
    assert_eq!(body["error"]["code"], 2650, "{body}");
    app.stop().await;
}

#[tokio::test]
async fn more_than_10000_rows_in_one_request_are_refused_and_the_client_splits() {
    let app = spawn_app().await;
    let fb = client(&app);
    let ca = new_audience(&fb, US).await;
    let h = sha256_hex("x@example.com");
    let data: Vec<[&str; 1]> = (0..10_001).map(|_| [h.as_str()]).collect();
    let payload = json!({ "schema": ["EMAIL"], "data": data });
    let (status, body) = raw_post(
        &app,
        &format!("{ca}/users"),
        &[("payload", payload.to_string())],
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"]["code"], 100);
    assert!(body["error"]["message"].as_str().unwrap().contains("10000"));

    let batch = hash_rows(&[MatchKey::Email, MatchKey::Phone], &emails(0..10_001));
    let summary = fb
        .upload_users(UploadOp::Add, &ca, &batch, 77)
        .await
        .unwrap();
    assert_eq!(summary.batches, 2);
    assert_eq!(summary.num_received, 10_001);
    app.stop().await;
}

#[tokio::test]
async fn session_and_replace_rules_answer_2650() {
    let app = spawn_app().await;
    let fb = client(&app);
    let ca = new_audience(&fb, US).await;
    let h = sha256_hex("a@example.com");
    let payload = json!({ "schema": ["EMAIL"], "data": [[h]] }).to_string();
    let session = |id: i64, seq: i64, last: bool| {
        json!({ "session_id": id, "batch_seq": seq, "last_batch_flag": last }).to_string()
    };

    // A replace session must start at batch_seq 1.
    let (_, body) = raw_post(
        &app,
        &format!("{ca}/usersreplace"),
        &[
            ("payload", payload.clone()),
            ("session", session(9, 2, false)),
        ],
    )
    .await;
    assert_eq!(
        (
            body["error"]["code"].clone(),
            body["error"]["error_subcode"].clone()
        ),
        (json!(2650), json!(1870147))
    );

    // While a replace runs, /users edits are refused (and the client may retry later).
    let (status, _) = raw_post(
        &app,
        &format!("{ca}/usersreplace"),
        &[
            ("payload", payload.clone()),
            ("session", session(9, 1, false)),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let batch = hash_rows(&[MatchKey::Email], &[["b@example.com"]]);
    let err = fb
        .upload_users(UploadOp::Add, &ca, &batch, 10)
        .await
        .unwrap_err();
    assert_eq!(
        (err.code, err.subcode, err.kind),
        (2650, Some(1870145), ErrorKind::Retryable)
    );

    // 90 minutes after its first batch the session is over; what arrived replaced the audience.
    app.http
        .post(app.url("/sandbox/debug/clock"))
        .json(&json!({ "advance_seconds": 91 * 60 }))
        .send()
        .await
        .unwrap();
    let (_, body) = raw_post(
        &app,
        &format!("{ca}/usersreplace"),
        &[
            ("payload", payload.clone()),
            ("session", session(9, 2, true)),
        ],
    )
    .await;
    assert_eq!(body["error"]["error_subcode"], 1870158, "{body}");
    let err = fb.custom_audience(&ca).await.unwrap();
    assert_eq!(err.operation_status.unwrap().code, 200);
    assert_eq!(stored_emails(&app, &ca).await, BTreeSet::from([h.clone()]));

    // A finished session takes no more batches; out-of-order batches are refused.
    let (_, body) = raw_post(
        &app,
        &format!("{ca}/users"),
        &[
            ("payload", payload.clone()),
            ("session", session(11, 1, true)),
        ],
    )
    .await;
    assert_eq!(body["num_received"], 1);
    let (_, body) = raw_post(
        &app,
        &format!("{ca}/users"),
        &[
            ("payload", payload.clone()),
            ("session", session(11, 2, false)),
        ],
    )
    .await;
    assert_eq!(body["error"]["error_subcode"], 1870159);
    let (_, body) = raw_post(
        &app,
        &format!("{ca}/users"),
        &[
            ("payload", payload.clone()),
            ("session", session(12, 1, false)),
        ],
    )
    .await;
    assert_eq!(body["num_received"], 1);
    let (_, body) = raw_post(
        &app,
        &format!("{ca}/users"),
        &[
            ("payload", payload.clone()),
            ("session", session(12, 3, false)),
        ],
    )
    .await;
    assert_eq!(body["error"]["code"], 100);
    let (_, body) = raw_post(
        &app,
        &format!("{ca}/users"),
        &[("payload", payload), ("session", session(12, 2, true))],
    )
    .await;
    assert_eq!(body["num_received"], 2, "cumulative within the session");
    app.stop().await;
}

#[tokio::test]
async fn attaching_an_audience_keeps_the_rest_of_the_targeting() {
    let app = spawn_app().await;
    let fb = client(&app);
    let ca = new_audience(&fb, US).await;
    let sets = fb.ad_sets(US).await.unwrap();
    let before = fb.ad_set(&sets[0].id).await.unwrap().targeting.unwrap();
    fb.attach_audience(&sets[0].id, &ca).await.unwrap();
    fb.attach_audience(&sets[0].id, &ca).await.unwrap(); // idempotent
    let after = fb.ad_set(&sets[0].id).await.unwrap().targeting.unwrap();
    assert_eq!(after["custom_audiences"], json!([{ "id": ca }]));
    let mut without = after.as_object().unwrap().clone();
    without.remove("custom_audiences");
    assert_eq!(Value::Object(without), before);

    // An audience of another ad account cannot be attached.
    let other = new_audience(&fb, IN).await;
    let err = fb.attach_audience(&sets[0].id, &other).await.unwrap_err();
    assert_eq!(
        (err.kind, err.code, err.subcode),
        (ErrorKind::Invalid, 100, Some(1487301))
    );
    app.stop().await;
}

#[tokio::test]
async fn insights_are_daily_per_ad_as_strings_in_the_account_currency() {
    let app = spawn_app().await;
    let fb = client(&app);
    let ca = new_audience(&fb, IN).await;
    let batch = hash_rows(&[MatchKey::Email, MatchKey::Phone], &emails(0..500));
    fb.upload_users(UploadOp::Add, &ca, &batch, 5)
        .await
        .unwrap();
    let set = &fb.ad_sets(IN).await.unwrap()[0];
    fb.attach_audience(&set.id, &ca).await.unwrap();
    let query = InsightsQuery {
        since: "2026-10-01".parse().unwrap(),
        until: "2026-10-03".parse().unwrap(),
    };
    let rows = fb.insights(&set.id, &query).await.unwrap();
    assert_eq!(rows.len(), 2 * 3, "2 ads x 3 days");
    assert_eq!(
        rows,
        fb.insights(&set.id, &query).await.unwrap(),
        "deterministic"
    );
    for row in &rows {
        assert_eq!(row.date_start, row.date_stop);
        assert_eq!(row.adset_id.as_deref(), Some(set.id.as_str()));
        assert!(row.ad_id.is_some());
        assert_eq!(row.account_currency.as_deref(), Some("INR"));
        assert!(row.impressions >= row.reach && row.clicks >= row.inline_link_clicks);
        assert!(row.impressions < 500, "scaled by the 500-person audience");
        assert!(row.spend.contains('.'));
    }
    let raw: Value = app
        .get(&format!(
            "/sandbox/graph/v25.0/{}/insights?access_token=t&level=ad&time_increment=1&fields=impressions,spend&time_range={}",
            set.id,
            r#"{"since":"2026-10-01","until":"2026-10-01"}"#
        ))
        .await
        .json()
        .await
        .unwrap();
    assert!(raw["data"][0]["impressions"].is_string(), "{raw}");
    assert!(raw["data"][0]["spend"].is_string());
    app.stop().await;
}

#[tokio::test]
async fn every_fault_is_parsed_into_the_right_kind() {
    let app = spawn_app().await;
    let fb = client(&app);

    set_faults(
        &app,
        json!({ "rate_limit_after": 2, "regain_access_minutes": 3 }),
    )
    .await;
    fb.ad_accounts().await.unwrap();
    fb.ad_accounts().await.unwrap();
    let err = fb.ad_accounts().await.unwrap_err();
    assert_eq!(
        (err.kind, err.code, err.subcode),
        (ErrorKind::Retryable, 80003, Some(2446079))
    );
    assert_eq!(err.retry_after, Some(Duration::from_secs(180)));
    assert!(err.advice().contains("limit"));
    // The client now holds off by itself instead of extending the block.
    let again = fb.ad_accounts().await.unwrap_err();
    assert_eq!(again.code, 80003);
    assert!(again.retry_after.unwrap() > Duration::from_secs(170));
    let faults: Value = app.get("/sandbox/debug/faults").await.json().await.unwrap();
    assert_eq!(faults["rate_limit_after"], 2);

    let fb = client(&app);
    set_faults(
        &app,
        json!({ "rate_limit_after": 0, "rate_limit_code": 17 }),
    )
    .await;
    let err = fb.campaigns(US).await.unwrap_err();
    assert_eq!((err.kind, err.code), (ErrorKind::Retryable, 17));
    assert_eq!(err.retry_after, Some(Duration::from_secs(60)));

    let fb = client(&app);
    set_faults(&app, json!({ "transient_next": 1 })).await;
    let err = fb.ad_accounts().await.unwrap_err();
    assert_eq!(
        (err.kind, err.code, err.status),
        (ErrorKind::Retryable, 2, Some(500))
    );

    set_faults(&app, json!({ "html_500_next": 1 })).await;
    let err = fb.ad_accounts().await.unwrap_err();
    assert_eq!(
        (err.kind, err.code, err.status),
        (ErrorKind::Retryable, 0, Some(500))
    );

    set_faults(&app, json!({ "expired_token": true })).await;
    let err = fb.ad_accounts().await.unwrap_err();
    assert_eq!(
        (err.kind, err.code, err.subcode),
        (ErrorKind::NeedsReauth, 190, Some(463))
    );
    assert!(
        err.message.contains("Session has expired"),
        "Facebook's message is kept"
    );
    assert!(err.advice().contains("reconnect"));

    set_faults(&app, json!({ "missing_permission": true })).await;
    let sets = fb.ad_sets(US).await.unwrap();
    let err = fb.attach_audience(&sets[0].id, "1").await.unwrap_err();
    assert_eq!((err.kind, err.code), (ErrorKind::Permission, 294));

    set_faults(&app, json!({})).await;
    let err = fb.custom_audience("999").await.unwrap_err();
    assert_eq!((err.kind, err.code), (ErrorKind::Invalid, 100));

    let anonymous: Value = app
        .get(&format!("/sandbox/graph/v25.0/{US}/campaigns"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(anonymous["error"]["code"], 104);
    app.stop().await;
}

#[tokio::test]
async fn transient_errors_are_retried_and_the_call_succeeds() {
    let app = spawn_app().await;
    let fb =
        GraphClient::new(app.url("/sandbox/graph/v25.0"), "t", None).with_policy(RetryPolicy {
            max_retries: 2,
            ..quick()
        });
    set_faults(&app, json!({ "transient_next": 1, "html_500_next": 1 })).await;
    assert_eq!(fb.ad_accounts().await.unwrap().len(), 2);
    app.stop().await;
}

#[tokio::test]
async fn usage_headers_are_sent_and_bearer_tokens_work() {
    let app = spawn_app().await;
    let res = app
        .http
        .get(app.url("/sandbox/graph/v25.0/me/adaccounts"))
        .bearer_auth("header-token")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    for name in [
        "x-app-usage",
        "x-business-use-case-usage",
        "x-ad-account-usage",
    ] {
        let v: Value = serde_json::from_str(res.headers()[name].to_str().unwrap()).unwrap();
        assert!(v.is_object(), "{name}");
    }
    app.stop().await;
}

#[tokio::test]
async fn appsecret_proof_is_required_when_the_app_secret_is_set() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("t.db").display());
    let config = server::config::Config::from_lookup(|k| match k {
        "BIND" => Some("127.0.0.1:0".into()),
        "DATABASE_URL" => Some(db.clone()),
        "FACEBOOK_APP_SECRET" => Some("shh".into()),
        _ => None,
    })
    .unwrap();
    let running = server::start(config).await.unwrap();
    let base = format!("http://{}/sandbox/graph/v25.0", running.addr);
    let signed = GraphClient::new(&base, "tok", Some("shh")).with_policy(quick());
    assert_eq!(signed.ad_accounts().await.unwrap().len(), 2);
    let unsigned = GraphClient::new(&base, "tok", None).with_policy(quick());
    let err = unsigned.ad_accounts().await.unwrap_err();
    assert_eq!((err.kind, err.code), (ErrorKind::Invalid, 100));
    let wrong = GraphClient::new(&base, "tok", Some("other")).with_policy(quick());
    assert!(
        wrong
            .ad_accounts()
            .await
            .unwrap_err()
            .message
            .contains("appsecret_proof")
    );
    running.shutdown().await.unwrap();
}

#[tokio::test]
async fn api_pass_through_lists_accounts_campaigns_and_ad_sets() {
    let app = spawn_app().await;
    let accounts: Value = app
        .get("/api/facebook/ad-accounts")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(accounts.as_array().unwrap().len(), 2, "{accounts}");
    let campaigns: Value = app
        .get(&format!("/api/facebook/ad-accounts/{US}/campaigns"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(campaigns.as_array().unwrap().len(), 3);
    let id = campaigns[0]["id"].as_str().unwrap();
    let sets: Value = app
        .get(&format!("/api/facebook/campaigns/{id}/adsets"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(sets.as_array().unwrap().len(), 2);
    assert!(sets[0]["targeting"]["geo_locations"].is_object());

    let res = app
        .get("/api/facebook/ad-accounts/nonsense/campaigns")
        .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let res = app.get("/api/facebook/campaigns/999/adsets").await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let body = crate::helpers::error_body(res).await;
    assert!(
        body.error.message.contains("does not exist"),
        "{}",
        body.error.message
    );

    let doc: Value = app.get("/api/openapi.json").await.json().await.unwrap();
    assert!(doc["paths"]["/facebook/ad-accounts"].is_object());
    app.stop().await;
}

#[tokio::test]
async fn http_delete_on_users_removes_and_other_versions_are_refused() {
    let app = spawn_app().await;
    let fb = client(&app);
    let ca = new_audience(&fb, US).await;
    let batch = hash_rows(&[MatchKey::Email, MatchKey::Phone], &emails(0..3));
    fb.upload_users(UploadOp::Add, &ca, &batch, 1)
        .await
        .unwrap();
    let payload = json!({ "schema": ["EMAIL"], "data": [[sha256_hex("user1@example.com")]] });
    let res = app
        .http
        .delete(app.url(&format!("/sandbox/graph/v25.0/{ca}/users")))
        .bearer_auth("t")
        .form(&[("payload", payload.to_string())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let mut expected = hashed_emails(0..3);
    expected.remove(&sha256_hex("user1@example.com"));
    assert_eq!(stored_emails(&app, &ca).await, expected);

    let old: Value = app
        .get("/sandbox/graph/v19.0/me/adaccounts?access_token=t")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(old["error"]["code"], 2635);
    app.stop().await;
}

#[tokio::test]
async fn live_mode_turns_the_sandbox_off() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("t.db").display());
    let config = server::config::Config::from_lookup(|k| match k {
        "BIND" => Some("127.0.0.1:0".into()),
        "DATABASE_URL" => Some(db.clone()),
        "FACEBOOK_MODE" => Some("live".into()),
        _ => None,
    })
    .unwrap();
    let running = server::start(config).await.unwrap();
    let res = reqwest::get(format!("http://{}/sandbox/debug/faults", running.addr))
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let text = res.text().await.unwrap();
    assert!(!text.contains("transient_next"), "{text}");
    assert!(text.contains("sandbox is off"), "{text}");
    running.shutdown().await.unwrap();
}

#[tokio::test]
async fn the_client_does_not_repeat_a_write_whose_answer_was_lost() {
    // Facebook applies the request and the connection drops before its answer: repeating it
    // would create a second audience, or send a batch Facebook already has.
    let app = spawn_app().await;
    let fb =
        GraphClient::new(app.url("/sandbox/graph/v25.0"), "t", None).with_policy(RetryPolicy {
            max_retries: 2,
            ..quick()
        });
    let before = fb.custom_audiences(US).await.unwrap().len();
    set_faults(
        &app,
        json!({ "drop_reply": { "kind": "create_audience", "nth": 1 } }),
    )
    .await;
    let err = fb
        .create_custom_audience(
            US,
            &NewCustomAudience {
                name: "Lost answer".into(),
                description: "from tests".into(),
                customer_file_source: "USER_PROVIDED_ONLY".into(),
            },
        )
        .await
        .unwrap_err();
    assert!(err.maybe_applied(), "{err}");
    assert_eq!((err.kind, err.status), (ErrorKind::Retryable, None));
    assert_eq!(
        fb.custom_audiences(US).await.unwrap().len(),
        before + 1,
        "created once, not once per attempt"
    );

    let ca = new_audience(&fb, US).await;
    set_faults(
        &app,
        json!({ "drop_reply": { "kind": "users_batch", "nth": 1 } }),
    )
    .await;
    let batch = hash_rows(&[MatchKey::Email], &[[" a@example.com".to_owned()]]);
    let err = fb
        .upload_users(UploadOp::Add, &ca, &batch, 99)
        .await
        .unwrap_err();
    assert!(err.maybe_applied(), "{err}");
    let v: Value = app
        .get(&format!("/sandbox/debug/audiences/{ca}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v["upload_requests"], 1, "{v}");
    assert_eq!(v["count"], 1, "Facebook applied it: {v}");

    // Reads are still asked again after a server error.
    set_faults(&app, json!({ "html_500_next": 1 })).await;
    assert_eq!(fb.ad_accounts().await.unwrap().len(), 2);
    app.stop().await;
}
