use leptos::prelude::*;

use crate::components::{
    campaigns::RunNotice,
    runs::{RunButtons, RunOutcome},
};

/// What the Sync menu of a campaign's row opens: the stats page's "Run now" and "Dry run".
/// Loaded lazily with the stats page's module (`lazy_pages::run_menu_items`), the first time a
/// row's menu opens.
#[component]
pub fn RunMenuItems(
    campaign_id: i64,
    name: String,
    /// The status allows "Run now" (a dry run is allowed to any published campaign).
    run_now: bool,
    /// A run is queued or under way: "Run now" waits.
    busy: bool,
    /// What came of a click, in words, for the list to say.
    on_notice: Callback<RunNotice>,
) -> impl IntoView {
    let on_outcome =
        Callback::new(move |outcome: RunOutcome| on_notice.run(RunNotice::of(outcome)));
    view! {
        <RunButtons campaign_id=campaign_id campaign_name=name no_run_now=!run_now
            busy=Signal::stored(busy) on_outcome=on_outcome />
        {(run_now && busy).then(|| view! { <p class="field__hint">"A run is under way: “Run now” waits for it."</p> })}
    }
}
