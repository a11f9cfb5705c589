//! Campaign stats: the figures Facebook reports for the campaign's ad set (one row per ad per
//! day), the query that selects them, and the derived metrics (CTR, CPC, CPM).
//!
//! Money is never a float: spend is an integer number of the currency's minor units (cents,
//! paise), parsed exactly from Facebook's decimal strings. Derived money figures (CPC, CPM) are
//! rounded to the nearest minor unit with integer arithmetic, so the browser and the server
//! (both compile this module) show the same figures.

use jiff::{Timestamp, ToSpan, civil::Date};
use serde::{Deserialize, Serialize};

use crate::error::FieldError;

/// Most ads one query may select.
pub const MAX_SELECTED_ADS: usize = 50;
/// Longest date range one query may ask for (Facebook keeps 37 months of insights).
pub const MAX_RANGE_DAYS: i32 = 37 * 31;

/// What `GET /api/campaigns/{id}/stats` reads: an optional date range (both days included) and an
/// optional set of ads (empty means every ad). Without `from`, the range starts on the day of the
/// campaign's first successful sync (the days before are the ad set's, not the campaign's), or
/// at the ad set's first day when `lifetime` is set (`range=lifetime`) or nothing was synced yet.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StatsQuery {
    pub from: Option<Date>,
    pub to: Option<Date>,
    /// Facebook ad ids (digits).
    pub ads: Vec<String>,
    /// The ad set's whole history rather than the days since the campaign's first sync.
    #[serde(default)]
    pub lifetime: bool,
}

impl StatsQuery {
    /// Parses the raw query-string values (`from=YYYY-MM-DD&to=YYYY-MM-DD&ads=ID,ID`), reporting
    /// every problem at once with the parameter's name as the path.
    pub fn parse(
        from: Option<&str>,
        to: Option<&str>,
        ads: Option<&str>,
    ) -> Result<Self, Vec<FieldError>> {
        Self::parse_view(from, to, ads, None)
    }

    /// [`Self::parse`] with the `range` parameter: `lifetime` (the ad set's whole history, with no
    /// `from`), or absent for a range starting at `from` or at the campaign's first sync.
    pub fn parse_view(
        from: Option<&str>,
        to: Option<&str>,
        ads: Option<&str>,
        range: Option<&str>,
    ) -> Result<Self, Vec<FieldError>> {
        let mut errors = Vec::new();
        let lifetime = match range.map(str::trim).filter(|s| !s.is_empty()) {
            None => false,
            Some("lifetime") => true,
            Some(other) => {
                errors.push(FieldError::new(
                    "range",
                    format!("{other:?} is not a range; the only one is \"lifetime\"."),
                ));
                false
            }
        };
        let mut date = |name: &str, raw: Option<&str>| -> Option<Date> {
            let raw = raw.map(str::trim).filter(|s| !s.is_empty())?;
            match parse_day(raw) {
                Some(d) => Some(d),
                None => {
                    errors.push(FieldError::new(
                        name,
                        format!("{raw:?} is not a date like 2026-11-28."),
                    ));
                    None
                }
            }
        };
        let from = date("from", from);
        let to = date("to", to);
        let mut list = Vec::new();
        for id in ads.unwrap_or_default().split(',').map(str::trim) {
            if id.is_empty() {
                continue;
            }
            if !id.bytes().all(|b| b.is_ascii_digit()) || id.len() > 32 {
                errors.push(FieldError::new(
                    "ads",
                    format!("{id:?} is not a Facebook ad id (digits)."),
                ));
            } else if !list.iter().any(|a| a == id) {
                list.push(id.to_owned());
            }
        }
        if list.len() > MAX_SELECTED_ADS {
            errors.push(FieldError::new(
                "ads",
                format!("Select at most {MAX_SELECTED_ADS} ads."),
            ));
        }
        if let (Some(f), Some(t)) = (from, to) {
            if f > t {
                errors.push(FieldError::new(
                    "to",
                    "The end date must be on or after the start date.",
                ));
            } else if (t - f).get_days() >= MAX_RANGE_DAYS {
                errors.push(FieldError::new(
                    "to",
                    "Pick a range of at most 37 months (Facebook keeps no older stats).",
                ));
            }
        }
        if lifetime && from.is_some() {
            errors.push(FieldError::new(
                "range",
                "\"lifetime\" starts at the ad set's first day; leave out \"from\".",
            ));
        }
        if errors.is_empty() {
            Ok(Self {
                from,
                to,
                ads: list,
                lifetime,
            })
        } else {
            Err(errors)
        }
    }

