use leptos::prelude::*;
use shared::profile_view::{MatchKeyView, PropertyView};

/// The person's profile properties with their types (contact values masked), and the Facebook
/// match keys they have (masked): what a sync can match them on.
#[component]
pub fn ProfileProperties(
    properties: Vec<PropertyView>,
    match_keys: Vec<MatchKeyView>,
) -> impl IntoView {
    let properties = if properties.is_empty() {
        view! { <p class="field__hint">"No profile properties."</p> }.into_any()
    } else {
        view! {
            <table class="campaigns data-table">
                <caption>"Profile properties"</caption>
                <thead>
                    <tr>
                        <th scope="col">"Property"</th>
                        <th scope="col">"Type"</th>
                        <th scope="col">"Value"</th>
                    </tr>
                </thead>
                <tbody>
                    {properties
                        .into_iter()
                        .map(|p| view! {
                            <tr>
                                <th scope="row" class="data-table__name">{p.key}</th>
                                <td>{p.kind}</td>
                                <td>{p.value}</td>
                            </tr>
                        })
                        .collect_view()}
                </tbody>
            </table>
        }
        .into_any()
    };
    let keys = if match_keys.is_empty() {
        view! {
            <p class="field__hint">
                "No Facebook match keys: a sync can send only this person's identity (EXTERN_ID), which Facebook matches only to people it already knows by it."
            </p>
        }
        .into_any()
    } else {
        view! {
            <ul class="key-list" aria-label="Facebook match keys">
                {match_keys
                    .into_iter()
                    .map(|k| view! { <li><span class="key-list__key">{k.key}</span>" "{k.masked}</li> })
                    .collect_view()}
            </ul>
        }
        .into_any()
    };
    view! {
        {properties}
        <h3 class="data-subheading">"Facebook match keys"</h3>
        {keys}
    }
}
