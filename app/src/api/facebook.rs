//! The What step's data: Facebook ad accounts, campaigns and ad sets through the server's
//! pass-through (`/api/facebook/…`, the Graph API sandbox by default), and the event names a
//! conversion goal can use.
//!
//! Only the fields the pickers show are read: unknown fields are skipped, so the server may send
//! more (an ad set's full targeting, for one) without the browser decoding it.

use gloo_net::http::Request;
use serde::Deserialize;

use super::{ClientError, into_json};

/// One choice in a picker: an ad account, a campaign or an ad set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FbItem {
    pub id: String,
    pub name: String,
    /// Facebook's status in words ("Active", "Paused", "Campaign paused"…).
    pub status: String,
    /// An ad account's IANA time zone (`timezone_name`); empty for campaigns and ad sets.
    pub time_zone: String,
}

#[derive(Deserialize)]
struct RawAccount {
    id: String,
    name: String,
    account_status: i64,
    #[serde(default)]
    timezone_name: String,
}

#[derive(Deserialize)]
struct RawObject {
    id: String,
    name: String,
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    effective_status: Option<String>,
}

impl From<RawObject> for FbItem {
    fn from(o: RawObject) -> Self {
        let status = o.effective_status.or(o.status).unwrap_or_default();
        Self {
            id: o.id,
            name: o.name,
            status: words(&status),
            time_zone: String::new(),
        }
    }
}

/// `CAMPAIGN_PAUSED` → "Campaign paused".
fn words(status: &str) -> String {
    let lower = status.replace('_', " ").to_lowercase();
    let mut chars = lower.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => "Unknown".to_owned(),
    }
}

/// Facebook's numeric ad account states, in words.
fn account_status(code: i64) -> &'static str {
    match code {
        1 => "Active",
        2 => "Disabled",
        3 => "Unsettled",
        7 => "Pending risk review",
        8 => "Pending settlement",
        9 => "In grace period",
        100 => "Pending closure",
        101 => "Closed",
        _ => "Unknown",
    }
}

/// `GET /api/facebook/ad-accounts`.
pub async fn list_ad_accounts() -> Result<Vec<FbItem>, ClientError> {
    let raw: Vec<RawAccount> =
        into_json(Request::get("/api/facebook/ad-accounts").send().await?).await?;
    Ok(raw
        .into_iter()
        .map(|a| FbItem {
            id: a.id,
            name: a.name,
            status: account_status(a.account_status).to_owned(),
            time_zone: a.timezone_name,
        })
        .collect())
}

/// `GET /api/facebook/ad-accounts/{act}/campaigns`.
pub async fn list_campaigns(ad_account_id: String) -> Result<Vec<FbItem>, ClientError> {
    let url = format!("/api/facebook/ad-accounts/{ad_account_id}/campaigns");
    let raw: Vec<RawObject> = into_json(Request::get(&url).send().await?).await?;
    Ok(raw.into_iter().map(FbItem::from).collect())
}

/// `GET /api/facebook/campaigns/{id}/adsets`.
pub async fn list_ad_sets(campaign_id: String) -> Result<Vec<FbItem>, ClientError> {
    let url = format!("/api/facebook/campaigns/{campaign_id}/adsets");
    let raw: Vec<RawObject> = into_json(Request::get(&url).send().await?).await?;
    Ok(raw.into_iter().map(FbItem::from).collect())
}

#[derive(Deserialize)]
struct EventNames {
    events: Vec<EventName>,
}

#[derive(Deserialize)]
struct EventName {
    name: String,
}

/// The event names of `GET /api/catalog`, most frequent first (the conversion goal's choices).
pub async fn list_event_names() -> Result<Vec<String>, ClientError> {
    let catalog: EventNames = into_json(Request::get("/api/catalog").send().await?).await?;
    Ok(catalog.events.into_iter().map(|e| e.name).collect())
}
