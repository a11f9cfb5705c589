//! The holdout comparison (`GET /api/campaigns/{id}/stats/holdout`).

use gloo_net::http::Request;
use shared::{holdout::HoldoutStats, stats::StatsQuery};

use super::{ClientError, into_json};

/// `GET /api/campaigns/{id}/stats/holdout?from&to` (the view's ads do not apply).
pub async fn get_holdout_stats(id: i64, query: StatsQuery) -> Result<HoldoutStats, ClientError> {
    let days = StatsQuery {
        ads: Vec::new(),
        ..query
    };
    let qs = days.to_query_string();
    let url = if qs.is_empty() {
        format!("/api/campaigns/{id}/stats/holdout")
    } else {
        format!("/api/campaigns/{id}/stats/holdout?{qs}")
    };
    into_json(Request::get(&url).send().await?).await
}
