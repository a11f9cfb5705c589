//! Segment's HTTP Tracking API at the server's root: `POST /v1/identify`, `/v1/track`,
//! `/v1/page`, `/v1/screen`, `/v1/group`, `/v1/alias` and `/v1/batch`, so applications already
//! instrumented with Segment or RudderStack SDKs only change the host. Authenticated by a write
//! key (HTTP Basic user name): any API key an admin created, or `UPLOAD_API_KEY`.
//!
//! Outside `/api` (Segment's clients post to `<host>/v1/…`), so not in `auth::policy`: the
//! [`WriteKey`] extractor is the check, and every handler here takes it. No `Origin` check: the
//! callers are servers, and no cookie is read.

use std::io::Read as _;

use axum::{
    Json, Router,
    body::Bytes,
    extract::{FromRequestParts, Path, State},
    http::{HeaderMap, header, request::Parts},
    routing::post,
};
use serde_json::{Value as JsonValue, json, value::RawValue};
use shared::{
    data_overview::IngestSource,
    tracking::{CallType, MAX_BATCH_BYTES, MAX_CALL_BYTES},
};

use crate::{
    customer::segment_api::{self, BatchBody},
    error::{ApiError, ApiResult},
    metrics,
    state::AppState,
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/batch", post(batch))
        .route("/v1/{call}", post(single))
}

/// A valid write key, checked before the body is read.
pub struct WriteKey;

impl FromRequestParts<AppState> for WriteKey {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        crate::auth::guard::write_key(state, &parts.headers).await?;
        Ok(WriteKey)
    }
}

/// `POST /v1/batch`: `{"batch": [message, …], "sentAt"?: …}`, at most 500 KB.
async fn batch(
    _key: WriteKey,
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<JsonValue>> {
    let body = body_text(&headers, &body, MAX_BATCH_BYTES, "500 KB per batch")?;
    let parsed: BatchBody<'_> = serde_json::from_slice(&body).map_err(|e| {
        ApiError::BadRequest(format!(
            "The body must be a JSON object with a 'batch' list of messages: {e}"
        ))
    })?;
    store(&state, &parsed.batch, None, parsed.sent_at.as_ref()).await
}

/// `POST /v1/<call>`: one message, at most 32 KB.
async fn single(
    _key: WriteKey,
    State(state): State<AppState>,
    Path(call): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<JsonValue>> {
    let Some(call) = CallType::parse(&call) else {
        return Err(ApiError::not_found(format!(
            "There is no tracking call /v1/{call}; the calls are identify, track, page, screen, \
             group, alias and batch."
        )));
    };
    let body = body_text(&headers, &body, MAX_CALL_BYTES, "32 KB per call")?;
    let message: &RawValue = serde_json::from_slice(&body)
        .ok()
        .filter(|m: &&RawValue| m.get().starts_with('{'))
        .ok_or_else(|| {
            ApiError::BadRequest("The body must be one JSON object (a message).".into())
        })?;
    store(&state, &[message], Some(call), None).await
}

/// The body as sent, or gunzipped (`Content-Encoding: gzip`, as RudderStack's SDK sends it),
/// refused above `limit` bytes with a message naming Segment's limit.
fn body_text(
    headers: &HeaderMap,
    body: &Bytes,
    limit: usize,
    name: &str,
) -> Result<Vec<u8>, ApiError> {
    let too_large = || {
        ApiError::TooLarge(format!(
            "The request is larger than Segment's limit of {name} ({limit} bytes)."
        ))
    };
    let encoding = headers
        .get(header::CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .unwrap_or("identity");
    let text = if encoding.eq_ignore_ascii_case("gzip") {
        let mut out = Vec::new();
        // One byte past the limit tells "too large" from "exactly the limit".
        flate2::read::GzDecoder::new(&body[..])
            .take(limit as u64 + 1)
            .read_to_end(&mut out)
            .map_err(|_| ApiError::BadRequest("The body is not valid gzip.".into()))?;
        out
    } else if encoding.eq_ignore_ascii_case("identity") {
        body.to_vec()
    } else {
        return Err(ApiError::BadRequest(format!(
            "Content-Encoding {encoding:?} is not supported; send the body as is or gzipped."
        )));
    };
    if text.len() > limit {
        return Err(too_large());
    }
    Ok(text)
}

async fn store(
    state: &AppState,
    messages: &[&RawValue],
    call: Option<CallType>,
    batch_sent_at: Option<&JsonValue>,
) -> ApiResult<Json<JsonValue>> {
    let source = IngestSource::SegmentApi;
    let received_at = jiff::Timestamp::now();
    let outcome = segment_api::ingest(&state.db, messages, call, batch_sent_at, received_at)
        .await
        .inspect_err(|_| metrics::ingested(source, 0, 0, messages.len()))?;
    metrics::ingested(source, outcome.stored, outcome.refused.len(), 0);
    if let Some((_, first)) = outcome.refused.first() {
        // Segment answers 200 whatever it later drops; here a refused message is in the log
        // and on the Data page instead. The messages may hold personal data: not logged.
        tracing::warn!(
            source = source.as_str(),
            refused = outcome.refused.len(),
            first_error = first.message,
            "tracking messages refused"
        );
    }
    Ok(Json(json!({ "success": true })))
}
