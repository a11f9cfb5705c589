use leptos::{ev::KeyboardEvent, html::Button, prelude::*};

use crate::{
    components::campaigns::RunNotice,
    lazy_pages::{RunMenuArgs, lazy_view, prefetch_run_menu, run_menu_items},
};

/// "Sync" in a campaign's row: opens the stats page's "Run now" and "Dry run" for this campaign.
/// A menu rather than two more buttons per row, and a second click before anything is sent.
/// What it opens comes with the stats page's code, downloaded the first time a menu opens
/// (pointing at "Sync" starts it): the list is the first download, and most visits open no menu.
#[component]
pub fn RunMenu(
    campaign_id: i64,
    name: String,
    /// The status allows "Run now" (a dry run is allowed to any published campaign).
    run_now: bool,
    /// A run is queued or under way: "Run now" waits.
    busy: bool,
    /// What came of a click, in words, for the list to say.
    on_notice: Callback<RunNotice>,
) -> impl IntoView {
    let open = RwSignal::new(false);
    let toggle = NodeRef::<Button>::new();
    let close = move || {
        open.set(false);
        if let Some(button) = toggle.get_untracked() {
            let _ = button.focus();
        }
    };
    let on_keydown = move |ev: KeyboardEvent| {
        if ev.key() == "Escape" && open.get_untracked() {
            close();
        }
    };
    let items_id = format!("run-menu-{campaign_id}");
    let sync_label = format!("Sync {name}");
    let chosen = Callback::new(move |notice: RunNotice| {
        close();
        on_notice.run(notice);
    });
    // The items are downloaded when the menu first opens, then stay.
    let requested = RwSignal::new(false);
    let items = move || {
        requested.get().then(|| {
            lazy_view(run_menu_items(RunMenuArgs {
                campaign_id,
                name: name.clone(),
                run_now,
                busy,
                on_notice: chosen,
            }))
        })
    };
    let on_toggle = move |_| {
        if !requested.get_untracked() {
            requested.set(true);
        }
        open.update(|o| *o = !*o);
    };
    view! {
        <div class="run-menu" on:keydown=on_keydown>
            <button type="button" class="button button--small" node_ref=toggle
                aria-label=sync_label aria-controls=items_id.clone()
                aria-expanded=move || open.get().to_string()
                on:pointerenter=|_| prefetch_run_menu() on:focus=|_| prefetch_run_menu()
                on:click=on_toggle>"Sync"</button>
            <div class="run-menu__items" id=items_id hidden=move || !open.get()>
                {items}
            </div>
        </div>
    }
}
