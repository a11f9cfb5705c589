use std::path::{Path, PathBuf};

use reqwest::header::{COOKIE, HeaderMap, HeaderValue, ORIGIN};
use server::{RunningServer, auth, config::Config};
use shared::{
    account::{NewUser, Role},
    error::ErrorBody,
};

/// A server started for one test, on its own database and port; stopped when dropped with
/// [`TestApp::stop`] (or at the end of the test's runtime).
pub struct TestApp {
    pub base: String,
    /// Signed in as the admin [`ADMIN_EMAIL`], and sending this site's `Origin`, as the app in a
    /// browser would: tests of other features need not think about accounts.
    pub http: reqwest::Client,
    /// The session token `http` sends (tests check it never leaks).
    pub admin_token: String,
    pub server: RunningServer,
    _dir: tempfile::TempDir,
    /// This test's PostgreSQL database (`TEST_POSTGRES_URL`), dropped after the server stops.
    _pg: Option<crate::test_db::PgDatabase>,
}

/// The admin every test server starts with (created from `ADMIN_EMAIL`/`ADMIN_PASSWORD`).
pub const ADMIN_EMAIL: &str = "admin@example.com";
pub const ADMIN_PASSWORD: &str = "admin-password-for-tests";

#[derive(Default)]
pub struct Options {
    pub site_dir: Option<PathBuf>,
    pub body_limit_bytes: Option<usize>,
    /// `UPLOAD_API_KEY`; [`spawn_app`] sets [`UPLOAD_KEY`].
    pub upload_api_key: Option<String>,
    /// Any other environment variables, e.g. `("FACEBOOK_ACCESS_TOKEN", "…")`.
    pub env: Vec<(&'static str, String)>,
    /// Start with no users at all (first-run setup); `http` is then signed out.
    pub no_admin: bool,
    /// Run the background scheduler and worker (`WORKER=on`). Off by default: tests drive
    /// them with `server::jobs::drain` and an explicit clock.
    pub worker: bool,
    /// Another server's database (two workers on one database).
    pub database_url: Option<String>,
    /// `FACEBOOK_GRAPH_URL`: another server's sandbox.
    pub graph_url: Option<String>,
    /// Rows per `/users` request (the sync's batch size); Facebook's 10,000 when unset.
    pub rows_per_request: Option<usize>,
    /// Retries the Graph client makes by itself (as in production); none when unset.
    pub client_retries: Option<u32>,
}

/// The upload API key of servers started by [`spawn_app`].
pub const UPLOAD_KEY: &str = "test-upload-key";

/// The sandbox's US ad account, the one the campaign tests target.
pub const ACCOUNT: &str = "act_100000000000001";

/// The first ad set of the first campaign of the sandbox's US account, as the wizard's pickers
/// list them: `{ad_account_id, campaign_id, ad_set_id}`, a campaign's `target`.
pub async fn target(app: &TestApp) -> serde_json::Value {
    let campaigns: serde_json::Value = app
        .get(&format!("/api/facebook/ad-accounts/{ACCOUNT}/campaigns"))
        .await
        .json()
        .await
        .unwrap();
    let campaign = campaigns[0]["id"].as_str().unwrap().to_owned();
    let ad_sets: serde_json::Value = app
        .get(&format!("/api/facebook/campaigns/{campaign}/adsets"))
        .await
        .json()
        .await
        .unwrap();
    serde_json::json!({"ad_account_id": ACCOUNT, "campaign_id": campaign,
           "ad_set_id": ad_sets[0]["id"].as_str().unwrap()})
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(Options {
        upload_api_key: Some(UPLOAD_KEY.to_owned()),
        ..Options::default()
    })
    .await
}

pub async fn spawn_app_with(options: Options) -> TestApp {
    let dir = tempfile::tempdir().expect("temp dir");
    let db_path = dir.path().join("test.db");
    // A database of its own on PostgreSQL when `TEST_POSTGRES_URL` is set, else a SQLite file;
    // a second server of the test shares the first one's.
    let pg = match options.database_url {
        Some(_) => None,
        None => crate::test_db::PgDatabase::create().await,
    };
    let database_url = options
        .database_url
        .or_else(|| pg.as_ref().map(|db| db.url.clone()))
        .unwrap_or_else(|| format!("sqlite://{}", db_path.display()));
    // Servers sharing a PostgreSQL database must share the key that seals stored credentials
    // (on SQLite a key file is generated next to the database; there is no such place here).
    let secret_key = is_postgres(&database_url).then(|| TEST_SECRET_KEY.to_owned());
    let env_has = |key: &str| options.env.iter().any(|(k, _)| *k == key);
    let worker = if options.worker { "on" } else { "off" }.to_owned();
    let graph_url = options.graph_url;
    let site_dir = options.site_dir.map(|p| p.display().to_string());
    let limit = options.body_limit_bytes.map(|n| n.to_string());
    let upload_key = options.upload_api_key;
    let config = Config::from_lookup(|key| match key {
        "BIND" => Some("127.0.0.1:0".to_owned()),
        "DATABASE_URL" => Some(database_url.clone()),
        "SITE_DIR" => site_dir.clone(),
        "BODY_LIMIT_BYTES" => limit.clone(),
        "UPLOAD_API_KEY" => upload_key.clone(),
        // Tests fetch stats explicitly unless they ask for the periodic `stats` job in `env`.
        "STATS_REFRESH_SECS" => Some(
            options
                .env
                .iter()
                .find(|(k, _)| *k == key)
                .map_or_else(|| "0".to_owned(), |(_, v)| v.clone()),
        ),
        "WORKER" => Some(worker.clone()),
        // The sandbox's debug endpoints (faults, clock, stored rows) drive most Facebook tests;
        // `http` is an admin sending this site's `Origin`, as they require.
        "SANDBOX_DEBUG" => Some(
            options
                .env
                .iter()
                .find(|(k, _)| *k == key)
                .map_or_else(|| "on".to_owned(), |(_, v)| v.clone()),
        ),
        "FACEBOOK_GRAPH_URL" => graph_url.clone(),
        "ADMIN_EMAIL" if !options.no_admin => Some(ADMIN_EMAIL.to_owned()),
        "ADMIN_PASSWORD" if !options.no_admin => Some(ADMIN_PASSWORD.to_owned()),
        "SECRET_KEY" if secret_key.is_some() && !env_has("SECRET_KEY") => secret_key.clone(),
        other => options
            .env
            .iter()
            .find(|(k, _)| *k == other)
            .map(|(_, v)| v.clone()),
    })
    .expect("test config");
    let mut config = config;
    // Retries are the job queue's business in tests unless one asks: the client gives up at
    // once, and never sleeps long.
    config.facebook.retry = server::facebook::client::RetryPolicy {
        max_retries: options.client_retries.unwrap_or(0),
        base_delay: std::time::Duration::from_millis(10),
        max_wait: std::time::Duration::from_secs(1),
        max_slowdown: std::time::Duration::from_millis(1),
        rows_per_request: options.rows_per_request.unwrap_or(10_000),
    };
    let server = server::start(config).await.expect("server starts");
    let base = format!("http://{}", server.addr);
    let admin_token = if options.no_admin {
        String::new()
    } else {
        let admin = auth::users::credentials(&server.state.db, ADMIN_EMAIL)
            .await
            .expect("query")
            .expect("the ADMIN_EMAIL admin was created");
        auth::session::start(&server.state.db, admin.0, server::campaigns::now())
            .await
            .expect("session")
    };
    TestApp {
        http: client(&base, Some(admin_token.as_str()).filter(|t| !t.is_empty())),
        admin_token,
        base,
        server,
        _dir: dir,
        _pg: pg,
    }
}

/// The key servers on a PostgreSQL test database seal credentials with (32 bytes, hex).
pub const TEST_SECRET_KEY: &str =
    "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

pub fn is_postgres(database_url: &str) -> bool {
    database_url.starts_with("postgres://") || database_url.starts_with("postgresql://")
}

/// Runs `$body` with `$pool` bound to the test server's pool, whichever the backend (the
/// server's own `with_pool!` is private to it), for the few tests that read or age rows directly.
macro_rules! with_pool {
    ($db:expr, $pool:ident => $body:expr) => {
        match $db {
            server::db::Db::Sqlite($pool) => $body,
            server::db::Db::Postgres($pool) => $body,
        }
    };
}
pub(crate) use with_pool;

/// A client that sends `base` as its `Origin` and, with a token, the session cookie.
pub fn client(base: &str, token: Option<&str>) -> reqwest::Client {
    let mut headers = HeaderMap::new();
    headers.insert(ORIGIN, HeaderValue::from_str(base).unwrap());
    if let Some(token) = token {
        let cookie = format!("{}={token}", auth::session::COOKIE);
        headers.insert(COOKIE, HeaderValue::from_str(&cookie).unwrap());
    }
    reqwest::Client::builder()
        .default_headers(headers)
        .build()
        .unwrap()
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.http.get(self.url(path)).send().await.expect("request")
    }

