use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::{
    api::{self, load::Load},
    components::data::{
        DataTotals, EventActivityTable, KeyCoverageList, PersonFinder, PropertyTable,
        RejectedTable, SourceList,
    },
};

/// `/data`: what the product knows about the customers — totals, where records come from,
/// events by name with their last 30 days, profile properties, Facebook match keys, and the
/// records that were refused. Everyone signed in may read it.
#[component]
pub fn DataPage() -> impl IntoView {
    let data = Load::new(api::get_data_overview);
    // Set by the profile page after erasing someone: how many audiences get their removal.
    let erased = use_query_map().with_untracked(|q| q.get("erased"));
    let erased = erased.map(|n| {
        let audiences = match n.as_str() {
            "0" => "They were in no campaign's Facebook audience.".to_owned(),
            "1" => "Their removal from 1 Facebook audience is on its way.".to_owned(),
            n => format!("Their removal from {n} Facebook audiences is on its way."),
        };
        view! {
            <p class="notice" role="status">{format!("The person was erased. {audiences}")}</p>
        }
    });
    view! {
        <Title text="Data" />
        <div class="page-header">
            <h1>"Data"</h1>
            <a class="button" href="/segments/import">"Import data (CSV or NDJSON)"</a>
        </div>
        {erased}
        <section class="data-section" aria-labelledby="data-people">
            <h2 id="data-people">"People"</h2>
            <PersonFinder />
        </section>
        {move || match data.get() {
            None => view! { <p class="loading">"Loading the data overview…"</p> }.into_any(),
            Some(Err(err)) => view! {
                <div class="notice notice--error" role="alert">
                    {format!("The data overview could not be loaded: {err}")}
                </div>
            }.into_any(),
            Some(Ok(data)) if data.profiles == 0 && data.events == 0 && data.rejected_kept == 0 => view! {
                <section class="empty-state" aria-labelledby="no-data">
                    <h2 id="no-data">"No customer data yet"</h2>
                    <p>
                        "Segments are built from your users' profiles and events. Import a CSV or NDJSON file, "
                        "or have your backend send them to the upload API (an admin creates its key on API keys)."
                    </p>
                    <a class="button button--primary" href="/segments/import">"Import data"</a>
                </section>
            }.into_any(),
            Some(Ok(data)) => view! {
                <DataTotals
                    profiles=data.profiles
                    events=data.events
                    with_match_key=data.profiles_with_match_key
                    refused=data.rejected_kept
                />
                <section class="data-section" aria-labelledby="data-sources">
                    <h2 id="data-sources">"Where it comes from"</h2>
                    <SourceList sources=data.sources.clone() />
                </section>
                <section class="data-section" aria-labelledby="data-events">
                    <h2 id="data-events">"Events"</h2>
                    <EventActivityTable events=data.events_by_name.clone() />
                </section>
                <section class="data-section" aria-labelledby="data-properties">
                    <h2 id="data-properties">"Profiles"</h2>
                    <KeyCoverageList keys=data.match_keys.clone() profiles=data.profiles />
                    <PropertyTable properties=data.profile_properties.clone() />
                </section>
                <section class="data-section" aria-labelledby="data-refused">
                    <h2 id="data-refused">"Refused records"</h2>
                    <RejectedTable rejected=data.rejected />
                </section>
            }.into_any(),
        }}
    }
}
