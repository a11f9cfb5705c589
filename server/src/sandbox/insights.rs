//! `GET /<object>/insights`: deterministic daily stats per ad, scaled by the size of the custom
//! audiences its ad set targets, in the ad account's currency. Metrics are strings, as in Graph.
//!
//! The figures are plausible rather than random: each ad set has its own click-through rate
//! (0.7–1.5 %) and CPM (5–11 USD), and each ad's day varies around them (the CTR stays within
//! 0.5–2 %). The share of the audience reached in a day shrinks as the audience grows (about a
//! quarter of 1,000 people, 6 % of 20,000, under 1 % of a million), so impressions grow with the
//! audience, but less than in proportion. Reach is people, not impressions: over several days or
//! ads it is computed as the people reached at least once (each day reaching an independent share
//! of the ad set's audience), so it is at most the sum of the days' reach, at least the largest
//! day's, and never more than the audience.

use std::collections::HashMap;

use jiff::{ToSpan, civil::Date};
use serde_json::{Map, Value, json};

use super::{GraphError, GraphResult, Kind, Params, SandboxState, page};

const DEFAULT_FIELDS: [&str; 2] = ["impressions", "spend"];
const KNOWN_FIELDS: [&str; 17] = [
    "impressions",
    "clicks",
    "inline_link_clicks",
    "spend",
    "reach",
    "ctr",
    "cpc",
    "cpm",
    "ad_id",
    "ad_name",
    "adset_id",
    "adset_name",
    "campaign_id",
    "campaign_name",
    "account_id",
    "account_currency",
    "frequency",
];

/// Fewest people an ad set delivers to: Facebook reports smaller audiences as "below 1,000" and
/// does not deliver to a handful of people, so a small custom audience counts as this many.
const MIN_DELIVERY_AUDIENCE: u64 = 1_000;
/// The audience of an ad set without custom audiences (its country targeting), as before.
const DEFAULT_AUDIENCE: u64 = 20_000;

/// Raw metrics of one ad on one day.
#[derive(Default, Clone, Copy)]
struct Day {
    impressions: u64,
    reach: u64,
    clicks: u64,
    link_clicks: u64,
    spend_minor: u64,
}

impl Day {
    /// The day's figures scaled to `pct` percent, as when Facebook revises a recent day.
    fn revised(self, pct: u64) -> Self {
        let scale = |v: u64| v * pct / 100;
        Self {
            impressions: scale(self.impressions),
            reach: scale(self.reach),
            clicks: scale(self.clicks),
            link_clicks: scale(self.link_clicks),
            spend_minor: scale(self.spend_minor),
        }
    }
}

