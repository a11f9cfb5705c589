//! `GET /api/data`: what the product knows about the customers (the Data page).

use axum::extract::State;
use shared::data_overview::DataOverview;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{
    customer::activity,
    error::{ApiResult, AppJson},
    state::AppState,
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(get_data_overview))
}

/// Totals, match-key coverage, sources, events by name with their last 30 days, profile
/// properties, and the latest refused records.
#[utoipa::path(
    get,
    path = "/data",
    tag = "customer data",
    responses((status = 200, description = "The data overview", body = DataOverview))
)]
pub async fn get_data_overview(State(state): State<AppState>) -> ApiResult<AppJson<DataOverview>> {
    Ok(AppJson(activity::overview(&state.db).await?))
}