    /// The query string (without `?`), empty parts left out; what the browser puts in its URL.
    pub fn to_query_string(&self) -> String {
        let mut parts = Vec::new();
        if let Some(f) = self.from {
            parts.push(format!("from={f}"));
        }
        if let Some(t) = self.to {
            parts.push(format!("to={t}"));
        }
        if !self.ads.is_empty() {
            parts.push(format!("ads={}", self.ads.join(",")));
        }
        if self.lifetime {
            parts.push("range=lifetime".to_owned());
        }
        parts.join("&")
    }

    /// Whether `day` is inside the range.
    pub fn contains(&self, day: Date) -> bool {
        self.from.is_none_or(|f| day >= f) && self.to.is_none_or(|t| day <= t)
    }

    /// Whether the ad counts (no selection means every ad).
    pub fn selects(&self, ad_id: &str) -> bool {
        self.ads.is_empty() || self.ads.iter().any(|a| a == ad_id)
    }
}

/// `YYYY-MM-DD` only (jiff would also accept other ISO forms).
fn parse_day(raw: &str) -> Option<Date> {
    let b = raw.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    raw.parse().ok()
}

/// The date-range presets of the stats page; [`RangePreset::SinceFirstSync`] is the default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RangePreset {
    /// From the day of the campaign's first successful sync to today.
    SinceFirstSync,
    Last7Days,
    Last30Days,
    /// The ad set's whole history.
    Lifetime,
}

/// A query's range: `from`, `to`, and whether it is the ad set's lifetime.
pub type QueryRange = (Option<Date>, Option<Date>, bool);

impl RangePreset {
    pub const ALL: [Self; 4] = [
        Self::SinceFirstSync,
        Self::Last7Days,
        Self::Last30Days,
        Self::Lifetime,
    ];

    /// The query's `(from, to, lifetime)` for the preset, given today's date in the ad account's
    /// time zone; `None` means unbounded. "Last 7 days" includes today, as Facebook's Ads
    /// Manager counts it.
    pub fn range(self, today: Date) -> QueryRange {
        match self {
            Self::SinceFirstSync => (None, None, false),
            Self::Last7Days => (Some(today - 6.days()), Some(today), false),
            Self::Last30Days => (Some(today - 29.days()), Some(today), false),
            Self::Lifetime => (None, None, true),
        }
    }

    /// The preset a query's range corresponds to, if any.
    pub fn matching(query: &StatsQuery, today: Date) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|p| p.range(today) == (query.from, query.to, query.lifetime))
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::SinceFirstSync => "Since first sync",
            Self::Last7Days => "Last 7 days",
            Self::Last30Days => "Last 30 days",
            Self::Lifetime => "Lifetime",
        }
    }
}

/// One ad on one day, as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AdDay {
    pub ad_id: String,
    pub ad_name: String,
    /// The day in the ad account's time zone.
    pub day: Date,
    pub impressions: u64,
    /// People who saw the ad that day (Facebook's estimate of unique accounts).
    #[serde(default)]
    pub reach: u64,
    pub clicks: u64,
    /// Amount spent in minor units of the account's currency.
    pub spend_minor: i64,
}

impl AdDay {
    /// Impressions per person reached that day; `None` without reach.
    pub fn frequency(&self) -> Option<f64> {
        frequency(self.impressions, Some(self.reach))
    }
}

