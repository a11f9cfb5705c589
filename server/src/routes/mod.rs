//! The HTTP surface: the JSON API under `/api` (each feature its own module with a `router()`),
//! the OpenAPI document, and the SPA for every other path.

mod api_keys;
mod audit;
mod auth;
mod campaigns;
mod consent;
mod data;
mod erasure;
mod facebook;
mod health;
mod holdout;
mod labels;
mod openapi;
mod profiles;
mod runs;
mod schedules;
mod segment_api;
mod segments;
mod settings;
mod stats;
mod timezones;
mod upload;
mod users;

use axum::{
    Router,
    extract::{DefaultBodyLimit, OriginalUri},
};
use utoipa_axum::router::OpenApiRouter;

use tower_http::compression::CompressionLayer;

pub use stats::PUBLIC_PATH_PREFIX as PUBLIC_STATS_PATH_PREFIX;

use crate::{error::ApiError, middleware, spa, state::AppState};

/// Every `/api` route, with its OpenAPI description collected as it is registered.
pub fn api_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(openapi::ApiDoc::base())
        .merge(health::router())
        .merge(campaigns::router())
        .merge(labels::router())
        .merge(facebook::router())
        .merge(schedules::router())
        .merge(segments::router())
        .merge(upload::router())
        .merge(data::router())
        .merge(profiles::router())
        .merge(erasure::router())
        .merge(consent::router())
        .merge(auth::router())
        .merge(users::router())
        .merge(api_keys::router())
        .merge(audit::router())
        .merge(runs::router())
        .merge(timezones::router())
        .merge(stats::router())
        .merge(holdout::router())
        .merge(settings::router())
}

/// The OpenAPI document `GET /api/openapi.json` serves.
pub fn openapi_document() -> serde_json::Value {
    openapi::finish(api_router().split_for_parts().1)
}

/// The whole application: API, OpenAPI document, SPA and middleware. Tests build it the same way.
pub fn build_router(state: AppState) -> Router {
    let (api, doc) = api_router().split_for_parts();
    let doc = std::sync::Arc::new(openapi::finish(doc));
    let api = api
        .route(
            "/openapi.json",
            axum::routing::get(move || {
                let doc = doc.clone();
                async move { axum::Json((*doc).clone()) }
            }),
        )
        // After every route is added: each one is checked against `auth::policy::POLICY`.
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::auth::guard::guard,
        ))
        .fallback(api_not_found);

    Router::new()
        .nest("/api", api)
        // Outside `/api`, where Prometheus looks by default; its own token, not a session.
        .route("/metrics", axum::routing::get(crate::metrics::serve))
        // Segment's tracking API, where its SDKs post (`<host>/v1/batch`); a write key each.
        .merge(segment_api::router())
        .merge(crate::sandbox::router_for(&state))
        .fallback(spa::serve)
        .layer(DefaultBodyLimit::max(state.config.body_limit_bytes))
        .layer(CompressionLayer::new())
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            middleware::allowed_host,
        ))
        .layer(axum::middleware::from_fn(middleware::security_headers))
        .layer(middleware::catch_panic())
        // Outside `catch_panic`, so a panicking handler is counted as the 500 it answers.
        .layer(axum::middleware::from_fn(crate::metrics::track))
        .layer(middleware::trace())
        .with_state(state)
}

// `OriginalUri`: inside the nested `/api` router the plain `Uri` has lost its prefix.
async fn api_not_found(OriginalUri(uri): OriginalUri) -> ApiError {
    ApiError::not_found(format!("There is no API endpoint at {}.", uri.path()))
}
