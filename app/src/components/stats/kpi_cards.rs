use leptos::prelude::*;
use shared::stats::{ChartMetric, ConversionStats, Metrics};

/// The totals of the view: Impressions, Reach, Frequency, Clicked, Amount spent and the derived
/// CTR, CPC and CPM,
/// then the conversion goal's conversions and cost per conversion when the campaign has a goal.
#[component]
pub fn KpiCards(
    totals: Metrics,
    currency: String,
    conversions: Option<ConversionStats>,
) -> impl IntoView {
    let goal = conversions.map(|c| {
        let event = format!(" ({})", c.event);
        let cost = c.format_cost(&currency);
        view! {
            <div class="kpi" data-kpi="conversions">
                <dt class="kpi__label" title="Goal events by audience members while in the audience">
                    "Conversions"{event}
                </dt>
                <dd class="kpi__value">{c.format_count()}</dd>
            </div>
            <div class="kpi" data-kpi="cost_per_conversion">
                <dt class="kpi__label">"Cost per conversion"</dt>
                <dd class="kpi__value">{cost}</dd>
            </div>
        }
    });
    let format = move |m: ChartMetric| m.format(&totals, &currency);
    view! {
        <dl class="kpis" aria-label="Totals">
            {ChartMetric::ALL
                .into_iter()
                .map(|m| {
                    view! {
                        <div class="kpi" data-kpi=m.key()>
                            <dt class="kpi__label" title=m.description()>{m.label()}</dt>
                            <dd class="kpi__value">{format(m)}</dd>
                        </div>
                    }
                })
                .collect_view()}
            {goal}
        </dl>
    }
}