/// Impressions ÷ reach; `None` when the reach is unknown or zero.
pub fn frequency(impressions: u64, reach: Option<u64>) -> Option<f64> {
    reach
        .filter(|r| *r > 0)
        .map(|r| impressions as f64 / r as f64)
}

/// What Facebook counted as reached over one range (both days included): for the whole ad set
/// (`ad_id` `None`) or for one ad. Reach is people, not impressions: it does not add up across
/// days or ads, so each range's figure is Facebook's own (`time_increment=all_days`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RangeReach {
    pub ad_id: Option<String>,
    pub since: Date,
    pub until: Date,
    pub reach: u64,
}

/// The reach figures stored with a campaign's stats, and the days the stats cover.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReachFigures {
    /// The first and last day the last fetch covered: a query's open ends close here.
    pub extent: Option<(Date, Date)>,
    pub ranges: Vec<RangeReach>,
}

impl ReachFigures {
    /// The reach of the ad set (`ad_id` `None`) or one ad over `[from, to]` (open ends at the
    /// fetched extent, and clamped to it: there are no stats outside it). `None` when Facebook
    /// was not asked for that range.
    pub fn get(&self, ad_id: Option<&str>, from: Option<Date>, to: Option<Date>) -> Option<u64> {
        let (first, last) = self.extent?;
        let from = from.map_or(first, |f| f.max(first));
        let to = to.map_or(last, |t| t.min(last));
        if from > to {
            return None;
        }
        self.ranges
            .iter()
            .find(|r| r.ad_id.as_deref() == ad_id && r.since == from && r.until == to)
            .map(|r| r.reach)
    }
}

/// Impressions, clicks and spend, with the metrics derived from them.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Metrics {
    pub impressions: u64,
    /// People reached, as Facebook counts them over the whole range (not a sum of days); `None`
    /// when Facebook was not asked for this range, or for this choice of several ads.
    #[serde(default)]
    pub reach: Option<u64>,
    /// Impressions ÷ reach: how many times each person saw the ads on average.
    #[serde(default)]
    pub frequency: Option<f64>,
    pub clicks: u64,
    /// Minor units of the currency.
    pub spend_minor: i64,
    /// Click-through rate in percent (clicks ÷ impressions × 100); `None` without impressions.
    pub ctr: Option<f64>,
    /// Cost per click in minor units, rounded; `None` without clicks.
    pub cpc_minor: Option<i64>,
    /// Cost per 1,000 impressions in minor units, rounded; `None` without impressions.
    pub cpm_minor: Option<i64>,
}

impl Metrics {
    /// Sums the raw counts and derives the rest.
    pub fn of<'a>(rows: impl IntoIterator<Item = &'a AdDay>) -> Self {
        let (mut impressions, mut clicks, mut spend) = (0u64, 0u64, 0i64);
        for r in rows {
            impressions += r.impressions;
            clicks += r.clicks;
            spend += r.spend_minor;
        }
        Self::derive(impressions, clicks, spend)
    }

    pub fn derive(impressions: u64, clicks: u64, spend_minor: i64) -> Self {
        Self {
            impressions,
            reach: None,
            frequency: None,
            clicks,
            spend_minor,
            ctr: (impressions > 0).then(|| clicks as f64 * 100.0 / impressions as f64),
            cpc_minor: div_round(i128::from(spend_minor), i128::from(clicks)),
            cpm_minor: div_round(i128::from(spend_minor) * 1000, i128::from(impressions)),
        }
    }

    /// The metrics with Facebook's reach of the same range and ads, and the frequency from it.
    pub fn with_reach(mut self, reach: Option<u64>) -> Self {
        self.reach = reach;
        self.frequency = frequency(self.impressions, reach);
        self
    }
}

/// `n / d` rounded half away from zero, in integers; `None` when `d` is 0.
fn div_round(n: i128, d: i128) -> Option<i64> {
    if d == 0 {
        return None;
    }
    let q = (n.abs() * 2 + d) / (2 * d);
    i64::try_from(if n < 0 { -q } else { q }).ok()
}

/// One day of the daily series.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(from = "DayStatsFields")]
pub struct DayStats {
    pub day: Date,
    #[serde(flatten)]
    pub metrics: Metrics,
}

