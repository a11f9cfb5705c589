//! Insights for the stats page: one row per ad per day (`level=ad`, `time_increment=1`), read
//! synchronously with cursor paging, or — for long ranges, which Graph may refuse or time out
//! on — as an asynchronous report run: `POST /<object>/insights` → `report_run_id`, poll
//! `GET /<report_run_id>` until "Job Completed", then page through `GET /<report_run_id>/insights`.
//! Throttling headers are honoured by [`GraphClient`]'s pacing on every one of these calls.

use std::time::Duration;

use reqwest::Method;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{
    FacebookError, GraphClient,
    client::{AdAccount, FbResult, de_u64},
};

/// The fields the stats page stores, per ad and day.
const FIELDS: &str = "ad_id,ad_name,impressions,reach,clicks,spend,account_currency";
/// The fields of reach over a range (per ad set, or per ad with `ad_id`).
const REACH_FIELDS: &str = "impressions,reach";

/// Which days to read, and how.
#[derive(Debug, Clone)]
pub struct AdInsightsQuery {
    pub since: jiff::civil::Date,
    pub until: jiff::civil::Date,
    /// Rows per page.
    pub page_size: usize,
}

/// `level` of an insights query: one row per ad, or per ad set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Ad,
    AdSet,
}

impl Level {
    fn param(self) -> &'static str {
        match self {
            Self::Ad => "ad",
            Self::AdSet => "adset",
        }
    }
}

/// People reached over one range (`date_start`..`date_stop`), by the ad set or by one ad.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct RangeReachRow {
    pub date_start: String,
    pub date_stop: String,
    #[serde(default)]
    pub ad_id: Option<String>,
    #[serde(default, deserialize_with = "de_u64")]
    pub impressions: u64,
    #[serde(default, deserialize_with = "de_u64")]
    pub reach: u64,
}

/// One ad on one day; money stays Facebook's decimal string until it is parsed exactly.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct AdDayInsight {
    pub date_start: String,
    pub ad_id: String,
    #[serde(default)]
    pub ad_name: Option<String>,
    #[serde(default, deserialize_with = "de_u64")]
    pub impressions: u64,
    #[serde(default, deserialize_with = "de_u64")]
    pub reach: u64,
    #[serde(default, deserialize_with = "de_u64")]
    pub clicks: u64,
    #[serde(default)]
    pub spend: String,
    #[serde(default)]
    pub account_currency: Option<String>,
}

/// How an asynchronous report is waited for.
#[derive(Debug, Clone, Copy)]
pub struct ReportPolling {
    /// Pause between status polls.
    pub interval: Duration,
    /// Polls before giving up (Graph's jobs can take up to an hour).
    pub max_polls: u32,
}

impl Default for ReportPolling {
    fn default() -> Self {
        Self {
            interval: Duration::from_secs(5),
            max_polls: 720,
        }
    }
}

impl GraphClient {
    /// `GET /act_<id>`: currency and time zone of the ad account.
    pub async fn ad_account(&self, account_id: &str) -> FbResult<AdAccount> {
        self.get_one(
            account_id,
            "id,account_id,name,currency,timezone_name,account_status",
        )
        .await
    }

    /// The ad set's `start_time` (`2026-09-01T10:00:00+0000`), when it has one.
    pub async fn ad_set_start_time(&self, ad_set_id: &str) -> FbResult<Option<String>> {
        let v: Value = self.get_one(ad_set_id, "id,start_time").await?;
        Ok(v.get("start_time")
            .and_then(Value::as_str)
            .map(str::to_owned))
    }

    fn insights_params(query: &AdInsightsQuery) -> Vec<(String, String)> {
        let range = json!({ "since": query.since.to_string(), "until": query.until.to_string() });
        vec![
            ("level".into(), "ad".into()),
            ("time_increment".into(), "1".into()),
            ("time_range".into(), range.to_string()),
            ("fields".into(), FIELDS.into()),
            ("limit".into(), query.page_size.max(1).to_string()),
        ]
    }

