//! The time zone endpoints: the browser loads zone rules on demand instead of bundling them.

use gloo_net::http::Request;
use jiff::tz::TimeZone;

use super::{ClientError, into_error, into_json};

/// `GET /api/timezones`: every IANA zone name the server knows, sorted.
pub async fn list_time_zones() -> Result<Vec<String>, ClientError> {
    into_json(Request::get("/api/timezones").send().await?).await
}

/// `GET /api/timezones/{name}`: one zone's rules (TZif), ready for the schedule math.
pub async fn get_time_zone(name: &str) -> Result<TimeZone, ClientError> {
    // Zone names hold slashes; the server takes the name as one percent-encoded segment.
    let url = format!("/api/timezones/{}", name.replace('/', "%2F"));
    let res = Request::get(&url).send().await?;
    if !res.ok() {
        return Err(into_error(res).await);
    }
    let bytes = res.binary().await?;
    // jiff's error text is not shown: formatting it would pull its whole message catalogue into
    // the WASM for a case that means a broken server.
    TimeZone::tzif(name, &bytes)
        .map_err(|_| ClientError::Network(format!("the rules of {name} could not be read")))
}
