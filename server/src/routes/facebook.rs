//! Pass-through listings for the browser's pickers: ad accounts, their campaigns, and a
//! campaign's ad sets, read from Facebook (the sandbox by default) through [`FacebookClient`].

use std::sync::Arc;

use axum::extract::{Path, State};
use shared::error::ErrorBody;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{
    error::{ApiError, ApiResult, AppJson},
    facebook::{
        ErrorKind, FacebookClient, FacebookError,
        client::{AdAccount, AdSet, Campaign},
    },
    state::AppState,
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_ad_accounts))
        .routes(routes!(list_campaigns))
        .routes(routes!(list_ad_sets))
}

/// The server's Facebook client, once a token is configured (on the Settings page or in
/// `FACEBOOK_ACCESS_TOKEN`).
async fn client(state: &AppState) -> ApiResult<Arc<dyn FacebookClient>> {
    state.refresh_facebook().await?;
    let settings = state.facebook_settings();
    if settings.access_token.is_none() && settings.mode == shared::settings::FacebookMode::Live {
        return Err(ApiError::BadRequest(
            "No Facebook access token is configured (Settings → Facebook).".into(),
        ));
    }
    Ok(state.facebook())
}

#[allow(clippy::needless_pass_by_value)] // used as `map_err(to_api)`
fn to_api(err: FacebookError) -> ApiError {
    let text = format!("Facebook: {} {}", err.message, err.advice());
    match err.kind {
        ErrorKind::Retryable | ErrorKind::Unexpected => ApiError::Unavailable(text),
        ErrorKind::NeedsReauth | ErrorKind::Permission | ErrorKind::Invalid => {
            ApiError::BadRequest(text)
        }
    }
}

/// Lists the ad accounts the connected Facebook user can use.
#[utoipa::path(
    get,
    path = "/facebook/ad-accounts",
    tag = "facebook",
    responses(
        (status = 200, description = "Every ad account, all pages followed", body = [AdAccount]),
        (status = 400, description = "Facebook refused (token, permission); the message says what to do", body = ErrorBody),
        (status = 503, description = "Facebook is unreachable or rate limiting; retry later", body = ErrorBody),
    )
)]
pub async fn list_ad_accounts(State(state): State<AppState>) -> ApiResult<AppJson<Vec<AdAccount>>> {
    let fb = client(&state).await?;
    fb.ad_accounts().await.map(AppJson).map_err(to_api)
}

/// Lists the campaigns of an ad account (`act_…`).
#[utoipa::path(
    get,
    path = "/facebook/ad-accounts/{id}/campaigns",
    tag = "facebook",
    // Not `list_campaigns`: that is the app's own campaign list.
    operation_id = "list_facebook_campaigns",
    params(("id" = String, Path, description = "Ad account id, `act_<number>`", pattern = "^act_[0-9]+$")),
    responses(
        (status = 200, description = "Every campaign of the account", body = [Campaign]),
        (status = 400, description = "Facebook refused; the message says what to do", body = ErrorBody),
        (status = 503, description = "Facebook is unreachable or rate limiting; retry later", body = ErrorBody),
    )
)]
pub async fn list_campaigns(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<AppJson<Vec<Campaign>>> {
    if !id.starts_with("act_") || !id[4..].bytes().all(|b| b.is_ascii_digit()) || id.len() == 4 {
        return Err(ApiError::BadRequest(format!(
            "{id:?} is not an ad account id like act_123."
        )));
    }
    let fb = client(&state).await?;
    fb.campaigns(&id).await.map(AppJson).map_err(to_api)
}

/// Lists the ad sets of a campaign, with their targeting.
#[utoipa::path(
    get,
    path = "/facebook/campaigns/{id}/adsets",
    tag = "facebook",
    params(("id" = String, Path, description = "Facebook campaign id: digits", pattern = "^[0-9]+$")),
    responses(
        (status = 200, description = "Every ad set of the campaign", body = [AdSet]),
        (status = 400, description = "Facebook refused; the message says what to do", body = ErrorBody),
        (status = 503, description = "Facebook is unreachable or rate limiting; retry later", body = ErrorBody),
    )
)]
pub async fn list_ad_sets(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<AppJson<Vec<AdSet>>> {
    if id.is_empty() || !id.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ApiError::BadRequest(format!(
            "{id:?} is not a campaign id."
        )));
    }
    let fb = client(&state).await?;
    fb.ad_sets(&id).await.map(AppJson).map_err(to_api)
}
