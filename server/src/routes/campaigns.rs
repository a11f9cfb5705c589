//! `/api/campaigns`: create, list, edit, validate, publish, pause, resume, stop, duplicate and
//! delete campaigns. The handlers only translate HTTP; [`crate::campaigns`] applies the rules.

use axum::{
    extract::{FromRequestParts, Path, Query, State, rejection::QueryRejection},
    http::{StatusCode, request::Parts},
};
use serde::Deserialize;
use shared::{
    campaign::{Campaign, CampaignDraft, CampaignStatus, MAX_CAMPAIGN_NAME},
    campaign_list::{CampaignSort, sort_campaigns},
    error::ErrorBody,
};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{
    auth::CurrentUser,
    campaigns::{self, UserAction, repo::Filter},
    error::{ApiError, ApiResult, AppJson},
    state::AppState,
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_campaigns, create_campaign))
        .routes(routes!(validate_campaign))
        .routes(routes!(get_campaign, update_campaign, delete_campaign))
        .routes(routes!(publish_campaign))
        .routes(routes!(pause_campaign))
        .routes(routes!(resume_campaign))
        .routes(routes!(stop_campaign))
        .routes(routes!(duplicate_campaign))
}

/// Filters of the campaign list; all optional, combined with AND.
// `utoipa::IntoParams` is not imported: utoipa's expansion names it in full, and an import would
// make that an unnecessary qualification.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CampaignQuery {
    /// Only campaigns in this status.
    status: Option<CampaignStatus>,
    /// Only campaigns with this label id.
    label: Option<i64>,
    /// Only campaigns whose name contains this text, ignoring case.
    q: Option<String>,
    /// The order: `updated` (most recently updated first, the default), `name`, `next_run`,
    /// `status`.
    // Inline: a query parameter's type is not collected into the document's schemas, so a
    // `$ref` to it would not resolve.
    #[param(inline)]
    sort: Option<CampaignSort>,
}

/// The `{id}` of a campaign URL. An id that is not a number cannot name a campaign, so it gets the
/// same JSON 404 as an unknown one rather than axum's plain-text 400.
pub struct CampaignId(pub i64);

impl<S: Send + Sync> FromRequestParts<S> for CampaignId {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let Path(raw) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|_| ApiError::not_found("There is no such campaign."))?;
        raw.parse()
            .map(Self)
            .map_err(|_| ApiError::not_found(format!("There is no campaign {raw:?}.")))
    }
}

/// Campaigns, most recently updated first unless `sort` says otherwise.
#[utoipa::path(
    get,
    path = "/campaigns",
    tag = "campaigns",
    params(CampaignQuery),
    responses(
        (status = 200, description = "The matching campaigns", body = Vec<Campaign>),
        (status = 400, description = "A filter is malformed", body = ErrorBody),
    )
)]
pub async fn list_campaigns(
    State(state): State<AppState>,
    query: Result<Query<CampaignQuery>, QueryRejection>,
) -> ApiResult<AppJson<Vec<Campaign>>> {
    let Query(query) = query.map_err(|rejection| ApiError::BadRequest(rejection.body_text()))?;
    // The search is a `like` over every name: keep its pattern as short as a name can be.
    if query
        .q
        .as_ref()
        .is_some_and(|q| q.chars().count() > MAX_CAMPAIGN_NAME)
    {
        return Err(ApiError::BadRequest(format!(
            "Search for at most {MAX_CAMPAIGN_NAME} characters."
        )));
    }
    let filter = Filter {
        status: query.status,
        label: query.label,
        // An empty search box filters nothing.
        q: query.q.filter(|q| !q.trim().is_empty()),
    };
    let mut list = campaigns::list(&state.db, &filter).await?;
    sort_campaigns(&mut list, query.sort.unwrap_or_default());
    Ok(AppJson(list))
}

/// Saves a new draft; steps may be left out, but what is there must be valid.
#[utoipa::path(
    post,
    path = "/campaigns",
    tag = "campaigns",
    request_body = CampaignDraft,
    responses(
        (status = 201, description = "The new draft", body = Campaign),
        (status = 400, description = "The body is not a campaign draft", body = ErrorBody),
        (status = 422, description = "Some fields are invalid", body = ErrorBody),
    )
)]
pub async fn create_campaign(
    State(state): State<AppState>,
    me: CurrentUser,
    AppJson(draft): AppJson<CampaignDraft>,
) -> ApiResult<(StatusCode, AppJson<Campaign>)> {
    let campaign = campaigns::create(&state.db, &draft, &me.email, campaigns::now()).await?;
    Ok((StatusCode::CREATED, AppJson(campaign)))
}

/// Checks a draft against every publish rule without saving it.
#[utoipa::path(
    post,
    path = "/campaigns/validate",
    tag = "campaigns",
    request_body = CampaignDraft,
    responses(
        (status = 204, description = "The draft can be published now"),
        (status = 400, description = "The body is not a campaign draft", body = ErrorBody),
        (status = 422, description = "Every problem that prevents publishing", body = ErrorBody),
    )
)]
pub async fn validate_campaign(
    State(state): State<AppState>,
    AppJson(draft): AppJson<CampaignDraft>,
) -> ApiResult<StatusCode> {
    campaigns::validate(&state.db, &draft, campaigns::now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(
    get,
    path = "/campaigns/{id}",
    tag = "campaigns",
    params(("id" = i64, Path, description = "Campaign id")),
    responses(
        (status = 200, description = "The campaign", body = Campaign),
        (status = 404, description = "No such campaign", body = ErrorBody),
    )
)]
pub async fn get_campaign(
    State(state): State<AppState>,
    CampaignId(id): CampaignId,
) -> ApiResult<AppJson<Campaign>> {
    Ok(AppJson(campaigns::get(&state.db, id).await?))
}

/// Saves the editor's changes. `version` must be the one the editor loaded.
#[utoipa::path(
    put,
    path = "/campaigns/{id}",
    tag = "campaigns",
    params(("id" = i64, Path, description = "Campaign id")),
    request_body = CampaignDraft,
    responses(
        (status = 200, description = "The saved campaign, with a new version", body = Campaign),
        (status = 404, description = "No such campaign", body = ErrorBody),
        (status = 409, description = "Changed by someone else since it was loaded, or its status does not allow editing", body = ErrorBody),
        (status = 422, description = "Some fields are invalid", body = ErrorBody),
    )
)]
pub async fn update_campaign(
    State(state): State<AppState>,
    me: CurrentUser,
    CampaignId(id): CampaignId,
    AppJson(draft): AppJson<CampaignDraft>,
) -> ApiResult<AppJson<Campaign>> {
    let campaign = campaigns::update(&state.db, id, &draft, &me.email, campaigns::now()).await?;
    Ok(AppJson(campaign))
}

