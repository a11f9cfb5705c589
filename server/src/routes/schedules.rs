//! `POST /api/schedules/preview`: the next runs of a schedule and why the first is when it is.
//! The browser computes the same preview itself with `shared`; this endpoint serves API users
//! and lets the server's answer be checked against the browser's.

use jiff::Timestamp;
use shared::{
    error::ErrorBody,
    schedule::{self, DEFAULT_PREVIEW_RUNS, Preview, PreviewRequest},
};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{
    error::{ApiError, ApiResult, AppJson},
    state::AppState,
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(preview_schedule))
}

/// Previews the next runs of a schedule, as if the campaign were published at `now`.
#[utoipa::path(
    post,
    path = "/schedules/preview",
    tag = "schedules",
    request_body = PreviewRequest,
    responses(
        (status = 200, description = "The next runs (UTC and local) and an explanation", body = Preview),
        (status = 400, description = "The body is not valid JSON", body = ErrorBody),
        (status = 422, description = "The schedule is invalid; `fields` lists every problem", body = ErrorBody),
    )
)]
pub async fn preview_schedule(
    AppJson(req): AppJson<PreviewRequest>,
) -> ApiResult<AppJson<Preview>> {
    let errors = schedule::validate_preview_request(&req);
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let now = req.now.unwrap_or_else(Timestamp::now);
    let count = req.count.unwrap_or(DEFAULT_PREVIEW_RUNS);
    schedule::preview(&req.schedule, now, None, count)
        .map(AppJson)
        .map_err(ApiError::Validation)
}
