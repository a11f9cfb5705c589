//! "Connect with Facebook": Facebook Login's code flow end to end over HTTP — our start route,
//! the sandbox's OAuth dialog (Allow, Cancel, an unticked permission), our callback, the
//! sandbox's token endpoint — and what the Settings page then reports.

use reqwest::{StatusCode, header::LOCATION, redirect::Policy};
use serde_json::{Value, json};
use shared::account::Role;

use crate::helpers::{ADMIN_EMAIL, Options, TestApp, spawn_app, spawn_app_with, with_pool};

const DIALOG: &str = "/sandbox/www/v25.0/dialog/oauth";
const SCOPES: [&str; 3] = ["ads_management", "ads_read", "business_management"];

/// A browser signed in with `token`: follows no redirect (each step is checked), sends no
/// `Origin` on navigations, as a browser following a link or a redirect does not.
fn browser(token: &str) -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        reqwest::header::COOKIE,
        format!("{}={token}", server::auth::session::COOKIE)
            .parse()
            .unwrap(),
    );
    reqwest::Client::builder()
        .redirect(Policy::none())
        .default_headers(headers)
        .build()
        .unwrap()
}

/// `POST /api/settings/facebook/connect` → the dialog's address.
async fn start(app: &TestApp, client: &reqwest::Client) -> String {
    let res = client
        .post(app.url("/api/settings/facebook/connect"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.unwrap();
    body["url"].as_str().unwrap().to_owned()
}

fn query_of(url: &str) -> Vec<(String, String)> {
    let q = url.split_once('?').map_or("", |(_, q)| q);
    serde_urlencoded::from_str(q).unwrap()
}

fn param(url: &str, key: &str) -> Option<String> {
    query_of(url)
        .into_iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v)
}

fn location(res: &reqwest::Response) -> String {
    res.headers()
        .get(LOCATION)
        .expect("a redirect")
        .to_str()
        .unwrap()
        .to_owned()
}

/// Opens the dialog at `url` and submits it as the person would: Allow with the ticked
/// permissions and ad accounts (all of them when `None`), or Cancel. Returns where Facebook
/// sends the browser back.
async fn consent(url: &str, allow: bool, grant: &[&str], accounts: Option<&[&str]>) -> String {
    let nav = reqwest::Client::builder()
        .redirect(Policy::none())
        .build()
        .unwrap();
    let page = nav.get(url).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    for s in SCOPES {
        assert!(html.contains(&format!(">{s}</label>")), "{html}");
    }
    assert!(html.contains(">Allow</button>") && html.contains(">Cancel</button>"));
    // The form's hidden fields repeat the dialog's parameters.
    let mut form: Vec<(String, String)> = query_of(url)
        .into_iter()
        .filter(|(k, _)| ["client_id", "redirect_uri", "state", "scope"].contains(&k.as_str()))
        .collect();
    for s in grant {
        form.push(("grant".into(), (*s).into()));
    }
    let all = ["act_100000000000001", "act_100000000000002"];
    for a in accounts.unwrap_or(&all) {
        assert!(html.contains(a), "{a} is offered");
        form.push(("account".into(), (*a).into()));
    }
    form.push((
        "choice".into(),
        if allow { "allow" } else { "cancel" }.into(),
    ));
    let action = url.split_once('?').unwrap().0;
    let res = nav.post(action).form(&form).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::FOUND);
    location(&res)
}

/// Follows Facebook's redirect to our callback; returns where the callback sends the browser.
async fn callback(browser: &reqwest::Client, url: &str) -> String {
    let res = browser.get(url).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER, "{url}");
    location(&res)
}

async fn settings(app: &TestApp) -> Value {
    app.get("/api/settings/facebook")
        .await
        .json()
        .await
        .unwrap()
}

