//! `/api/campaigns/{id}/runs` (run now, dry run, run history with progress) and `/api/jobs`
//! (the background queue). The handlers only translate HTTP; [`crate::sync`] does the work.

use axum::{extract::State, http::StatusCode};
use serde_json::Value;
use shared::{
    error::{ErrorBody, FieldError},
    sync::RunRequest,
};
use utoipa_axum::{router::OpenApiRouter, routes};

use super::campaigns::CampaignId;
use crate::{
    campaigns,
    error::{ApiError, ApiResult, AppJson},
    jobs::queue::{self, JobView},
    state::AppState,
    sync::{self, repo::RunRow},
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_runs, create_run))
        .routes(routes!(list_jobs))
}

/// Reads the body of `POST /api/campaigns/{id}/runs` field by field, so a wrong value is
/// answered with the field's name.
fn parse_run_request(body: &Value) -> ApiResult<RunRequest> {
    let Some(fields) = body.as_object() else {
        return Err(ApiError::BadRequest(
            "Send a JSON object such as {\"dry_run\": false}.".into(),
        ));
    };
    let mut errors = Vec::new();
    let mut request = RunRequest::default();
    for (key, value) in fields {
        match (key.as_str(), value) {
            ("dry_run", Value::Bool(b)) => request.dry_run = *b,
            ("dry_run", Value::Null) => {}
            ("dry_run", _) => errors.push(FieldError::new("dry_run", "Send true or false.")),
            (other, _) => errors.push(FieldError::new(
                other,
                "Unknown field; the only field is dry_run.",
            )),
        }
    }
    if errors.is_empty() {
        Ok(request)
    } else {
        Err(ApiError::Validation(errors))
    }
}

/// Runs the campaign now (queued for the worker), or a dry run (answered at once).
#[utoipa::path(
    post,
    path = "/campaigns/{id}/runs",
    tag = "runs",
    params(("id" = i64, Path, description = "Campaign id")),
    request_body = RunRequest,
    responses(
        (status = 200, description = "Dry run: the counts and a sample; nothing was sent", body = RunRow),
        (status = 202, description = "The queued run; follow it in the run history", body = RunRow),
        (status = 400, description = "The body is not a JSON object", body = ErrorBody),
        (status = 404, description = "No such campaign", body = ErrorBody),
        (status = 409, description = "The campaign's status does not allow a run, or one is already in progress", body = ErrorBody),
        (status = 422, description = "A field is wrong, or the campaign has no audience to compute", body = ErrorBody),
    )
)]
pub async fn create_run(
    State(state): State<AppState>,
    CampaignId(id): CampaignId,
    AppJson(body): AppJson<Value>,
) -> ApiResult<(StatusCode, AppJson<RunRow>)> {
    let request = parse_run_request(&body)?;
    let now = campaigns::now();
    if request.dry_run {
        let run = sync::dry_run(&state, id, now).await?;
        Ok((StatusCode::OK, AppJson(run)))
    } else {
        let run = sync::run_now(&state, id, now).await?;
        Ok((StatusCode::ACCEPTED, AppJson(run)))
    }
}

/// The campaign's runs, newest first, with the progress of the one in flight.
#[utoipa::path(
    get,
    path = "/campaigns/{id}/runs",
    tag = "runs",
    params(("id" = i64, Path, description = "Campaign id")),
    responses(
        (status = 200, description = "Up to 100 runs, newest first", body = Vec<RunRow>),
        (status = 404, description = "No such campaign", body = ErrorBody),
    )
)]
pub async fn list_runs(
    State(state): State<AppState>,
    CampaignId(id): CampaignId,
) -> ApiResult<AppJson<Vec<RunRow>>> {
    // 404 for an unknown campaign rather than an empty list.
    campaigns::get(&state.db, id).await?;
    Ok(AppJson(sync::repo::runs_of(&state.db, id, 100).await?))
}

/// The background job queue, newest first: what is queued, running (and by whom, until when),
/// retried or failed.
#[utoipa::path(
    get,
    path = "/jobs",
    tag = "runs",
    responses((status = 200, description = "The 100 most recent jobs", body = Vec<JobView>))
)]
pub async fn list_jobs(State(state): State<AppState>) -> ApiResult<AppJson<Vec<JobView>>> {
    Ok(AppJson(queue::list(&state.db, 100).await?))
}
