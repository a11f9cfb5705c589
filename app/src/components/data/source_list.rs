use leptos::prelude::*;
use shared::{data_overview::SourceActivity, stats::format_count};

use crate::components::layout::LocalTime;

/// Where records arrive from, and when they last did: the first thing to check when a segment
/// looks empty.
#[component]
pub fn SourceList(sources: Vec<SourceActivity>) -> impl IntoView {
    if sources.is_empty() {
        return view! {
            <p class="field__hint">
                "Nothing has arrived yet. Send records to the upload API (an admin creates a key on API keys) or import a file."
            </p>
        }
        .into_any();
    }
    let latest = sources[0].clone();
    view! {
        <p data-testid="last-arrival">
            "Last record arrived " <LocalTime at=latest.last_at.to_string() />
            {format!(" through {}.", latest.source.label())}
        </p>
        <table class="campaigns data-table table--cards">
            <caption>"Sources"</caption>
            <thead>
                <tr>
                    <th scope="col">"Source"</th>
                    <th scope="col" class="num">"Stored"</th>
                    <th scope="col" class="num">"Refused"</th>
                    <th scope="col">"Last record"</th>
                </tr>
            </thead>
            <tbody>
                {sources
                    .into_iter()
                    .map(|s| view! {
                        <tr>
                            <th scope="row">{s.source.label()}</th>
                            <td class="num" data-label="Stored">{format_count(s.stored)}</td>
                            <td class="num" data-label="Refused">{format_count(s.refused)}</td>
                            <td data-label="Last record"><LocalTime at=s.last_at.to_string() /></td>
                        </tr>
                    })
                    .collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}
