use leptos::prelude::*;
use shared::stats::format_count;

/// The headline figures: profiles, events, and how many profiles the sync can send (those with
/// at least one Facebook match key), with the share it makes.
#[component]
pub fn DataTotals(profiles: u64, events: u64, with_match_key: u64, refused: u64) -> impl IntoView {
    let reachable = (with_match_key * 100).checked_div(profiles).map_or_else(
        || "—".to_owned(),
        |pct| format!("{} ({pct}%)", format_count(with_match_key)),
    );
    view! {
        <dl class="kpis" aria-label="Totals">
            <div class="kpi" data-kpi="profiles">
                <dt class="kpi__label">"Profiles"</dt>
                <dd class="kpi__value">{format_count(profiles)}</dd>
            </div>
            <div class="kpi" data-kpi="events">
                <dt class="kpi__label">"Events"</dt>
                <dd class="kpi__value">{format_count(events)}</dd>
            </div>
            <div class="kpi" data-kpi="matchable">
                <dt class="kpi__label" title="Profiles with at least one Facebook match key: only they can be sent to an audience">
                    "With a match key"
                </dt>
                <dd class="kpi__value">{reachable}</dd>
            </div>
            <div class="kpi" data-kpi="refused">
                <dt class="kpi__label">"Refused records kept"</dt>
                <dd class="kpi__value">{format_count(refused)}</dd>
            </div>
        </dl>
    }
}
