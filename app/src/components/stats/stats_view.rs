use leptos::prelude::*;
use leptos_router::hooks::use_navigate;
use shared::stats::{CampaignStats, ChartMetric};

use super::{AdTable, DailyChart, KpiCards, RangePicker, SyncPanel, view_query::ViewQuery};

/// The stats of one campaign as the private page and the public share page both show them. Every
/// control changes the URL query ([`ViewQuery`]); the page refetches from it.
#[component]
pub fn StatsView(
    stats: CampaignStats,
    view_query: ViewQuery,
    /// The page's path, which the view state is appended to as a query.
    base_path: String,
    /// Where the CSV of this view is downloaded from.
    csv_url: String,
) -> impl IntoView {
    // The router's navigate function is not `Send`, so the controls' callbacks only name the next
    // URL and an effect (which may hold it) goes there.
    let navigate = use_navigate();
    let next_url = RwSignal::new(None::<String>);
    Effect::new(move |_| {
        if let Some(url) = next_url.get() {
            navigate(&url, Default::default());
        }
    });
    let go = Callback::new(move |v: ViewQuery| next_url.set(Some(v.to_url(&base_path))));
    let CampaignStats {
        currency,
        time_zone,
        query,
        first_day,
        last_day,
        first_sync_day,
        totals,
        daily,
        ads,
        sync,
        conversions,
        ..
    } = stats;
    let currency = currency.unwrap_or_default();
    // Today in the ad account's zone, read by the browser (`Intl`): jiff carries no zone
    // database in the browser, and its zone code would weigh on the stats' download.
    let today = crate::local_time::now_in(time_zone.as_deref())
        .and_then(|c| {
            let (month, day) = (i8::try_from(c.month).ok()?, i8::try_from(c.day).ok()?);
            jiff::civil::Date::new(c.year, month, day).ok()
        })
        .unwrap_or_else(|| {
            jiff::Timestamp::now()
                .to_zoned(jiff::tz::TimeZone::UTC)
                .date()
        });

    let q = view_query.clone();
    let on_range = Callback::new(move |(from, to, lifetime)| {
        let mut v = q.clone();
        v.stats.from = from;
        v.stats.to = to;
        v.stats.lifetime = lifetime;
        go.run(v);
    });
    let q = view_query.clone();
    let on_select = Callback::new(move |ads: Vec<String>| {
        let mut v = q.clone();
        v.stats.ads = ads;
        go.run(v);
    });
    let (view_range, metric) = (view_query.stats.clone(), view_query.metric);
    let q = view_query;
    let on_metric = move |ev: leptos::ev::Event| {
        if let Some(metric) = ChartMetric::from_key(&event_target_value(&ev)) {
            let mut v = q.clone();
            v.metric = metric;
            go.run(v);
        }
    };
    // The server fills in the default start (the first sync's day); the view's own query says
    // whether the range was picked or is the default.
    let last = query.to.or(last_day);
    let range_text = match (view_range.from, query.from, last) {
        (Some(f), _, Some(t)) => format!("{f} to {t}"),
        (None, Some(f), Some(t)) if Some(f) == first_sync_day => {
            format!("Since the first sync: {f} to {t}")
        }
        // The default range of a campaign that has not synced yet: the button pressed says
        // "Since first sync", so the line says why it spans every day so far.
        (None, _, t) if !view_range.lifetime && first_sync_day.is_none() => match (first_day, t) {
            (Some(f), Some(t)) => format!("Not synced yet, so every day of the ad set: {f} to {t}"),
            _ => "Not synced yet, so every day of the ad set".to_owned(),
        },
        (None, _, Some(t)) => match first_day {
            Some(f) => format!("Lifetime: {f} to {t}"),
            None => "Lifetime".to_owned(),
        },
        _ => "Lifetime".to_owned(),
    };
    let tz_note = time_zone
        .map(|tz| format!("Days in {tz}; amounts in {currency}."))
        .unwrap_or_default();

    view! {
        <div class="stats">
            <div class="stats__toolbar">
                <RangePicker from=view_range.from to=view_range.to lifetime=view_range.lifetime
                    today=today synced=first_sync_day.is_some() on_change=on_range />
                <a class="button button--small" href=csv_url download="">"Export CSV"</a>
            </div>
            <p class="stats__range">{range_text} " " <span class="muted">{tz_note}</span></p>
            <KpiCards totals=totals currency=currency.clone() conversions=conversions />
            <section class="stats__chart" aria-labelledby="chart-heading">
                <div class="stats__chart-head">
                    <h2 id="chart-heading">"Daily"</h2>
                    <label>
                        "Metric "
                        <select on:change=on_metric>
                            {ChartMetric::ALL
                                .into_iter()
                                .map(|m| view! { <option value=m.key() selected={m == metric}>{m.label()}</option> })
                                .collect_view()}
                        </select>
                    </label>
                </div>
                <DailyChart daily=daily metric=metric currency=currency.clone() />
            </section>
            <section aria-labelledby="ads-heading">
                <h2 id="ads-heading">"Ads"</h2>
                {if ads.is_empty() {
                    view! {
                        <p class="empty-state">"No ad has stats in this range yet. Try a longer range, such as Lifetime."</p>
                    }.into_any()
                } else {
                    view! { <AdTable ads=ads currency=currency on_select=on_select /> }.into_any()
                }}
            </section>
            <SyncPanel sync=sync />
        </div>
    }
}
