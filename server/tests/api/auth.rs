//! Accounts and access: sign-in, sessions, roles on every route, CSRF, throttling, API keys,
//! first-run setup, the audit log, and secrets that must never leak.

use std::sync::{Arc, Mutex, OnceLock};

use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};
use server::auth::policy::{Access, POLICY};
use shared::{
    account::{AuditEntry, CreatedApiKey, NewUser, Role, User},
    error::ErrorCode,
};

use crate::helpers::{
    ADMIN_EMAIL, ADMIN_PASSWORD, Options, TestApp, UPLOAD_KEY, client, error_body, spawn_app,
    spawn_app_with, with_pool,
};

/// Every policy line with a concrete URL (`{id}` → 1).
fn routes(filter: impl Fn(&Method, Access) -> bool) -> Vec<(Method, String)> {
    let all: Vec<_> = POLICY
        .iter()
        .filter(|(m, _, a)| filter(m, *a))
        .map(|(m, p, _)| (m.clone(), format!("/api{}", p.replace("{id}", "1"))))
        .collect();
    assert!(!all.is_empty());
    all
}

async fn call(http: &Client, app: &TestApp, method: &Method, path: &str) -> reqwest::Response {
    let mut req = http.request(method.clone(), app.url(path));
    if method != Method::GET {
        req = req.json(&json!({}));
    }
    req.send().await.unwrap()
}

async fn login(app: &TestApp, http: &Client, email: &str, password: &str) -> reqwest::Response {
    http.post(app.url("/api/login"))
        .json(&json!({"email": email, "password": password}))
        .send()
        .await
        .unwrap()
}

/// The session token of a `Set-Cookie` answer.
fn session_token(res: &reqwest::Response) -> String {
    let cookie = res.headers()["set-cookie"].to_str().unwrap();
    let value = cookie.strip_prefix("fba_session=").expect(cookie);
    value.split(';').next().unwrap().to_owned()
}

#[tokio::test]
async fn every_protected_route_answers_401_without_a_session() {
    let app = spawn_app().await;
    let anonymous = app.anonymous();
    let protected = routes(|_, a| matches!(a, Access::Signed(_)));
    assert!(protected.iter().any(|(_, p)| p == "/api/campaigns"));
    for (method, path) in &protected {
        let res = call(&anonymous, &app, method, path).await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{method} {path}");
        assert_eq!(error_body(res).await.error.code, ErrorCode::Unauthorized);
    }
    // A cookie that names no session is no better.
    let forged = client(&app.base, Some("00ff00ff"));
    for (method, path) in &protected {
        let res = call(&forged, &app, method, path).await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{method} {path}");
    }
    // The public ones stay open.
    for path in ["/api/health", "/api/openapi.json", "/api/setup"] {
        assert_eq!(
            anonymous.get(app.url(path)).send().await.unwrap().status(),
            200
        );
    }
    app.stop().await;
}

