//! Health, OpenAPI, SPA serving and the JSON error contract.

use reqwest::StatusCode;
use shared::{
    error::ErrorCode,
    health::{DatabaseKind, Health},
};

use crate::helpers::{Options, error_body, fake_site, spawn_app, spawn_app_with};

#[tokio::test]
async fn health_reports_version_and_database() {
    let app = spawn_app().await;
    let res = app.get("/api/health").await;
    assert_eq!(res.status(), StatusCode::OK);
    let health: Health = res.json().await.unwrap();
    assert_eq!(health.status, "ok");
    assert_eq!(health.version, env!("CARGO_PKG_VERSION"));
    let expected = if crate::helpers::is_postgres(&app.server.state.config.database_url) {
        DatabaseKind::Postgres
    } else {
        DatabaseKind::Sqlite
    };
    assert_eq!(health.database, expected);
    app.stop().await;
}

#[tokio::test]
async fn unknown_api_paths_answer_json_404() {
    let app = spawn_app().await;
    let res = app.get("/api/no-such-thing").await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let body = error_body(res).await;
    assert_eq!(body.error.code, ErrorCode::NotFound);
    assert!(
        body.error.message.contains("/api/no-such-thing"),
        "{}",
        body.error.message
    );
    app.stop().await;
}

#[tokio::test]
async fn openapi_document_describes_the_api() {
    let app = spawn_app().await;
    let doc: serde_json::Value = app.get("/api/openapi.json").await.json().await.unwrap();
    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3.1"),
        "{}",
        doc["openapi"]
    );
    assert!(
        doc["paths"]["/health"]["get"].is_object(),
        "health is documented"
    );
    assert!(doc["components"]["schemas"]["ErrorBody"].is_object());
    assert!(doc["components"]["schemas"]["Health"].is_object());
    app.stop().await;
}

#[tokio::test]
async fn spa_files_are_served_and_client_routes_get_index_html() {
    let site = tempfile::tempdir().unwrap();
    fake_site(site.path());
    let app = spawn_app_with(Options {
        site_dir: Some(site.path().to_owned()),
        body_limit_bytes: None,
        ..Options::default()
    })
    .await;

    let asset = app.get("/pkg/app.js").await;
    assert_eq!(asset.status(), StatusCode::OK);
    assert!(
        asset.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/javascript")
    );
    assert_eq!(asset.text().await.unwrap(), "export default 1;");
    // A chunk this build does not have is missing, not answered with the page.
    assert_eq!(
        app.get("/pkg/split_gone_7.wasm").await.status(),
        StatusCode::NOT_FOUND
    );

    for deep_link in [
        "/",
        "/campaigns",
        "/campaigns/42/edit/when",
        "/no/such/page",
    ] {
        let res = app.get(deep_link).await;
        assert_eq!(res.status(), StatusCode::OK, "{deep_link}");
        let csp = res.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(csp.contains("'wasm-unsafe-eval'") && csp.contains("frame-ancestors 'none'"));
        assert!(
            res.text()
                .await
                .unwrap()
                .contains("<title>FB Audiences</title>"),
            "{deep_link}"
        );
    }

    // Nothing outside the site folder can be reached.
    let res = app.get("/..%2F..%2Fetc%2Fpasswd").await;
    assert!(!res.text().await.unwrap().contains("root:"));
    app.stop().await;
}

#[tokio::test]
async fn the_prebuilt_brotli_copy_is_served_to_browsers_that_accept_it() {
    let site = tempfile::tempdir().unwrap();
    fake_site(site.path());
    // Stands in for what `cargo xtask build` writes: distinct bytes, so the test sees which
    // copy was sent.
    std::fs::write(site.path().join("pkg/app.js.br"), b"BROTLI-BYTES").unwrap();
    let app = spawn_app_with(Options {
        site_dir: Some(site.path().to_owned()),
        body_limit_bytes: None,
        ..Options::default()
    })
    .await;
    let get = |accept: &'static str| {
        app.http
            .get(app.url("/pkg/app.js"))
            .header("accept-encoding", accept)
            .send()
    };

    let br = get("gzip, deflate, br").await.unwrap();
    assert_eq!(br.status(), StatusCode::OK);
    assert_eq!(br.headers()["content-encoding"], "br");
    assert_eq!(br.headers()["vary"], "accept-encoding");
    assert!(
        br.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/javascript")
    );
    let br_etag = br.headers()["etag"].clone();
    assert_eq!(&br.bytes().await.unwrap()[..], b"BROTLI-BYTES");

    // Refused brotli, or none asked for: the file itself (left to the compression layer).
    for accept in ["identity", "br;q=0, identity"] {
        let plain = get(accept).await.unwrap();
        assert!(
            plain.headers().get("content-encoding").is_none(),
            "{accept}"
        );
        assert_ne!(plain.headers()["etag"], br_etag, "{accept}");
        assert_eq!(plain.text().await.unwrap(), "export default 1;", "{accept}");
    }

    // A copy older than its file (the file was rebuilt by other means) is never served.
    let copy = std::fs::File::options()
        .write(true)
        .open(site.path().join("pkg/app.js.br"))
        .unwrap();
    copy.set_modified(std::time::SystemTime::UNIX_EPOCH)
        .unwrap();
    let stale = get("br").await.unwrap();
    assert!(stale.headers().get("content-encoding").is_none());
    assert_eq!(stale.text().await.unwrap(), "export default 1;");
    app.stop().await;
}

#[tokio::test]
async fn unchanged_assets_revalidate_with_304() {
    let site = tempfile::tempdir().unwrap();
    fake_site(site.path());
    let app = spawn_app_with(Options {
        site_dir: Some(site.path().to_owned()),
        body_limit_bytes: None,
        ..Options::default()
    })
    .await;
    let first = app.get("/pkg/app.js").await;
    let etag = first.headers()["etag"].clone();
    let again = app
        .http
        .get(app.url("/pkg/app.js"))
        .header("if-none-match", etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
    app.stop().await;
}

#[tokio::test]
async fn an_id_that_is_not_a_number_gets_the_json_404_on_every_kind_of_resource() {
    let app = spawn_app().await;
    for (method, path) in [
        (reqwest::Method::GET, "/api/campaigns/abc"),
        (reqwest::Method::GET, "/api/campaigns/abc/stats"),
        (reqwest::Method::GET, "/api/campaigns/abc/stats.csv"),
        (reqwest::Method::GET, "/api/segments/abc"),
        (reqwest::Method::DELETE, "/api/segments/1x"),
        (reqwest::Method::PATCH, "/api/users/me"),
        (reqwest::Method::DELETE, "/api/api-keys/first"),
    ] {
        let res = app
            .http
            .request(method.clone(), app.url(path))
            .json(&serde_json::json!({}))
            .send()
            .await
            .expect("request");
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{method} {path}");
        assert_eq!(
            error_body(res).await.error.code,
            ErrorCode::NotFound,
            "{method} {path}"
        );
    }
    app.stop().await;
}
