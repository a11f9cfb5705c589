//! The typed API client: one function per endpoint. Every non-2xx answer is decoded as the
//! shared error body, so callers get a message they can show next to the right field.

use gloo_net::http::{Request, Response};
use serde::de::DeserializeOwned;
use shared::{error::ErrorBody, health::Health};

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ClientError {
    /// The request did not reach the server, or the answer could not be read.
    #[error("The server cannot be reached ({0}).")]
    Network(String),
    /// The server answered with an error body.
    #[error("{0}")]
    Api(ErrorBody),
}

impl From<gloo_net::Error> for ClientError {
    fn from(err: gloo_net::Error) -> Self {
        Self::Network(err.to_string())
    }
}

/// `GET /api/health`.
pub async fn get_health() -> Result<Health, ClientError> {
    into_json(Request::get("/api/health").send().await?).await
}

async fn into_json<T: DeserializeOwned>(res: Response) -> Result<T, ClientError> {
    if res.ok() {
        return Ok(res.json().await?);
    }
    let status = res.status();
    match res.json::<ErrorBody>().await {
        Ok(body) => Err(ClientError::Api(body)),
        // A proxy or a crashed server may answer without our error body.
        Err(_) => Err(ClientError::Network(format!("HTTP {status}"))),
    }
}
