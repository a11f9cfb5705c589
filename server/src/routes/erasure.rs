//! `POST /api/v1/delete/profiles`: the upload API's deletion, in the shape of CleverTap's
//! delete-profiles call (`/1/delete/profiles.json`), so a backend that forgets people in
//! CleverTap can forget them here with the same body. Authenticated by `X-Api-Key`, as uploads.

use axum::extract::State;
use serde::{Deserialize, Serialize};
use shared::{
    error::ErrorBody,
    profile_view::{DeleteProfilesRequest, deletion_identities},
};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{
    auth::ApiKeyCaller,
    campaigns::now,
    customer::erase,
    error::{ApiError, ApiResult, AppJson},
    routes::{profiles::record_erasure, upload::UploadKey},
    state::AppState,
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(delete_profiles))
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct DeleteProfilesResponse {
    /// Always `success` when the request was acceptable.
    pub status: String,
    /// Profiles erased; identities with no profile are not errors (deleting is idempotent).
    pub record_count: usize,
}

/// Erases the named profiles as `DELETE /api/profiles/{identity}` does (properties, events,
/// match keys; a removal from every Facebook audience that holds them, queued at once; an
/// audit entry without personal data).
#[utoipa::path(
    post,
    path = "/v1/delete/profiles",
    tag = "customer data",
    request_body = DeleteProfilesRequest,
    params(("X-Api-Key" = String, Header, description = "An API key created by an admin, or the server's UPLOAD_API_KEY")),
    responses(
        (status = 200, description = "How many profiles were erased", body = DeleteProfilesResponse),
        (status = 401, description = "Missing or wrong API key", body = ErrorBody),
        (status = 422, description = "No identity, more than 100, or one that is not a text or a whole number", body = ErrorBody),
    )
)]
pub async fn delete_profiles(
    _key: UploadKey,
    caller: Option<axum::Extension<ApiKeyCaller>>,
    State(state): State<AppState>,
    AppJson(req): AppJson<DeleteProfilesRequest>,
) -> ApiResult<AppJson<DeleteProfilesResponse>> {
    let identities = deletion_identities(&req).map_err(|e| ApiError::Validation(vec![e]))?;
    let actor = match caller {
        Some(axum::Extension(c)) => format!("API key {}", c.name),
        None => "API key".to_owned(),
    };
    let erased = erase::erase_many(&state.db, &identities, now()).await?;
    for e in &erased {
        record_erasure(&state, &actor, e).await?;
    }
    Ok(AppJson(DeleteProfilesResponse {
        status: "success".into(),
        record_count: erased.len(),
    }))
}
