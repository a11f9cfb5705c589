//! Campaign stats and their share links:
//!
//! - `GET /api/campaigns/{id}/stats`, `GET /api/campaigns/{id}/stats.csv`,
//!   `POST /api/campaigns/{id}/stats/refresh`;
//! - `GET|POST /api/campaigns/{id}/share-links`, `DELETE /api/campaigns/{id}/share-links/{link_id}`;
//! - **public, no session:** `GET /api/share/{token}/stats` and `GET /api/share/{token}/stats.csv`
//!   ([`PUBLIC_PATH_PREFIX`]). They answer one campaign's stats only: no profile data, no tokens,
//!   no other campaign; a revoked or expired link answers 404 like an unknown one.

use super::campaigns::CampaignId;
use axum::{
    extract::{Path, Query, State, rejection::QueryRejection},
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde::Deserialize;
use shared::{
    error::ErrorBody,
    stats::{CampaignStats, CreatedShareLink, NewShareLink, ShareLink, StatsQuery, StatsRefresh},
};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{
    campaigns,
    error::{ApiError, ApiResult, AppJson},
    state::AppState,
    stats::{self, share},
};

/// Routes under this prefix (below `/api`) are public: a share link is opened without a session.
pub const PUBLIC_PATH_PREFIX: &str = "/share/";

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_campaign_stats))
        .routes(routes!(get_campaign_stats_csv))
        .routes(routes!(refresh_campaign_stats))
        .routes(routes!(list_share_links, create_share_link))
        .routes(routes!(revoke_share_link))
        .routes(routes!(get_shared_stats))
        .routes(routes!(get_shared_stats_csv))
}

/// The stats page's view: a date range (both days included; from the campaign's first sync when
/// `from` is absent, or the ad set's whole history with `range=lifetime`) and ads.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StatsParams {
    /// First day, `YYYY-MM-DD`, in the ad account's time zone; empty is the same as absent.
    // `shared::stats::StatsQuery::parse`: trimmed, then empty or ten characters of a date.
    #[param(
        pattern = r"^[\t-\r \u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*([0-9]{4}-[0-9]{2}-[0-9]{2}[\t-\r \u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*)?$"
    )]
    from: Option<String>,
    /// Last day, `YYYY-MM-DD`, included; empty is the same as absent.
    #[param(
        pattern = r"^[\t-\r \u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*([0-9]{4}-[0-9]{2}-[0-9]{2}[\t-\r \u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*)?$"
    )]
    to: Option<String>,
    /// Comma-separated Facebook ad ids; every ad when absent.
    ads: Option<String>,
    /// `lifetime`: from the ad set's first day rather than the campaign's first sync (no `from`).
    range: Option<String>,
}

fn stats_query(params: Result<Query<StatsParams>, QueryRejection>) -> ApiResult<StatsQuery> {
    let Query(p) = params.map_err(|rejection| ApiError::BadRequest(rejection.body_text()))?;
    StatsQuery::parse_view(
        p.from.as_deref(),
        p.to.as_deref(),
        p.ads.as_deref(),
        p.range.as_deref(),
    )
    .map_err(ApiError::Validation)
}

/// A campaign id from the path; anything else is the same 404 as an unknown campaign.
fn campaign_id(raw: &str) -> ApiResult<i64> {
    raw.parse()
        .map_err(|_| ApiError::not_found(format!("There is no campaign {raw:?}.")))
}

fn csv_response(csv: String, filename: &str) -> Response {
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/csv; charset=utf-8"),
            ),
            (
                header::CONTENT_DISPOSITION,
                HeaderValue::from_str(&format!("attachment; filename=\"{filename}\""))
                    .unwrap_or(HeaderValue::from_static("attachment")),
            ),
        ],
        csv,
    )
        .into_response()
}

/// Public answers are not indexed, and not cached, so a revoked link stops working at once.
fn public(mut res: Response) -> Response {
    let h = res.headers_mut();
    h.insert(
        "x-robots-tag",
        HeaderValue::from_static("noindex, nofollow"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

/// A campaign's stats: totals, daily series and per-ad table, with the sync figures.
#[utoipa::path(
    get,
    path = "/campaigns/{id}/stats",
    tag = "stats",
    params(("id" = i64, Path, description = "Campaign id"), StatsParams),
    responses(
        (status = 200, description = "The stats of the range and ads asked for", body = CampaignStats),
        (status = 404, description = "No such campaign", body = ErrorBody),
        (status = 422, description = "A date or ad id is malformed, or the range is reversed", body = ErrorBody),
    )
)]
pub async fn get_campaign_stats(
    State(state): State<AppState>,
    CampaignId(id): CampaignId,
    params: Result<Query<StatsParams>, QueryRejection>,
) -> ApiResult<AppJson<CampaignStats>> {
    let query = stats_query(params)?;
    Ok(AppJson(stats::read_stats(&state.db, id, query).await?))
}

/// The per-day, per-ad rows of the same view as CSV.
#[utoipa::path(
    get,
    path = "/campaigns/{id}/stats.csv",
    tag = "stats",
    params(("id" = i64, Path, description = "Campaign id"), StatsParams),
    responses(
        (status = 200, description = "date,ad_id,ad_name,impressions,clicks,spend,currency", content_type = "text/csv", body = String),
        (status = 404, description = "No such campaign", body = ErrorBody),
        (status = 422, description = "A parameter is malformed", body = ErrorBody),
    )
)]
pub async fn get_campaign_stats_csv(
    State(state): State<AppState>,
    CampaignId(id): CampaignId,
    params: Result<Query<StatsParams>, QueryRejection>,
) -> ApiResult<Response> {
    let query = stats_query(params)?;
    let csv = stats::stats_csv(&state.db, id, &query).await?;
    Ok(csv_response(csv, &format!("campaign-{id}-stats.csv")))
}