    /// `POST /api/v1/upload` with the test key.
    pub async fn upload(&self, body: &serde_json::Value) -> reqwest::Response {
        self.http
            .post(self.url("/api/v1/upload"))
            .header("X-Api-Key", UPLOAD_KEY)
            .json(body)
            .send()
            .await
            .expect("request")
    }

    /// `POST` of a JSON body.
    pub async fn post(&self, path: &str, body: &serde_json::Value) -> reqwest::Response {
        self.http
            .post(self.url(path))
            .json(body)
            .send()
            .await
            .expect("request")
    }

    /// A client signed in as a new user with `role` (`<role>-<n>@example.com`, password
    /// [`ADMIN_PASSWORD`]).
    pub async fn client_as(&self, role: Role) -> reqwest::Client {
        let token = self.session_as(role).await.1;
        client(&self.base, Some(&token))
    }

    /// Creates a user with `role`; returns its e-mail address and a session token.
    pub async fn session_as(&self, role: Role) -> (String, String) {
        static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let db = &self.server.state.db;
        let new = NewUser {
            email: format!("{}-{n}@example.com", role.as_str()),
            password: ADMIN_PASSWORD.to_owned(),
            role,
        };
        let now = server::campaigns::now();
        let user = auth::users::create(db, &new, "test", false, now)
            .await
            .expect("user")
            .expect("stored");
        let token = auth::session::start(db, user.id, now)
            .await
            .expect("session");
        (user.email, token)
    }