#[tokio::test]
async fn a_viewer_reads_but_gets_403_on_every_change() {
    let app = spawn_app().await;
    let created = app
        .post("/api/campaigns", &json!({"name": "Read me"}))
        .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let viewer = app.client_as(Role::Viewer).await;
    let list: Vec<Value> = viewer
        .get(app.url("/api/campaigns"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list.len(), 1);
    let changes =
        routes(|m, a| matches!(a, Access::Signed(r) if r > Role::Viewer) && *m != Method::GET);
    assert!(
        changes
            .iter()
            .any(|(m, p)| m == Method::DELETE && p == "/api/campaigns/1")
    );
    for (method, path) in &changes {
        let res = call(&viewer, &app, method, path).await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{method} {path}");
        assert_eq!(error_body(res).await.error.code, ErrorCode::Forbidden);
    }
    // Nothing changed.
    let res = app.get("/api/campaigns/1").await;
    assert_eq!(res.json::<Value>().await.unwrap()["version"], 1);
    app.stop().await;
}

#[tokio::test]
async fn a_marketer_edits_campaigns_but_gets_403_on_admin_routes() {
    let app = spawn_app().await;
    let marketer = app.client_as(Role::Marketer).await;
    let res = marketer
        .post(app.url("/api/campaigns"))
        .json(&json!({"name": "Mine"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let admin_only = routes(|_, a| a == Access::Signed(Role::Admin));
    for path in ["/api/users", "/api/api-keys", "/api/audit"] {
        assert!(admin_only.iter().any(|(_, p)| p == path), "{path}");
    }
    for (method, path) in &admin_only {
        let res = call(&marketer, &app, method, path).await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{method} {path}");
    }
    app.stop().await;
}

#[tokio::test]
async fn cross_site_writes_are_refused_and_same_site_ones_accepted() {
    let app = spawn_app().await;
    let cookie = format!("fba_session={}", app.admin_token);
    let plain = Client::new();
    let attempt = |origin: Option<(&'static str, String)>| {
        let mut req = plain
            .post(app.url("/api/campaigns"))
            .header("cookie", &cookie)
            .json(&json!({"name": "Forged"}));
        if let Some((name, value)) = origin {
            req = req.header(name, value);
        }
        req.send()
    };
    for origin in [
        Some(("origin", "https://evil.example".to_owned())),
        Some(("origin", "null".to_owned())),
        Some(("referer", "https://evil.example/page".to_owned())),
        None,
    ] {
        let res = attempt(origin.clone()).await.unwrap();
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{origin:?}");
        assert!(error_body(res).await.error.message.contains("Origin"));
    }
    let list: Vec<Value> = app.get("/api/campaigns").await.json().await.unwrap();
    assert!(list.is_empty(), "a refused request changed nothing");
    // The app's own pages: Origin, or a Referer from this site.
    let res = attempt(Some(("referer", format!("{}/campaigns", app.base))))
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    // Servers uploading with an API key are not browsers: no Origin needed.
    let res = plain
        .post(app.url("/api/v1/upload"))
        .header("X-Api-Key", UPLOAD_KEY)
        .json(&json!({"d": []}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    app.stop().await;
}

#[tokio::test]
async fn login_sets_a_session_cookie_and_logout_ends_it() {
    let app = spawn_app().await;
    let anonymous = app.anonymous();
    let res = login(&app, &anonymous, " Admin@Example.com ", ADMIN_PASSWORD).await;
    assert_eq!(res.status(), StatusCode::OK);
    let cookie = res.headers()["set-cookie"].to_str().unwrap().to_owned();
    for part in ["HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(cookie.contains(part), "{cookie}");
    }
    assert!(!cookie.contains("Secure"), "plain HTTP: {cookie}");
    let token = session_token(&res);
    let me: User = res.json().await.unwrap();
    assert_eq!((me.email.as_str(), me.role), (ADMIN_EMAIL, Role::Admin));

    let signed_in = client(&app.base, Some(&token));
    let res = signed_in.get(app.url("/api/me")).send().await.unwrap();
    assert_eq!(res.json::<User>().await.unwrap().email, ADMIN_EMAIL);
    let res = signed_in.post(app.url("/api/logout")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert!(
        res.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .contains("Max-Age=0")
    );
    let res = signed_in.get(app.url("/api/me")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);

    // Behind an HTTPS proxy the cookie is Secure.
    let res = anonymous
        .post(app.url("/api/login"))
        .header("x-forwarded-proto", "https")
        .json(&json!({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}))
        .send()
        .await
        .unwrap();
    assert!(
        res.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .contains("; Secure")
    );

    let res = login(&app, &anonymous, ADMIN_EMAIL, "wrong password!").await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert!(res.headers().get("set-cookie").is_none());
    let res = login(&app, &anonymous, "nobody@example.com", ADMIN_PASSWORD).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let res = login(&app, &anonymous, "", "").await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    app.stop().await;
}

#[tokio::test]
async fn every_role_learns_from_me_whether_facebook_is_the_sandbox() {
    let app = spawn_app().await;
    let viewer = app.client_as(Role::Viewer).await;
    let me: Value = viewer
        .get(app.url("/api/me"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["role"], "viewer");
    assert_eq!(me["facebook_mode"], "sandbox");

    // The admin switches to the live Graph API: the next page the viewer opens says so.
    let res = app
        .http
        .put(app.url("/api/settings/facebook"))
        .json(&json!({"mode": "live", "access_token": "EAABliveToken0123456789wxyz"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let me: Value = viewer
        .get(app.url("/api/me"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["facebook_mode"], "live");
    assert_eq!(
        me["email"].as_str().map(|e| e.starts_with("viewer-")),
        Some(true)
    );
    app.stop().await;
}

#[tokio::test]
async fn failed_logins_are_throttled_per_account() {
    let app = spawn_app().await;
    let anonymous = app.anonymous();
    for _ in 0..server::auth::ratelimit::PER_ACCOUNT {
        let res = login(&app, &anonymous, ADMIN_EMAIL, "guessing-again").await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    }
    // Now even the right password waits.
    let res = login(&app, &anonymous, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    let wait: u64 = res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(wait > 0);
    assert_eq!(error_body(res).await.error.code, ErrorCode::RateLimited);
    // Another account from the same address is not locked by it.
    let (email, _) = app.session_as(Role::Viewer).await;
    let res = login(&app, &anonymous, &email, ADMIN_PASSWORD).await;
    assert_eq!(res.status(), StatusCode::OK);
    app.stop().await;
}

#[tokio::test]
async fn failed_logins_are_throttled_per_address_across_accounts() {
    let app = spawn_app().await;
    let anonymous = app.anonymous();
    let (email, _) = app.session_as(Role::Marketer).await;
    for i in 0..server::auth::ratelimit::PER_ADDRESS {
        let res = login(
            &app,
            &anonymous,
            &format!("guess{i}@example.com"),
            "password123",
        )
        .await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    }
    let res = login(&app, &anonymous, &email, ADMIN_PASSWORD).await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    app.stop().await;
}

#[tokio::test]
async fn sessions_end_when_idle_and_at_their_absolute_expiry() {
    let app = spawn_app().await;
    let (_, idle) = app.session_as(Role::Viewer).await;
    let (_, old) = app.session_as(Role::Viewer).await;
    let url = app.url("/api/me");
    let me = |token: String| {
        let http = client(&app.base, Some(&token));
        let url = url.clone();
        async move { http.get(url).send().await.unwrap().status() }
    };
    assert_eq!(me(idle.clone()).await, StatusCode::OK);
    let hash = |t: &str| server::auth::sha256_hex(t);
    with_pool!(&app.server.state.db, pool => {
        sqlx::query(
            "update sessions set last_seen_at = '2020-01-01T00:00:00.000000Z' where token_hash = $1",
        )
        .bind(hash(&idle))
        .execute(pool)
        .await
        .unwrap();
        sqlx::query(
            "update sessions set expires_at = '2020-01-01T00:00:00.000000Z' where token_hash = $1",
        )
        .bind(hash(&old))
        .execute(pool)
        .await
        .unwrap();
    });
    assert_eq!(me(idle).await, StatusCode::UNAUTHORIZED);
    assert_eq!(me(old).await, StatusCode::UNAUTHORIZED);
    app.stop().await;
}

/// Two processes starting together on an empty database (`ADMIN_EMAIL`), or two first-run
/// setups at once: the first admin is created once, whatever the addresses.
#[tokio::test]
async fn a_first_admin_is_not_created_while_another_one_is_being_created() {
    let app = spawn_app_with(Options {
        no_admin: true,
        ..Options::default()
    })
    .await;
    let state = app.server.state.clone();
    let second = NewUser {
        email: "second@example.com".into(),
        password: ADMIN_PASSWORD.into(),
        role: Role::Admin,
    };
    with_pool!(&app.server.state.db, pool => {
        // Another process is inserting its admin and has not committed yet.
        let mut tx = pool.begin().await.unwrap();
        sqlx::query(
            "insert into users (email, password_hash, role, created_at, created_by) \
             values ('first@example.com', 'x', 'admin', '2027-01-01T00:00:00.000000Z', 'test')",
        )
        .execute(&mut *tx)
        .await
        .unwrap();
        let late = tokio::spawn(async move {
            let now = server::campaigns::now();
            server::auth::users::create(&state.db, &second, "test", true, now).await
        });
        // Until this one has hashed its password and is waiting on the other's insert (or,
        // wrongly, has inserted beside it).
        let waiting = "select count(*) from pg_locks where not granted and database = \
                       (select oid from pg_database where datname = current_database())";
        for _ in 0..50 {
            let blocked = app.server.state.db.kind() == shared::health::DatabaseKind::Postgres
                && sqlx::query_scalar::<_, i64>(waiting).fetch_one(pool).await.unwrap() > 0;
            if blocked || late.is_finished() {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(30)).await;
        }
        tx.commit().await.unwrap();
        let created = late.await.unwrap().expect("no error");
        assert!(created.is_none(), "a second first admin: {created:?}");
    });
    let users = server::auth::users::count(&app.server.state.db)
        .await
        .unwrap();
    assert_eq!(users, 1);
    app.stop().await;
}

#[tokio::test]
async fn first_run_setup_exists_only_while_there_are_no_users() {
    let app = spawn_app_with(Options {
        no_admin: true,
        ..Options::default()
    })
    .await;
    let setup: Value = app.get("/api/setup").await.json().await.unwrap();
    assert_eq!(setup["needed"], true);
    let res = app
        .post(
            "/api/setup",
            &json!({"email": "first@example.com", "password": "short"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_body(res).await.error.fields[0].path, "password");
    let res = app
        .post(
            "/api/setup",
            &json!({"email": "first@example.com", "password": "a long passphrase"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let token = session_token(&res);
    assert_eq!(res.json::<User>().await.unwrap().role, Role::Admin);
    let admin = client(&app.base, Some(&token));
    assert_eq!(
        admin
            .get(app.url("/api/users"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );

    let setup: Value = app.get("/api/setup").await.json().await.unwrap();
    assert_eq!(setup["needed"], false);
    let res = app
        .post(
            "/api/setup",
            &json!({"email": "second@example.com", "password": "a long passphrase"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    app.stop().await;
}

#[tokio::test]
async fn admins_create_users_change_roles_and_disable_them() {
    let app = spawn_app().await;
    let res = app
        .post(
            "/api/users",
            &json!({"email": "Mia@Example.com", "password": "mias-password", "role": "viewer"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let mia: User = res.json().await.unwrap();
    assert_eq!(mia.email, "mia@example.com");
    let res = app
        .post(
            "/api/users",
            &json!({"email": "mia@example.com", "password": "other-password", "role": "admin"}),
        )
        .await;
    assert_eq!(error_body(res).await.error.fields[0].path, "email");

    let anonymous = app.anonymous();
    let res = login(&app, &anonymous, "mia@example.com", "mias-password").await;
    let mia_http = client(&app.base, Some(&session_token(&res)));
    let new_campaign = || {
        mia_http
            .post(app.url("/api/campaigns"))
            .json(&json!({"name": "Mia's"}))
            .send()
    };
    assert_eq!(
        new_campaign().await.unwrap().status(),
        StatusCode::FORBIDDEN
    );

    let patch = |body: Value| {
        app.http
            .patch(app.url(&format!("/api/users/{}", mia.id)))
            .json(&body)
            .send()
    };
    let res = patch(json!({"role": "marketer"})).await.unwrap();
    assert_eq!(res.json::<User>().await.unwrap().role, Role::Marketer);
    // The new role applies to the session she already has.
    assert_eq!(new_campaign().await.unwrap().status(), StatusCode::CREATED);

    let res = patch(json!({"disabled": true})).await.unwrap();
    assert!(res.json::<User>().await.unwrap().disabled);
    assert_eq!(
        new_campaign().await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
    let res = login(&app, &anonymous, "mia@example.com", "mias-password").await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);

    // The only admin cannot demote or disable themselves.
    let users: Vec<User> = app.get("/api/users").await.json().await.unwrap();
    let admin = users.iter().find(|u| u.email == ADMIN_EMAIL).unwrap();
    let res = app
        .http
        .patch(app.url(&format!("/api/users/{}", admin.id)))
        .json(&json!({"role": "viewer"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CONFLICT);
    app.stop().await;
}

#[tokio::test]
async fn api_keys_are_shown_once_stored_hashed_and_revocable() {
    let app = spawn_app().await;
    let res = app
        .post("/api/api-keys", &json!({"name": "CRM export"}))
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let created: CreatedApiKey = res.json().await.unwrap();
    assert!(created.secret.starts_with(&created.key.prefix));
    let listed = app.get("/api/api-keys").await.text().await.unwrap();
    assert!(listed.contains("CRM export") && !listed.contains(&created.secret));

    let upload = |key: String| {
        app.anonymous()
            .post(app.url("/api/v1/upload"))
            .header("X-Api-Key", key)
            .json(&json!({"d": [{"type": "profile", "identity": "u1", "profileData": {"City": "Pune"}}]}))
            .send()
    };
    assert_eq!(
        upload(created.secret.clone()).await.unwrap().status(),
        StatusCode::OK
    );
    // The bootstrap key from the environment keeps working beside it.
    assert_eq!(
        upload(UPLOAD_KEY.into()).await.unwrap().status(),
        StatusCode::OK
    );

    let stored: Vec<(String, String)> = with_pool!(&app.server.state.db, pool => {
        sqlx::query_as("select prefix, key_hash from api_keys")
            .fetch_all(pool)
            .await
            .unwrap()
    });
    assert!(!format!("{stored:?}").contains(&created.secret));

    let res = app
        .http
        .delete(app.url(&format!("/api/api-keys/{}", created.key.id)))
        .send()
        .await
        .unwrap();
    assert!(res.json::<Value>().await.unwrap()["revoked_at"].is_string());
    assert_eq!(
        upload(created.secret).await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
    app.stop().await;
}

#[tokio::test]
async fn the_audit_log_says_who_changed_what_with_before_and_after() {
    let app = spawn_app().await;
    let c: Value = app
        .post("/api/campaigns", &json!({"name": "Spring"}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(c["created_by"], ADMIN_EMAIL);
    let res = app
        .http
        .put(app.url(&format!("/api/campaigns/{}", c["id"])))
        .json(&json!({"name": "Spring sale", "version": c["version"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let res = app
        .http
        .delete(app.url(&format!("/api/campaigns/{}", c["id"])))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let marketer = app.client_as(Role::Marketer).await;
    let res = marketer
        .post(app.url("/api/labels"))
        .json(&json!({"name": "Promo"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);

    let log: Vec<AuditEntry> = app.get("/api/audit").await.json().await.unwrap();
    assert!(log[0].actor.starts_with("marketer-"), "{:?}", log[0]);
    let seen: Vec<(&str, &str)> = log
        .iter()
        .take(4)
        .map(|e| (e.action.as_str(), e.entity_type.as_str()))
        .collect();
    assert_eq!(
        seen,
        [
            ("created", "label"),
            ("deleted", "campaign"),
            ("updated", "campaign"),
            ("created", "campaign"),
        ]
    );
    assert!(log[1..4].iter().all(|e| e.actor == ADMIN_EMAIL));
    let update = &log[2];
    assert_eq!(update.before.as_deref(), Some("name: Spring"));
    assert_eq!(update.after.as_deref(), Some("name: Spring sale"));
    assert!(log[1].before.as_deref().unwrap().contains("status: Draft"));
    let page: Vec<AuditEntry> = app
        .get(&format!("/api/audit?limit=2&before_id={}", log[0].id))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        page.iter().map(|e| e.id).collect::<Vec<_>>(),
        [log[1].id, log[2].id]
    );
    app.stop().await;
}

#[tokio::test]
async fn oversized_inputs_are_refused_before_any_work() {
    let app = spawn_app().await;
    let huge = "x".repeat(100_000);
    // A long password is refused before it is hashed.
    let res = login(&app, &app.anonymous(), ADMIN_EMAIL, &huge).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let res = app
        .post(
            "/api/users",
            &json!({"email": format!("{huge}@x.com"), "password": huge, "role": "viewer"}),
        )
        .await;
    let fields: Vec<String> = error_body(res)
        .await
        .error
        .fields
        .into_iter()
        .map(|f| f.path)
        .collect();
    assert_eq!(fields, ["email", "password"]);
    let res = app.post("/api/api-keys", &json!({"name": huge})).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let res = app
        .get(&format!("/api/campaigns?q={}", "x".repeat(201)))
        .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let res = app.get("/api/audit?limit=100000").await;
    assert_eq!(
        res.status(),
        StatusCode::OK,
        "the limit is capped, not refused"
    );
    app.stop().await;
}

/// Everything the server logs from now on, for the whole test binary.
fn captured_logs() -> Arc<Mutex<Vec<u8>>> {
    static LOGS: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    LOGS.get_or_init(|| {
        let buffer = Arc::new(Mutex::new(Vec::new()));
        let sink = buffer.clone();
        let _ = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::DEBUG)
            .with_ansi(false)
            .with_writer(move || Sink(sink.clone()))
            .try_init();
        buffer
    })
    .clone()
}

struct Sink(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn tokens_and_secrets_never_appear_in_responses_or_logs() {
    let logs = captured_logs();
    let fb_token = "EAAB-facebook-token-that-must-not-leak";
    let app = spawn_app_with(Options {
        upload_api_key: Some(UPLOAD_KEY.to_owned()),
        env: vec![("FACEBOOK_ACCESS_TOKEN", fb_token.to_owned())],
        ..Options::default()
    })
    .await;
    let res = login(&app, &app.anonymous(), ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let login_token = session_token(&res);
    let created: CreatedApiKey = app
        .post("/api/api-keys", &json!({"name": "Leak check"}))
        .await
        .json()
        .await
        .unwrap();
    let upload = app.upload(&json!({"d": []})).await;
    assert_eq!(upload.status(), StatusCode::OK);
    let _ = login(&app, &app.anonymous(), ADMIN_EMAIL, "a wrong password").await;
    let admin_token = app.admin_token.clone();
    let secrets: [&str; 6] = [
        fb_token,
        &admin_token,
        &login_token,
        ADMIN_PASSWORD,
        UPLOAD_KEY,
        &created.secret,
    ];

    // Every readable route, as an admin (who sees the most).
    let reads = routes(|m, _| *m == Method::GET);
    assert!(reads.len() > 5);
    for (method, path) in reads {
        let body = call(&app.http, &app, &method, &path)
            .await
            .text()
            .await
            .unwrap();
        for secret in secrets {
            assert!(!body.contains(secret), "{path} shows a secret: {body}");
        }
    }
    app.stop().await;
    let logs = String::from_utf8_lossy(&logs.lock().unwrap()).into_owned();
    assert!(logs.contains("failed sign-in"), "the log capture works");
    for (i, secret) in secrets.iter().enumerate() {
        let line = logs.lines().find(|l| l.contains(secret));
        assert!(line.is_none(), "the log shows secret #{i}: {line:?}");
    }
}