fn mix(mut x: u64) -> u64 {
    // splitmix64: a stable pseudo-random number per (ad, day).
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

fn seed_of(key: &str, salt: u64) -> u64 {
    key.bytes().fold(salt, |h, b| mix(h ^ u64::from(b)))
}

/// One ad's day: a pure function of the ad set, the ad, the day and the audience size, so every
/// fetch of the same day reads the same figures (until a revision changes them).
fn day_metrics(ad_set_id: &str, ad_id: &str, date: Date, audience: u64, currency: &str) -> Day {
    let set = seed_of(ad_set_id, 0x5EED);
    let s = |shift: u32, m: u64| (set >> shift) % m;
    let seed = seed_of(
        ad_id,
        u64::from(date.day_of_year() as u16) + 1000 * date.year() as u64,
    );
    let r = |shift: u32, m: u64| (seed >> shift) % m;
    let audience = audience.max(1);
    // Share of the audience reached in a day, in millionths: 8,000 / √audience (25 % of 1,000
    // people, 5.7 % of 20,000, 0.8 % of a million), at most a quarter, ±20 % a day.
    let share_ppm = ((8_000_000.0 / (audience as f64).sqrt()) as u64).min(250_000);
    let reach = (audience * share_ppm / 1_000_000 * (80 + r(0, 41)) / 100).clamp(1, audience);
    // Each person reached sees the ad 1.1–1.8 times that day.
    let impressions = reach * (110 + r(8, 71)) / 100;
    // The ad set's CTR (0.70–1.50 %, in hundredths of a percent) ±25 % a day, within 0.5–2 %.
    let ctr_bp = (70 + s(0, 81)) * (75 + r(16, 51)) / 100;
    let clicks = ((impressions * ctr_bp + 5_000) / 10_000)
        .max(impressions.div_ceil(200))
        .min(impressions / 50);
    let link_clicks = clicks * (50 + r(24, 31)) / 100;
    // The ad set's CPM (5–11 USD, in cents) ±20 % a day; INR at ~83 per USD.
    let cpm_cents = (500 + s(8, 601)) * (80 + r(32, 41)) / 100;
    let rate = if currency == "INR" { 83 } else { 1 };
    let spend_minor = impressions * cpm_cents * rate / 1000;
    Day {
        impressions,
        reach,
        clicks,
        link_clicks,
        spend_minor,
    }
}

fn parse_date(raw: &str) -> GraphResult<Date> {
    raw.parse()
        .map_err(|_| GraphError::param(format!("Invalid date in time_range: {raw}")))
}

pub fn insights(state: &mut SandboxState, id: &str, params: &Params) -> GraphResult {
    let rows = rows(state, id, params)?;
    page(&rows, params)
}

/// Every row of an insights query on `id`, before paging.
fn rows(state: &SandboxState, id: &str, params: &Params) -> GraphResult<Vec<Value>> {
    let today = state.now().to_zoned(jiff::tz::TimeZone::UTC).date();
    let range_of = |range: &Value, name: &str| -> GraphResult<(Date, Date)> {
        let since = range.get("since").and_then(Value::as_str);
        let until = range.get("until").and_then(Value::as_str);
        let (Some(since), Some(until)) = (since, until) else {
            return Err(GraphError::param(format!(
                "{name} must have since and until"
            )));
        };
        let (since, until) = (parse_date(since)?, parse_date(until)?);
        if since > until {
            return Err(GraphError::param(format!(
                "{name}: since must not be after until"
            )));
        }
        Ok((since, until))
    };
    // `time_ranges` (several ranges, each its own rows) wins over `time_range`, which wins over
    // `date_preset`, as in Graph.
    let ranges: Vec<(Date, Date)> = match (params.json("time_ranges")?, params.json("time_range")?)
    {
        (Some(Value::Array(list)), _) if !list.is_empty() => list
            .iter()
            .map(|r| range_of(r, "time_ranges"))
            .collect::<GraphResult<_>>()?,
        (Some(_), _) => {
            return Err(GraphError::param(
                "time_ranges must be a non-empty array of {since, until}",
            ));
        }
        (None, Some(range)) => vec![range_of(&range, "time_range")?],
        (None, None) => vec![match params.get("date_preset").unwrap_or("last_30d") {
            "today" => (today, today),
            "yesterday" => (today - 1.day(), today - 1.day()),
            "last_7d" => (today - 7.days(), today - 1.day()),
            "last_30d" => (today - 30.days(), today - 1.day()),
            other => {
                return Err(GraphError::param(format!(
                    "date_preset {other} is not supported by the sandbox"
                )));
            }
        }],
    };
    let daily = match params.get("time_increment").unwrap_or("all_days") {
        "1" => true,
        "all_days" => false,
        other => {
            return Err(GraphError::param(format!(
                "time_increment {other} is not supported by the sandbox (use 1 or all_days)"
            )));
        }
    };
    let level = params.get("level").unwrap_or(match state.nodes[id].kind {
        Kind::Account => "account",
        Kind::Campaign => "campaign",
        Kind::AdSet => "adset",
        _ => "ad",
    });
    if !["ad", "adset", "campaign", "account"].contains(&level) {
        return Err(GraphError::param(format!(
            "Param level must be one of {{ad, adset, campaign, account}} - got \"{level}\""
        )));
    }
    let wanted: Vec<String> = params
        .fields()
        .unwrap_or_else(|| DEFAULT_FIELDS.iter().map(|s| (*s).to_owned()).collect());
    if let Some(bad) = wanted
        .iter()
        .find(|f| !KNOWN_FIELDS.contains(&f.as_str()) && *f != "date_start" && *f != "date_stop")
    {
        return Err(GraphError::param(format!(
            "{bad} is not valid for fields param"
        )));
    }

    let node = &state.nodes[id];
    let account_id = node.account.clone();
    let account_id = if node.kind == Kind::Account {
        id.to_owned()
    } else {
        account_id
    };
    let currency = state.nodes[&account_id].fields["currency"]
        .as_str()
        .unwrap_or("USD")
        .to_owned();
    // The ads under `id`, with their audience size.
    let ads: Vec<(String, Map<String, Value>, u64)> = state
        .order
        .iter()
        .filter_map(|oid| state.nodes.get(oid).map(|n| (oid, n)))
        .filter(|(oid, n)| {
            n.kind == Kind::Ad
                && (oid.as_str() == id
                    || n.parent.as_deref() == Some(id)
                    || n.fields.get("campaign_id").and_then(Value::as_str) == Some(id)
                    || n.account == id)
        })
        .map(|(oid, n)| {
            let adset = n.parent.as_deref().and_then(|p| state.nodes.get(p));
            let audience: u64 = adset
                .and_then(|s| s.fields.get("targeting"))
                .and_then(|t| t.get("custom_audiences"))
                .and_then(Value::as_array)
                .map(|list| {
                    list.iter()
                        .filter_map(|e| e.get("id").and_then(Value::as_str).or_else(|| e.as_str()))
                        .filter_map(|ca| state.audiences.get(ca))
                        .map(|a| a.members.len() as u64)
                        .sum()
                })
                .unwrap_or(0);
            let audience = if audience == 0 {
                DEFAULT_AUDIENCE
            } else {
                audience.max(MIN_DELIVERY_AUDIENCE)
            };
            let mut meta = Map::new();
            meta.insert("ad_id".into(), json!(oid));
            meta.insert("ad_name".into(), n.fields["name"].clone());
            meta.insert("adset_id".into(), json!(n.parent));
            meta.insert(
                "adset_name".into(),
                adset
                    .map(|s| s.fields["name"].clone())
                    .unwrap_or(Value::Null),
            );
            let campaign = n.fields["campaign_id"].as_str().unwrap_or_default();
            meta.insert("campaign_id".into(), json!(campaign));
            meta.insert(
                "campaign_name".into(),
                state
                    .nodes
                    .get(campaign)
                    .map(|c| c.fields["name"].clone())
                    .unwrap_or(Value::Null),
            );
            meta.insert(
                "account_id".into(),
                json!(account_id.trim_start_matches("act_")),
            );
            meta.insert("account_currency".into(), json!(currency));
            (oid.clone(), meta, audience)
        })
        .collect();

    let group_key = |meta: &Map<String, Value>| -> String {
        match level {
            "ad" => meta["ad_id"].as_str().unwrap_or_default().to_owned(),
            "adset" => meta["adset_id"].as_str().unwrap_or_default().to_owned(),
            "campaign" => meta["campaign_id"].as_str().unwrap_or_default().to_owned(),
            _ => meta["account_id"].as_str().unwrap_or_default().to_owned(),
        }
    };
    let mut periods: Vec<(Date, Date)> = Vec::new();
    for (since, until) in ranges {
        // One row per day of more than 400 days is too much for Graph; one row for the whole
        // range is not.
        if daily && (until - since).get_days() > 400 {
            return Err(GraphError::param(
                "Please reduce the amount of data you're asking for, then retry your request",
            )
            .sub(1487534));
        }
        if daily {
            let mut d = since;
            while d <= until {
                periods.push((d, d));
                d = d
                    .tomorrow()
                    .map_err(|_| GraphError::param("date out of range"))?;
            }
        } else {
            periods.push((since, until));
        }
    }
    let mut rows = Vec::new();
    for (start, stop) in periods {
        // Groups in first-seen order, each with the people reached per ad set (reach is counted
        // per audience, then added up across ad sets, whose audiences the sandbox keeps apart).
        let mut groups: Vec<Group> = Vec::new();
        for (ad_id, meta, audience) in &ads {
            let key = group_key(meta);
            let index = match groups.iter().position(|(k, ..)| *k == key) {
                Some(i) => i,
                None => {
                    groups.push((key, meta.clone(), Day::default(), Vec::new()));
                    groups.len() - 1
                }
            };
            let (_, _, total, reached) = &mut groups[index];
            let ad_set = meta["adset_id"].as_str().unwrap_or_default();
            let people = match reached.iter_mut().position(|r| r.ad_set == ad_set) {
                Some(i) => &mut reached[i],
                None => {
                    reached.push(Reached::new(ad_set, *audience));
                    reached.last_mut().expect("just pushed")
                }
            };
            let mut d = start;
            while d <= stop {
                let mut m = day_metrics(ad_set, ad_id, d, *audience, &currency);
                if let Some(pct) = state.revisions.get(&(ad_id.clone(), d)) {
                    m = m.revised(*pct);
                }
                total.impressions += m.impressions;
                total.clicks += m.clicks;
                total.link_clicks += m.link_clicks;
                total.spend_minor += m.spend_minor;
                people.add(m.reach);
                d = match d.tomorrow() {
                    Ok(next) => next,
                    Err(_) => break,
                };
            }
        }
        for (_, meta, mut m, reached) in groups {
            m.reach = reached.iter().map(Reached::unique).sum();
            if m.impressions == 0 {
                continue;
            }
            let mut row = Map::new();
            for f in &wanted {
                let v = match f.as_str() {
                    "impressions" => json!(m.impressions.to_string()),
                    "reach" => json!(m.reach.to_string()),
                    "clicks" => json!(m.clicks.to_string()),
                    "inline_link_clicks" => json!(m.link_clicks.to_string()),
                    "spend" => json!(format!(
                        "{}.{:02}",
                        m.spend_minor / 100,
                        m.spend_minor % 100
                    )),
                    "ctr" => json!(format!(
                        "{:.6}",
                        m.clicks as f64 * 100.0 / m.impressions as f64
                    )),
                    "cpm" => json!(format!(
                        "{:.6}",
                        m.spend_minor as f64 * 10.0 / m.impressions as f64
                    )),
                    "frequency" => json!(format!(
                        "{:.6}",
                        m.impressions as f64 / m.reach.max(1) as f64
                    )),
                    // Graph leaves cpc out when there were no clicks.
                    "cpc" if m.clicks == 0 => continue,
                    "cpc" => json!(format!(
                        "{:.6}",
                        m.spend_minor as f64 / 100.0 / m.clicks as f64
                    )),
                    "date_start" | "date_stop" => continue,
                    other => match meta.get(other) {
                        Some(v) if level_has(level, other) => v.clone(),
                        _ => continue,
                    },
                };
                row.insert(f.clone(), v);
            }
            row.insert("date_start".into(), json!(start.to_string()));
            row.insert("date_stop".into(), json!(stop.to_string()));
            rows.push(Value::Object(row));
        }
    }
    Ok(rows)
}

/// One row of an insights answer being added up: its key at the query's level, the ids and names
/// it shows, the additive figures, and the people reached per ad set.
type Group = (String, Map<String, Value>, Day, Vec<Reached>);

/// The people of one ad set's audience reached by some ads on some days. Each (ad, day) reaches
/// its share of the audience independently of the others, so the people reached at least once
/// are `audience × (1 − Π(1 − share))`: never more than the audience or the sum of the parts,
/// never less than the largest part.
struct Reached {
    ad_set: String,
    audience: u64,
    /// Π(1 − share) so far: the part of the audience not reached yet.
    missed: f64,
    sum: u64,
    max: u64,
}

impl Reached {
    fn new(ad_set: &str, audience: u64) -> Self {
        Self {
            ad_set: ad_set.to_owned(),
            audience: audience.max(1),
            missed: 1.0,
            sum: 0,
            max: 0,
        }
    }

    fn add(&mut self, reach: u64) {
        let reach = reach.min(self.audience);
        self.missed *= 1.0 - reach as f64 / self.audience as f64;
        self.sum += reach;
        self.max = self.max.max(reach);
    }

    fn unique(&self) -> u64 {
        let unique = self.audience - (self.audience as f64 * self.missed).round() as u64;
        unique.max(self.max).min(self.sum.min(self.audience))
    }
}

/// Whether an id/name field exists at `level` (ad fields are absent at adset level, …).
fn level_has(level: &str, field: &str) -> bool {
    let depth = |l: &str| match l {
        "ad" => 3,
        "adset" => 2,
        "campaign" => 1,
        _ => 0,
    };
    let needed = match field {
        "ad_id" | "ad_name" => 3,
        "adset_id" | "adset_name" => 2,
        "campaign_id" | "campaign_name" => 1,
        _ => 0,
    };
    depth(level) >= needed
}

/// An asynchronous insights job (`POST /<object>/insights` → `report_run_id`).
#[derive(Debug, Clone)]
pub(crate) struct ReportRun {
    /// The object the insights are about.
    pub object_id: String,
    pub account_id: String,
    /// The query's parameters, minus credentials and paging.
    pub params: HashMap<String, String>,
    /// Status polls so far; the job completes after [`POLLS_TO_COMPLETE`] of them.
    pub polls: u32,
    pub created: jiff::Timestamp,
}

/// Polls of `GET /<report_run_id>` before the job says "Job Completed".
pub const POLLS_TO_COMPLETE: u32 = 2;

/// `POST /<object>/insights`: validates the query now (as Graph does) and queues the job.
pub fn start_report(state: &mut SandboxState, id: &str, params: &Params) -> GraphResult {
    rows(state, id, params)?;
    let run_id = state.new_id();
    let account_id = match state.nodes[id].kind {
        Kind::Account => id.to_owned(),
        _ => state.nodes[id].account.clone(),
    };
    let kept = params
        .map
        .iter()
        .filter(|(k, _)| {
            !matches!(
                k.as_str(),
                "access_token" | "appsecret_proof" | "after" | "before" | "limit" | "method"
            )
        })
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let created = state.now();
    state.report_runs.insert(
        run_id.clone(),
        ReportRun {
            object_id: id.to_owned(),
            account_id,
            params: kept,
            polls: 0,
            created,
        },
    );
    Ok(json!({ "report_run_id": run_id }))
}

/// `GET /<report_run_id>`: the job's progress; each poll moves it along.
pub fn report_status(state: &mut SandboxState, run_id: &str) -> GraphResult {
    let run = state
        .report_runs
        .get_mut(run_id)
        .expect("routed by the caller");
    run.polls = (run.polls + 1).min(POLLS_TO_COMPLETE);
    let pct = run.polls * 100 / POLLS_TO_COMPLETE;
    let status = match pct {
        100 => "Job Completed",
        0 => "Job Not Started",
        _ => "Job Running",
    };
    Ok(json!({
        "id": run_id,
        "account_id": run.account_id.trim_start_matches("act_"),
        "async_status": status,
        "async_percent_completion": pct,
        "time_ref": run.created.as_second(),
        "is_running": pct < 100,
    }))
}

/// `GET /<report_run_id>/insights`: the job's rows, paged like the synchronous call. Graph
/// refuses results before the job has completed.
pub fn report_insights(state: &SandboxState, run_id: &str, params: &Params) -> GraphResult {
    let run = &state.report_runs[run_id];
    if run.polls < POLLS_TO_COMPLETE {
        return Err(GraphError::param(format!(
            "Report {run_id} is not complete yet; poll it until async_status is Job Completed"
        )));
    }
    let mut merged = run.params.clone();
    for key in ["limit", "after", "before"] {
        if let Some(v) = params.get(key) {
            merged.insert(key.to_owned(), v.to_owned());
        }
    }
    let job = Params {
        map: merged,
        payload: Default::default(),
        query: params.query.clone(),
        url: params.url.clone(),
        grant: params.grant.clone(),
    };
    let rows = rows(state, &run.object_id, &job)?;
    page(&rows, &job)
}
