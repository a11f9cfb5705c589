//! The OpenAPI 3.1 document, generated from the handlers' `#[utoipa::path]` annotations and the
//! `shared` types' schemas. Served at `GET /api/openapi.json`.

use utoipa::OpenApi;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Facebook Audiences API",
        description = "Self-hosted Facebook Audiences campaigns: schedules, segments, audience sync and ad stats. Every error answers with the `ErrorBody` schema."
    ),
    components(schemas(shared::error::ErrorBody))
)]
pub struct ApiDoc;

impl ApiDoc {
    pub fn base() -> utoipa::openapi::OpenApi {
        let mut doc = Self::openapi();
        doc.info.version = env!("CARGO_PKG_VERSION").to_owned();
        doc.servers = Some(vec![utoipa::openapi::Server::new("/api")]);
        doc
    }
}
