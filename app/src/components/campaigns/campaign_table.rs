use leptos::prelude::*;
use shared::{campaign_list::CampaignListItem, label::Label};

use crate::components::campaigns::{CampaignRow, RowAction, RunNotice};

/// The campaigns as a table, in the order given; as a list of cards where the page is narrower
/// than the table (the stylesheet's `.table--cards`, which heads each cell with its `data-label`).
#[component]
pub fn CampaignTable(
    campaigns: Vec<CampaignListItem>,
    #[prop(into)] labels: Signal<Vec<Label>>,
    /// Runs an action on a campaign.
    on_action: Callback<(i64, RowAction)>,
    /// What came of "Run now" or "Dry run" in a row (id, name, outcome).
    on_run: Callback<(i64, String, RunNotice)>,
) -> impl IntoView {
    view! {
        <table class="campaigns table--cards">
            <caption class="visually-hidden">"Campaigns"</caption>
            <thead>
                <tr>
                    <th scope="col">"Name"</th>
                    <th scope="col">"Status"</th>
                    <th scope="col">"Schedule"</th>
                    <th scope="col">"Next run"</th>
                    <th scope="col">"Labels"</th>
                    <th scope="col">"Audience size"</th>
                    <th scope="col">"Last sync"</th>
                    <th scope="col">"Actions"</th>
                </tr>
            </thead>
            <tbody>
                <For each=move || campaigns.clone() key=|c| (c.id, c.version, c.list_columns.clone()) let:c>
                    <CampaignRow campaign=c labels=labels on_action=on_action on_run=on_run />
                </For>
            </tbody>
        </table>
    }
}
