use leptos::prelude::*;
use shared::stats::{ChartMetric, Metrics};

/// The totals of the view: Impressions, Clicked, Amount spent and the derived CTR, CPC and CPM.
#[component]
pub fn KpiCards(totals: Metrics, currency: String) -> impl IntoView {
    let format = move |m: ChartMetric| m.format(&totals, &currency);
    view! {
        <dl class="kpis" aria-label="Totals">
            {ChartMetric::ALL
                .into_iter()
                .map(|m| {
                    view! {
                        <div class="kpi" data-kpi=m.key()>
                            <dt class="kpi__label">{m.label()}</dt>
                            <dd class="kpi__value">{format(m)}</dd>
                        </div>
                    }
                })
                .collect_view()}
        </dl>
    }
}
