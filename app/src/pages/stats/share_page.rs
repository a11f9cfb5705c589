use leptos::prelude::*;
use leptos_meta::{Meta, Title};
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::{
    api::{ClientError, load::Load, stats as api},
    components::{
        layout::LocalTime,
        stats::{StatsView, view_query::ViewQuery},
    },
};
use shared::error::ErrorCode;

/// `/share/{token}`: a campaign's stats for anyone with the link, read-only, outside the app's
/// shell (no navigation into the app), and never indexed by search engines.
#[component]
pub fn SharePage() -> impl IntoView {
    let params = use_params_map();
    let token = params.with_untracked(|p| p.get("token").unwrap_or_default());
    let query = use_query_map();
    let view_query = Memo::new(move |_| query.with(ViewQuery::from_params));
    let t = token.clone();
    let stats = Load::new(move || {
        let q = view_query.with(|v| v.stats.clone());
        api::get_shared_stats(t.clone(), q)
    });
    let base_path = format!("/share/{token}");
    let api_base = format!("/api/share/{token}");

    view! {
        <Meta name="robots" content="noindex, nofollow" />
        <Title text="Campaign stats" />
        // Busy while the figures of a new range or choice of ads are on their way.
        <main id="main" class="share-page loading-region" aria-busy=move || stats.loading().to_string()>
            {move || {
                let base_path = base_path.clone();
                let api_base = api_base.clone();
                match stats.get() {
                    None => view! { <p class="loading">"Loading the stats…"</p> }.into_any(),
                    Some(Err(ClientError::Api(body))) if body.error.code == ErrorCode::NotFound => view! {
                        <section class="empty-state">
                            <h1>"This link is no longer available"</h1>
                            <p>"The share link has expired or was revoked. Ask the person who sent it for a new one."</p>
                        </section>
                    }.into_any(),
                    Some(Err(err)) => view! {
                        <p class="notice notice--error" role="alert">{format!("The stats could not be loaded: {err}")}</p>
                    }.into_any(),
                    Some(Ok(s)) => {
                        let updated = s.last_updated.map_or_else(
                            || "Not fetched from Facebook yet".into_any(),
                            |t| view! { "Last updated " <LocalTime at=t.to_string() /> }.into_any(),
                        );
                        let csv_url = api::csv_url(&api_base, &s.query);
                        let title = s.campaign_name.clone();
                        view! {
                            <div class="page-header">
                                <h1>{title}</h1>
                                <span class="muted">{updated}</span>
                            </div>
                            <StatsView stats=s view_query=view_query.get_untracked() base_path=base_path csv_url=csv_url />
                        }.into_any()
                    }
                }
            }}
        </main>
    }
}