/// One ad of the per-ad table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(from = "AdStatsFields")]
pub struct AdStats {
    pub ad_id: String,
    pub ad_name: String,
    /// Whether the query's ad filter includes this ad (every ad when there is no filter).
    pub selected: bool,
    #[serde(flatten)]
    pub metrics: Metrics,
}

/// The audience sync figures shown beside the stats. Every figure is `None` until the
/// campaign's audience has been synced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SyncFigures {
    pub audience_size_before: Option<u64>,
    pub audience_size_now: Option<u64>,
    pub users_added: Option<u64>,
    pub users_removed: Option<u64>,
    pub users_invalid: Option<u64>,
    pub last_sync_at: Option<Timestamp>,
    /// People of the segment the last sync held back for want of ads consent; `None` when
    /// consent filtering was off for it (`crate::consent`).
    #[serde(default)]
    pub consent_held: Option<u64>,
}

/// `GET /api/campaigns/{id}/stats` and the public `GET /api/share/{token}/stats`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CampaignStats {
    pub campaign_name: String,
    /// ISO 4217 code of the ad account's currency, once stats were fetched.
    pub currency: Option<String>,
    /// The ad account's time zone (days are in it), once stats were fetched.
    pub time_zone: Option<String>,
    /// The query as the server understood it.
    pub query: StatsQuery,
    /// The first and last day with stats, whatever the query (for "Lifetime").
    pub first_day: Option<Date>,
    /// The day (in the ad account's time zone) of the campaign's first successful sync: where
    /// the default range starts. `None` before it.
    #[serde(default)]
    pub first_sync_day: Option<Date>,
    pub last_day: Option<Date>,
    /// Totals over the range, for the selected ads.
    pub totals: Metrics,
    /// One entry per day of the range that has stats, for the selected ads.
    pub daily: Vec<DayStats>,
    /// Every ad with stats in the range (selected or not), by name.
    pub ads: Vec<AdStats>,
    pub sync: SyncFigures,
    /// The conversion goal's figures over the range; `None` when the campaign has no goal.
    #[serde(default)]
    pub conversions: Option<ConversionStats>,
    /// When the stats were last fetched from Facebook successfully.
    pub last_updated: Option<Timestamp>,
    /// Why the last fetch failed, when it did (cleared by the next success).
    pub last_error: Option<String>,
}

/// Conversions of the campaign's goal event: occurrences of the event by audience members while
/// they were in the campaign's Facebook audience (from the moment Facebook accepted the batch
/// that added them until the one that removed them), on the days of the range, in the ad
/// account's time zone. They are counted from the stored customer events, not from Facebook, so
/// they belong to no ad: an ad filter does not change them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConversionStats {
    /// The goal event's name.
    pub event: String,
    pub conversions: u64,
    /// Amount spent (the selected ads' total) ÷ conversions, in minor units rounded half away
    /// from zero; `None` without conversions.
    pub cost_per_conversion_minor: Option<i64>,
    /// One entry per day of the range with conversions.
    pub daily: Vec<DayConversions>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DayConversions {
    pub day: Date,
    pub conversions: u64,
}

impl ConversionStats {
    /// The figures of `event` from its per-day counts and the spend they cost.
    pub fn new(event: String, daily: Vec<DayConversions>, spend_minor: i64) -> Self {
        let conversions = daily.iter().map(|d| d.conversions).sum();
        Self {
            event,
            conversions,
            cost_per_conversion_minor: cost_per_conversion(spend_minor, conversions),
            daily,
        }
    }

    /// "Conversions" as a KPI value: `1,234`.
    pub fn format_count(&self) -> String {
        format_count(self.conversions)
    }

    /// The cost per conversion for people, or "—" without conversions.
    pub fn format_cost(&self, currency: &str) -> String {
        self.cost_per_conversion_minor
            .map_or_else(|| "—".to_owned(), |c| format_money(c, currency))
    }
}

