//! Settings → Ads consent: `GET /api/settings/consent` (everyone: the wizard's Overview and the
//! stats page say when the filter is on) and `PUT /api/settings/consent` (admins).

use axum::extract::State;
use shared::{
    consent::{ConsentInput, ConsentSettings, consent_kind_problem, validate_consent_input},
    error::ErrorBody,
};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{
    audit,
    auth::CurrentUser,
    campaigns::now,
    error::{ApiError, ApiResult, AppJson},
    state::AppState,
    sync::consent,
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(get_consent, put_consent))
}

/// The ads consent property (none: every sync sends the whole segment), with how many profiles
/// consent now.
#[utoipa::path(
    get,
    path = "/settings/consent",
    tag = "settings",
    responses((status = 200, description = "The setting", body = ConsentSettings))
)]
pub async fn get_consent(State(state): State<AppState>) -> ApiResult<AppJson<ConsentSettings>> {
    Ok(AppJson(consent::settings(&state.db).await?))
}

/// Names the boolean profile property that holds ads consent, or turns the filter off (an
/// empty or absent `property`). From the next run on, every sync sends only people whose
/// property is `true`, and removes the others from the audience.
#[utoipa::path(
    put,
    path = "/settings/consent",
    tag = "settings",
    request_body = ConsentInput,
    responses(
        (status = 200, description = "The setting as saved", body = ConsentSettings),
        (status = 422, description = "The property name is too long, has control characters, or holds values that are not booleans", body = ErrorBody),
    )
)]
pub async fn put_consent(
    State(state): State<AppState>,
    me: CurrentUser,
    AppJson(input): AppJson<ConsentInput>,
) -> ApiResult<AppJson<ConsentSettings>> {
    let property = validate_consent_input(&input).map_err(|e| ApiError::Validation(vec![e]))?;
    if let Some(p) = &property {
        let kind = consent::registered_kind(&state.db, p).await?;
        if let Some(e) = consent_kind_problem(p, kind.as_deref()) {
            return Err(ApiError::Validation(vec![e]));
        }
    }
    let before = consent::property(&state.db).await?;
    consent::set_property(&state.db, property.as_deref()).await?;
    if before != property {
        let describe = |p: &Option<String>| match p {
            Some(p) => format!("ads consent: {p}"),
            None => "ads consent: off".to_owned(),
        };
        audit::record(
            &state.db,
            audit::Record {
                actor: &me.email,
                action: "changed",
                entity_type: "settings",
                entity_id: "ads_consent".into(),
                summary: "Ads consent filtering".into(),
                before: Some(describe(&before)),
                after: Some(describe(&property)),
            },
            now(),
        )
        .await?;
    }
    Ok(AppJson(consent::settings(&state.db).await?))
}
