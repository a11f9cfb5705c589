//! `GET /api/health`: liveness, version and database kind (the app's footer shows them).

use axum::extract::State;
use shared::health::Health;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{
    error::{ApiError, ApiResult, AppJson},
    state::AppState,
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(get_health))
}

/// The server is up and its database answers.
#[utoipa::path(
    get,
    path = "/health",
    tag = "system",
    responses(
        (status = 200, description = "Server and database are up", body = Health),
        (status = 503, description = "The database does not answer", body = shared::error::ErrorBody),
    )
)]
pub async fn get_health(State(state): State<AppState>) -> ApiResult<AppJson<Health>> {
    state.db.ping().await.map_err(|err| {
        tracing::warn!(%err, "health check: database did not answer");
        ApiError::Unavailable("The server's database does not answer.".into())
    })?;
    Ok(AppJson(Health {
        status: "ok".to_owned(),
        version: env!("CARGO_PKG_VERSION").to_owned(),
        database: state.db.kind(),
    }))
}
