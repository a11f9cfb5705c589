use leptos::prelude::*;
use shared::profile_view::{CampaignRef, SegmentRef};

/// The saved segments the person is in now, and the campaigns whose Facebook audience holds
/// them per each campaign's last confirmed sync.
#[component]
pub fn ProfileMemberships(segments: Vec<SegmentRef>, campaigns: Vec<CampaignRef>) -> impl IntoView {
    let segments = if segments.is_empty() {
        view! { <p class="field__hint">"In no saved segment now."</p> }.into_any()
    } else {
        view! {
            <ul class="membership-list" aria-label="Saved segments">
                {segments.into_iter().map(|s| view! { <li>{s.name}</li> }).collect_view()}
            </ul>
        }
        .into_any()
    };
    let campaigns = if campaigns.is_empty() {
        view! { <p class="field__hint">"In no campaign's Facebook audience (as last confirmed by its sync)."</p> }
            .into_any()
    } else {
        view! {
            <ul class="membership-list" aria-label="Campaign audiences">
                {campaigns
                    .into_iter()
                    .map(|c| {
                        let when = c
                            .confirmed_at
                            .as_deref()
                            .map(|t| format!(", confirmed by the sync of {}", crate::local_time::instant(t)))
                            .unwrap_or_default();
                        view! {
                            <li>
                                <a href=format!("/campaigns/{}/stats", c.id)>{c.name}</a>
                                <span class="field__hint">{format!(" — {}{when}", c.status)}</span>
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
        }
        .into_any()
    };
    view! {
        <h3 class="data-subheading">"Saved segments (now)"</h3>
        {segments}
        <h3 class="data-subheading">"Campaign audiences on Facebook"</h3>
        {campaigns}
    }
}
