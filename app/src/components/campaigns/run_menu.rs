use leptos::{ev::KeyboardEvent, html::Button, prelude::*};

use crate::components::runs::{RunButtons, RunOutcome};

/// "Sync" in a campaign's row: opens the stats page's "Run now" and "Dry run" for this campaign.
/// A menu rather than two more buttons per row, and a second click before anything is sent.
#[component]
pub fn RunMenu(
    campaign_id: i64,
    name: String,
    /// The status allows "Run now" (a dry run is allowed to any published campaign).
    run_now: bool,
    /// A run is queued or under way: "Run now" waits.
    busy: bool,
    /// What came of a click, for the list to say.
    on_outcome: Callback<RunOutcome>,
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
    let chosen = Callback::new(move |outcome: RunOutcome| {
        close();
        on_outcome.run(outcome);
    });
    view! {
        <div class="run-menu" on:keydown=on_keydown>
            <button type="button" class="button button--small" node_ref=toggle
                aria-label=sync_label aria-controls=items_id.clone()
                aria-expanded=move || open.get().to_string()
                on:click=move |_| open.update(|o| *o = !*o)>"Sync"</button>
            <div class="run-menu__items" id=items_id hidden=move || !open.get()>
                <RunButtons campaign_id=campaign_id campaign_name=name no_run_now=!run_now
                    busy=Signal::stored(busy) on_outcome=chosen />
                {(run_now && busy).then(|| view! { <p class="field__hint">"A run is under way: “Run now” waits for it."</p> })}
            </div>
        </div>
    }
}