/// Spend ÷ conversions in minor units, rounded half away from zero with integer arithmetic (the
/// browser and the server agree to the cent); `None` without conversions.
pub fn cost_per_conversion(spend_minor: i64, conversions: u64) -> Option<i64> {
    div_round(i128::from(spend_minor), i128::from(conversions))
}

/// Totals, daily series and per-ad table of `rows` under `query`, with Facebook's reach from
/// `reach`. Reach does not add up (one person seen on two days, or by two ads, counts once), so
/// it is only shown where Facebook counted it: the whole ad set or one ad over the range, and
/// per day the ad set's (or the one ad's) day. Several ads out of more have no reach.
pub fn summarize(
    rows: &[AdDay],
    query: &StatsQuery,
    reach: &ReachFigures,
) -> (Metrics, Vec<DayStats>, Vec<AdStats>) {
    let in_range: Vec<&AdDay> = rows.iter().filter(|r| query.contains(r.day)).collect();
    let chosen: Vec<&AdDay> = in_range
        .iter()
        .copied()
        .filter(|r| query.selects(&r.ad_id))
        .collect();
    let mut every_ad: Vec<&str> = in_range.iter().map(|r| r.ad_id.as_str()).collect();
    every_ad.sort_unstable();
    every_ad.dedup();
    // Whose reach the totals and days are: the ad set's, one ad's, or nobody's.
    let scope = if every_ad.iter().all(|a| query.selects(a)) {
        Some(None)
    } else if query.ads.len() == 1 {
        Some(Some(query.ads[0].as_str()))
    } else {
        None
    };
    let totals = Metrics::of(chosen.iter().copied())
        .with_reach(scope.and_then(|ad| reach.get(ad, query.from, query.to)));
    let mut days: Vec<Date> = chosen.iter().map(|r| r.day).collect();
    days.sort_unstable();
    days.dedup();
    let daily = days
        .into_iter()
        .map(|day| {
            let of_day: Vec<&AdDay> = chosen.iter().copied().filter(|r| r.day == day).collect();
            let day_reach = match scope {
                Some(None) => reach.get(None, Some(day), Some(day)),
                Some(Some(ad)) => of_day.iter().find(|r| r.ad_id == ad).map(|r| r.reach),
                None => None,
            };
            DayStats {
                day,
                metrics: Metrics::of(of_day).with_reach(day_reach),
            }
        })
        .collect();
    let mut ads: Vec<(String, String)> = Vec::new();
    for r in &in_range {
        match ads.iter_mut().find(|(id, _)| *id == r.ad_id) {
            // The latest name wins: ads can be renamed.
            Some((_, name)) if r.day >= latest_day(&in_range, &r.ad_id) => {
                name.clone_from(&r.ad_name);
            }
            Some(_) => {}
            None => ads.push((r.ad_id.clone(), r.ad_name.clone())),
        }
    }
    ads.sort_by(|a, b| a.1.cmp(&b.1).then_with(|| a.0.cmp(&b.0)));
    let ads = ads
        .into_iter()
        .map(|(ad_id, ad_name)| AdStats {
            metrics: Metrics::of(in_range.iter().copied().filter(|r| r.ad_id == ad_id))
                .with_reach(reach.get(Some(&ad_id), query.from, query.to)),
            selected: query.selects(&ad_id),
            ad_id,
            ad_name,
        })
        .collect();
    (totals, daily, ads)
}

fn latest_day(rows: &[&AdDay], ad_id: &str) -> Date {
    rows.iter()
        .filter(|r| r.ad_id == ad_id)
        .map(|r| r.day)
        .max()
        .unwrap_or(Date::MIN)
}

/// Digits after the decimal point of a currency (ISO 4217 minor units; Facebook's "offset").
pub fn currency_exponent(currency: &str) -> u32 {
    match currency {
        "JPY" | "KRW" | "VND" | "CLP" | "ISK" | "PYG" | "HUF" | "TWD" | "COP" | "CRC" | "IDR" => 0,
        _ => 2,
    }
}

