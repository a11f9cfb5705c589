use leptos::prelude::*;
use shared::stats::{SyncFigures, format_count};

use crate::components::layout::LocalTime;

/// The audience sync figures of the campaign; "—" until its audience has been synced.
#[component]
pub fn SyncPanel(sync: SyncFigures) -> impl IntoView {
    let count = |n: Option<u64>| n.map_or_else(|| "—".to_owned(), format_count).into_any();
    let last = sync.last_sync_at.map_or_else(
        || "Not synced yet".into_any(),
        |at| view! { <LocalTime at=at.to_string() /> }.into_any(),
    );
    let items = [
        ("Audience size before", count(sync.audience_size_before)),
        ("Audience size now", count(sync.audience_size_now)),
        ("Users added", count(sync.users_added)),
        ("Users removed", count(sync.users_removed)),
        ("Invalid entries", count(sync.users_invalid)),
        ("Last sync", last),
    ];
    // Said only when the last sync filtered on ads consent (Settings → Ads consent).
    let consent = sync.consent_held.map(|n| {
        view! { <p class="sync-panel__note" role="note">{shared::consent::held_back_note(n as i64)}</p> }
    });
    view! {
        <section class="sync-panel" aria-labelledby="sync-heading">
            <h2 id="sync-heading">"Audience sync"</h2>
            <dl class="sync-panel__figures">
                {items.into_iter().map(|(k, v)| view! { <div><dt>{k}</dt><dd>{v}</dd></div> }).collect_view()}
            </dl>
            {consent}
        </section>
    }
}
