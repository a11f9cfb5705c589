use leptos::prelude::*;
use shared::stats::{AdStats, ChartMetric};

/// The per-ad table. Each ad's checkbox adds it to or removes it from the view; the last checked
/// ad cannot be unchecked (an empty selection would mean "every ad" again).
#[component]
pub fn AdTable(
    ads: Vec<AdStats>,
    currency: String,
    /// Called with the ad ids to show.
    on_select: Callback<Vec<String>>,
) -> impl IntoView {
    let format =
        move |m: ChartMetric, metrics: &shared::stats::Metrics| m.format(metrics, &currency);
    let selected: Vec<String> = ads
        .iter()
        .filter(|a| a.selected)
        .map(|a| a.ad_id.clone())
        .collect();
    let all: Vec<String> = ads.iter().map(|a| a.ad_id.clone()).collect();
    let rows = ads
        .into_iter()
        .map(|ad| {
            let id = ad.ad_id.clone();
            let checked = ad.selected;
            let only_one = checked && selected.len() == 1;
            let selected = selected.clone();
            let all = all.clone();
            let toggle = move |_| {
                let mut next: Vec<String> = if checked {
                    selected.iter().filter(|a| **a != id).cloned().collect()
                } else {
                    all.iter()
                        .filter(|a| selected.contains(a) || **a == id)
                        .cloned()
                        .collect()
                };
                // Every ad selected is the same view as no filter: keep the URL short.
                if next.len() == all.len() {
                    next.clear();
                }
                on_select.run(next);
            };
            let cells = ChartMetric::ALL
                .into_iter()
                .map(|m| view! { <td class="num">{format(m, &ad.metrics)}</td> })
                .collect_view();
            view! {
                <tr class=if checked { "" } else { "ads__row--off" }>
                    <td>
                        <input type="checkbox" prop:checked=checked disabled=only_one
                            aria-label=format!("Include {}", ad.ad_name) on:change=toggle />
                    </td>
                    <th scope="row">{ad.ad_name.clone()}<span class="ads__id">{ad.ad_id}</span></th>
                    {cells}
                </tr>
            }
        })
        .collect_view();
    view! {
        <table class="table ads" aria-label="Ads">
            <thead>
                <tr>
                    <th scope="col"><span class="visually-hidden">"Included"</span></th>
                    <th scope="col">"Ad"</th>
                    {ChartMetric::ALL.into_iter().map(|m| view! { <th scope="col" class="num">{m.label()}</th> }).collect_view()}
                </tr>
            </thead>
            <tbody>{rows}</tbody>
        </table>
    }
}