/// Fetches the campaign's stats from Facebook now; the next scheduled fetch is due a period
/// (`STATS_REFRESH_SECS`) after this one.
#[utoipa::path(
    post,
    path = "/campaigns/{id}/stats/refresh",
    tag = "stats",
    params(("id" = i64, Path, description = "Campaign id")),
    responses(
        (status = 200, description = "What was fetched", body = StatsRefresh),
        (status = 400, description = "Facebook refused (token, permission, ad set); the message says what to do", body = ErrorBody),
        (status = 404, description = "No such campaign", body = ErrorBody),
        (status = 409, description = "The campaign has no ad set yet", body = ErrorBody),
        (status = 503, description = "Facebook is unreachable or rate limiting; the stored stats are kept", body = ErrorBody),
    )
)]
pub async fn refresh_campaign_stats(
    State(state): State<AppState>,
    CampaignId(id): CampaignId,
) -> ApiResult<AppJson<StatsRefresh>> {
    let done = stats::fetch_campaign_stats(&state, id).await?;
    // This fetch is the period's: the scheduled one moves to a period after it.
    crate::jobs::stats::fetched_manually(&state, id, done.last_updated).await?;
    Ok(AppJson(done))
}

/// The campaign's share links, newest first (without their tokens).
#[utoipa::path(
    get,
    path = "/campaigns/{id}/share-links",
    tag = "stats",
    params(("id" = i64, Path, description = "Campaign id")),
    responses(
        (status = 200, description = "Every link, active or not", body = Vec<ShareLink>),
        (status = 404, description = "No such campaign", body = ErrorBody),
    )
)]
pub async fn list_share_links(
    State(state): State<AppState>,
    CampaignId(id): CampaignId,
) -> ApiResult<AppJson<Vec<ShareLink>>> {
    Ok(AppJson(share::list(&state.db, id, campaigns::now()).await?))
}

/// Creates a public read-only link to the campaign's stats; the token is in this answer only.
#[utoipa::path(
    post,
    path = "/campaigns/{id}/share-links",
    tag = "stats",
    params(("id" = i64, Path, description = "Campaign id")),
    request_body = NewShareLink,
    responses(
        (status = 201, description = "The link and its token", body = CreatedShareLink),
        (status = 404, description = "No such campaign", body = ErrorBody),
        (status = 422, description = "The expiry is not in the future", body = ErrorBody),
    )
)]
pub async fn create_share_link(
    State(state): State<AppState>,
    CampaignId(id): CampaignId,
    AppJson(input): AppJson<NewShareLink>,
) -> ApiResult<(StatusCode, AppJson<CreatedShareLink>)> {
    let created = share::create(&state.db, id, &input, campaigns::now()).await?;
    Ok((StatusCode::CREATED, AppJson(created)))
}

/// Revokes a share link: it answers 404 from now on.
#[utoipa::path(
    delete,
    path = "/campaigns/{id}/share-links/{link_id}",
    tag = "stats",
    params(
        ("id" = i64, Path, description = "Campaign id"),
        ("link_id" = i64, Path, description = "Share link id"),
    ),
    responses(
        (status = 200, description = "The revoked link", body = ShareLink),
        (status = 404, description = "No such campaign or link", body = ErrorBody),
    )
)]
pub async fn revoke_share_link(
    State(state): State<AppState>,
    Path((id, link_id)): Path<(String, String)>,
) -> ApiResult<AppJson<ShareLink>> {
    let id = campaign_id(&id)?;
    let link_id: i64 = link_id
        .parse()
        .map_err(|_| ApiError::not_found("There is no such share link."))?;
    Ok(AppJson(
        share::revoke(&state.db, id, link_id, campaigns::now()).await?,
    ))
}

/// **Public.** The stats of the campaign a share link opens.
#[utoipa::path(
    get,
    path = "/share/{token}/stats",
    tag = "stats",
    params(("token" = String, Path, description = "The share link's token"), StatsParams),
    responses(
        (status = 200, description = "The campaign's stats, as on its stats page", body = CampaignStats),
        (status = 404, description = "Unknown, revoked or expired link", body = ErrorBody),
        (status = 422, description = "A parameter is malformed", body = ErrorBody),
    )
)]
pub async fn get_shared_stats(
    State(state): State<AppState>,
    Path(token): Path<String>,
    params: Result<Query<StatsParams>, QueryRejection>,
) -> ApiResult<Response> {
    let id = share::resolve(&state.db, &token, campaigns::now()).await?;
    let query = stats_query(params)?;
    let stats = stats::read_stats(&state.db, id, query).await?;
    Ok(public(AppJson(stats).into_response()))
}

/// **Public.** The CSV of the campaign a share link opens.
#[utoipa::path(
    get,
    path = "/share/{token}/stats.csv",
    tag = "stats",
    params(("token" = String, Path, description = "The share link's token"), StatsParams),
    responses(
        (status = 200, description = "date,ad_id,ad_name,impressions,clicks,spend,currency", content_type = "text/csv", body = String),
        (status = 404, description = "Unknown, revoked or expired link", body = ErrorBody),
        (status = 422, description = "A parameter is malformed", body = ErrorBody),
    )
)]
pub async fn get_shared_stats_csv(
    State(state): State<AppState>,
    Path(token): Path<String>,
    params: Result<Query<StatsParams>, QueryRejection>,
) -> ApiResult<Response> {
    let id = share::resolve(&state.db, &token, campaigns::now()).await?;
    let query = stats_query(params)?;
    let csv = stats::stats_csv(&state.db, id, &query).await?;
    Ok(public(csv_response(csv, "campaign-stats.csv")))
}
