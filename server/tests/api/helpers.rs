use std::path::{Path, PathBuf};

use server::{RunningServer, config::Config};
use shared::error::ErrorBody;

/// A server started for one test, on its own database and port; stopped when dropped with
/// [`TestApp::stop`] (or at the end of the test's runtime).
pub struct TestApp {
    pub base: String,
    pub http: reqwest::Client,
    pub server: RunningServer,
    _dir: tempfile::TempDir,
}

#[derive(Default)]
pub struct Options {
    pub site_dir: Option<PathBuf>,
    pub body_limit_bytes: Option<usize>,
    /// `UPLOAD_API_KEY`; [`spawn_app`] sets [`UPLOAD_KEY`].
    pub upload_api_key: Option<String>,
}

/// The upload API key of servers started by [`spawn_app`].
pub const UPLOAD_KEY: &str = "test-upload-key";

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
    let database_url = format!("sqlite://{}", db_path.display());
    let site_dir = options.site_dir.map(|p| p.display().to_string());
    let limit = options.body_limit_bytes.map(|n| n.to_string());
    let upload_key = options.upload_api_key;
    let config = Config::from_lookup(|key| match key {
        "BIND" => Some("127.0.0.1:0".to_owned()),
        "DATABASE_URL" => Some(database_url.clone()),
        "SITE_DIR" => site_dir.clone(),
        "BODY_LIMIT_BYTES" => limit.clone(),
        "UPLOAD_API_KEY" => upload_key.clone(),
        // Tests fetch stats explicitly; no background fetch may race them.
        "STATS_REFRESH_SECS" => Some("0".to_owned()),
        _ => None,
    })
    .expect("test config");
    let server = server::start(config).await.expect("server starts");
    TestApp {
        base: format!("http://{}", server.addr),
        http: reqwest::Client::new(),
        server,
        _dir: dir,
    }
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
