//! `/api/labels`: the labels every campaign can use.

use axum::{extract::State, http::StatusCode};
use shared::{
    error::ErrorBody,
    label::{Label, LabelInput},
};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{
    auth::CurrentUser,
    campaigns,
    error::{ApiResult, AppJson},
    state::AppState,
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_labels, create_label))
}

/// Every label, by name.
#[utoipa::path(
    get,
    path = "/labels",
    tag = "labels",
    responses((status = 200, description = "Every label, sorted by name", body = Vec<Label>))
)]
pub async fn list_labels(State(state): State<AppState>) -> ApiResult<AppJson<Vec<Label>>> {
    Ok(AppJson(campaigns::list_labels(&state.db).await?))
}

/// Creates a label. Names are unique regardless of case and spacing.
#[utoipa::path(
    post,
    path = "/labels",
    tag = "labels",
    request_body = LabelInput,
    responses(
        (status = 201, description = "The new label", body = Label),
        (status = 400, description = "The body is not a label", body = ErrorBody),
        (status = 422, description = "The name is empty, too long or taken, or the colour is not #rrggbb", body = ErrorBody),
    )
)]
pub async fn create_label(
    State(state): State<AppState>,
    me: CurrentUser,
    AppJson(input): AppJson<LabelInput>,
) -> ApiResult<(StatusCode, AppJson<Label>)> {
    let label = campaigns::create_label(&state.db, &input, &me.email, campaigns::now()).await?;
    Ok((StatusCode::CREATED, AppJson(label)))
}
