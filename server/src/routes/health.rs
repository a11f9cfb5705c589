//! `GET /api/health`: liveness, version and database kind (the app's footer shows them).
//! `GET /api/health/ready`: readiness, for load balancers and orchestrators: the database
//! answers and has every migration this server carries.

use axum::extract::State;
use shared::health::{Health, Readiness};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{
    error::{ApiError, ApiResult, AppJson},
    state::AppState,
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_health))
        .routes(routes!(get_ready))
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

/// The server may take traffic: its database answers and has every migration this server
/// carries (a database restored from an older backup while the server ran, or migrated by
/// another build, does not).
#[utoipa::path(
    get,
    path = "/health/ready",
    tag = "system",
    responses(
        (status = 200, description = "Ready: the database answers and is fully migrated", body = Readiness),
        (status = 503, description = "Not ready; the message says why", body = shared::error::ErrorBody),
    )
)]
pub async fn get_ready(State(state): State<AppState>) -> ApiResult<AppJson<Readiness>> {
    let status = state.db.migration_status().await.map_err(|err| {
        tracing::warn!(%err, "readiness check: database did not answer");
        ApiError::Unavailable("The server's database does not answer.".into())
    })?;
    if let Some(problem) = status.problem() {
        tracing::warn!(%problem, "readiness check: not ready");
        return Err(ApiError::Unavailable(problem));
    }
    Ok(AppJson(Readiness {
        status: "ready".to_owned(),
        database: state.db.kind(),
        migration: status.latest,
    }))
}