#[tokio::test]
async fn connecting_stores_the_token_with_who_when_the_scopes_and_the_accounts() {
    let app = spawn_app().await;
    let before = settings(&app).await;
    assert_eq!(before["connection"], Value::Null);
    assert_eq!(
        before["app_id"], "900000000000001",
        "the sandbox's demo app"
    );

    let url = start(&app, &app.http).await;
    assert!(url.starts_with(&app.url(DIALOG)), "{url}");
    assert_eq!(param(&url, "client_id").unwrap(), "900000000000001");
    assert_eq!(param(&url, "scope").unwrap(), SCOPES.join(","));
    assert_eq!(param(&url, "response_type").unwrap(), "code");
    let redirect_uri = param(&url, "redirect_uri").unwrap();
    assert_eq!(redirect_uri, app.url("/api/settings/facebook/callback"));
    let state = param(&url, "state").unwrap();
    assert!(state.len() >= 32, "{state}");

    let back = consent(&url, true, &SCOPES, None).await;
    assert!(back.starts_with(&redirect_uri), "{back}");
    assert_eq!(param(&back, "state").unwrap(), state);
    assert!(param(&back, "code").is_some());

    let admin = browser(&app.admin_token);
    assert_eq!(
        callback(&admin, &back).await,
        "/settings?facebook=connected"
    );
    let s = settings(&app).await;
    let c = &s["connection"];
    assert_eq!(c["connected_by"], ADMIN_EMAIL);
    assert_eq!(c["facebook_user"], "Sandbox User (10000000000000001)");
    for scope in SCOPES {
        assert!(
            c["granted_scopes"]
                .as_array()
                .unwrap()
                .contains(&json!(scope)),
            "{c}"
        );
    }
    assert_eq!(c["declined_scopes"], json!([]));
    let names: Vec<&str> = c["ad_accounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Acme Store US", "Acme Store India"]);
    // The long-lived token: about 60 days.
    let expires: jiff::Timestamp = c["expires_at"].as_str().unwrap().parse().unwrap();
    let days = (expires - jiff::Timestamp::now()).get_seconds() / 86_400;
    assert!((59..=60).contains(&days), "{days}");
    assert_eq!(s["reconnect"], Value::Null);
    assert_eq!(s["last_connect"]["outcome"], "connected");
    assert!(
        s["last_connect"]["message"]
            .as_str()
            .unwrap()
            .starts_with("Connected to Facebook as Sandbox User"),
        "{s}"
    );
    assert_eq!(s["access_token"]["set"], true);
    assert_eq!(s["source"], "stored");
    // debug_token describes the new token: valid, every permission.
    assert_eq!(s["token"]["valid"], true);
    assert_eq!(s["token"]["missing_scopes"], json!([]));
    // The new token is what the pickers use now.
    assert_eq!(
        app.get("/api/facebook/ad-accounts").await.status(),
        StatusCode::OK
    );
    let audit = app.get("/api/audit").await.text().await.unwrap();
    assert!(audit.contains("Connect with Facebook"), "{audit}");
    assert!(audit.contains("declined: none"), "{audit}");

    // The same answer again (a replay, or the back button) changes nothing.
    assert_eq!(callback(&admin, &back).await, "/settings?facebook=refused");
    assert_eq!(settings(&app).await["last_connect"], s["last_connect"]);
    app.stop().await;
}

