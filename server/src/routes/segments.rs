//! `POST /api/segments/estimate` (how many users a segment holds right now) and `GET
//! /api/catalog` (the events and properties the segment builder offers).

use std::time::Instant;

use axum::extract::State;
use jiff::{Timestamp, tz::TimeZone};
use shared::{
    audience_data::{Catalog, Estimate, EstimateRequest},
    error::{ErrorBody, FieldError},
    segment::validate_segment,
};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{
    customer::catalog,
    engine::{self, RunAt},
    error::{ApiError, ApiResult, AppJson},
    routes::sqlite,
    state::AppState,
};

/// Members shown with an estimate.
const SAMPLE_SIZE: u32 = 10;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(estimate_segment))
        .routes(routes!(get_catalog))
}

/// Counts the members of a segment at `at` (default: now) in `time_zone` (default: UTC).
#[utoipa::path(
    post,
    path = "/segments/estimate",
    tag = "segments",
    request_body = EstimateRequest,
    responses(
        (status = 200, description = "Reach, total profiles and a sample of members", body = Estimate),
        (status = 400, description = "The body is not valid JSON", body = ErrorBody),
        (status = 422, description = "The segment or time zone is invalid; `fields` lists every problem", body = ErrorBody),
    )
)]
pub async fn estimate_segment(
    State(state): State<AppState>,
    AppJson(req): AppJson<EstimateRequest>,
) -> ApiResult<AppJson<Estimate>> {
    let started = Instant::now();
    let mut errors = validate_segment(&req.segment, "segment");
    let time_zone = match req.time_zone.as_deref() {
        None => TimeZone::UTC,
        Some(name) => TimeZone::get(name).unwrap_or_else(|_| {
            errors.push(FieldError::new(
                "time_zone",
                format!("{name:?} is not a time zone; use an IANA name such as Asia/Kolkata."),
            ));
            TimeZone::UTC
        }),
    };
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let pool = sqlite(&state.db)?;
    let at = RunAt {
        run_at: req.at.unwrap_or_else(Timestamp::now),
        time_zone: &time_zone,
    };
    let query = engine::compile(pool, &req.segment, &at).await?;
    let reach = query.count(pool).await?.max(0) as u64;
    let total_profiles = catalog::total_profiles(pool).await?;
    let sample = catalog::sample(pool, &query, SAMPLE_SIZE).await?;
    Ok(AppJson(Estimate {
        reach,
        total_profiles,
        sample,
        took_ms: started.elapsed().as_millis() as u64,
    }))
}

/// Event names with counts and last seen, their properties' types, and profile properties with
/// their types and most frequent values.
#[utoipa::path(
    get,
    path = "/catalog",
    tag = "segments",
    responses((status = 200, description = "The catalog", body = Catalog))
)]
pub async fn get_catalog(State(state): State<AppState>) -> ApiResult<AppJson<Catalog>> {
    let pool = sqlite(&state.db)?;
    Ok(AppJson(catalog::catalog(pool).await?))
}