    /// Reach over several ranges at once (`time_ranges`, `time_increment=all_days`): one row per
    /// range, and per ad at [`Level::Ad`]. Reach does not add up across days or ads, so totals
    /// are asked for as such rather than summed from the daily rows.
    pub async fn range_reach(
        &self,
        object_id: &str,
        level: Level,
        ranges: &[(jiff::civil::Date, jiff::civil::Date)],
    ) -> FbResult<Vec<RangeReachRow>> {
        let ranges: Vec<Value> = ranges
            .iter()
            .map(|(since, until)| json!({ "since": since.to_string(), "until": until.to_string() }))
            .collect();
        let fields = match level {
            Level::Ad => format!("ad_id,{REACH_FIELDS}"),
            Level::AdSet => REACH_FIELDS.to_owned(),
        };
        self.get_all(
            &format!("{object_id}/insights"),
            vec![
                ("level".into(), level.param().into()),
                ("time_increment".into(), "all_days".into()),
                ("time_ranges".into(), Value::Array(ranges).to_string()),
                ("fields".into(), fields),
                ("limit".into(), "500".into()),
            ],
        )
        .await
    }

    /// The ad set's reach on each day of the range (`level=adset`, `time_increment=1`): the
    /// people who saw any of its ads that day, which the ads' own daily reach does not add up to.
    /// Long ranges go through an asynchronous report run (`polling`), as for the ads' rows.
    pub async fn ad_set_daily_reach(
        &self,
        ad_set_id: &str,
        query: &AdInsightsQuery,
        polling: Option<ReportPolling>,
    ) -> FbResult<Vec<RangeReachRow>> {
        let mut params = Self::insights_params(query);
        for (k, v) in &mut params {
            match k.as_str() {
                "level" => *v = Level::AdSet.param().into(),
                "fields" => *v = REACH_FIELDS.into(),
                _ => {}
            }
        }
        match polling {
            Some(polling) => {
                self.report(ad_set_id, params, query.page_size, polling)
                    .await
            }
            None => self.get_all(&format!("{ad_set_id}/insights"), params).await,
        }
    }

    /// Every row of the range, following `paging.next`.
    pub async fn ad_insights(
        &self,
        object_id: &str,
        query: &AdInsightsQuery,
    ) -> FbResult<Vec<AdDayInsight>> {
        self.get_all(
            &format!("{object_id}/insights"),
            Self::insights_params(query),
        )
        .await
    }

    /// The same rows through an asynchronous report run.
    pub async fn ad_insights_async(
        &self,
        object_id: &str,
        query: &AdInsightsQuery,
        polling: ReportPolling,
    ) -> FbResult<Vec<AdDayInsight>> {
        self.report(
            object_id,
            Self::insights_params(query),
            query.page_size,
            polling,
        )
        .await
    }

    /// Runs the insights query `params` as an asynchronous report and reads its rows.
    async fn report<T: serde::de::DeserializeOwned>(
        &self,
        object_id: &str,
        mut params: Vec<(String, String)>,
        page_size: usize,
        polling: ReportPolling,
    ) -> FbResult<Vec<T>> {
        params.retain(|(k, _)| k != "limit");
        let started = self
            .call(Method::POST, &format!("{object_id}/insights"), params)
            .await?;
        let run_id = started
            .get("report_run_id")
            .and_then(|v| {
                v.as_str()
                    .map(str::to_owned)
                    .or_else(|| v.as_u64().map(|n| n.to_string()))
            })
            .ok_or_else(|| FacebookError::invalid(format!("no report_run_id in {started}")))?;
        for poll in 0..polling.max_polls {
            let status = self
                .call(
                    Method::GET,
                    &run_id,
                    vec![(
                        "fields".into(),
                        "async_status,async_percent_completion".into(),
                    )],
                )
                .await?;
            let state = status
                .get("async_status")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let pct = status
                .get("async_percent_completion")
                .and_then(Value::as_u64)
                .unwrap_or(0);
            match state {
                "Job Completed" if pct >= 100 => {
                    return self
                        .get_all(
                            &format!("{run_id}/insights"),
                            vec![("limit".into(), page_size.max(1).to_string())],
                        )
                        .await;
                }
                "Job Failed" | "Job Skipped" => {
                    return Err(FacebookError::invalid(format!(
                        "Facebook's insights report {run_id} ended with \"{state}\": {status}"
                    )));
                }
                _ => {}
            }
            if poll + 1 < polling.max_polls {
                tokio::time::sleep(polling.interval).await;
            }
        }
        Err(FacebookError::invalid(format!(
            "Facebook's insights report {run_id} did not complete in time"
        )))
    }
}