#[tokio::test]
async fn the_state_must_be_this_sessions_unused_and_recent() {
    let app = spawn_app().await;
    let admin = browser(&app.admin_token);

    // Forged or missing: refused, nothing recorded.
    for forged in [
        "/api/settings/facebook/callback?code=AQxyz&state=0123456789abcdef",
        "/api/settings/facebook/callback?code=AQxyz",
    ] {
        assert_eq!(
            callback(&admin, &app.url(forged)).await,
            "/settings?facebook=refused"
        );
    }

    // Another admin's session cannot finish this admin's attempt (login CSRF).
    let url = start(&app, &app.http).await;
    let back = consent(&url, true, &SCOPES, None).await;
    let (_, other_token) = app.session_as(Role::Admin).await;
    assert_eq!(
        callback(&browser(&other_token), &back).await,
        "/settings?facebook=refused"
    );
    // …and the state is spent: not even its own session can use it now.
    assert_eq!(callback(&admin, &back).await, "/settings?facebook=refused");

    // Too old.
    let url = start(&app, &app.http).await;
    let back = consent(&url, true, &SCOPES, None).await;
    with_pool!(&app.server.state.db, pool => {
        sqlx::query("update facebook_login_states set expires_at = '2000-01-01T00:00:00.000000Z'")
            .execute(pool)
            .await
            .unwrap();
    });
    assert_eq!(callback(&admin, &back).await, "/settings?facebook=refused");

    let s = settings(&app).await;
    assert_eq!(s["connection"], Value::Null);
    assert_eq!(s["last_connect"], Value::Null);
    assert_eq!(s["access_token"]["set"], false);

    // Marketers and viewers cannot start, nor finish.
    let marketer = app.client_as(Role::Marketer).await;
    let res = marketer
        .post(app.url("/api/settings/facebook/connect"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    app.stop().await;
}

#[tokio::test]
async fn cancelling_on_the_dialog_changes_nothing_and_says_so() {
    let app = spawn_app().await;
    let url = start(&app, &app.http).await;
    let back = consent(&url, false, &[], Some(&[])).await;
    // Facebook's answer to a cancel.
    assert_eq!(param(&back, "error").unwrap(), "access_denied");
    assert_eq!(param(&back, "error_reason").unwrap(), "user_denied");
    assert_eq!(
        param(&back, "error_description").unwrap(),
        "Permissions error"
    );
    assert_eq!(param(&back, "state"), param(&url, "state"));
    assert_eq!(param(&back, "code"), None);

    let admin = browser(&app.admin_token);
    assert_eq!(
        callback(&admin, &back).await,
        "/settings?facebook=cancelled"
    );
    let s = settings(&app).await;
    assert_eq!(s["connection"], Value::Null);
    assert_eq!(s["access_token"]["set"], false);
    // Not even the environment's connection was copied into a saved one.
    assert_eq!(s["source"], "environment");
    assert_eq!(s["last_connect"]["outcome"], "cancelled");
    assert_eq!(s["last_connect"]["by"], ADMIN_EMAIL);
    assert!(
        s["last_connect"]["message"]
            .as_str()
            .unwrap()
            .contains("You cancelled on Facebook's dialog"),
        "{s}"
    );
    app.stop().await;
}

#[tokio::test]
async fn an_unticked_ads_management_is_reported_in_words_and_asked_again() {
    let app = spawn_app().await;
    let url = start(&app, &app.http).await;
    let back = consent(
        &url,
        true,
        &["ads_read", "business_management"],
        Some(&["act_100000000000002"]),
    )
    .await;
    let admin = browser(&app.admin_token);
    assert_eq!(callback(&admin, &back).await, "/settings?facebook=partial");
    let s = settings(&app).await;
    let c = &s["connection"];
    assert_eq!(c["declined_scopes"], json!(["ads_management"]));
    // Only the ad account the person ticked.
    assert_eq!(c["ad_accounts"].as_array().unwrap().len(), 1, "{c}");
    assert_eq!(c["ad_accounts"][0]["id"], "act_100000000000002");
    let message = s["last_connect"]["message"].as_str().unwrap();
    assert!(
        message.contains(
            "Facebook did not grant ads_management: without ads_management, audiences cannot be created or filled, so campaigns cannot be synced."
        ),
        "{message}"
    );
    assert!(message.contains("allow ads_management"), "{message}");
    assert!(
        s["reconnect"]
            .as_str()
            .unwrap()
            .starts_with("Facebook did not grant ads_management"),
        "{s}"
    );
    // Facebook agrees: the token lacks the permission, and a write is refused with 294.
    assert_eq!(s["token"]["missing_scopes"], json!(["ads_management"]));
    let test: Value = app
        .post("/api/settings/facebook/test", &json!({}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(test["ok"], true, "reading still works: {test}");

    // Reconnecting asks Facebook to show the declined permission again.
    let again = start(&app, &app.http).await;
    assert_eq!(param(&again, "auth_type").unwrap(), "rerequest");
    let back = consent(&again, true, &SCOPES, None).await;
    assert_eq!(
        callback(&admin, &back).await,
        "/settings?facebook=connected"
    );
    let s = settings(&app).await;
    assert_eq!(s["reconnect"], Value::Null);
    assert_eq!(s["token"]["missing_scopes"], json!([]));
    app.stop().await;
}

#[tokio::test]
async fn a_bad_code_surfaces_facebooks_error_in_words() {
    let app = spawn_app().await;
    let url = start(&app, &app.http).await;
    let state = param(&url, "state").unwrap();
    let admin = browser(&app.admin_token);
    let forged = app.url(&format!(
        "/api/settings/facebook/callback?code=AQnot-a-real-code&state={state}"
    ));
    assert_eq!(callback(&admin, &forged).await, "/settings?facebook=failed");
    let s = settings(&app).await;
    let message = s["last_connect"]["message"].as_str().unwrap();
    assert!(
        message.contains("Facebook refused the sign-in: Invalid verification code format."),
        "{message}"
    );
    assert!(
        message.contains("Click \"Connect with Facebook\" again"),
        "{message}"
    );
    assert_eq!(s["connection"], Value::Null);
    app.stop().await;
}

#[tokio::test]
async fn a_wrong_app_secret_surfaces_facebooks_error_in_words() {
    // `a`'s sandbox plays Facebook; `b` uses it with an app secret that is not the app's.
    let a = spawn_app().await;
    let b = spawn_app_with(Options {
        graph_url: Some(a.url("/sandbox/graph/v25.0")),
        env: vec![(
            "FACEBOOK_APP_SECRET",
            "00000000000000000000000000000000".to_owned(),
        )],
        ..Options::default()
    })
    .await;
    let url = start(&b, &b.http).await;
    assert!(
        url.starts_with(&a.url(DIALOG)),
        "the dialog of b's Facebook: {url}"
    );
    let back = consent(&url, true, &SCOPES, None).await;
    assert!(back.starts_with(&b.url("/api/settings/facebook/callback")));
    assert_eq!(
        callback(&browser(&b.admin_token), &back).await,
        "/settings?facebook=failed"
    );
    let s = settings(&b).await;
    let message = s["last_connect"]["message"].as_str().unwrap();
    assert!(
        message.contains("Error validating client secret.")
            && message.contains("Check the app secret"),
        "{message}"
    );
    assert_eq!(s["connection"], Value::Null);
    b.stop().await;
    a.stop().await;
}

#[tokio::test]
async fn the_sandbox_token_endpoint_answers_as_facebook_does() {
    let app = spawn_app().await;
    let url = start(&app, &app.http).await;
    let back = consent(&url, true, &["ads_read"], None).await;
    let code = param(&back, "code").unwrap();
    let redirect_uri = param(&url, "redirect_uri").unwrap();
    let http = reqwest::Client::new();
    let token_url = app.url("/sandbox/graph/v25.0/oauth/access_token");
    let call = |params: Vec<(&'static str, String)>| {
        let http = http.clone();
        let token_url = token_url.clone();
        async move {
            let res = http.get(&token_url).query(&params).send().await.unwrap();
            (res.status(), res.json::<Value>().await.unwrap())
        }
    };
    // The dialog refuses a misconfigured app with Facebook's own pages.
    let page = |q: Vec<(&'static str, String)>| {
        let http = http.clone();
        let dialog = app.url(DIALOG);
        async move {
            http.get(&dialog)
                .query(&q)
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap()
        }
    };
    let html = page(vec![
        ("client_id", "1234567".into()),
        ("redirect_uri", redirect_uri.clone()),
    ])
    .await;
    assert!(html.contains("Invalid App ID"), "{html}");
    let html = page(vec![
        ("client_id", "900000000000001".into()),
        ("redirect_uri", "https://evil.example/steal".into()),
    ])
    .await;
    assert!(html.contains("URL Blocked"), "{html}");

    let secret = server::settings::SANDBOX_APP_SECRET.to_owned();
    let id = || ("client_id", "900000000000001".to_owned());

    let (status, body) = call(vec![
        id(),
        ("redirect_uri", redirect_uri.clone()),
        ("client_secret", "0".repeat(32)),
        ("code", code.clone()),
    ])
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"]["message"], "Error validating client secret.");
    assert_eq!(body["error"]["type"], "OAuthException");
    let (_, body) = call(vec![
        ("client_id", "123456789".to_owned()),
        ("redirect_uri", redirect_uri.clone()),
        ("client_secret", secret.clone()),
        ("code", code.clone()),
    ])
    .await;
    assert_eq!(body["error"]["code"], 101);
    // The redirect_uri must be byte-identical to the dialog's.
    let (_, body) = call(vec![
        id(),
        ("redirect_uri", format!("{redirect_uri}/")),
        ("client_secret", secret.clone()),
        ("code", code.clone()),
    ])
    .await;
    assert_eq!(body["error"]["error_subcode"], 36008, "{body}");
    let (status, body) = call(vec![
        id(),
        ("redirect_uri", redirect_uri.clone()),
        ("client_secret", secret.clone()),
        ("code", code.clone()),
    ])
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["token_type"], "bearer");
    assert_eq!(body["expires_in"], 7199);
    let short = body["access_token"].as_str().unwrap().to_owned();
    // A code is single use.
    let (_, body) = call(vec![
        id(),
        ("redirect_uri", redirect_uri.clone()),
        ("client_secret", secret.clone()),
        ("code", code.clone()),
    ])
    .await;
    assert_eq!(body["error"]["code"], 100);
    assert_eq!(body["error"]["error_subcode"], 36009);
    assert_eq!(
        body["error"]["message"],
        "This authorization code has been used."
    );

    let (status, body) = call(vec![
        ("grant_type", "fb_exchange_token".to_owned()),
        id(),
        ("client_secret", secret.clone()),
        ("fb_exchange_token", short.clone()),
    ])
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["expires_in"], 5_183_944);
    let long = body["access_token"].as_str().unwrap().to_owned();
    assert_ne!(long, short);

    let perms: Value = http
        .get(app.url("/sandbox/graph/v25.0/me/permissions"))
        .query(&[("access_token", long.as_str())])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let status_of = |p: &str| {
        perms["data"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["permission"] == p)
            .map(|e| e["status"].as_str().unwrap().to_owned())
    };
    assert_eq!(status_of("ads_read").as_deref(), Some("granted"));
    assert_eq!(status_of("ads_management").as_deref(), Some("declined"));

    // A token without ads_management cannot write.
    let res = http
        .post(app.url("/sandbox/graph/v25.0/act_100000000000001/customaudiences"))
        .form(&[
            ("access_token", long.as_str()),
            ("name", "x"),
            ("subtype", "CUSTOM"),
            ("customer_file_source", "USER_PROVIDED_ONLY"),
        ])
        .send()
        .await
        .unwrap();
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], 294, "{body}");
    app.stop().await;
}

