//! Audience sync run endpoints (`/api/campaigns/{id}/runs`).

use gloo_net::http::Request;
use shared::sync::{RunRequest, RunRow, RunStarted};

use super::{ClientError, into_json, send_json};

/// `GET /api/campaigns/{id}/runs`: newest first, with the progress of the one in flight.
pub async fn list_runs(id: i64) -> Result<Vec<RunRow>, ClientError> {
    let url = format!("/api/campaigns/{id}/runs");
    into_json(Request::get(&url).send().await?).await
}

/// `POST /api/campaigns/{id}/runs`: a queued run, or a dry run's counts and sample (read as
/// [`RunStarted`]: the campaign list calls it too, and its code is the first download).
pub async fn start_run(id: i64, dry_run: bool) -> Result<RunStarted, ClientError> {
    send_json(
        Request::post(&format!("/api/campaigns/{id}/runs")),
        &RunRequest { dry_run },
    )
    .await
}
