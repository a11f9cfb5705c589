use leptos::prelude::*;

use crate::api::{self, load::Load};

/// The catalog's names, suggested by the rule fields' comboboxes.
#[derive(Clone, Copy)]
pub struct CatalogNames {
    /// Event names, most frequent first.
    pub events: Signal<Vec<String>>,
    pub profile_properties: Signal<Vec<String>>,
}

/// Loads `GET /api/catalog` once for the segment builder below the caller (the Who step, the
/// saved-segment form). Free text stays allowed in every field: an event may be sent tomorrow.
pub fn provide_catalog() {
    let catalog = Load::new(api::get_catalog);
    let events = Signal::derive(move || {
        catalog
            .get()
            .and_then(Result::ok)
            .map(|c| c.events.into_iter().map(|e| e.name).collect())
            .unwrap_or_default()
    });
    let profile_properties = Signal::derive(move || {
        catalog
            .get()
            .and_then(Result::ok)
            .map(|c| c.profile_properties.into_iter().map(|p| p.name).collect())
            .unwrap_or_default()
    });
    provide_context(CatalogNames {
        events,
        profile_properties,
    });
}

/// The catalog of the builder; no suggestions when no ancestor provided it.
pub fn use_catalog() -> CatalogNames {
    use_context().unwrap_or_else(|| CatalogNames {
        events: Signal::derive(Vec::new),
        profile_properties: Signal::derive(Vec::new),
    })
}