#[tokio::test]
async fn live_mode_needs_an_app_id_and_a_pasted_token_replaces_the_connection() {
    let app = spawn_app().await;
    let url = start(&app, &app.http).await;
    let back = consent(&url, true, &SCOPES, None).await;
    callback(&browser(&app.admin_token), &back).await;
    assert_ne!(settings(&app).await["connection"], Value::Null);

    // A system user's token pasted on the form replaces the Facebook Login one.
    let res = app
        .http
        .put(app.url("/api/settings/facebook"))
        .json(&json!({"mode": "sandbox", "access_token": "EAABsystemUserToken0123456789"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let s: Value = res.json().await.unwrap();
    assert_eq!(s["connection"], Value::Null);

    // Live mode: no demo app; Facebook Login needs the app's id and secret.
    let res = app
        .http
        .put(app.url("/api/settings/facebook"))
        .json(&json!({"mode": "live", "app_id": "not-an-id"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.text().await.unwrap().contains("app_id"));
    let res = app
        .http
        .put(app.url("/api/settings/facebook"))
        .json(&json!({"mode": "live"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let s: Value = res.json().await.unwrap();
    assert!(
        s["login_problem"]
            .as_str()
            .unwrap()
            .contains("FACEBOOK_APP_ID"),
        "{s}"
    );
    let res = app
        .http
        .post(app.url("/api/settings/facebook/connect"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let res = app
        .http
        .put(app.url("/api/settings/facebook"))
        .json(&json!({
            "mode": "live",
            "app_id": "1234567890123",
            "app_secret": "0123456789abcdef0123456789abcdef"
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let shown = res.text().await.unwrap();
    assert!(
        !shown.contains("0123456789abcdef0123456789abcdef"),
        "the secret stays secret"
    );
    // Live: the real dialog on www.facebook.com, with our callback as redirect_uri.
    let url = start(&app, &app.http).await;
    assert!(
        url.starts_with("https://www.facebook.com/v25.0/dialog/oauth?client_id=1234567890123&"),
        "{url}"
    );
    app.stop().await;
}