/// Parses Facebook's decimal string (`"100.5"`, `"12"`) into minor units, exactly. More decimals
/// than the currency has are rounded half up (Facebook does not send them in practice).
pub fn parse_money(raw: &str, currency: &str) -> Option<i64> {
    let exp = currency_exponent(currency) as usize;
    let raw = raw.trim();
    let (neg, raw) = match raw.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, raw),
    };
    let (int, frac) = raw.split_once('.').unwrap_or((raw, ""));
    if (int.is_empty() && frac.is_empty())
        || !int.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let mut minor: i64 = if int.is_empty() { 0 } else { int.parse().ok()? };
    for _ in 0..exp {
        minor = minor.checked_mul(10)?;
    }
    let mut digits = frac.bytes().map(|b| i64::from(b - b'0'));
    let mut scale = 10i64.pow(exp as u32);
    for _ in 0..exp {
        scale /= 10;
        minor = minor.checked_add(digits.next().unwrap_or(0) * scale)?;
    }
    if digits.next().is_some_and(|d| d >= 5) {
        minor = minor.checked_add(1)?;
    }
    Some(if neg { -minor } else { minor })
}

/// Minor units as a plain decimal (`12345` USD → `"123.45"`), for CSV and inputs.
pub fn money_decimal(minor: i64, currency: &str) -> String {
    let exp = currency_exponent(currency);
    let sign = if minor < 0 { "-" } else { "" };
    let abs = minor.unsigned_abs();
    if exp == 0 {
        return format!("{sign}{abs}");
    }
    let scale = 10u64.pow(exp);
    format!(
        "{sign}{}.{:0width$}",
        abs / scale,
        abs % scale,
        width = exp as usize
    )
}

/// Minor units for people: `"$1,234.50"`, `"₹83.00"`, or `"1,234.50 EUR"` for other currencies.
pub fn format_money(minor: i64, currency: &str) -> String {
    let plain = money_decimal(minor, currency);
    let (sign, plain) = match plain.strip_prefix('-') {
        Some(rest) => ("-", rest.to_owned()),
        None => ("", plain),
    };
    let (int, frac) = plain.split_once('.').unwrap_or((&plain, ""));
    let grouped = group_thousands(int);
    let number = if frac.is_empty() {
        grouped
    } else {
        format!("{grouped}.{frac}")
    };
    match currency {
        "USD" => format!("{sign}${number}"),
        "INR" => format!("{sign}₹{number}"),
        "EUR" => format!("{sign}€{number}"),
        "GBP" => format!("{sign}£{number}"),
        other => format!("{sign}{number} {other}"),
    }
}

/// `1234567` → `"1,234,567"`.
pub fn format_count(n: u64) -> String {
    group_thousands(&n.to_string())
}

fn group_thousands(digits: &str) -> String {
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A percentage with two decimals (`"1.23%"`), or "—" when undefined.
pub fn format_pct(pct: Option<f64>) -> String {
    format_hundredths(pct).map_or_else(|| "—".to_owned(), |p| format!("{p}%"))
}

/// A non-negative number with two decimals (`"1.42"`), e.g. a frequency.
pub fn format_hundredths(value: Option<f64>) -> Option<String> {
    // Integer formatting: float precision formatting would add to the browser's WASM.
    value.map(|v| {
        let hundredths = (v * 100.0).round() as i64;
        format!("{}.{:02}", hundredths / 100, hundredths % 100)
    })
}

/// `2026-11-28 21:05 UTC`, cut from the RFC 3339 form (jiff's `strftime` would add to the WASM).
pub fn format_minute_utc(ts: Timestamp) -> String {
    let text = ts.to_string();
    match (text.get(..10), text.get(11..16)) {
        (Some(date), Some(time)) => format!("{date} {time} UTC"),
        _ => text,
    }
}

/// The per-day, per-ad rows as CSV (RFC 4180), for spreadsheets. Names that a spreadsheet would
/// run as a formula (`=`, `+`, `-`, `@`) are prefixed with `'`.
pub fn to_csv(rows: &[AdDay], query: &StatsQuery, currency: &str) -> String {
    let mut out =
        String::from("date,ad_id,ad_name,impressions,reach,frequency,clicks,spend,currency\r\n");
    let mut chosen: Vec<&AdDay> = rows
        .iter()
        .filter(|r| query.contains(r.day) && query.selects(&r.ad_id))
        .collect();
    chosen.sort_by(|a, b| a.day.cmp(&b.day).then_with(|| a.ad_id.cmp(&b.ad_id)));
    for r in chosen {
        out.push_str(&format!(
            "{},{},{},{},{},{},{},{},{}\r\n",
            r.day,
            r.ad_id,
            csv_field(&r.ad_name),
            r.impressions,
            r.reach,
            format_hundredths(r.frequency()).unwrap_or_default(),
            r.clicks,
            money_decimal(r.spend_minor, currency),
            csv_field(currency),
        ));
    }
    out
}

fn csv_field(value: &str) -> String {
    let value = if value.starts_with(['=', '+', '-', '@']) {
        format!("'{value}")
    } else {
        value.to_owned()
    };
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value
    }
}