/// Deletes a draft. A published campaign is stopped instead.
#[utoipa::path(
    delete,
    path = "/campaigns/{id}",
    tag = "campaigns",
    params(("id" = i64, Path, description = "Campaign id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such campaign", body = ErrorBody),
        (status = 409, description = "Not a draft", body = ErrorBody),
    )
)]
pub async fn delete_campaign(
    State(state): State<AppState>,
    me: CurrentUser,
    CampaignId(id): CampaignId,
) -> ApiResult<StatusCode> {
    campaigns::delete(&state.db, id, &me.email).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Publishes a draft: every step is validated against the current time, then it is scheduled.
#[utoipa::path(
    post,
    path = "/campaigns/{id}/publish",
    tag = "campaigns",
    params(("id" = i64, Path, description = "Campaign id")),
    responses(
        (status = 200, description = "The scheduled campaign, with its next run", body = Campaign),
        (status = 404, description = "No such campaign", body = ErrorBody),
        (status = 409, description = "Not a draft", body = ErrorBody),
        (status = 422, description = "Every problem that prevents publishing", body = ErrorBody),
    )
)]
pub async fn publish_campaign(
    State(state): State<AppState>,
    me: CurrentUser,
    CampaignId(id): CampaignId,
) -> ApiResult<AppJson<Campaign>> {
    let campaign = campaigns::publish(&state.db, id, &me.email, campaigns::now()).await?;
    Ok(AppJson(campaign))
}

/// Holds the campaign's runs until it is resumed; a run in progress finishes.
#[utoipa::path(
    post,
    path = "/campaigns/{id}/pause",
    tag = "campaigns",
    params(("id" = i64, Path, description = "Campaign id")),
    responses(
        (status = 200, description = "The paused campaign", body = Campaign),
        (status = 404, description = "No such campaign", body = ErrorBody),
        (status = 409, description = "Its status cannot be paused", body = ErrorBody),
    )
)]
pub async fn pause_campaign(
    State(state): State<AppState>,
    me: CurrentUser,
    CampaignId(id): CampaignId,
) -> ApiResult<AppJson<Campaign>> {
    act(&state, id, UserAction::Pause, &me).await
}

/// Lets a paused campaign (or one that needs attention) run again from its next run.
#[utoipa::path(
    post,
    path = "/campaigns/{id}/resume",
    tag = "campaigns",
    params(("id" = i64, Path, description = "Campaign id")),
    responses(
        (status = 200, description = "The resumed campaign", body = Campaign),
        (status = 404, description = "No such campaign", body = ErrorBody),
        (status = 409, description = "Its status cannot be resumed", body = ErrorBody),
    )
)]
pub async fn resume_campaign(
    State(state): State<AppState>,
    me: CurrentUser,
    CampaignId(id): CampaignId,
) -> ApiResult<AppJson<Campaign>> {
    act(&state, id, UserAction::Resume, &me).await
}

/// Stops the campaign for good; its history stays.
#[utoipa::path(
    post,
    path = "/campaigns/{id}/stop",
    tag = "campaigns",
    params(("id" = i64, Path, description = "Campaign id")),
    responses(
        (status = 200, description = "The stopped campaign", body = Campaign),
        (status = 404, description = "No such campaign", body = ErrorBody),
        (status = 409, description = "Its status cannot be stopped", body = ErrorBody),
    )
)]
pub async fn stop_campaign(
    State(state): State<AppState>,
    me: CurrentUser,
    CampaignId(id): CampaignId,
) -> ApiResult<AppJson<Campaign>> {
    act(&state, id, UserAction::Stop, &me).await
}

/// A new draft with the campaign's steps, named "Copy of …".
#[utoipa::path(
    post,
    path = "/campaigns/{id}/duplicate",
    tag = "campaigns",
    params(("id" = i64, Path, description = "Campaign id")),
    responses(
        (status = 201, description = "The new draft", body = Campaign),
        (status = 404, description = "No such campaign", body = ErrorBody),
    )
)]
pub async fn duplicate_campaign(
    State(state): State<AppState>,
    me: CurrentUser,
    CampaignId(id): CampaignId,
) -> ApiResult<(StatusCode, AppJson<Campaign>)> {
    let campaign = campaigns::duplicate(&state.db, id, &me.email, campaigns::now()).await?;
    Ok((StatusCode::CREATED, AppJson(campaign)))
}

async fn act(
    state: &AppState,
    id: i64,
    action: UserAction,
    me: &CurrentUser,
) -> ApiResult<AppJson<Campaign>> {
    let campaign = campaigns::act(&state.db, id, action, &me.email, campaigns::now()).await?;
    Ok(AppJson(campaign))
}
