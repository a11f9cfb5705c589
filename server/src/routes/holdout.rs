//! `GET /api/campaigns/{id}/stats/holdout`: the campaign's audience and holdout compared
//! (`shared::holdout::HoldoutStats`), for the stats page's holdout panel.

use super::campaigns::CampaignId;
use axum::extract::{Query, State, rejection::QueryRejection};
use serde::Deserialize;
use shared::{error::ErrorBody, holdout::HoldoutStats, stats::StatsQuery};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{
    error::{ApiError, ApiResult, AppJson},
    state::AppState,
    stats,
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(get_holdout_stats))
}

/// The days to compare (both included; from the first run with a holdout when absent).
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct HoldoutParams {
    /// First day, `YYYY-MM-DD`, in the ad account's time zone.
    from: Option<String>,
    /// Last day, `YYYY-MM-DD`, included.
    to: Option<String>,
}

/// Conversions per 1,000 people of the audience and of the holdout over the same days, the
/// difference with its 95 % interval, and whether the numbers allow a conclusion.
#[utoipa::path(
    get,
    path = "/campaigns/{id}/stats/holdout",
    tag = "stats",
    params(("id" = i64, Path, description = "Campaign id"), HoldoutParams),
    responses(
        (status = 200, description = "The comparison; empty groups before any run held people out", body = HoldoutStats),
        (status = 404, description = "No such campaign", body = ErrorBody),
        (status = 422, description = "A date is malformed, or the range is reversed", body = ErrorBody),
    )
)]
pub async fn get_holdout_stats(
    State(state): State<AppState>,
    CampaignId(id): CampaignId,
    params: Result<Query<HoldoutParams>, QueryRejection>,
) -> ApiResult<AppJson<HoldoutStats>> {
    let Query(p) = params.map_err(|rejection| ApiError::BadRequest(rejection.body_text()))?;
    let query = StatsQuery::parse(p.from.as_deref(), p.to.as_deref(), None)
        .map_err(ApiError::Validation)?;
    Ok(AppJson(stats::holdout::read(&state.db, id, &query).await?))
}
