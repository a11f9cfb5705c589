use leptos::prelude::*;
use shared::{
    data_overview::{DAILY_DAYS, EventActivity},
    stats::format_count,
};

use crate::components::layout::LocalTime;

const WIDTH: f64 = 150.0;
const HEIGHT: f64 = 28.0;

/// Events by name: how many, when last seen, and a bar per day of the last 30 (UTC), so a
/// tracking call that stopped firing shows as a gap.
#[component]
pub fn EventActivityTable(events: Vec<EventActivity>) -> impl IntoView {
    if events.is_empty() {
        return view! { <p class="field__hint">"No events yet."</p> }.into_any();
    }
    // The sparkline's heading, repeated as its label when the rows become cards on a phone.
    let daily_label = format!("Last {DAILY_DAYS} days (UTC)");
    view! {
        <table class="campaigns data-table table--cards">
            <caption>"Events"</caption>
            <thead>
                <tr>
                    <th scope="col">"Event"</th>
                    <th scope="col" class="num">"Count"</th>
                    <th scope="col">"Last seen"</th>
                    <th scope="col">{daily_label.clone()}</th>
                </tr>
            </thead>
            <tbody>
                {events
                    .into_iter()
                    .map(|e| {
                        let last = e.last_seen.map_or_else(
                            || "—".into_any(),
                            |at| view! { <LocalTime at=at.to_string() /> }.into_any(),
                        );
                        view! {
                            <tr>
                                <th scope="row" class="data-table__name">{e.name.clone()}</th>
                                <td class="num" data-label="Count">{format_count(e.count)}</td>
                                <td data-label="Last seen">{last}</td>
                                <td class="data-table__wide" data-label=daily_label.clone()>{sparkline(&e)}</td>
                            </tr>
                        }
                    })
                    .collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}

fn sparkline(e: &EventActivity) -> impl IntoView + use<> {
    let max = e.daily.iter().map(|d| d.count).max().unwrap_or(0);
    let total: u64 = e.daily.iter().map(|d| d.count).sum();
    let slot = WIDTH / e.daily.len().max(1) as f64;
    let bars = e
        .daily
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let h = if max == 0 {
                0.0
            } else {
                (HEIGHT - 2.0) * d.count as f64 / max as f64
            };
            let tip = format!("{}: {}", d.day, format_count(d.count));
            view! {
                <rect class="chart__bar" x=n(i as f64 * slot) y=n(HEIGHT - h) width=n((slot - 1.0).max(1.0)) height=n(h)>
                    <title>{tip}</title>
                </rect>
            }
        })
        .collect_view();
    let label = format!(
        "{} events of {} in the last {DAILY_DAYS} days",
        format_count(total),
        e.name
    );
    view! {
        <svg class="sparkline" role="img" aria-label=label viewBox=format!("0 0 {WIDTH} {HEIGHT}") width=WIDTH.to_string() height=HEIGHT.to_string()>
            {bars}
        </svg>
    }
}

/// SVG coordinates with one decimal: enough for a 150 px chart.
fn n(x: f64) -> String {
    let tenths = (x * 10.0).round() as i64;
    format!("{}.{}", tenths / 10, (tenths % 10).abs())
}
