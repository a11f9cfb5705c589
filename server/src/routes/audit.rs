//! `GET /api/audit` (admins): the audit log, newest first.

use axum::extract::{Query, State, rejection::QueryRejection};
use serde::Deserialize;
use shared::{account::AuditEntry, error::ErrorBody};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{
    audit,
    error::{ApiError, ApiResult, AppJson},
    state::AppState,
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_audit))
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// At most this many entries, default 100: a number above 200 means 200, and 0 means 1 (any
    /// `u32` is taken, hence the document's bounds).
    #[param(format = Int64, minimum = 0, maximum = 4294967295.0)]
    limit: Option<u32>,
    /// Only entries older than this id (the last id of the previous page).
    before_id: Option<i64>,
}

/// Who did what, when, with a before/after summary; newest first.
#[utoipa::path(
    get,
    path = "/audit",
    tag = "accounts",
    params(AuditQuery),
    responses(
        (status = 200, description = "The newest entries", body = Vec<AuditEntry>),
        (status = 400, description = "A parameter is malformed", body = ErrorBody),
    )
)]
pub async fn list_audit(
    State(state): State<AppState>,
    query: Result<Query<AuditQuery>, QueryRejection>,
) -> ApiResult<AppJson<Vec<AuditEntry>>> {
    let Query(q) = query.map_err(|rejection| ApiError::BadRequest(rejection.body_text()))?;
    let entries = audit::list(&state.db, q.limit.unwrap_or(100), q.before_id).await?;
    Ok(AppJson(entries))
}
