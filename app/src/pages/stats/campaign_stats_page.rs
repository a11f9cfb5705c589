use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::{
    components::A,
    hooks::{use_params_map, use_query_map},
};

use crate::{
    api::{
        load::{Act, Load},
        stats as api,
    },
    components::{
        layout::LocalTime,
        runs::RunHistory,
        stats::{ShareDialog, StatsView, view_query::ViewQuery},
    },
};

/// `/campaigns/{id}/stats`: the stats of the ad set the campaign exports to, with "Refresh now",
/// CSV export and share links. The view (range, ads, metric) is the URL query.
#[component]
pub fn CampaignStatsPage() -> impl IntoView {
    let params = use_params_map();
    let id = params.with_untracked(|p| p.get("id").and_then(|s| s.parse::<i64>().ok()));
    let query = use_query_map();
    let view_query = Memo::new(move |_| query.with(ViewQuery::from_params));
    let refresh = Act::new(move |()| async move {
        match id {
            Some(id) => api::refresh_stats(id).await.map(drop),
            None => Ok(()),
        }
    });
    // Bumped when a sync run finishes, so the sync figures are read again.
    let synced = RwSignal::new(0u32);
    let on_synced = Callback::new(move |()| {
        synced.try_update(|n| *n += 1);
    });
    let stats = Load::new(move || {
        let q = view_query.with(|v| v.stats.clone());
        refresh.version().get();
        synced.get();
        async move {
            match id {
                Some(id) => api::get_stats(id, q).await,
                None => Err(crate::api::ClientError::Network("no such campaign".into())),
            }
        }
    });
    let refresh_error = move || match refresh.value().get() {
        Some(Err(e)) => Some(format!("The stats could not be refreshed: {e}")),
        _ => None,
    };
    let id = id.unwrap_or(0);
    let base_path = format!("/campaigns/{id}/stats");

    view! {
        <Title text="Campaign stats" />
        <p class="breadcrumb"><A href="/campaigns">"Campaigns"</A></p>
        // Busy while the figures of a new range or choice of ads are on their way.
        <div class="loading-region" aria-busy=move || stats.loading().to_string()>
            {move || {
                let base_path = base_path.clone();
                match stats.get() {
                    None => view! { <p class="loading">"Loading the stats…"</p> }.into_any(),
                    Some(Err(err)) => view! {
                        <div class="page-header"><h1>"Campaign stats"</h1></div>
                        <p class="notice notice--error" role="alert">{format!("The stats could not be loaded: {err}")}</p>
                    }.into_any(),
                    Some(Ok(s)) => {
                        let updated = s.last_updated.map_or_else(
                            || "Never fetched from Facebook yet".into_any(),
                            |t| view! { "Last updated " <LocalTime at=t.to_string() /> }.into_any(),
                        );
                        let csv_url = api::csv_url(&format!("/api/campaigns/{id}"), &s.query);
                        let last_error = s.last_error.clone();
                        let title = s.campaign_name.clone();
                        view! {
                            <div class="page-header">
                                <h1>{title}</h1>
                                <div class="page-header__actions">
                                    <span class="muted" role="status">{updated}</span>
                                    <button type="button" class="button" disabled=move || refresh.pending()
                                        on:click=move |_| { refresh.dispatch(()); }>
                                        {move || if refresh.pending() { "Refreshing…" } else { "Refresh now" }}
                                    </button>
                                    <ShareDialog campaign_id=id />
                                </div>
                            </div>
                            {last_error.map(|e| view! { <p class="notice notice--error">{format!("The last fetch failed. {e}")}</p> })}
                            <StatsView stats=s view_query=view_query.get_untracked() base_path=base_path csv_url=csv_url />
                        }.into_any()
                    }
                }
            }}
        </div>
        <p class="notice notice--error" role="alert" hidden=move || refresh_error().is_none()>{refresh_error}</p>
        // Outside the stats' region: rereading the stats must not reset the run history.
        {(id > 0).then(|| view! { <crate::components::stats::HoldoutPanel campaign_id=id synced=synced /> })}
        {(id > 0).then(|| view! { <RunHistory campaign_id=id on_synced=on_synced /> })}
    }
}
