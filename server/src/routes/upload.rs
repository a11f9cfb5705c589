//! `POST /api/v1/upload`: profiles and events in CleverTap's `/1/upload` shape, so existing
//! CleverTap clients can point at this server. Authenticated by `X-Api-Key`.

use axum::{extract::FromRequestParts, extract::State, http::request::Parts};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use shared::error::ErrorBody;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use shared::data_overview::IngestSource;

use crate::{
    customer::{self, MAX_RECORDS},
    error::{ApiError, ApiResult, AppJson},
    metrics,
    state::AppState,
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(upload_records))
        .routes(routes!(import_profiles))
}

/// `{"d":[record, …]}`: at most 1000 records, profiles and events mixed.
#[derive(Debug, Deserialize, ToSchema)]
pub struct UploadRequest {
    /// Kept as the JSON text of each record: each is read straight into typed values (no JSON
    /// tree), and a failed one is echoed back as sent.
    // Any JSON value: a record that is not a profile or an event object fails on its own (code
    // 524, in `unprocessed`) while the others are stored, as with CleverTap.
    #[schema(value_type = Vec<Value>, max_items = 1000)]
    pub d: Vec<Box<RawValue>>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct UploadResponse {
    /// `success` (every record stored), `partial` or `fail` (none stored).
    pub status: String,
    pub processed: usize,
    pub unprocessed: Vec<Unprocessed>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Unprocessed {
    /// Always `fail`.
    pub status: String,
    /// CleverTap's code: 509 event name missing, 512 bad event structure, 514 gender, 515
    /// e-mail, 516 phone, 522 too many properties, 523 identity missing, 524 neither event nor
    /// profile, 525 `ts` not epoch seconds, 555 other.
    pub code: u16,
    pub error: String,
    /// The record as sent, as JSON text (CleverTap's shape): its exact text, spacing included.
    pub record: String,
    /// Its position in `d`.
    pub index: usize,
}

/// The caller's API key, checked by `auth::guard` before the body is read (the route's policy is
/// `API_KEY`). Taking it here keeps the handler closed even if that policy line changed.
pub struct UploadKey;

impl FromRequestParts<AppState> for UploadKey {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &AppState) -> Result<Self, ApiError> {
        match parts.extensions.get::<crate::auth::ApiKeyCaller>() {
            Some(_) => Ok(UploadKey),
            None => Err(ApiError::Unauthorized(
                "Send the upload API key in the X-Api-Key header.".into(),
            )),
        }
    }
}

/// Uploads profiles and events. Always 200 when the request itself is acceptable; each record
/// that cannot be stored is listed in `unprocessed` with its code, and the others are stored.
/// Resending a batch stores no event twice.
#[utoipa::path(
    post,
    path = "/v1/upload",
    tag = "customer data",
    request_body = UploadRequest,
    params(("X-Api-Key" = String, Header, description = "An API key created by an admin, or the server's UPLOAD_API_KEY")),
    responses(
        (status = 200, description = "Records processed; failures listed", body = UploadResponse),
        (status = 400, description = "Not `{\"d\":[…]}`, or more than 1000 records", body = ErrorBody),
        (status = 401, description = "Missing or wrong API key, or uploads not configured", body = ErrorBody),
    )
)]
pub async fn upload_records(
    _key: UploadKey,
    State(state): State<AppState>,
    AppJson(req): AppJson<UploadRequest>,
) -> ApiResult<AppJson<UploadResponse>> {
    store_upload(&state, &req, IngestSource::UploadApi).await
}

/// The browser's CSV import (Segments → Import): the same records and answer as
/// `POST /api/v1/upload`, sent by a signed-in user instead of an API key.
#[utoipa::path(
    post,
    path = "/profiles/import",
    tag = "customer data",
    request_body = UploadRequest,
    responses(
        (status = 200, description = "Records processed; failures listed with their index", body = UploadResponse),
        (status = 400, description = "Not `{\"d\":[…]}`, or more than 1000 records", body = ErrorBody),
    )
)]
pub async fn import_profiles(
    State(state): State<AppState>,
    AppJson(req): AppJson<UploadRequest>,
) -> ApiResult<AppJson<UploadResponse>> {
    store_upload(&state, &req, IngestSource::Import).await
}

async fn store_upload(
    state: &AppState,
    req: &UploadRequest,
    source: IngestSource,
) -> ApiResult<AppJson<UploadResponse>> {
    if req.d.len() > MAX_RECORDS {
        return Err(ApiError::BadRequest(format!(
            "'d' holds {} records; send at most {MAX_RECORDS} per request.",
            req.d.len()
        )));
    }
    let now = jiff::Timestamp::now().as_second();
    // The records and the Data page's counts are written in one transaction.
    let outcome = customer::upload(&state.db, &req.d, source, now)
        .await
        .inspect_err(|_| metrics::ingested(source, 0, 0, req.d.len()))?;
    metrics::ingested(source, outcome.processed, outcome.unprocessed.len(), 0);
    if let Some((_, first)) = outcome.unprocessed.first() {
        // In the log as well as on the Data page: whoever runs the integration reads one or
        // the other. The records themselves may hold personal data and stay out of the log.
        tracing::warn!(
            source = source.as_str(),
            refused = outcome.unprocessed.len(),
            first_error = first.message,
            "upload records refused"
        );
    }
    let status = match (outcome.processed, outcome.unprocessed.len()) {
        (_, 0) => "success",
        (0, _) => "fail",
        _ => "partial",
    };
    Ok(AppJson(UploadResponse {
        status: status.into(),
        processed: outcome.processed,
        unprocessed: outcome
            .unprocessed
            .into_iter()
            .map(|(index, e)| Unprocessed {
                status: "fail".into(),
                code: e.code.number(),
                error: e.message,
                record: req.d[index].get().to_owned(),
                index,
            })
            .collect(),
    }))
}
