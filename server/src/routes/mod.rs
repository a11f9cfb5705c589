//! The HTTP surface: the JSON API under `/api` (each feature its own module with a `router()`),
//! the OpenAPI document, and the SPA for every other path.

mod campaigns;
mod health;
mod labels;
mod openapi;
mod schedules;

use axum::{
    Router,
    extract::{DefaultBodyLimit, OriginalUri},
};
use utoipa_axum::router::OpenApiRouter;

use tower_http::compression::CompressionLayer;

use crate::{error::ApiError, middleware, spa, state::AppState};

/// Every `/api` route, with its OpenAPI description collected as it is registered.
pub fn api_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(openapi::ApiDoc::base())
        .merge(health::router())
        .merge(campaigns::router())
        .merge(labels::router())
        .merge(schedules::router())
}

/// The whole application: API, OpenAPI document, SPA and middleware. Tests build it the same way.
pub fn build_router(state: AppState) -> Router {
    let (api, doc) = api_router().split_for_parts();
    let doc = std::sync::Arc::new(doc);
    let api = api
        .route(
            "/openapi.json",
            axum::routing::get(move || {
                let doc = doc.clone();
                async move { axum::Json((*doc).clone()) }
            }),
        )
        .fallback(api_not_found);

    Router::new()
        .nest("/api", api)
        .fallback(spa::serve)
        .layer(DefaultBodyLimit::max(state.config.body_limit_bytes))
        .layer(CompressionLayer::new())
        .layer(axum::middleware::from_fn(middleware::security_headers))
        .layer(middleware::catch_panic())
        .layer(middleware::trace())
        .with_state(state)
}

// `OriginalUri`: inside the nested `/api` router the plain `Uri` has lost its prefix.
async fn api_not_found(OriginalUri(uri): OriginalUri) -> ApiError {
    ApiError::not_found(format!("There is no API endpoint at {}.", uri.path()))
}
