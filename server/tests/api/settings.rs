//! Settings → Facebook: the connection admins save, sealed at rest, never shown again, and used
//! by every Facebook consumer in every process on the database.

use reqwest::StatusCode;
use serde_json::{Value, json};
use shared::account::Role;

use crate::helpers::{Options, TestApp, spawn_app, spawn_app_with};

const TOKEN: &str = "EAABstoredToken0123456789wxyz";
const BAD_TOKEN: &str = "invalid-token-0123456789abcd";

async fn put(app: &TestApp, client: &reqwest::Client, body: Value) -> reqwest::Response {
    client
        .put(app.url("/api/settings/facebook"))
        .json(&body)
        .send()
        .await
        .expect("request")
}

async fn stored_row(app: &TestApp) -> String {
    crate::helpers::with_pool!(&app.server.state.db, pool => {
        sqlx::query_scalar("select value from settings where key = 'facebook'")
            .fetch_one(pool)
            .await
            .expect("a stored row")
    })
}

#[tokio::test]
async fn a_saved_token_is_never_sent_back_nor_stored_in_plain_text() {
    let app = spawn_app().await;
    let before: Value = app
        .get("/api/settings/facebook")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(before["mode"], "sandbox");
    assert_eq!(before["source"], "environment");
    assert_eq!(before["access_token"]["set"], false);
    assert!(!before["ad_accounts"].as_array().unwrap().is_empty());

    let res = put(
        &app,
        &app.http,
        json!({"mode": "sandbox", "access_token": TOKEN}),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    let saved = res.text().await.unwrap();
    assert!(!saved.contains(TOKEN), "{saved}");
    let saved: Value = serde_json::from_str(&saved).unwrap();
    assert_eq!(saved["access_token"]["set"], true);
    assert_eq!(saved["access_token"]["ends_with"], "wxyz");
    assert_eq!(saved["source"], "stored");

    let shown = app
        .get("/api/settings/facebook")
        .await
        .text()
        .await
        .unwrap();
    assert!(!shown.contains(TOKEN), "{shown}");
    assert!(shown.contains("wxyz"));

    let row = stored_row(&app).await;
    assert!(!row.contains(TOKEN) && !row.contains("stored"), "{row}");
    let audit = app.get("/api/audit").await.text().await.unwrap();
    assert!(audit.contains("Facebook connection"), "{audit}");
    assert!(!audit.contains(TOKEN), "{audit}");
    app.stop().await;
}

#[tokio::test]
async fn the_pickers_and_the_connection_test_use_the_stored_token() {
    let app = spawn_app().await;
    assert_eq!(
        app.get("/api/facebook/ad-accounts").await.status(),
        StatusCode::OK
    );

    let res = put(
        &app,
        &app.http,
        json!({"mode": "sandbox", "access_token": BAD_TOKEN}),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    let res = app.get("/api/facebook/ad-accounts").await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let test: Value = app
        .post("/api/settings/facebook/test", &json!({}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(test["ok"], false);
    assert!(
        test["message"].as_str().unwrap().contains("access token"),
        "{test}"
    );

    put(
        &app,
        &app.http,
        json!({"mode": "sandbox", "access_token": TOKEN}),
    )
    .await;
    assert_eq!(
        app.get("/api/facebook/ad-accounts").await.status(),
        StatusCode::OK
    );
    let test: Value = app
        .post("/api/settings/facebook/test", &json!({}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(test["ok"], true, "{test}");
    app.stop().await;
}

#[tokio::test]
async fn another_process_on_the_database_switches_too_and_reuses_the_key_file() {
    let first = spawn_app().await;
    let url = first.server.state.config.database_url.clone();
    // On SQLite the key is a file generated next to the database, which the second process
    // finds; on PostgreSQL both are given the same `SECRET_KEY`, as the README asks.
    let key_file = (!crate::helpers::is_postgres(&url)).then(|| {
        url.trim_start_matches("sqlite://")
            .rsplit_once('/')
            .map(|(dir, _)| format!("{dir}/secret.key"))
            .unwrap()
    });
    let key = key_file
        .as_ref()
        .map(|f| std::fs::read_to_string(f).expect("a key file was generated"));
    #[cfg(unix)]
    if let Some(key_file) = &key_file {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(key_file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    let second = spawn_app_with(Options {
        database_url: Some(url),
        no_admin: true,
        ..Options::default()
    })
    .await;
    if let Some(key_file) = &key_file {
        assert_eq!(std::fs::read_to_string(key_file).ok(), key);
    }
    let admin = crate::helpers::client(&second.base, Some(&first.admin_token));
    let ad_accounts = |app: &TestApp| {
        let url = app.url("/api/facebook/ad-accounts");
        let admin = admin.clone();
        async move { admin.get(url).send().await.unwrap().status() }
    };
    assert_eq!(ad_accounts(&second).await, StatusCode::OK);

    put(
        &first,
        &first.http,
        json!({"mode": "sandbox", "access_token": BAD_TOKEN}),
    )
    .await;
    assert_eq!(ad_accounts(&second).await, StatusCode::BAD_REQUEST);
    let shown: Value = admin
        .get(second.url("/api/settings/facebook"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(shown["access_token"]["ends_with"], "abcd", "{shown}");
    second.stop().await;
    first.stop().await;
}

#[tokio::test]
async fn only_admins_change_the_connection() {
    let app = spawn_app().await;
    let marketer = app.client_as(Role::Marketer).await;
    let res = put(
        &app,
        &marketer,
        json!({"mode": "sandbox", "access_token": TOKEN}),
    )
    .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res = marketer
        .post(app.url("/api/settings/facebook/test"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    // Everyone may see the status, which carries no secret.
    let viewer = app.client_as(Role::Viewer).await;
    let res = viewer
        .get(app.url("/api/settings/facebook"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    app.stop().await;
}

#[tokio::test]
async fn validation_errors_name_the_field() {
    let app = spawn_app().await;
    for (body, field) in [
        (json!({"mode": "live", "access_token": ""}), "access_token"),
        (json!({"mode": "live"}), "access_token"),
        (
            json!({"mode": "live", "access_token": "too short"}),
            "access_token",
        ),
        (
            json!({"mode": "sandbox", "app_secret": "not-32-hex-characters"}),
            "app_secret",
        ),
    ] {
        let res = put(&app, &app.http, body.clone()).await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        let err: Value = res.json().await.unwrap();
        assert_eq!(err["error"]["fields"][0]["path"], field, "{body}: {err}");
    }
    app.stop().await;
}

async fn set_faults(app: &TestApp, faults: Value) {
    let res = app.post("/sandbox/debug/faults", &faults).await;
    assert_eq!(res.status(), StatusCode::OK);
}

#[tokio::test]
async fn the_settings_show_the_tokens_health_from_facebook() {
    let app = spawn_app().await;
    let token = |v: &Value| v["token"].clone();
    let healthy: Value = app
        .get("/api/settings/facebook")
        .await
        .json()
        .await
        .unwrap();
    let t = token(&healthy);
    assert_eq!(t["valid"], true, "{healthy}");
    assert_eq!(t["expires_soon"], false, "{t}");
    assert_eq!(t["missing_scopes"], json!([]), "{t}");
    let expires: jiff::Timestamp = t["expires_at"].as_str().unwrap().parse().unwrap();
    assert!(expires > jiff::Timestamp::now() + jiff::SignedDuration::from_hours(50 * 24));

    // Facebook's debug_token says the token expires in 3 days and lacks ads_management.
    set_faults(
        &app,
        json!({"token_expires_in_days": 3, "token_scopes": ["ads_read"]}),
    )
    .await;
    let t = token(
        &app.get("/api/settings/facebook")
            .await
            .json()
            .await
            .unwrap(),
    );
    assert_eq!(t["valid"], true, "{t}");
    assert_eq!(t["expires_soon"], true, "{t}");
    assert_eq!(t["missing_scopes"], json!(["ads_management"]), "{t}");

    set_faults(&app, json!({"expired_token": true})).await;
    let t = token(
        &app.get("/api/settings/facebook")
            .await
            .json()
            .await
            .unwrap(),
    );
    assert_eq!(t["valid"], false, "{t}");
    assert!(t["problem"].as_str().unwrap().contains("expired"), "{t}");
    app.stop().await;
}

#[tokio::test]
async fn the_sandbox_is_off_while_live_and_answers_once_switched_to_it_at_run_time() {
    let app = spawn_app_with(Options {
        env: vec![
            ("FACEBOOK_MODE", "live".into()),
            ("FACEBOOK_ACCESS_TOKEN", TOKEN.into()),
        ],
        ..Options::default()
    })
    .await;
    let res = app
        .get("/sandbox/graph/v25.0/me/adaccounts?access_token=t")
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let body: Value = res.json().await.unwrap();
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("sandbox is off"),
        "{body}"
    );
    assert_eq!(
        app.post("/sandbox/debug/faults", &json!({})).await.status(),
        StatusCode::NOT_FOUND
    );

    let res = put(&app, &app.http, json!({"mode": "sandbox"})).await;
    assert_eq!(res.status(), StatusCode::OK);
    let saved: Value = res.json().await.unwrap();
    assert_eq!(saved["problem"], Value::Null, "{saved}");
    assert!(
        !saved["ad_accounts"].as_array().unwrap().is_empty(),
        "{saved}"
    );
    assert_eq!(
        app.get("/api/facebook/ad-accounts").await.status(),
        StatusCode::OK
    );
    app.stop().await;
}
