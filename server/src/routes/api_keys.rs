//! `/api/api-keys` (admins): keys for the upload API, shown once, stored hashed.

use axum::{extract::State, http::StatusCode};
use shared::{
    account::{ApiKey, CreatedApiKey, NewApiKey},
    error::ErrorBody,
};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{
    audit,
    auth::{CurrentUser, api_keys},
    campaigns::now,
    error::{ApiResult, AppJson, IdPath},
    state::AppState,
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_api_keys, create_api_key))
        .routes(routes!(revoke_api_key))
}

/// Every key, newest first, without its secret.
#[utoipa::path(
    get,
    path = "/api-keys",
    tag = "accounts",
    responses((status = 200, description = "Every key, revoked ones included", body = Vec<ApiKey>))
)]
pub async fn list_api_keys(State(state): State<AppState>) -> ApiResult<AppJson<Vec<ApiKey>>> {
    Ok(AppJson(api_keys::list(&state.db).await?))
}

/// Creates a key. The answer is the only time its secret is shown.
#[utoipa::path(
    post,
    path = "/api-keys",
    tag = "accounts",
    request_body = NewApiKey,
    responses(
        (status = 201, description = "The key and, this once, its secret", body = CreatedApiKey),
        (status = 422, description = "The name is empty or too long", body = ErrorBody),
    )
)]
pub async fn create_api_key(
    State(state): State<AppState>,
    me: CurrentUser,
    AppJson(new): AppJson<NewApiKey>,
) -> ApiResult<(StatusCode, AppJson<CreatedApiKey>)> {
    let created = api_keys::create(&state.db, &new, &me.email, now()).await?;
    audit::record(
        &state.db,
        audit::Record {
            actor: &me.email,
            action: "created",
            entity_type: "api_key",
            entity_id: created.key.id.to_string(),
            summary: format!("API key \"{}\" ({}…)", created.key.name, created.key.prefix),
            before: None,
            after: None,
        },
        now(),
    )
    .await?;
    Ok((StatusCode::CREATED, AppJson(created)))
}

/// Revokes a key: uploads with it are refused from now on.
#[utoipa::path(
    delete,
    path = "/api-keys/{id}",
    tag = "accounts",
    params(("id" = i64, Path, description = "Key id")),
    responses(
        (status = 200, description = "The revoked key", body = ApiKey),
        (status = 404, description = "No such key", body = ErrorBody),
    )
)]
pub async fn revoke_api_key(
    State(state): State<AppState>,
    me: CurrentUser,
    IdPath(id): IdPath,
) -> ApiResult<AppJson<ApiKey>> {
    let key = api_keys::revoke(&state.db, id, now()).await?;
    audit::record(
        &state.db,
        audit::Record {
            actor: &me.email,
            action: "revoked",
            entity_type: "api_key",
            entity_id: id.to_string(),
            summary: format!("API key \"{}\" ({}…)", key.name, key.prefix),
            before: None,
            after: None,
        },
        now(),
    )
    .await?;
    Ok(AppJson(key))
}