    /// A client with no session that still sends this site's `Origin`.
    pub fn anonymous(&self) -> reqwest::Client {
        client(&self.base, None)
    }

    pub async fn stop(self) {
        self.server.shutdown().await.expect("clean shutdown");
    }
}

/// Decodes the shared error body, failing the test if the response is not one.
pub async fn error_body(res: reqwest::Response) -> ErrorBody {
    let text = res.text().await.expect("body");
    serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("not the shared error body ({e}): {text}"))
}

/// A minimal built SPA: an index page and one asset.
pub fn fake_site(dir: &Path) {
    std::fs::create_dir_all(dir.join("pkg")).unwrap();
    std::fs::write(
        dir.join("index.html"),
        "<!doctype html><title>FB Audiences</title>",
    )
    .unwrap();
    std::fs::write(dir.join("pkg/app.js"), "export default 1;").unwrap();
}

/// Creates the campaign `draft` and publishes it; returns its id.
pub async fn publish_draft(app: &TestApp, draft: &serde_json::Value) -> i64 {
    let res = app.post("/api/campaigns", draft).await;
    assert_eq!(res.status(), reqwest::StatusCode::CREATED);
    let created: serde_json::Value = res.json().await.unwrap();
    let id = created["id"].as_i64().unwrap();
    let res = app
        .post(
            &format!("/api/campaigns/{id}/publish"),
            &serde_json::json!({}),
        )
        .await;
    assert_eq!(
        res.status(),
        reqwest::StatusCode::OK,
        "{}",
        res.text().await.unwrap()
    );
    id
}

/// Asks for a sync of campaign `id` now, runs the job queue as at `at`, and returns the run,
/// which must have succeeded.
pub async fn sync_at(app: &TestApp, id: i64, at: jiff::Timestamp) -> serde_json::Value {
    let res = app
        .post(
            &format!("/api/campaigns/{id}/runs"),
            &serde_json::json!({"dry_run": false}),
        )
        .await;
    assert_eq!(res.status(), reqwest::StatusCode::ACCEPTED);
    server::jobs::drain(&app.server.state, at).await.unwrap();
    let runs: serde_json::Value = app
        .get(&format!("/api/campaigns/{id}/runs"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(runs[0]["state"], "succeeded", "{runs}");
    runs[0].clone()
}

/// The EXTERN_IDs Facebook (the sandbox) holds in `audience`.
pub async fn held_by_facebook(app: &TestApp, audience: &str) -> std::collections::BTreeSet<String> {
    let v: serde_json::Value = app
        .get(&format!("/sandbox/debug/audiences/{audience}"))
        .await
        .json()
        .await
        .unwrap();
    v["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["EXTERN_ID"].as_str().unwrap().to_owned())
        .collect()
}
