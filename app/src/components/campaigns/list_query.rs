//! The list's filters, search and sort live in the URL query so they survive reload and can be
//! shared as a link.

use leptos_router::params::ParamsMap;
use shared::{campaign::CampaignStatus, campaign_list::CampaignSort};

use crate::api::{CampaignFilter, status_param};

/// Every status, in the order of the filter menu.
pub const STATUSES: [CampaignStatus; 8] = [
    CampaignStatus::Draft,
    CampaignStatus::Scheduled,
    CampaignStatus::Running,
    CampaignStatus::AwaitingNextRun,
    CampaignStatus::Paused,
    CampaignStatus::NeedsAttention,
    CampaignStatus::Completed,
    CampaignStatus::Stopped,
];

/// What the URL asks the list to show.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ListQuery {
    pub status: String,
    pub label: String,
    pub q: String,
    pub sort: String,
}

impl ListQuery {
    pub fn from_params(p: &ParamsMap) -> Self {
        let get = |k: &str| p.get(k).unwrap_or_default();
        Self {
            status: get("status"),
            label: get("label"),
            q: get("q"),
            sort: get("sort"),
        }
    }

    /// The query for the server, which filters and sorts.
    pub fn filter(&self) -> CampaignFilter {
        CampaignFilter {
            status: STATUSES
                .into_iter()
                .find(|s| status_param(*s) == self.status),
            label: self.label.parse().ok(),
            q: self.q.clone(),
            sort: CampaignSort::from_param(&self.sort),
        }
    }

    pub fn is_filtered(&self) -> bool {
        !self.status.is_empty() || !self.label.is_empty() || !self.q.trim().is_empty()
    }

    /// `/campaigns?status=…` with the empty parts left out.
    pub fn to_url(&self) -> String {
        let parts: Vec<String> = [
            ("status", &self.status),
            ("label", &self.label),
            ("q", &self.q),
            ("sort", &self.sort),
        ]
        .into_iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| format!("{k}={}", encode(v)))
        .collect();
        if parts.is_empty() {
            "/campaigns".into()
        } else {
            format!("/campaigns?{}", parts.join("&"))
        }
    }
}

/// Percent-encodes everything but unreserved characters.
fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
