use leptos::prelude::*;
use shared::stats::{ChartMetric, DayStats};

// Hand-drawn SVG rather than a charting crate: the charts this page needs are one bar series with
// an axis, and the crates that fit Leptos CSR (plotters' SVG backend, leptos-chartistry) add far
// more to the WASM than these few elements, against the app's 250 KB brotli budget. Bars are
// plain SVG presentation attributes, so the strict CSP (no inline styles) holds.

const WIDTH: f64 = 720.0;
const HEIGHT: f64 = 220.0;
const LEFT: f64 = 64.0;
const BOTTOM: f64 = 24.0;

/// The daily series of one metric as a bar chart, with each bar's value as its tooltip.
#[component]
pub fn DailyChart(daily: Vec<DayStats>, metric: ChartMetric, currency: String) -> impl IntoView {
    if daily.is_empty() {
        return view! { <p class="chart__empty">"No stats for these days."</p> }.into_any();
    }
    let format = move |m: &shared::stats::Metrics| metric.format(m, &currency);
    let first = daily[0].day.to_string();
    let last = daily[daily.len() - 1].day.to_string();
    let max = daily
        .iter()
        .map(|d| metric.value(&d.metrics))
        .fold(0.0_f64, f64::max);
    let scale = if max > 0.0 {
        (HEIGHT - BOTTOM - 8.0) / max
    } else {
        0.0
    };
    let slot = (WIDTH - LEFT) / daily.len() as f64;
    let bar = (slot * 0.8).max(1.0);
    let label = format!("Daily {} from {first} to {last}", metric.label());
    let top_label = daily
        .iter()
        .max_by(|a, b| {
            metric
                .value(&a.metrics)
                .total_cmp(&metric.value(&b.metrics))
        })
        .map(|d| format(&d.metrics))
        .unwrap_or_default();
    let bars = daily
        .into_iter()
        .enumerate()
        .map(|(i, d)| {
            let h = metric.value(&d.metrics) * scale;
            let x = LEFT + i as f64 * slot + (slot - bar) / 2.0;
            let y = HEIGHT - BOTTOM - h;
            let tip = format!("{}: {}", d.day, format(&d.metrics));
            view! {
                <rect class="chart__bar" x=n(x) y=n(y) width=n(bar) height=n(h)>
                    <title>{tip}</title>
                </rect>
            }
        })
        .collect_view();
    let base = HEIGHT - BOTTOM;
    view! {
        <svg class="chart" viewBox=format!("0 0 {WIDTH} {HEIGHT}") role="img" aria-label=label>
            <line class="chart__axis" x1=n(LEFT) y1=n(base) x2=n(WIDTH) y2=n(base) />
            <text class="chart__tick" x=n(LEFT - 6.0) y="16" text-anchor="end">{top_label}</text>
            <text class="chart__tick" x=n(LEFT - 6.0) y=n(base) text-anchor="end">"0"</text>
            {bars}
            <text class="chart__tick" x=n(LEFT) y=n(HEIGHT - 6.0)>{first}</text>
            <text class="chart__tick" x=n(WIDTH) y=n(HEIGHT - 6.0) text-anchor="end">{last}</text>
        </svg>
    }
    .into_any()
}

/// An SVG coordinate.
fn n(v: f64) -> String {
    // Whole units of a 720-wide view box are precise enough, and integer formatting keeps float
    // formatting out of the WASM.
    (v.round() as i64).to_string()
}
