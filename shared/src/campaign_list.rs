//! What the campaign list shows of each campaign.
//!
//! The server computes the list's texts ([`list_columns`]) with this crate's schedule math and
//! its bundled time zones, and the browser reads only the fields the list needs
//! ([`CampaignListItem`]). The list is the first page users open: this way, its download holds
//! neither the time zone database reader nor the schedule math, nor the code that reads a
//! whole campaign (segments, targets), which the wizard brings when it opens.

use serde::{Deserialize, Serialize};

use crate::campaign::CampaignStatus;
use crate::sync::LastRun;

/// The list's texts for one campaign, as the server computed them when it answered.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ListColumns {
    /// "Every day at 09:00", or "No schedule yet" ([`crate::schedule::Schedule::summary`]).
    pub schedule: String,
    /// "Mon 7 Apr 2027, 09:00 Asia/Kolkata" in the schedule's time zone, "No more runs", or
    /// "—" for a campaign that does not run (a draft, paused, stopped…).
    pub next_run: String,
    /// The instant of that next run (RFC 3339), when there is one: the browser shows it in the
    /// viewer's time zone ([`crate::time_text`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_run_at: Option<String>,
    /// "Succeeded 2027-04-07 09:00 UTC · +120 / −3", or "—" before the first run
    /// ([`crate::sync::last_sync_text`]).
    pub last_sync: String,
}

/// A campaign as the list reads it: a [`crate::campaign::Campaign`]'s JSON, of which it keeps
/// only what the list shows (any other field is skipped). Also enough to read the answer of an
/// action when only its id matters.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct CampaignListItem {
    pub id: i64,
    pub name: String,
    pub status: CampaignStatus,
    #[serde(default)]
    pub labels: Vec<i64>,
    #[serde(default)]
    pub last_run: Option<LastRun>,
    #[serde(default)]
    pub list_columns: ListColumns,
    /// Of the schedule, only its time zone: next runs are shown on its clock too.
    #[serde(default)]
    pub schedule: Option<ListSchedule>,
    /// Incremented by every change of the campaign.
    #[serde(default)]
    pub version: i64,
}

/// What the list reads of a campaign's schedule.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ListSchedule {
    pub time_zone: String,
}

/// The list's sort orders (`?sort=` of `GET /api/campaigns`); the server sorts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum CampaignSort {
    /// Most recently updated first.
    #[default]
    Updated,
    /// By name, ignoring case.
    Name,
    /// Soonest next run first; campaigns without one last.
    NextRun,
    /// By status, alphabetically by its label.
    Status,
}

impl CampaignSort {
    pub const ALL: [Self; 4] = [Self::Updated, Self::Name, Self::NextRun, Self::Status];

    /// The value in the URL query: `updated`, `name`, `next_run`, `status`.
    pub fn param(self) -> &'static str {
        match self {
            Self::Updated => "updated",
            Self::Name => "name",
            Self::NextRun => "next_run",
            Self::Status => "status",
        }
    }

    /// The order a URL query names; the default for anything else (an old bookmark, say).
    pub fn from_param(param: &str) -> Self {
        Self::ALL
            .into_iter()
            .find(|s| s.param() == param)
            .unwrap_or_default()
    }
}

/// Sorts `campaigns` in `order`; ties keep their order (the database's: most recently updated
/// first).
pub fn sort_campaigns(campaigns: &mut [crate::campaign::Campaign], order: CampaignSort) {
    campaigns.sort_by(|a, b| match order {
        CampaignSort::Name => a.name.to_lowercase().cmp(&b.name.to_lowercase()),
        CampaignSort::NextRun => {
            (a.next_run_at.is_none(), a.next_run_at).cmp(&(b.next_run_at.is_none(), b.next_run_at))
        }
        CampaignSort::Status => a.status.label().cmp(b.status.label()),
        CampaignSort::Updated => b.updated_at.cmp(&a.updated_at),
    });
}

/// The list's texts for `campaign` at `now`: its schedule, its next run in the schedule's time
/// zone (for a campaign that may still run), its latest sync run.
#[cfg(feature = "bundled-tz")]
pub fn list_columns(campaign: &crate::campaign::Campaign, now: jiff::Timestamp) -> ListColumns {
    use crate::schedule::{Weekday, hhmm, next_run_after, short_date};

    let c = campaign;
    let schedule = c
        .schedule
        .as_ref()
        .map_or_else(|| "No schedule yet".to_owned(), |s| s.summary());
    let runs = c.status.may_run() || c.status == CampaignStatus::Running;
    let (next_run, next_run_at) = match (c.schedule.as_ref(), c.published_at, runs) {
        (Some(schedule), Some(published), true) => {
            // A scheduled campaign has not run yet: its first run is next, even if it is just
            // due.
            let after = (c.status != CampaignStatus::Scheduled).then_some(now);
            match next_run_after(schedule, published, after) {
                Some(run) => (
                    format!(
                        "{} {}, {} {}",
                        Weekday::from_jiff(run.local.date().weekday()).short_name(),
                        short_date(run.local.date()),
                        hhmm(run.local.time()),
                        schedule.time_zone
                    ),
                    Some(run.utc.to_string()),
                ),
                None => ("No more runs".to_owned(), None),
            }
        }
        _ => ("—".to_owned(), None),
    };
    let last_sync = c
        .last_run
        .as_ref()
        .map_or_else(|| "—".to_owned(), crate::sync::last_sync_text);
    ListColumns {
        schedule,
        next_run,
        next_run_at,
        last_sync,
    }
}

#[cfg(test)]
mod tests;