/// The chartable metrics of the stats page, in the metric picker's order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChartMetric {
    Impressions,
    Reach,
    Frequency,
    Clicks,
    Spend,
    Ctr,
    Cpc,
    Cpm,
}

impl ChartMetric {
    pub const ALL: [Self; 8] = [
        Self::Impressions,
        Self::Reach,
        Self::Frequency,
        Self::Clicks,
        Self::Spend,
        Self::Ctr,
        Self::Cpc,
        Self::Cpm,
    ];

    /// The name used in the URL (`metric=clicks`).
    pub fn key(self) -> &'static str {
        match self {
            Self::Impressions => "impressions",
            Self::Reach => "reach",
            Self::Frequency => "frequency",
            Self::Clicks => "clicks",
            Self::Spend => "spend",
            Self::Ctr => "ctr",
            Self::Cpc => "cpc",
            Self::Cpm => "cpm",
        }
    }

    pub fn from_key(key: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.key() == key)
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Impressions => "Impressions",
            Self::Reach => "Reach",
            Self::Frequency => "Frequency",
            Self::Clicks => "Clicked",
            Self::Spend => "Amount spent",
            Self::Ctr => "CTR",
            Self::Cpc => "CPC",
            Self::Cpm => "CPM",
        }
    }

    /// What the metric counts, as Facebook defines it (the totals' tooltip).
    pub fn description(self) -> &'static str {
        match self {
            Self::Impressions => "Times the ads were on screen",
            Self::Reach => {
                "People who saw the ads at least once, as Facebook counts them over the whole \
                 range (not a sum of days). Shown for the presets' ranges, for all ads or one."
            }
            Self::Frequency => "Impressions ÷ reach: times each person saw the ads on average",
            Self::Clicks => "Clicks (all) on the ads",
            Self::Spend => "Estimated amount spent",
            Self::Ctr => "Clicks ÷ impressions",
            Self::Cpc => "Amount spent ÷ clicks",
            Self::Cpm => "Amount spent per 1,000 impressions",
        }
    }

    /// The metric's value as a number for the chart (money in minor units); 0 when undefined.
    pub fn value(self, m: &Metrics) -> f64 {
        match self {
            Self::Impressions => m.impressions as f64,
            Self::Reach => m.reach.unwrap_or(0) as f64,
            Self::Frequency => m.frequency.unwrap_or(0.0),
            Self::Clicks => m.clicks as f64,
            Self::Spend => m.spend_minor as f64,
            Self::Ctr => m.ctr.unwrap_or(0.0),
            Self::Cpc => m.cpc_minor.unwrap_or(0) as f64,
            Self::Cpm => m.cpm_minor.unwrap_or(0) as f64,
        }
    }

    /// The metric formatted for people.
    pub fn format(self, m: &Metrics, currency: &str) -> String {
        let money =
            |v: Option<i64>| v.map_or_else(|| "—".to_owned(), |v| format_money(v, currency));
        match self {
            Self::Impressions => format_count(m.impressions),
            Self::Reach => m.reach.map_or_else(|| "—".to_owned(), format_count),
            Self::Frequency => format_hundredths(m.frequency).unwrap_or_else(|| "—".to_owned()),
            Self::Clicks => format_count(m.clicks),
            Self::Spend => format_money(m.spend_minor, currency),
            Self::Ctr => format_pct(m.ctr),
            Self::Cpc => money(m.cpc_minor),
            Self::Cpm => money(m.cpm_minor),
        }
    }
}

