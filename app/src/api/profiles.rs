//! One person: `/api/profiles/{identity}` (read, its events a page at a time, erase).

use gloo_net::http::Request;
use shared::profile_view::{ErasedProfile, EventPage, ProfileDetail};

use super::{ClientError, into_json};

fn path(identity: &str) -> String {
    format!(
        "/api/profiles/{}",
        String::from(js_sys::encode_uri_component(identity))
    )
}

/// `GET /api/profiles/{identity}`.
pub async fn get_profile(identity: String) -> Result<ProfileDetail, ClientError> {
    into_json(Request::get(&path(&identity)).send().await?).await
}

/// `GET /api/profiles/{identity}/events?offset=`: the next page of the timeline.
pub async fn profile_events(identity: String, offset: u64) -> Result<EventPage, ClientError> {
    into_json(
        Request::get(&format!("{}/events", path(&identity)))
            .query([("offset", offset.to_string())])
            .send()
            .await?,
    )
    .await
}

/// `DELETE /api/profiles/{identity}` (admins): erases the person.
pub async fn delete_profile(identity: String) -> Result<ErasedProfile, ClientError> {
    into_json(Request::delete(&path(&identity)).send().await?).await
}
