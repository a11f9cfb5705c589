use leptos::prelude::*;
use shared::data_overview::RejectedRecord;

use crate::components::layout::LocalTime;

/// The latest records the server refused, with the reason and the record as sent: a broken
/// integration is visible here without reading the server's log.
#[component]
pub fn RejectedTable(rejected: Vec<RejectedRecord>) -> impl IntoView {
    if rejected.is_empty() {
        return view! { <p class="field__hint">"No record has been refused."</p> }.into_any();
    }
    view! {
        <table class="campaigns data-table table--cards">
            <caption>"Refused records"</caption>
            <thead>
                <tr>
                    <th scope="col">"When"</th>
                    <th scope="col">"Source"</th>
                    <th scope="col">"Problem"</th>
                    <th scope="col">"Record as sent"</th>
                </tr>
            </thead>
            <tbody>
                {rejected
                    .into_iter()
                    .map(|r| view! {
                        <tr>
                            <td data-label="When"><LocalTime at=r.at.to_string() /></td>
                            <td data-label="Source">{r.source.label()}</td>
                            <td class="data-table__wide" data-label="Problem">{format!("{} ({})", r.error, r.code)}</td>
                            <td class="data-table__wide" data-label="Record as sent"><code class="data-table__record">{r.record}</code></td>
                        </tr>
                    })
                    .collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}