/// A share link of a campaign's stats. The token itself is shown once, when it is created.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ShareLink {
    pub id: i64,
    pub created_at: Timestamp,
    pub created_by: String,
    pub expires_at: Option<Timestamp>,
    pub revoked_at: Option<Timestamp>,
    pub status: ShareLinkStatus,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ShareLinkStatus {
    Active,
    Expired,
    Revoked,
}

impl ShareLinkStatus {
    pub fn of(
        expires_at: Option<Timestamp>,
        revoked_at: Option<Timestamp>,
        now: Timestamp,
    ) -> Self {
        if revoked_at.is_some() {
            Self::Revoked
        } else if expires_at.is_some_and(|e| e <= now) {
            Self::Expired
        } else {
            Self::Active
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Active => "Active",
            Self::Expired => "Expired",
            Self::Revoked => "Revoked",
        }
    }
}

/// `POST /api/campaigns/{id}/share-links`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NewShareLink {
    /// When the link stops working; never when absent.
    #[serde(default)]
    pub expires_at: Option<Timestamp>,
}

impl NewShareLink {
    pub fn validate(&self, now: Timestamp) -> Result<(), Vec<FieldError>> {
        match self.expires_at {
            Some(at) if at <= now => Err(vec![FieldError::new(
                "expires_at",
                "The expiry must be in the future.",
            )]),
            _ => Ok(()),
        }
    }
}

/// The answer to creating a share link: the only time the token is revealed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreatedShareLink {
    pub link: ShareLink,
    pub token: String,
    /// The public page's path, `/share/{token}`.
    pub path: String,
}

/// What "Refresh now" did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StatsRefresh {
    /// Rows (ad × day) written.
    pub rows: u64,
    pub since: Date,
    pub until: Date,
    pub last_updated: Timestamp,
}

/// A row with [`Metrics`] flattened into it, read as its JSON lists the fields: the derive
/// would buffer a flattened struct in serde's `Content` (see `crate::tagged`), and reading it
/// through a `serde_json` map made the stats page download that map's code. The metric fields
/// are [`Metrics`]'s, with its attributes; one missing here fails to compile the `From`.
macro_rules! metrics_row {
    ($fields:ident as $name:literal => $row:ident { $($field:ident: $ty:ty),* }) => {
        #[derive(Deserialize)]
        #[serde(rename = $name)]
        struct $fields {
            $($field: $ty,)*
            impressions: u64,
            #[serde(default)]
            reach: Option<u64>,
            #[serde(default)]
            frequency: Option<f64>,
            clicks: u64,
            spend_minor: i64,
            ctr: Option<f64>,
            cpc_minor: Option<i64>,
            cpm_minor: Option<i64>,
        }

        impl From<$fields> for $row {
            fn from(f: $fields) -> Self {
                $row {
                    $($field: f.$field,)*
                    metrics: Metrics {
                        impressions: f.impressions,
                        reach: f.reach,
                        frequency: f.frequency,
                        clicks: f.clicks,
                        spend_minor: f.spend_minor,
                        ctr: f.ctr,
                        cpc_minor: f.cpc_minor,
                        cpm_minor: f.cpm_minor,
                    },
                }
            }
        }
    };
}

metrics_row!(DayStatsFields as "DayStats" => DayStats { day: Date });
metrics_row!(AdStatsFields as "AdStats" => AdStats { ad_id: String, ad_name: String, selected: bool });

#[cfg(test)]
mod tests;
