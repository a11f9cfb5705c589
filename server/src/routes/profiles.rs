//! `GET /api/profiles?q=`: find a person by identity, e-mail or phone; and
//! `GET /api/profiles/{identity}/explain`: why they are (or are not) in a campaign's audience or
//! a saved segment.

use axum::extract::{Path, Query, State, rejection::QueryRejection};
use jiff::{Timestamp, tz::TimeZone};
use serde::Deserialize;
use shared::{
    error::ErrorBody,
    profile_view::{
        ExplainSubject, MembershipExplanation, ProfileSummary, SEARCH_LIMIT, explain_query,
        mask_email, mask_phone, search_text,
    },
};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{
    campaigns::repo as campaign_repo,
    customer::person,
    db::{Db, with_pool},
    error::{ApiError, ApiResult, AppJson},
    facebook::hashing::{MatchKey, normalize_into},
    state::AppState,
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(search_profiles))
        .routes(routes!(explain_profile))
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchParams {
    /// An identity, an e-mail address or a phone number (normalised as match keys are).
    q: Option<String>,
}

/// Profiles whose identity, e-mail or phone is exactly `q` (e-mail and phone compared in their
/// normalised form: `Jane@Example.com ` finds `jane@example.com`, `+1 (415) 555-1234` finds
/// `+14155551234`). Contact keys come back masked.
#[utoipa::path(
    get,
    path = "/profiles",
    tag = "customer data",
    params(SearchParams),
    responses(
        (status = 200, description = "Matching profiles (at most 20)", body = Vec<ProfileSummary>),
        (status = 400, description = "Malformed query string", body = ErrorBody),
        (status = 422, description = "`q` is empty or too long", body = ErrorBody),
    )
)]
pub async fn search_profiles(
    State(state): State<AppState>,
    params: Result<Query<SearchParams>, QueryRejection>,
) -> ApiResult<AppJson<Vec<ProfileSummary>>> {
    let Query(p) = params.map_err(|rejection| ApiError::BadRequest(rejection.body_text()))?;
    let q = search_text(p.q.as_deref()).map_err(|e| ApiError::Validation(vec![e]))?;
    Ok(AppJson(search(&state.db, q).await?))
}

async fn search(db: &Db, q: &str) -> sqlx::Result<Vec<ProfileSummary>> {
    let mut email = String::new();
    normalize_into(MatchKey::Email, q, 9999, &mut email);
    let mut digits = String::new();
    normalize_into(MatchKey::Phone, q, 9999, &mut digits);
    // Phones are stored in E.164; an empty key matches no stored value.
    let phone = if digits.is_empty() {
        String::new()
    } else {
        format!("+{digits}")
    };
    let rows: Vec<(String, Option<String>, Option<String>, i64)> = with_pool!(db, pool => {
        sqlx::query_as(
            "select identity, email, phone, updated_at from profiles \
             where identity = $1 or email = $2 or phone = $3 order by identity limit $4",
        )
        .bind(q)
        .bind(&email)
        .bind(&phone)
        .bind(SEARCH_LIMIT as i64)
        .fetch_all(pool)
        .await?
    });
    Ok(rows
        .into_iter()
        .map(|(identity, email, phone, updated_at)| ProfileSummary {
            identity,
            email: email.as_deref().map(mask_email),
            phone: phone.as_deref().map(mask_phone),
            updated_at: Timestamp::from_second(updated_at).unwrap_or_default(),
        })
        .collect())
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExplainParams {
    /// A campaign id: its audience, in its schedule's time zone.
    campaign: Option<String>,
    /// A saved segment id, in UTC (give this or `campaign`).
    segment: Option<String>,
    /// The instant to evaluate at (RFC 3339), e.g. a run's; now when absent.
    at: Option<String>,
}

/// The audience of a campaign, or a saved segment, evaluated for this person at `at` (now by
/// default): every rule with its verdict and the figure behind it, including the saved
/// segments it refers to.
#[utoipa::path(
    get,
    path = "/profiles/{identity}/explain",
    tag = "customer data",
    params(("identity" = String, Path, description = "The profile's identity"), ExplainParams),
    responses(
        (status = 200, description = "The explained segment", body = MembershipExplanation),
        (status = 400, description = "Malformed query string", body = ErrorBody),
        (status = 404, description = "No such profile, campaign or saved segment, or the campaign has no audience yet", body = ErrorBody),
        (status = 422, description = "Neither or both of campaign and segment, or `at` is not RFC 3339", body = ErrorBody),
    )
)]
pub async fn explain_profile(
    State(state): State<AppState>,
    Path(identity): Path<String>,
    params: Result<Query<ExplainParams>, QueryRejection>,
) -> ApiResult<AppJson<MembershipExplanation>> {
    let Query(p) = params.map_err(|rejection| ApiError::BadRequest(rejection.body_text()))?;
    let (subject, at) = explain_query(p.campaign.as_deref(), p.segment.as_deref(), p.at.as_deref())
        .map_err(ApiError::Validation)?;
    let at = at.unwrap_or_else(Timestamp::now);
    let (name, segment, tz) = match subject {
        ExplainSubject::Campaign(id) => {
            let campaign = campaign_repo::find(&state.db, id)
                .await?
                .ok_or_else(|| ApiError::not_found(format!("There is no campaign {id}.")))?
                .campaign;
            let segment = campaign.audience.ok_or_else(|| {
                ApiError::not_found(format!(
                    "Campaign \u{201c}{}\u{201d} has no audience yet (its Who step is empty).",
                    campaign.name
                ))
            })?;
            // The zone its runs evaluate the segment in (see `sync::plan`).
            let tz = campaign
                .schedule
                .as_ref()
                .and_then(|s| TimeZone::get(&s.time_zone).ok())
                .unwrap_or(TimeZone::UTC);
            (
                format!("campaign \u{201c}{}\u{201d}", campaign.name),
                segment,
                tz,
            )
        }
        ExplainSubject::SavedSegment(id) => {
            let saved = crate::customer::saved::get(&state.db, id).await?;
            (
                format!("saved segment \u{201c}{}\u{201d}", saved.name),
                saved.definition,
                TimeZone::UTC,
            )
        }
    };
    let explanation = person::explain_person(&state.db, &identity, &segment, at, &tz)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("There is no profile {identity:?}.")))?;
    Ok(AppJson(MembershipExplanation {
        identity,
        subject: name,
        at,
        time_zone: tz.iana_name().unwrap_or("UTC").to_owned(),
        member: explanation.matched,
        explanation,
    }))
}
