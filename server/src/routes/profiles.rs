//! `GET /api/profiles?q=`: find a person by identity, e-mail or phone;
//! `GET /api/profiles/{identity}` (and its events, a page at a time): what is known about them;
//! `GET /api/profiles/{identity}/explain`: why they are (or are not) in a campaign's audience or
//! a saved segment; `DELETE /api/profiles/{identity}`: forget them.

use axum::extract::{Path, Query, State, rejection::QueryRejection};
use jiff::{Timestamp, tz::TimeZone};
use serde::Deserialize;
use shared::{
    error::ErrorBody,
    profile_view::{
        ErasedProfile, EventPage, ExplainSubject, MembershipExplanation, ProfileDetail,
        ProfileSummary, SEARCH_LIMIT, explain_query, mask_email, mask_phone, search_text,
        viewer_zone,
    },
};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{
    audit,
    auth::CurrentUser,
    campaigns::{now, repo as campaign_repo},
    customer::{erase, person},
    db::{Db, with_pool},
    error::{ApiError, ApiResult, AppJson},
    facebook::hashing::{MatchKey, normalize_into},
    state::AppState,
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(search_profiles))
        .routes(routes!(get_profile, delete_profile))
        .routes(routes!(profile_events))
        .routes(routes!(explain_profile))
}

fn no_profile(identity: &str) -> ApiError {
    ApiError::not_found(format!("There is no profile {identity:?}."))
}

/// What is known about one person: properties with their types, the match keys present
/// (masked), the newest events, the saved segments they are in now, and the campaigns whose
/// audience holds them per each campaign's last confirmed sync.
#[utoipa::path(
    get,
    path = "/profiles/{identity}",
    tag = "customer data",
    params(("identity" = String, Path, description = "The profile's identity")),
    responses(
        (status = 200, description = "The profile", body = ProfileDetail),
        (status = 404, description = "No such profile", body = ErrorBody),
    )
)]
pub async fn get_profile(
    State(state): State<AppState>,
    Path(identity): Path<String>,
) -> ApiResult<AppJson<ProfileDetail>> {
    let detail = person::detail(&state.db, &identity, Timestamp::now())
        .await?
        .ok_or_else(|| no_profile(&identity))?;
    Ok(AppJson(detail))
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EventsParams {
    /// How many of the newest events to skip (the previous page's `next_offset`).
    offset: Option<u64>,
}

/// A page of the person's events, newest first, with their properties.
#[utoipa::path(
    get,
    path = "/profiles/{identity}/events",
    tag = "customer data",
    params(("identity" = String, Path, description = "The profile's identity"), EventsParams),
    responses(
        (status = 200, description = "Up to 20 events", body = EventPage),
        (status = 400, description = "Malformed query string", body = ErrorBody),
        (status = 404, description = "No such profile", body = ErrorBody),
    )
)]
pub async fn profile_events(
    State(state): State<AppState>,
    Path(identity): Path<String>,
    params: Result<Query<EventsParams>, QueryRejection>,
) -> ApiResult<AppJson<EventPage>> {
    let Query(p) = params.map_err(|rejection| ApiError::BadRequest(rejection.body_text()))?;
    let id = person::profile_id(&state.db, &identity)
        .await?
        .ok_or_else(|| no_profile(&identity))?;
    Ok(AppJson(
        person::events_page(&state.db, id, p.offset.unwrap_or(0)).await?,
    ))
}

/// Forgets a person: the profile, its properties, events and match keys are erased; every
/// campaign audience on Facebook that holds them gets a removal by EXTERN_ID queued at once;
/// the audit log records the erasure without personal data. Sending the identity again later
/// creates a new profile.
#[utoipa::path(
    delete,
    path = "/profiles/{identity}",
    tag = "customer data",
    params(("identity" = String, Path, description = "The profile's identity")),
    responses(
        (status = 200, description = "What was erased (counts only)", body = ErasedProfile),
        (status = 404, description = "No such profile", body = ErrorBody),
    )
)]
pub async fn delete_profile(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(identity): Path<String>,
) -> ApiResult<AppJson<ErasedProfile>> {
    let erased = erase::erase(&state.db, &identity, now())
        .await?
        .ok_or_else(|| no_profile(&identity))?;
    record_erasure(&state, &me.email, &erased).await?;
    Ok(AppJson(erased.counts))
}

/// The audit line of an erasure: the row id and counts, never the identity or any key (the
/// identity is often an e-mail address).
pub async fn record_erasure(
    state: &AppState,
    actor: &str,
    erased: &erase::Erasure,
) -> ApiResult<()> {
    let c = &erased.counts;
    audit::record(
        &state.db,
        audit::Record {
            actor,
            action: "erased",
            entity_type: "profile",
            entity_id: erased.profile_id.to_string(),
            summary: format!(
                "Profile #{} erased: {} properties, {} events, {} match keys; removal queued from {} Facebook audience{}",
                erased.profile_id,
                c.properties,
                c.events,
                c.match_keys,
                c.audiences,
                if c.audiences == 1 { "" } else { "s" }
            ),
            before: None,
            after: None,
        },
        now(),
    )
    .await
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
    /// The viewer's IANA time zone: the explanation's texts show instants on its clock
    /// ("Mon 7 Dec 2026, 15:21 CET"); UTC when absent.
    tz: Option<String>,
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
        (status = 422, description = "Neither or both of campaign and segment, `at` is not RFC 3339, or `tz` is not a time zone", body = ErrorBody),
    )
)]
pub async fn explain_profile(
    State(state): State<AppState>,
    Path(identity): Path<String>,
    params: Result<Query<ExplainParams>, QueryRejection>,
) -> ApiResult<AppJson<MembershipExplanation>> {
    let Query(p) = params.map_err(|rejection| ApiError::BadRequest(rejection.body_text()))?;
    let query = explain_query(p.campaign.as_deref(), p.segment.as_deref(), p.at.as_deref());
    let shown_in = viewer_zone(p.tz.as_deref());
    let ((subject, at), shown_in) = match (query, shown_in) {
        (Ok(query), Ok(zone)) => (query, zone),
        (query, zone) => {
            let mut errors = query.err().unwrap_or_default();
            errors.extend(zone.err());
            return Err(ApiError::Validation(errors));
        }
    };
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
    let explanation = person::explain_person(&state.db, &identity, &segment, at, &tz, &shown_in)
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
