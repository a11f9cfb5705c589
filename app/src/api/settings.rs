//! Settings → Facebook: `/api/settings/facebook`. Secrets are only ever sent, never received.

use gloo_net::http::Request;
use shared::settings::{ConnectStart, ConnectionTest, FacebookSettings, FacebookSettingsInput};

use super::{ClientError, into_json, send_json};

/// `GET /api/settings/facebook`: mode, "set, ends with …", connected ad accounts.
pub async fn get_facebook_settings() -> Result<FacebookSettings, ClientError> {
    into_json(Request::get("/api/settings/facebook").send().await?).await
}

/// `PUT /api/settings/facebook` (admins).
pub async fn put_facebook_settings(
    input: FacebookSettingsInput,
) -> Result<FacebookSettings, ClientError> {
    send_json(Request::put("/api/settings/facebook"), &input).await
}

/// `POST /api/settings/facebook/test` (admins).
pub async fn test_facebook_connection() -> Result<ConnectionTest, ClientError> {
    into_json(Request::post("/api/settings/facebook/test").send().await?).await
}

/// `POST /api/settings/facebook/connect` (admins): the address of Facebook's OAuth dialog.
pub async fn connect_facebook() -> Result<ConnectStart, ClientError> {
    into_json(
        Request::post("/api/settings/facebook/connect")
            .send()
            .await?,
    )
    .await
}

/// `GET /api/settings/consent`: the ads consent property, if syncs filter on it.
pub async fn get_consent() -> Result<shared::consent::ConsentSettings, ClientError> {
    into_json(Request::get("/api/settings/consent").send().await?).await
}

/// `PUT /api/settings/consent` (admins); an empty property turns the filter off.
pub async fn put_consent(
    input: shared::consent::ConsentInput,
) -> Result<shared::consent::ConsentSettings, ClientError> {
    send_json(Request::put("/api/settings/consent"), &input).await
}
