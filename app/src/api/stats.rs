//! Stats and share-link endpoints (`/api/campaigns/{id}/stats…`, `/api/share/{token}/…`).

use gloo_net::http::Request;
use shared::stats::{
    CampaignStats, CreatedShareLink, NewShareLink, ShareLink, StatsQuery, StatsRefresh,
};

use super::{ClientError, into_json, send_json};

fn with_query(path: &str, query: &StatsQuery) -> String {
    let qs = query.to_query_string();
    if qs.is_empty() {
        path.to_owned()
    } else {
        format!("{path}?{qs}")
    }
}

/// `GET /api/campaigns/{id}/stats?from&to&ads`.
pub async fn get_stats(id: i64, query: StatsQuery) -> Result<CampaignStats, ClientError> {
    let url = with_query(&format!("/api/campaigns/{id}/stats"), &query);
    into_json(Request::get(&url).send().await?).await
}

/// `GET /api/share/{token}/stats?…`: public, no session.
pub async fn get_shared_stats(
    token: String,
    query: StatsQuery,
) -> Result<CampaignStats, ClientError> {
    let url = with_query(&format!("/api/share/{token}/stats"), &query);
    into_json(Request::get(&url).send().await?).await
}

/// The CSV export of a view, as a link target.
pub fn csv_url(base: &str, query: &StatsQuery) -> String {
    with_query(&format!("{base}/stats.csv"), query)
}

/// `POST /api/campaigns/{id}/stats/refresh`.
pub async fn refresh_stats(id: i64) -> Result<StatsRefresh, ClientError> {
    let url = format!("/api/campaigns/{id}/stats/refresh");
    into_json(Request::post(&url).send().await?).await
}

/// `GET /api/campaigns/{id}/share-links`.
pub async fn list_share_links(id: i64) -> Result<Vec<ShareLink>, ClientError> {
    let url = format!("/api/campaigns/{id}/share-links");
    into_json(Request::get(&url).send().await?).await
}

/// `POST /api/campaigns/{id}/share-links` → the link with its token (shown once).
pub async fn create_share_link(
    id: i64,
    input: NewShareLink,
) -> Result<CreatedShareLink, ClientError> {
    send_json(
        Request::post(&format!("/api/campaigns/{id}/share-links")),
        &input,
    )
    .await
}

/// `DELETE /api/campaigns/{id}/share-links/{link_id}`.
pub async fn revoke_share_link(id: i64, link_id: i64) -> Result<ShareLink, ClientError> {
    let url = format!("/api/campaigns/{id}/share-links/{link_id}");
    into_json(Request::delete(&url).send().await?).await
}
