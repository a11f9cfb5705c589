//! `POST /api/segments/estimate` (how many users a segment holds right now), `GET
//! /api/catalog` (the events and properties the segment builder offers), and the saved segments
//! at `/api/segments`.

use std::time::Instant;

use axum::{extract::State, http::StatusCode};
use jiff::{Timestamp, tz::TimeZone};
use shared::{
    audience_data::{Catalog, Estimate, EstimateRequest},
    error::{ErrorBody, FieldError},
    saved_segment::{SavedSegment, SavedSegmentInput},
    segment::{Segment, validate_segment},
};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{
    campaigns,
    customer::{catalog, saved},
    engine::{self, RunAt},
    error::{ApiError, ApiResult, AppJson, IdPath},
    state::AppState,
};

/// Members shown with an estimate.
const SAMPLE_SIZE: u32 = 10;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(estimate_segment))
        .routes(routes!(get_catalog))
        .routes(routes!(list_segments, create_segment))
        .routes(routes!(get_segment, update_segment, delete_segment))
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
    saved::validate_refs_in(&state.db, &req.segment, "segment").await?;
    let at = RunAt {
        run_at: req.at.unwrap_or_else(Timestamp::now),
        time_zone: &time_zone,
    };
    let query = engine::compile(&state.db, &req.segment, &at).await?;
    let evaluation = query.evaluate(&state.db).await?;
    let first: Vec<i64> = evaluation
        .members
        .iter()
        .take(SAMPLE_SIZE as usize)
        .collect();
    let sample = catalog::sample_of(&state.db, &first).await?;
    Ok(AppJson(Estimate {
        reach: evaluation.members.len(),
        total_profiles: evaluation.total_profiles,
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
    Ok(AppJson(catalog::catalog(&state.db).await?))
}

/// The reach of a saved segment now, in UTC.
async fn current_size(state: &AppState, definition: &Segment) -> ApiResult<u64> {
    let at = RunAt {
        run_at: Timestamp::now(),
        time_zone: &TimeZone::UTC,
    };
    let query = engine::compile(&state.db, definition, &at).await?;
    Ok(query.evaluate(&state.db).await?.members.len())
}

/// Saves the size of a segment just computed; returns the segment as stored.
async fn with_size(state: &AppState, mut segment: SavedSegment) -> ApiResult<SavedSegment> {
    let size = current_size(state, &segment.definition).await?;
    let now = campaigns::now();
    saved::record_size(&state.db, segment.id, size, now).await?;
    segment.last_size = Some(size);
    segment.last_computed_at = Some(now);
    Ok(segment)
}

/// Every saved segment, by name, with its size when last computed.
#[utoipa::path(
    get,
    path = "/segments",
    tag = "segments",
    responses((status = 200, description = "Every saved segment, by name", body = Vec<SavedSegment>))
)]
pub async fn list_segments(State(state): State<AppState>) -> ApiResult<AppJson<Vec<SavedSegment>>> {
    Ok(AppJson(saved::list(&state.db).await?))
}

/// Saves a segment under a name and computes its size.
#[utoipa::path(
    post,
    path = "/segments",
    tag = "segments",
    request_body = SavedSegmentInput,
    responses(
        (status = 201, description = "The saved segment, with its size now", body = SavedSegment),
        (status = 400, description = "The body is not a saved segment", body = ErrorBody),
        (status = 422, description = "The name or definition is invalid, or refers to a missing saved segment", body = ErrorBody),
    )
)]
pub async fn create_segment(
    State(state): State<AppState>,
    AppJson(input): AppJson<SavedSegmentInput>,
) -> ApiResult<(StatusCode, AppJson<SavedSegment>)> {
    saved::validate(&state.db, None, &input).await?;
    let segment = saved::insert(&state.db, &input, campaigns::now()).await?;
    let segment = with_size(&state, segment).await?;
    Ok((StatusCode::CREATED, AppJson(segment)))
}

/// One saved segment, its size recomputed.
#[utoipa::path(
    get,
    path = "/segments/{id}",
    tag = "segments",
    params(("id" = i64, Path, description = "Saved segment id")),
    responses(
        (status = 200, description = "The saved segment", body = SavedSegment),
        (status = 404, description = "No such saved segment", body = ErrorBody),
    )
)]
pub async fn get_segment(
    State(state): State<AppState>,
    IdPath(id): IdPath,
) -> ApiResult<AppJson<SavedSegment>> {
    let segment = saved::get(&state.db, id).await?;
    Ok(AppJson(with_size(&state, segment).await?))
}

/// Replaces a saved segment's name, description and definition. A definition that would make a
/// loop (this segment used, directly or not, by a segment it uses) is a 422.
#[utoipa::path(
    put,
    path = "/segments/{id}",
    tag = "segments",
    params(("id" = i64, Path, description = "Saved segment id")),
    request_body = SavedSegmentInput,
    responses(
        (status = 200, description = "The saved segment, with its size now", body = SavedSegment),
        (status = 404, description = "No such saved segment", body = ErrorBody),
        (status = 422, description = "Invalid, refers to a missing segment, or makes a loop", body = ErrorBody),
    )
)]
pub async fn update_segment(
    State(state): State<AppState>,
    IdPath(id): IdPath,
    AppJson(input): AppJson<SavedSegmentInput>,
) -> ApiResult<AppJson<SavedSegment>> {
    saved::get(&state.db, id).await?;
    saved::validate(&state.db, Some(id), &input).await?;
    let segment = saved::update(&state.db, id, &input, campaigns::now()).await?;
    Ok(AppJson(with_size(&state, segment).await?))
}

/// Deletes a saved segment that no other saved segment and no published campaign that may still
/// run uses. Drafts that include it are refused on their next save or publish (422 on the rule).
#[utoipa::path(
    delete,
    path = "/segments/{id}",
    tag = "segments",
    params(("id" = i64, Path, description = "Saved segment id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such saved segment", body = ErrorBody),
        (status = 409, description = "Another saved segment or a published campaign uses it", body = ErrorBody),
    )
)]
pub async fn delete_segment(
    State(state): State<AppState>,
    IdPath(id): IdPath,
) -> ApiResult<StatusCode> {
    saved::delete(&state.db, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
