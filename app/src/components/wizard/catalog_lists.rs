use leptos::prelude::*;

use crate::api;

/// The `<datalist>` id of the event names in the catalog.
pub const EVENT_LIST: &str = "catalog-events";
/// The `<datalist>` id of the profile properties in the catalog.
pub const PROFILE_PROPERTY_LIST: &str = "catalog-profile-properties";

/// Suggestions for the rule fields from `GET /api/catalog`: event names (most frequent first)
/// and profile properties. Free text stays allowed: an event may be sent tomorrow.
#[component]
pub fn CatalogLists() -> impl IntoView {
    let catalog = LocalResource::new(api::get_catalog);
    let events = move || {
        catalog
            .get()
            .and_then(Result::ok)
            .map(|c| c.events.into_iter().map(|e| e.name).collect::<Vec<_>>())
            .unwrap_or_default()
    };
    let properties = move || {
        catalog
            .get()
            .and_then(Result::ok)
            .map(|c| {
                c.profile_properties
                    .into_iter()
                    .map(|p| p.name)
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default()
    };
    view! {
        <datalist id=EVENT_LIST>
            <For each=events key=|n| n.clone() let:name>
                <option value=name />
            </For>
        </datalist>
        <datalist id=PROFILE_PROPERTY_LIST>
            <For each=properties key=|n| n.clone() let:name>
                <option value=name />
            </For>
        </datalist>
    }
}
