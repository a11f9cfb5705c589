//! Serves the built SPA: its static files, and `index.html` for every other path so that deep
//! links to client routes (`/campaigns/42/edit/when`) load the app.
//!
//! A release build embeds `target/site` (written by `cargo xtask build`) so one binary is the whole
//! product; a debug build reads the same folder from disk at each request, and `SITE_DIR`
//! overrides the folder in any build.

use std::{borrow::Cow, path::Component};

use axum::{
    extract::State,
    http::{HeaderMap, HeaderValue, StatusCode, Uri, header},
    response::{Html, IntoResponse, Response},
};

use crate::state::AppState;

#[derive(rust_embed::Embed)]
// Relative to the crate: `server/../target/site`.
#[folder = "../target/site"]
#[allow_missing = true]
struct Site;

/// A file of the SPA, from the embedded copy or from `SITE_DIR`.
struct Asset {
    bytes: Cow<'static, [u8]>,
    etag: String,
}

pub async fn serve(State(state): State<AppState>, uri: Uri, headers: HeaderMap) -> Response {
    let requested = uri.path().trim_start_matches('/');
    let (path, asset) = match load(&state, requested).await {
        Some(asset) if !requested.is_empty() => (requested, asset),
        // A missing module or script (a lazily loaded page's chunk from another build, say) is
        // a 404: answered with the page, the browser would report HTML where WASM should be.
        None if requested.starts_with("pkg/") => return StatusCode::NOT_FOUND.into_response(),
        _ => match load(&state, "index.html").await {
            Some(asset) => ("index.html", asset),
            None => return not_built(),
        },
    };
    // `cargo xtask build` writes a brotli copy (quality 11) of the large assets beside them.
    // Serving it spares every first visit the seconds that compressing the WASM at that
    // quality takes per request, and what is sent is the size `cargo xtask size` reports.
    // Without a copy (or for clients without brotli) the compression layer does its usual job.
    let precompressed = if accepts_brotli(&headers) {
        load_brotli(&state, path).await
    } else {
        None
    };
    let (asset, encoding) = match precompressed {
        Some(br) => (br, Some("br")),
        None => (asset, None),
    };
    let etag = HeaderValue::from_str(&asset.etag).expect("hex etag is a valid header");
    let mut res = if headers.get(header::IF_NONE_MATCH) == Some(&etag) {
        (StatusCode::NOT_MODIFIED, [(header::ETAG, etag)]).into_response()
    } else {
        let mime = mime_guess(path);
        (
            [
                (header::CONTENT_TYPE, HeaderValue::from_static(mime)),
                // Asset names are not content-hashed, so browsers revalidate (cheaply, by ETag).
                (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
                (header::ETAG, etag),
            ],
            asset.bytes,
        )
            .into_response()
    };
    if let Some(encoding) = encoding {
        let h = res.headers_mut();
        h.insert(header::CONTENT_ENCODING, HeaderValue::from_static(encoding));
        h.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    }
    res
}

/// Whether `Accept-Encoding` lists `br` without refusing it (`br;q=0`).
fn accepts_brotli(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|item| {
            let mut parts = item.split(';').map(str::trim);
            parts.next().is_some_and(|c| c.eq_ignore_ascii_case("br"))
                && parts.all(|p| {
                    p.strip_prefix("q=")
                        .is_none_or(|q| q.parse::<f32>().is_ok_and(|q| q > 0.0))
                })
        })
}

async fn load(state: &AppState, path: &str) -> Option<Asset> {
    match &state.config.site_dir {
        Some(dir) => {
            // Only plain relative paths: nothing may escape the folder.
            let rel = std::path::Path::new(path);
            if !rel.components().all(|c| matches!(c, Component::Normal(_))) {
                return None;
            }
            let bytes = tokio::fs::read(dir.join(rel)).await.ok()?;
            let etag = format!("\"{:x}-{}\"", fnv1a(&bytes), bytes.len());
            Some(Asset {
                bytes: Cow::Owned(bytes),
                etag,
            })
        }
        None => {
            let file = Site::get(path)?;
            let hash: String = file.metadata.sha256_hash()[..8]
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect();
            Some(Asset {
                bytes: file.data,
                etag: format!("\"{hash}\""),
            })
        }
    }
}

/// The brotli copy of `path`. From a `SITE_DIR`, only when written after the file itself: a
/// file rebuilt by other means than `cargo xtask build` must not be shadowed by an old copy.
/// (The embedded site is written whole by one build.)
async fn load_brotli(state: &AppState, path: &str) -> Option<Asset> {
    let br_path = format!("{path}.br");
    if let Some(dir) = &state.config.site_dir {
        let modified = |p: std::path::PathBuf| async move {
            tokio::fs::metadata(p).await.and_then(|m| m.modified()).ok()
        };
        let copy = modified(dir.join(&br_path)).await?;
        let file = modified(dir.join(path)).await?;
        if copy < file {
            return None;
        }
    }
    load(state, &br_path).await
}

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

fn mime_guess(path: &str) -> &'static str {
    match path.rsplit_once('.').map(|(_, ext)| ext) {
        Some("html") => "text/html; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("wasm") => "application/wasm",
        Some("css") => "text/css; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("ico") => "image/x-icon",
        Some("json" | "webmanifest") => "application/json",
        Some("txt") => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

fn not_built() -> Response {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        Html(
            "<!doctype html><title>App not built</title><h1>The browser app is not built</h1>\
             <p>Run <code>cargo xtask run</code>, which builds it and starts the server, or set \
             <code>SITE_DIR</code> to a built copy. The API is up under <code>/api</code>.</p>",
        ),
    )
        .into_response()
}
